//! strace's syscall sets (`-e trace=SET`, `--syscalls SET`) and `-e` qualifiers, resolved for
//! the host architecture. The rules are strace 6.1's (src/basic_filters.c, src/filter_qualify.c):
//!
//! - each leading `!` inverts the whole set (`!` elsewhere is an error);
//! - after them, exactly `none` or `all`;
//! - else comma-separated items, each optionally led by `?` (no error when it selects nothing)
//!   and followed by `@64` (the host's personality, the only one traced): a number, `/REGEX`
//!   (extended regex searched in each name; a closing `/` is allowed and dropped), a class
//!   (`%file`…, case-insensitive, with the old spellings `file`, `desc`… and `all`), or a
//!   name (exact).
use std::collections::BTreeSet;

use crate::{
    decode::syscalls::{self, class},
    error::Error,
};

/// strace's class spellings, in the order its error messages list them; the old ones
/// without `%` are accepted but not suggested. `all` in a list is every known syscall.
const CLASSES: &[(&str, u32)] = &[
    ("%file", class::FILE),
    ("%desc", class::DESC),
    ("%network", class::NETWORK),
    ("%net", class::NETWORK),
    ("%process", class::PROCESS),
    ("%signal", class::SIGNAL),
    ("%ipc", class::IPC),
    ("%memory", class::MEMORY),
    ("%creds", class::CREDS),
    ("%clock", class::CLOCK),
    ("%stat", class::STAT),
    ("%lstat", class::LSTAT),
    ("%fstat", class::FSTAT),
    ("%%stat", class::STAT_LIKE),
    ("%statfs", class::STATFS),
    ("%fstatfs", class::FSTATFS),
    ("%%statfs", class::STATFS_LIKE),
    ("%pure", class::PURE),
    // strace's legacy names.
    ("all", 0),
    ("desc", class::DESC),
    ("file", class::FILE),
    ("memory", class::MEMORY),
    ("process", class::PROCESS),
    ("signal", class::SIGNAL),
    ("ipc", class::IPC),
    ("network", class::NETWORK),
];

/// Numbers the kernel filter can select (its array's size).
const NR_LIMIT: u32 = tracer_common::config::MAX_SYSCALL_NR;

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

fn class_list() -> String {
    CLASSES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.starts_with('%') && *n != "%net")
        .collect::<Vec<_>>()
        .join(", ")
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest candidate at most 2 edits away.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The numbers one item selects; `None` when it names nothing.
fn item(what: &str, token: &str) -> Result<Option<Vec<u32>>, Error> {
    if token.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(token
            .parse::<u32>()
            .ok()
            .filter(|&n| n < NR_LIMIT)
            .map(|n| vec![n]));
    }
    if let Some(re) = token.strip_prefix('/') {
        let re = re.strip_suffix('/').unwrap_or(re);
        let re = regex::Regex::new(re).map_err(|e| {
            let why = e.to_string();
            let why = why.lines().last().unwrap_or_default().trim();
            let why = why.strip_prefix("error: ").unwrap_or(why).to_string();
            usage(format!(
                "bad regex /{re}/ in {what}: {why}; give an extended regular expression such as /^open|stat$/"
            ))
        })?;
        let v: Vec<u32> = syscalls::all()
            .filter(|(_, n)| re.is_match(n))
            .map(|(nr, _)| nr)
            .collect();
        return Ok((!v.is_empty()).then_some(v));
    }
    if let Some(&(_, bits)) = CLASSES.iter().find(|(n, _)| n.eq_ignore_ascii_case(token)) {
        return Ok(Some(
            syscalls::all()
                .filter(|&(nr, _)| syscalls::classes(nr) & bits == bits)
                .map(|(nr, _)| nr)
                .collect(),
        ));
    }
    if token.starts_with('%') {
        let lower = token.to_ascii_lowercase();
        let hint = closest(
            &lower,
            CLASSES
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| n.starts_with('%')),
        )
        .map(|c| format!(" (did you mean {c}?)"))
        .unwrap_or_default();
        return Err(usage(format!(
            "unknown syscall class {token} in {what}{hint}: use one of {}",
            class_list()
        )));
    }
    Ok(syscalls::number(token)
        .filter(|&n| n < NR_LIMIT)
        .map(|n| vec![n]))
}

