//! `seccomp diff OLD NEW`: what one profile says about a call that the other does not, by
//! syscall and by argument condition. Each profile is read as a set of entries — a syscall,
//! the conditions under which a rule applies to it (arguments, `includes`, `excludes`) and what
//! the rule does — so profiles that differ only in how names are grouped into rules, in their
//! order or in comments are equal. The default action and the architectures are compared too.
use std::{collections::BTreeMap, fmt::Write as _};

use serde::Serialize;

use super::{
    merge::{conditions, default_errno, outcome, rule_errno},
    profile::{Action, ArgCond, Filter, Op, Profile, action_str},
};
use crate::decode::errno;

/// One syscall under one set of conditions, and what the rule does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub syscall: String,
    /// `SCMP_ACT_ALLOW`, `SCMP_ACT_ERRNO`…
    pub action: &'static str,
    /// `SCMP_ACT_ERRNO`'s errno (`EPERM`).
    pub errno: Option<String>,
    /// Whether the call goes through (`SCMP_ACT_ALLOW`, `SCMP_ACT_LOG`).
    pub allows: bool,
    /// All must hold, sorted.
    pub args: Vec<ArgCond>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub includes: Option<Filter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Filter>,
}

/// Something both profiles have, with different values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change<T> {
    pub old: T,
    pub new: T,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub old: String,
    pub new: String,
    pub equal: bool,
    /// When they differ: `SCMP_ACT_ERRNO(EPERM)`.
    pub default_action: Option<Change<String>>,
    pub architectures: Option<Change<Vec<String>>>,
    /// Entries only NEW has: what NEW allows (or does) that OLD does not, by syscall.
    pub only_new: Vec<Entry>,
    /// Entries only OLD has.
    pub only_old: Vec<Entry>,
}

impl Diff {
    /// How many differences: the default, the architectures, and each entry.
    pub fn count(&self) -> usize {
        usize::from(self.default_action.is_some())
            + usize::from(self.architectures.is_some())
            + self.only_new.len()
            + self.only_old.len()
    }
}

/// `p`'s entries by syscall, then conditions, then outcome.
fn entries(p: &Profile) -> BTreeMap<(String, String, String), Entry> {
    let mut out = BTreeMap::new();
    for r in &p.syscalls {
        let e = rule_errno(p, r);
        let what = outcome(r.action, e);
        let cond = conditions(r);
        let mut args = r.args.clone();
        args.sort_by_key(|c| (c.index, c.op as u32, c.value, c.value_two));
        for n in r.all_names() {
            out.insert(
                (n.to_string(), cond.clone(), what.clone()),
                Entry {
                    syscall: n.to_string(),
                    action: action_str(r.action),
                    errno: e.map(|e| errno::name(e as i32)),
                    allows: matches!(r.action, Action::ScmpActAllow | Action::ScmpActLog),
                    args: args.clone(),
                    includes: r.includes.clone(),
                    excludes: r.excludes.clone(),
                },
            );
        }
    }
    out
}

