//! `seccomp merge`: several profiles as one, allowing what any of them allows (replicas, several
//! runs, a generated profile and a hand-written one). Rules with the same action, errno and
//! conditions are one rule with their names sorted; architectures, `archMap` and flags are
//! joined. Profiles whose default actions (or default errnos) differ, or that give one call
//! different actions under the same conditions, cannot be merged: the union would depend on
//! the order.
use std::collections::BTreeSet;

use super::profile::{Action, ArchMap, ArgCond, Filter, Profile, Rule, action_str};
use crate::decode::errno;

/// Why profiles cannot be merged; each message names both files and the way out.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Conflict {
    #[error("nothing to merge: give the profiles' files")]
    Nothing,
    #[error(
        "cannot merge {a} and {b}: their default actions differ ({a_action} and {b_action}); give profiles with the same defaultAction, or edit one of them to match"
    )]
    DefaultAction {
        a: String,
        a_action: String,
        b: String,
        b_action: String,
    },
    #[error(
        "cannot merge {a} and {b}: their defaultErrnoRet differ ({a_errno} and {b_errno}); edit one of them to match"
    )]
    DefaultErrno {
        a: String,
        a_errno: String,
        b: String,
        b_errno: String,
    },
    #[error(
        "cannot merge {a} and {b}: {a} gives {syscall} {a_action}, {b} gives it {b_action} under the same conditions; make the two rules agree, then merge again"
    )]
    Rule {
        syscall: String,
        a: String,
        a_action: String,
        b: String,
        b_action: String,
    },
}

/// EPERM: runc's errno for `SCMP_ACT_ERRNO` without one.
const EPERM: u32 = 1;

/// `SCMP_ACT_ERRNO(EPERM)`, `SCMP_ACT_ALLOW`.
pub fn outcome(action: Action, errno: Option<u32>) -> String {
    match errno {
        Some(e) => format!("{}({})", action_str(action), errno::name(e as i32)),
        None => action_str(action).to_string(),
    }
}

/// The errno a rule's `SCMP_ACT_ERRNO` gives in `p`; `None` for other actions.
pub fn rule_errno(p: &Profile, r: &Rule) -> Option<u32> {
    (r.action == Action::ScmpActErrno).then(|| r.errno_ret.or(p.default_errno_ret).unwrap_or(EPERM))
}

/// The default action's errno in `p`.
pub fn default_errno(p: &Profile) -> Option<u32> {
    (p.default_action == Action::ScmpActErrno).then(|| p.default_errno_ret.unwrap_or(EPERM))
}

/// A rule's conditions in a canonical form: its argument conditions sorted (they all must
/// hold, in any order), its `includes` and `excludes`.
pub fn conditions(r: &Rule) -> String {
    let mut args: Vec<ArgCond> = r.args.clone();
    args.sort_by_key(|c| (c.index, c.op as u32, c.value, c.value_two));
    serde_json::json!([args, r.includes, r.excludes]).to_string()
}

/// One rule of the merged profile, as it is being gathered.
struct Group {
    /// Its outcome and conditions.
    key: String,
    /// The first rule with them, its names, comment and `name` cleared.
    rule: Rule,
    names: BTreeSet<String>,
    comments: Vec<String>,
}