/// A syscall set in strace's syntax → sorted, unique numbers of the host architecture; empty
/// means every syscall (as `--syscalls` has always meant). `what` names the option in errors.
pub fn parse_set(what: &str, spec: &str) -> Result<Vec<u32>, Error> {
    let spec = spec.trim();
    let negated = spec.chars().take_while(|&c| c == '!').count() % 2 == 1;
    let body = spec.trim_start_matches('!');
    let mut set = BTreeSet::new();
    match body {
        "none" => {}
        "all" => set.extend(0..NR_LIMIT),
        _ => {
            let mut any = false;
            for raw in body.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                any = true;
                let optional = raw.starts_with('?');
                let token = raw.trim_start_matches('?');
                if token.starts_with('!') {
                    return Err(usage(format!(
                        "misplaced ! in {what}: {raw:?}; ! goes first and negates the whole set (!getppid,openat traces all but those two)"
                    )));
                }
                let token = match token.rsplit_once('@') {
                    Some((t, "64")) => t,
                    Some((_, pers)) => {
                        return Err(usage(format!(
                            "unsupported personality @{pers} in {what}: {raw:?}; tracer follows only the host's native (@64) calls"
                        )));
                    }
                    None => token,
                };
                match item(what, token)? {
                    Some(nrs) => set.extend(nrs),
                    None if optional => {}
                    None if token.starts_with('/') => {
                        return Err(usage(format!(
                            "regex {token} in {what} matches no syscall; check it, or write ?{token} to allow that"
                        )));
                    }
                    None => {
                        let hint = closest(token, syscalls::all().map(|(_, n)| n))
                            .map(|c| format!(" (did you mean {c}?)"))
                            .unwrap_or_default();
                        return Err(usage(format!(
                            "unknown syscall in {what}: {token:?}{hint}; use names as in `man 2 syscalls` (e.g. openat,accept4), %classes such as %file, or /regex; ?name allows an unknown one"
                        )));
                    }
                }
            }
            if !any {
                return Err(usage(format!(
                    "empty syscall set in {what}: give names, %classes or /regex, e.g. %file,connect"
                )));
            }
        }
    }
    let set: Vec<u32> = if negated {
        (0..NR_LIMIT).filter(|n| !set.contains(n)).collect()
    } else {
        set.into_iter().collect()
    };
    if set.is_empty() {
        return Err(usage(format!(
            "{what} {spec:?} selects no syscall, so nothing would be traced (strace would show only signals and exits); give a set that selects some"
        )));
    }
    if set.len() == NR_LIMIT as usize {
        return Ok(Vec::new());
    }
    Ok(set)
}

/// Several sets: the last one counts, as strace's repeated `-e trace=` (each clears the set
/// before adding); none given: every syscall.
pub fn parse_last(what: &str, specs: &[String]) -> Result<Vec<u32>, Error> {
    match specs.last() {
        Some(spec) => parse_set(what, spec),
        None => Ok(Vec::new()),
    }
}