/// The architectures `p` covers, sorted: `architectures` and each `archMap` entry's.
fn arches(p: &Profile) -> Vec<String> {
    let name = |a| {
        serde_json::to_value(a)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let mut all: Vec<String> = p.architectures.iter().map(|&a| name(a)).collect();
    for m in &p.arch_map {
        all.push(name(m.architecture));
        all.extend(m.sub_architectures.iter().map(|&a| name(a)));
    }
    all.sort();
    all.dedup();
    all
}

pub fn diff(old_name: &str, old: &Profile, new_name: &str, new: &Profile) -> Diff {
    let (o, n) = (entries(old), entries(new));
    let only = |a: &BTreeMap<_, Entry>, b: &BTreeMap<_, Entry>| -> Vec<Entry> {
        a.iter()
            .filter(|(k, _)| !b.contains_key(*k))
            .map(|(_, e)| e.clone())
            .collect()
    };
    let default = |p: &Profile| outcome(p.default_action, default_errno(p));
    let default_action = (default(old) != default(new)).then(|| Change {
        old: default(old),
        new: default(new),
    });
    let architectures = (arches(old) != arches(new)).then(|| Change {
        old: arches(old),
        new: arches(new),
    });
    let mut d = Diff {
        old: old_name.to_string(),
        new: new_name.to_string(),
        equal: false,
        default_action,
        architectures,
        only_new: only(&n, &o),
        only_old: only(&o, &n),
    };
    d.equal = d.count() == 0;
    d
}

/// `arg0 == 10`, `arg0 & 0x7e020000 == 0x0`.
fn condition(c: &ArgCond) -> String {
    let op = match c.op {
        Op::ScmpCmpNe => "!=",
        Op::ScmpCmpLt => "<",
        Op::ScmpCmpLe => "<=",
        Op::ScmpCmpEq => "==",
        Op::ScmpCmpGe => ">=",
        Op::ScmpCmpGt => ">",
        Op::ScmpCmpMaskedEq => {
            return format!("arg{} & {:#x} == {:#x}", c.index, c.value, c.value_two);
        }
    };
    format!("arg{} {op} {}", c.index, c.value)
}

fn entry_line(out: &mut String, sign: char, e: &Entry) {
    let mut what = e.syscall.clone();
    if !e.args.is_empty() {
        let conds: Vec<String> = e.args.iter().map(condition).collect();
        let _ = write!(what, " if {}", conds.join(" && "));
    }
    for (label, f) in [("includes", &e.includes), ("excludes", &e.excludes)] {
        if let Some(f) = f {
            let _ = write!(
                what,
                " ({label} {})",
                serde_json::to_string(f).unwrap_or_default()
            );
        }
    }
    let action = match &e.errno {
        Some(n) => format!("{}({n})", e.action),
        None => e.action.to_string(),
    };
    let _ = writeln!(out, "{sign} {what:<40} {action}");
}

/// The text report: `-` for what only OLD has, `+` for what only NEW has, as diff(1) marks
/// lines.
pub fn text(d: &Diff) -> String {
    let mut out = String::new();
    if d.equal {
        let _ = writeln!(
            out,
            "{} and {}: the same rules, default action and architectures",
            d.old, d.new
        );
        return out;
    }
    let _ = writeln!(out, "--- {}\n+++ {}", d.old, d.new);
    if let Some(c) = &d.default_action {
        let _ = writeln!(out, "- default {}\n+ default {}", c.old, c.new);
    }
    if let Some(c) = &d.architectures {
        let _ = writeln!(
            out,
            "- architectures {}\n+ architectures {}",
            c.old.join(","),
            c.new.join(",")
        );
    }
    for e in &d.only_old {
        entry_line(&mut out, '-', e);
    }
    for e in &d.only_new {
        entry_line(&mut out, '+', e);
    }
    let allowed = |v: &[Entry]| v.iter().filter(|e| e.allows).count();
    let _ = writeln!(
        out,
        "{} difference(s): {} allow(s) only in {}, {} only in {}",
        d.count(),
        allowed(&d.only_new),
        d.new,
        allowed(&d.only_old),
        d.old
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Profile {
        serde_json::from_str(text).expect("profile")
    }

    const OLD: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {"names": ["read", "write", "personality"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}
        ]}"#;

    #[test]
    fn equal_when_only_grouping_order_and_comments_differ() {
        let regrouped = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "comment": "x", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
                {"name": "personality", "action": "SCMP_ACT_ALLOW"},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"}
            ]}"#;
        let d = diff("old.json", &profile(OLD), "new.json", &profile(regrouped));
        assert!(d.equal, "{d:?}");
        assert_eq!(d.count(), 0);
        assert!(text(&d).contains("the same rules"));
    }

    #[test]
    fn by_syscall_and_by_condition_both_ways() {
        let new = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [
                {"names": ["read", "write", "bind"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
            ]}"#;
        let d = diff("old.json", &profile(OLD), "new.json", &profile(new));
        assert!(!d.equal);
        let show = |v: &[Entry]| -> Vec<String> {
            v.iter()
                .map(|e| {
                    let conds: Vec<String> = e.args.iter().map(condition).collect();
                    format!("{} {} {}", e.syscall, conds.join(" "), e.allows)
                })
                .collect()
        };
        assert_eq!(
            show(&d.only_new),
            [
                "bind  true",
                "chmod  false",
                "personality arg0 == 8 true",
                "socket arg0 == 10 true"
            ]
        );
        assert_eq!(show(&d.only_old), ["personality  true"]);
        assert_eq!(d.only_new[1].errno.as_deref(), Some("EACCES"));
        assert_eq!(
            d.architectures.as_ref().map(|c| c.new.len()),
            Some(2),
            "{d:?}"
        );
        assert!(d.default_action.is_none());
        assert_eq!(d.count(), 6);
        let t = text(&d);
        assert!(t.starts_with("--- old.json\n+++ new.json\n"), "{t}");
        assert!(
            t.lines()
                .any(|l| l.starts_with("+ socket if arg0 == 10 ") && l.ends_with("SCMP_ACT_ALLOW")),
            "{t}"
        );
        assert!(
            t.lines()
                .any(|l| l.starts_with("+ chmod ") && l.ends_with("SCMP_ACT_ERRNO(EACCES)")),
            "{t}"
        );
        assert!(
            t.ends_with("6 difference(s): 3 allow(s) only in new.json, 1 only in old.json\n"),
            "{t}"
        );
        // The default's errno counts.
        let enosys = OLD.replace(
            "\"SCMP_ACT_ERRNO\",",
            "\"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,",
        );
        let d = diff("old.json", &profile(OLD), "n.json", &profile(&enosys));
        assert_eq!(
            d.default_action,
            Some(Change {
                old: "SCMP_ACT_ERRNO(EPERM)".into(),
                new: "SCMP_ACT_ERRNO(ENOSYS)".into()
            })
        );
        assert_eq!(d.count(), 1);
        let json = serde_json::to_value(&d).expect("json");
        assert_eq!(json["equal"], false);
        assert_eq!(json["default_action"]["new"], "SCMP_ACT_ERRNO(ENOSYS)");
    }
}