/// The union of `profiles` (file name, profile), in their order.
pub fn merge(profiles: &[(String, Profile)]) -> Result<Profile, Conflict> {
    let Some((first_name, first)) = profiles.first() else {
        return Err(Conflict::Nothing);
    };
    for (name, p) in &profiles[1..] {
        if p.default_action != first.default_action {
            return Err(Conflict::DefaultAction {
                a: first_name.clone(),
                a_action: action_str(first.default_action).into(),
                b: name.clone(),
                b_action: action_str(p.default_action).into(),
            });
        }
        if default_errno(p) != default_errno(first) {
            let show = |p: &Profile| errno::name(default_errno(p).unwrap_or(EPERM) as i32);
            return Err(Conflict::DefaultErrno {
                a: first_name.clone(),
                a_errno: show(first),
                b: name.clone(),
                b_errno: show(p),
            });
        }
    }
    let mut out = Profile {
        default_action: first.default_action,
        default_errno_ret: profiles.iter().find_map(|(_, p)| p.default_errno_ret),
        architectures: Vec::new(),
        arch_map: Vec::new(),
        flags: Vec::new(),
        syscalls: Vec::new(),
    };
    let mut groups: Vec<Group> = Vec::new();
    // (syscall, conditions) → (file, outcome) of the first rule seen for it.
    let mut decided: std::collections::HashMap<(String, String), (String, String)> =
        std::collections::HashMap::new();
    for (file, p) in profiles {
        for a in &p.architectures {
            if !out.architectures.contains(a) {
                out.architectures.push(*a);
            }
        }
        for m in &p.arch_map {
            match out
                .arch_map
                .iter_mut()
                .find(|o| o.architecture == m.architecture)
            {
                Some(o) => {
                    for s in &m.sub_architectures {
                        if !o.sub_architectures.contains(s) {
                            o.sub_architectures.push(*s);
                        }
                    }
                }
                None => out.arch_map.push(ArchMap {
                    architecture: m.architecture,
                    sub_architectures: m.sub_architectures.clone(),
                }),
            }
        }
        for f in &p.flags {
            if !out.flags.contains(f) {
                out.flags.push(f.clone());
            }
        }
        for r in &p.syscalls {
            let errno = rule_errno(p, r);
            let what = outcome(r.action, errno);
            let cond = conditions(r);
            for n in r.all_names() {
                let seen = decided
                    .entry((n.to_string(), cond.clone()))
                    .or_insert_with(|| (file.clone(), what.clone()));
                if seen.1 != what {
                    return Err(Conflict::Rule {
                        syscall: n.to_string(),
                        a: seen.0.clone(),
                        a_action: seen.1.clone(),
                        b: file.clone(),
                        b_action: what,
                    });
                }
            }
            let key = format!("{what} {cond}");
            let g = match groups.iter_mut().position(|g| g.key == key) {
                Some(i) => &mut groups[i],
                None => {
                    let mut rule = r.clone();
                    rule.names.clear();
                    rule.name = None;
                    rule.comment = None;
                    rule.errno_ret = match errno {
                        // Written out unless it is what the merged default gives anyway.
                        Some(e) if r.errno_ret.is_some() || Some(e) != default_errno(&out) => {
                            Some(e)
                        }
                        _ => None,
                    };
                    groups.push(Group {
                        key,
                        rule,
                        names: BTreeSet::new(),
                        comments: Vec::new(),
                    });
                    groups.last_mut().expect("just pushed")
                }
            };
            g.names.extend(r.all_names().map(str::to_string));
            if let Some(c) = &r.comment
                && !g.comments.contains(c)
            {
                g.comments.push(c.clone());
            }
        }
    }
    // A conditioned allow adds nothing to a call allowed whatever its arguments.
    let unconditional: BTreeSet<(String, String)> = groups
        .iter()
        .filter(|g| g.rule.action == Action::ScmpActAllow && g.rule.args.is_empty())
        .flat_map(|g| {
            let scope = scope(&g.rule);
            g.names.iter().map(move |n| (n.clone(), scope.clone()))
        })
        .collect();
    for g in &mut groups {
        if g.rule.action == Action::ScmpActAllow && !g.rule.args.is_empty() {
            let scope = scope(&g.rule);
            g.names
                .retain(|n| !unconditional.contains(&(n.clone(), scope.clone())));
        }
    }
    out.syscalls = groups
        .into_iter()
        .filter(|g| !g.names.is_empty())
        .map(|g| Rule {
            names: g.names.into_iter().collect(),
            comment: (!g.comments.is_empty()).then(|| g.comments.join("; ")),
            ..g.rule
        })
        .collect();
    Ok(out)
}