/// What one `-e EXPR` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualifier<'a> {
    /// `-e trace=SET`, `-e t=SET` or `-e SET`.
    Trace(&'a str),
    /// `-e status=SET` (see `config::status`).
    Status(&'a str),
    /// `-e signal=SET`, `-e signals=SET` or `-e s=SET` (see `config::signal_set`).
    Signal(&'a str),
}

/// strace's qualifier names (src/filter_qualify.c's `qual_options`), in its order: the first
/// one that `EXPR` starts with, followed by `=`, is the qualifier; else EXPR is a trace set.
/// (canonical name, spellings).
const QUALIFIERS: &[(&str, &[&str])] = &[
    ("trace", &["trace", "t"]),
    ("abbrev", &["abbrev", "a"]),
    ("verbose", &["verbose", "v"]),
    ("raw", &["raw", "x"]),
    ("signal", &["signal", "signals", "s"]),
    ("status", &["status"]),
    ("quiet", &["quiet", "silent", "silence", "q"]),
    ("read", &["read", "reads", "r"]),
    ("write", &["write", "writes", "w"]),
    ("fault", &["fault"]),
    ("inject", &["inject"]),
    ("kvm", &["kvm"]),
    ("decode-fds", &["decode-fd", "decode-fds"]),
    ("decode-pids", &["decode-pid", "decode-pids"]),
    ("secontext", &["secontext"]),
];

/// Where tracer already has what a qualifier does, or part of it.
fn instead(qualifier: &str) -> &'static str {
    match qualifier {
        "abbrev" | "verbose" => " (--no-abbrev prints every structure field, as strace's -v)",
        "raw" => " (-x/-xx print strings in hex)",
        "decode-fds" => " (-y shows the paths of fds, as strace's -e decode-fds=path)",
        _ => "",
    }
}

/// strace's `-e EXPR`.
pub fn qualifier(expr: &str) -> Result<Qualifier<'_>, Error> {
    for (name, spellings) in QUALIFIERS {
        for s in *spellings {
            if let Some(value) = expr.strip_prefix(s).and_then(|v| v.strip_prefix('=')) {
                return match *name {
                    "trace" => Ok(Qualifier::Trace(value)),
                    "status" => Ok(Qualifier::Status(value)),
                    "signal" => Ok(Qualifier::Signal(value)),
                    other => Err(usage(format!(
                        "-e {s}=… (strace's {other} qualifier) is not supported yet{}; tracer's -e takes trace=SET, status=SET, signal=SET or SET",
                        instead(other)
                    ))),
                };
            }
        }
    }
    Ok(Qualifier::Trace(expr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;

    fn set(spec: &str) -> Vec<u32> {
        parse_set("-e trace", spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn names(spec: &str) -> BTreeSet<&'static str> {
        set(spec).into_iter().filter_map(syscalls::name).collect()
    }

    fn nr(name: &str) -> u32 {
        syscalls::number(name).expect(name)
    }

    fn err(spec: &str) -> String {
        let e = parse_set("-e trace", spec).expect_err(spec);
        assert_eq!(e.exit_code(), exit::USAGE);
        let s = e.to_string();
        assert!(!s.contains('\n'), "{s}");
        s
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(set("openat"), [nr("openat")]);
        assert_eq!(
            set(" getppid,openat,,getppid "),
            BTreeSet::from([nr("getppid"), nr("openat")])
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert_eq!(set("syscall_999"), [999]);
        assert_eq!(set("39"), [39]);
        assert_eq!(set("openat@64"), [nr("openat")]);
        assert_eq!(set("all"), Vec::<u32>::new(), "all: no filter");
    }

    #[test]
    fn classes_come_from_strace_s_table() {
        let file = names("%file");
        assert!(
            file.contains("openat") && file.contains("execve"),
            "{file:?}"
        );
        assert!(!file.contains("read") && !file.contains("getppid"));
        let desc = names("%desc");
        assert!(desc.contains("openat") && desc.contains("read"));
        assert!(names("%pure").contains("getppid"));
        assert!(names("%network").contains("connect"));
        assert_eq!(names("%net"), names("%network"));
        assert_eq!(names("%FILE"), file, "classes are case-insensitive");
        assert!(names("%process").contains("execve"));
        assert!(names("%signal").contains("kill"));
        assert!(names("%memory").contains("mmap"));
        assert!(names("%creds").contains("getuid"));
        assert!(names("%clock").contains("clock_gettime"));
        assert!(names("%fstat").contains("fstat"));
        assert!(names("%statfs").contains("statfs"));
        // Mixed with names.
        let s = names("%pure,openat");
        assert!(s.contains("getppid") && s.contains("openat") && !s.contains("read"));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_stat_classes() {
        assert_eq!(names("%stat"), BTreeSet::from(["stat"]));
        assert_eq!(names("%lstat"), BTreeSet::from(["lstat"]));
        assert!(names("%%stat").is_superset(&BTreeSet::from(["stat", "lstat", "fstat", "statx"])));
        assert_eq!(names("%fstatfs"), BTreeSet::from(["fstatfs"]));
        assert_eq!(
            names("%%statfs"),
            BTreeSet::from(["statfs", "fstatfs", "ustat"])
        );
    }

    #[test]
    fn old_spellings_without_percent() {
        for (old, new) in [
            ("file", "%file"),
            ("desc", "%desc"),
            ("network", "%network"),
            ("process", "%process"),
            ("signal", "%signal"),
            ("ipc", "%ipc"),
            ("memory", "%memory"),
        ] {
            assert_eq!(set(old), set(new), "{old}");
        }
    }

    #[test]
    fn negation_inverts_the_whole_set() {
        let s = set("!getppid");
        assert!(!s.contains(&nr("getppid")) && s.contains(&nr("openat")));
        assert!(
            s.contains(&999),
            "numbers unknown to the tables stay traced, as in strace"
        );
        let s = set("!%file,getppid");
        assert!(!s.contains(&nr("openat")) && !s.contains(&nr("getppid")));
        assert!(s.contains(&nr("read")));
        assert_eq!(set("!!openat"), set("openat"), "each ! inverts");
        assert_eq!(set("!none"), Vec::<u32>::new());
        assert!(err("getppid,!openat").contains("misplaced !"));
    }

    #[test]
    fn regexes() {
        let s = names("/^open");
        assert!(s.contains("open") || s.contains("openat"));
        assert!(s.iter().all(|n| n.starts_with("open")), "{s:?}");
        assert_eq!(
            names("/^openat$/"),
            BTreeSet::from(["openat"]),
            "closing / allowed"
        );
        assert_eq!(
            names("/^(getppid|openat)$"),
            BTreeSet::from(["getppid", "openat"])
        );
        assert!(err("/^nosuch$").contains("matches no syscall"));
        assert_eq!(set("?/^nosuch$,openat"), [nr("openat")]);
        assert!(err("/(/").starts_with("bad regex /(/ in -e trace:"));
    }

    #[test]
    fn question_mark_allows_unknown_names() {
        assert_eq!(set("?nosuch,openat"), [nr("openat")]);
        assert!(err("?nosuch").contains("selects no syscall"));
    }

    #[test]
    fn errors_name_the_item_and_the_fix() {
        let e = err("openat,nosuch");
        assert!(
            e.starts_with("unknown syscall in -e trace: \"nosuch\"; use names"),
            "{e}"
        );
        let e = err("opnat");
        assert!(e.contains("\"opnat\" (did you mean openat?)"), "{e}");
        let e = err("%fiel");
        assert!(
            e.starts_with("unknown syscall class %fiel in -e trace (did you mean %file?): use one of %file, %desc, %network,"),
            "{e}"
        );
        assert!(e.contains("%pure"), "{e}");
        assert!(err("none").contains("selects no syscall"));
        assert!(err("!all").contains("selects no syscall"));
        assert!(err("").starts_with("empty syscall set"));
        assert!(err(",").starts_with("empty syscall set"));
        assert!(err("openat@32").contains("@32"));
        assert!(err("99999").contains("\"99999\""));
        // Names are exact, as strace's.
        assert!(err("OPENAT").contains("\"OPENAT\""));
    }

    #[test]
    fn the_last_set_counts() {
        let specs = ["openat".to_string(), "getppid".to_string()];
        assert_eq!(
            parse_last("--syscalls", &specs).ok(),
            Some(vec![nr("getppid")])
        );
        assert_eq!(parse_last("--syscalls", &[]).ok(), Some(Vec::new()));
    }

    #[test]
    fn qualifiers() {
        assert_eq!(
            qualifier("trace=%file").ok(),
            Some(Qualifier::Trace("%file"))
        );
        assert_eq!(qualifier("t=openat").ok(), Some(Qualifier::Trace("openat")));
        assert_eq!(qualifier("openat").ok(), Some(Qualifier::Trace("openat")));
        assert_eq!(
            qualifier("!getppid").ok(),
            Some(Qualifier::Trace("!getppid"))
        );
        assert_eq!(
            qualifier("status=!successful").ok(),
            Some(Qualifier::Status("!successful"))
        );
        for (expr, want) in [
            ("signal=SIGINT", "SIGINT"),
            ("signals=!usr1", "!usr1"),
            ("s=none", "none"),
        ] {
            assert_eq!(qualifier(expr).ok(), Some(Qualifier::Signal(want)));
        }
        for (expr, name) in [
            ("read=3", "read"),
            ("write=1", "write"),
            ("verbose=none", "verbose"),
            ("abbrev=all", "abbrev"),
            ("raw=all", "raw"),
            ("inject=openat:error=ENOENT", "inject"),
            ("fault=openat", "fault"),
            ("quiet=attach", "quiet"),
            ("decode-fds=path", "decode-fds"),
            ("kvm=vcpu", "kvm"),
        ] {
            let e = qualifier(expr).expect_err(expr);
            assert_eq!(e.exit_code(), exit::USAGE);
            let e = e.to_string();
            assert!(
                e.contains("not supported yet")
                    && e.contains(&format!("strace's {name} qualifier")),
                "{e}"
            );
            assert!(!e.contains('\n'));
        }
        // Not a qualifier name: a trace set (that then fails as a syscall name).
        assert_eq!(qualifier("foo=bar").ok(), Some(Qualifier::Trace("foo=bar")));
    }
}
