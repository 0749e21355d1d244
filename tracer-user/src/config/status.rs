//! strace's `-e status=SET` (its `qualify_status` over `qualify_tokens`): which calls to show
//! by what became of them. `-z` is `status=successful`, `-Z` `status=failed`.
use crate::{
    error::Error,
    filter::{Status, StatusSet},
};

fn valid() -> String {
    let names: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
    format!(
        "{}, or all or none alone; ! first negates the set",
        names.join(", ")
    )
}

/// A status set in strace's syntax: each leading `!` inverts what follows; `all` and `none`
/// only as the whole set; else comma-separated names (empty items skipped, as strace's
/// `strtok`). `what` names the option in errors.
pub fn parse(what: &str, spec: &str) -> Result<StatusSet, Error> {
    let spec = spec.trim();
    let negated = spec.chars().take_while(|&c| c == '!').count() % 2 == 1;
    let body = spec.trim_start_matches('!').trim();
    let set = match body {
        "none" => StatusSet::NONE,
        "all" => StatusSet::ALL,
        _ => {
            let mut set = StatusSet::NONE;
            let mut any = false;
            for token in body.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let s = Status::ALL
                    .into_iter()
                    .find(|s| s.name() == token)
                    .ok_or_else(|| {
                        Error::Usage(format!("bad status {token:?} in {what}: use {}", valid()))
                    })?;
                set = set.with(s);
                any = true;
            }
            if !any {
                return Err(Error::Usage(format!(
                    "empty status set in {what}: use {}",
                    valid()
                )));
            }
            set
        }
    };
    Ok(if negated { set.invert() } else { set })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;

    fn set(spec: &str) -> StatusSet {
        parse("-e status", spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn of(statuses: &[Status]) -> StatusSet {
        statuses.iter().fold(StatusSet::NONE, |s, &x| s.with(x))
    }

    #[test]
    fn names_negation_all_none() {
        assert_eq!(set("failed"), of(&[Status::Failed]));
        assert_eq!(
            set("successful,failed"),
            of(&[Status::Successful, Status::Failed])
        );
        assert_eq!(set(",failed,,"), of(&[Status::Failed]));
        assert_eq!(
            set("!successful"),
            of(&[
                Status::Failed,
                Status::Unfinished,
                Status::Unavailable,
                Status::Detached
            ])
        );
        assert_eq!(set("!!failed"), set("failed"));
        assert_eq!(set("all"), StatusSet::ALL);
        assert_eq!(set("none"), StatusSet::NONE);
        assert_eq!(set("!none"), StatusSet::ALL);
        assert_eq!(set("!all"), StatusSet::NONE);
        assert_eq!(
            set("unfinished,unavailable,detached"),
            of(&[Status::Unfinished, Status::Unavailable, Status::Detached])
        );
    }

    #[test]
    fn bad_values_name_the_value_and_the_valid_ones() {
        for (spec, bad) in [
            ("failure", "\"failure\""),
            ("failed,Successful", "\"Successful\""),
            ("failed,all", "\"all\""),
            ("failed,!successful", "\"!successful\""),
        ] {
            let e = parse("-e status", spec).expect_err(spec);
            assert_eq!(e.exit_code(), exit::USAGE);
            let e = e.to_string();
            assert!(
                e.starts_with(&format!("bad status {bad} in -e status: use successful, failed, unfinished, unavailable, detached, or all or none alone")),
                "{e}"
            );
            assert!(!e.contains('\n'));
        }
        assert!(
            parse("-e status", "")
                .expect_err("empty")
                .to_string()
                .starts_with("empty status set in -e status")
        );
        assert!(parse("-e status", "!,").is_err());
    }
}
