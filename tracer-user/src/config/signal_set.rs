//! strace's `-e signal=SET` (its `qualify_signals` over `qualify_tokens` and
//! `sigstr_to_uint`, src/filter_qualify.c): the signals whose lines are shown.
use crate::{
    decode::flags,
    error::Error,
    filter::signal::{MAX_SIGNAL, SignalSet},
};

const VALID: &str = "signal names with or without SIG (SIGUSR1, usr1, RT_3), numbers up to 255, or all or none alone; ! first negates the set";

/// One token: a number up to 255, else a name as strace prints it (`SIGTERM`, `SIGRTMIN`,
/// `SIGRT_3`), `SIG` optional, in any case (strace's `strcasecmp`).
fn signal(token: &str) -> Option<u32> {
    if token.starts_with(|c: char| c.is_ascii_digit()) {
        return token.parse::<u32>().ok().filter(|&n| n <= MAX_SIGNAL);
    }
    let bare = match token.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("SIG") => &token[3..],
        _ => token,
    };
    (1..=MAX_SIGNAL).find(|&n| {
        flags::signal_string(i64::from(n))
            .strip_prefix("SIG")
            .is_some_and(|name| name.eq_ignore_ascii_case(bare))
    })
}

/// A signal set in strace's syntax: each leading `!` inverts what follows; `all` and `none`
/// only as the whole set; else comma-separated signals (empty items skipped, as strace's
/// `strtok`). `what` names the option in errors.
pub fn parse(what: &str, spec: &str) -> Result<SignalSet, Error> {
    let spec = spec.trim();
    let negated = spec.chars().take_while(|&c| c == '!').count() % 2 == 1;
    let body = spec.trim_start_matches('!').trim();
    let set = match body {
        "none" => SignalSet::NONE,
        "all" => SignalSet::ALL,
        _ => {
            let mut set = SignalSet::NONE;
            let mut any = false;
            for token in body.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let n = signal(token).ok_or_else(|| {
                    Error::Usage(format!("bad signal {token:?} in {what}: use {VALID}"))
                })?;
                set = set.with(n);
                any = true;
            }
            if !any {
                return Err(Error::Usage(format!(
                    "empty signal set in {what}: use {VALID}"
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

    fn set(spec: &str) -> SignalSet {
        parse("-e signal", spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn of(sigs: &[u32]) -> SignalSet {
        sigs.iter().fold(SignalSet::NONE, |s, &n| s.with(n))
    }

    #[test]
    fn names_numbers_negation_all_none() {
        assert_eq!(set("SIGUSR1"), of(&[10]));
        assert_eq!(set("usr1"), of(&[10]));
        assert_eq!(set("sigUsr1,TERM"), of(&[10, 15]));
        assert_eq!(set("10,15"), of(&[10, 15]));
        assert_eq!(set(",SIGKILL,,"), of(&[9]));
        assert_eq!(set("SIGRTMIN,RT_3,SIGRT_32"), of(&[32, 35, 64]));
        assert_eq!(set("0,255"), of(&[0, 255]));
        assert_eq!(set("!SIGUSR1"), of(&[10]).invert());
        assert!(!set("!SIGUSR1").contains(10) && set("!SIGUSR1").contains(9));
        assert_eq!(set("!!usr1"), of(&[10]));
        assert_eq!(set("all"), SignalSet::ALL);
        assert_eq!(set("none"), SignalSet::NONE);
        assert_eq!(set("!none"), SignalSet::ALL);
        assert_eq!(set("!all"), SignalSet::NONE);
    }

    #[test]
    fn bad_values_name_the_value_and_the_valid_ones() {
        for (spec, bad) in [
            ("SIGFOO", "\"SIGFOO\""),
            ("usr1,256", "\"256\""),
            ("USR1,all", "\"all\""),
            ("10,!TERM", "\"!TERM\""),
            ("SIG", "\"SIG\""),
            ("RT_33", "\"RT_33\""),
            ("-1", "\"-1\""),
            ("1x", "\"1x\""),
        ] {
            let e = parse("-e signal", spec).expect_err(spec);
            assert_eq!(e.exit_code(), exit::USAGE);
            let e = e.to_string();
            assert_eq!(
                e,
                format!("bad signal {bad} in -e signal: use {VALID}"),
                "{spec}"
            );
            assert!(!e.contains('\n'));
        }
        assert!(
            parse("--signals", "")
                .expect_err("empty")
                .to_string()
                .starts_with("empty signal set in --signals: use signal names")
        );
        assert!(parse("-e signal", "!,").is_err());
    }
}