/// Where a rule applies: its `includes` and `excludes`.
fn scope(r: &Rule) -> String {
    let f = |f: &Option<Filter>| serde_json::to_string(f).unwrap_or_default();
    format!("{} {}", f(&r.includes), f(&r.excludes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Profile {
        serde_json::from_str(text).expect("profile")
    }

    fn named(list: &[(&str, &str)]) -> Vec<(String, Profile)> {
        list.iter()
            .map(|(n, t)| (n.to_string(), profile(t)))
            .collect()
    }

    const A: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {"names": ["write", "read"], "action": "SCMP_ACT_ALLOW", "comment": "observed by tracer"},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
        ]}"#;
    const B: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [
            {"names": ["openat", "read"], "action": "SCMP_ACT_ALLOW", "comment": "observed by tracer"},
            {"name": "personality", "action": "SCMP_ACT_ALLOW"},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
        ]}"#;

    #[test]
    fn union_of_rules_with_names_sorted() {
        let m = merge(&named(&[("a.json", A), ("b.json", B)])).expect("merges");
        assert_eq!(m.default_action, Action::ScmpActErrno);
        assert_eq!(m.default_errno_ret, Some(1));
        assert_eq!(m.architectures.len(), 2);
        let rules: Vec<(Vec<&str>, usize, Option<u32>)> = m
            .syscalls
            .iter()
            .map(|r| {
                (
                    r.names.iter().map(String::as_str).collect(),
                    r.args.len(),
                    r.errno_ret,
                )
            })
            .collect();
        assert_eq!(
            rules,
            [
                // personality is allowed by name in B: A's conditioned rule adds nothing.
                (vec!["openat", "personality", "read", "write"], 0, None),
                (vec!["socket"], 1, None),
                (vec!["clone3"], 0, Some(38)),
                (vec!["socket"], 1, None),
                (vec!["mount"], 0, None),
            ]
        );
        assert_eq!(m.syscalls[0].comment.as_deref(), Some("observed by tracer"));
        assert!(m.syscalls[4].includes.is_some());
        // Merging is idempotent and a profile merged with itself is itself, grouped.
        let again = merge(&[("m".into(), m.clone()), ("m2".into(), m.clone())]).expect("again");
        assert_eq!(again, m);
    }

    #[test]
    fn conflicts_name_both_files_and_the_fix() {
        let allow = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}"#;
        let e = merge(&named(&[("a.json", A), ("allow.json", allow)])).expect_err("conflict");
        assert_eq!(
            e.to_string(),
            "cannot merge a.json and allow.json: their default actions differ (SCMP_ACT_ERRNO and SCMP_ACT_ALLOW); give profiles with the same defaultAction, or edit one of them to match"
        );
        let enosys =
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": []}"#;
        let e = merge(&named(&[("b.json", B), ("n.json", enosys)])).expect_err("conflict");
        assert!(
            e.to_string()
                .contains("defaultErrnoRet differ (EPERM and ENOSYS)"),
            "{e}"
        );
        // No errno and EPERM are the same default.
        let eperm = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": []}"#;
        assert!(merge(&named(&[("b.json", B), ("e.json", eperm)])).is_ok());
        let deny_read = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS"}]}"#;
        let e = merge(&named(&[("a.json", A), ("k.json", deny_read)])).expect_err("conflict");
        assert_eq!(
            e.to_string(),
            "cannot merge a.json and k.json: a.json gives read SCMP_ACT_ALLOW, k.json gives it SCMP_ACT_KILL_PROCESS under the same conditions; make the two rules agree, then merge again"
        );
        assert!(!e.to_string().contains('\n'));
        // The same call with other conditions is no conflict: precedence decides, as in
        // Docker's own profile.
        let kill_some = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 0, "value": 9, "op": "SCMP_CMP_EQ"}]}]}"#;
        assert!(merge(&named(&[("a.json", A), ("k.json", kill_some)])).is_ok());
    }
}
