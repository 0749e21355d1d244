//! Argument conditions in generated profiles (`seccomp profile --args`): for the calls whose
//! argument is a selector — it picks what the call does, like `socket`'s family or `prctl`'s
//! option — the values observed are allowed and every other value is denied, in Docker's
//! `args` format (one rule per value, as Docker's own profile does for `personality`; a
//! masked rule for `clone`'s namespace flags). Never pointers, fds or lengths: their values
//! change from run to run. A call that saw more than [`MAX_VALUES`] values is allowed by name.
use std::collections::{BTreeMap, BTreeSet};

use super::profile::{Action, ArgCond, Op, Rule};

/// Distinct values of a selector above which its call is allowed by name only.
pub const MAX_VALUES: usize = 8;

/// `clone`'s namespace flags (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
/// CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET), the mask of Docker's default profile: the rest
/// of `clone`'s flags (and the exit signal in its low byte) vary with the caller.
pub const CLONE_NAMESPACES: u64 = 0x7E02_0000;

/// How a selector's values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `SCMP_CMP_EQ` with each value observed.
    Equal,
    /// `SCMP_CMP_MASKED_EQ`: the bits in the mask equal one of the observed values' bits there.
    Masked(u64),
}

/// One selector argument: the call, its argument's position and name (as the kernel's format
/// files name it), and how it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    pub syscall: &'static str,
    pub index: u32,
    pub arg: &'static str,
    pub compare: Compare,
}

const fn eq(syscall: &'static str, index: u32, arg: &'static str) -> Selector {
    Selector {
        syscall,
        index,
        arg,
        compare: Compare::Equal,
    }
}

/// The selectors conditioned, documented in docs/seccomp.md. One per call.
pub const SELECTORS: [Selector; 10] = [
    eq("personality", 0, "personality"),
    eq("socket", 0, "family"),
    eq("socketpair", 0, "family"),
    Selector {
        syscall: "clone",
        index: 0,
        arg: "clone_flags",
        compare: Compare::Masked(CLONE_NAMESPACES),
    },
    eq("prctl", 0, "option"),
    eq("arch_prctl", 0, "option"),
    eq("fcntl", 1, "cmd"),
    eq("ioctl", 1, "cmd"),
    eq("epoll_ctl", 1, "op"),
    eq("lseek", 2, "whence"),
];

pub fn selector(syscall: &str) -> Option<&'static Selector> {
    SELECTORS.iter().find(|s| s.syscall == syscall)
}

/// The values a selector was seen with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    /// At most [`MAX_VALUES`].
    Few(BTreeSet<u64>),
    /// More: the call is allowed by name.
    Many,
}

impl Default for Values {
    fn default() -> Self {
        Values::Few(BTreeSet::new())
    }
}

/// The selectors' observed values, by call.
#[derive(Debug, Default)]
pub struct Seen(BTreeMap<&'static str, Values>);

impl Seen {
    /// Notes the selector's value in `raw` when `syscall` has one.
    pub fn add(&mut self, syscall: &str, raw: &[u64; 6]) {
        let Some(s) = selector(syscall) else {
            return;
        };
        let v = raw[s.index as usize];
        let v = match s.compare {
            Compare::Equal => v,
            Compare::Masked(mask) => v & mask,
        };
        let values = self.0.entry(s.syscall).or_default();
        if let Values::Few(set) = values {
            set.insert(v);
            if set.len() > MAX_VALUES {
                *values = Values::Many;
            }
        }
    }

    pub fn get(&self, syscall: &str) -> Option<&Values> {
        self.0.get(syscall)
    }

    /// Allow rules with conditions for the calls in `names` whose selector saw few values;
    /// those calls are taken out of `names` (the rest stay allowed by name).
    pub fn rules(&self, names: &mut BTreeSet<String>) -> Vec<Rule> {
        let mut rules = Vec::new();
        for (syscall, values) in &self.0 {
            let Values::Few(set) = values else { continue };
            let Some(s) = selector(syscall) else { continue };
            if set.is_empty() || !names.remove(*syscall) {
                continue;
            }
            for &v in set {
                let cond = match s.compare {
                    Compare::Equal => ArgCond {
                        index: s.index,
                        value: v,
                        value_two: 0,
                        op: Op::ScmpCmpEq,
                    },
                    Compare::Masked(mask) => ArgCond {
                        index: s.index,
                        value: mask,
                        value_two: v,
                        op: Op::ScmpCmpMaskedEq,
                    },
                };
                rules.push(Rule {
                    names: vec![syscall.to_string()],
                    action: Action::ScmpActAllow,
                    args: vec![cond],
                    comment: Some(format!(
                        "observed by tracer: {} value(s) of {syscall}'s {}",
                        set.len(),
                        s.arg
                    )),
                    ..Rule::default()
                });
            }
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::syscalls;

    #[test]
    fn selectors_are_real_calls_with_a_selector_there() {
        for s in SELECTORS {
            // Every call exists on x86_64 or aarch64 and is listed once.
            assert_eq!(
                SELECTORS.iter().filter(|o| o.syscall == s.syscall).count(),
                1,
                "{}",
                s.syscall
            );
            assert!(s.index < 6);
            if cfg!(target_arch = "x86_64") || s.syscall != "arch_prctl" {
                assert!(syscalls::number(s.syscall).is_some(), "{}", s.syscall);
            }
        }
    }

    fn raw(index: usize, v: u64) -> [u64; 6] {
        let mut r = [0x7ffd_0000_0000; 6];
        r[index] = v;
        r
    }

    #[test]
    fn few_values_become_rules_and_many_a_name() {
        let mut seen = Seen::default();
        for family in [2, 10, 2, 1] {
            seen.add("socket", &raw(0, family));
        }
        // clone: the namespace bits only; SIGCHLD and the thread flags vary.
        seen.add("clone", &raw(0, 0x01_200_011));
        seen.add("clone", &raw(0, 0x003d_0f00));
        for cmd in 0..=MAX_VALUES as u64 {
            seen.add("fcntl", &raw(1, cmd));
        }
        seen.add("read", &raw(0, 3));
        assert_eq!(seen.get("fcntl"), Some(&Values::Many));
        assert!(seen.get("read").is_none(), "not a selector");
        let mut names: BTreeSet<String> = ["socket", "clone", "fcntl", "read", "personality"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let rules = seen.rules(&mut names);
        assert_eq!(
            names.iter().map(String::as_str).collect::<Vec<_>>(),
            ["fcntl", "personality", "read"],
            "many values, or none seen: by name"
        );
        let conds: Vec<(String, ArgCond)> = rules
            .iter()
            .map(|r| (r.names.join(","), r.args[0]))
            .collect();
        let eq = |index, value| ArgCond {
            index,
            value,
            value_two: 0,
            op: Op::ScmpCmpEq,
        };
        assert_eq!(
            conds,
            [
                (
                    "clone".to_string(),
                    ArgCond {
                        index: 0,
                        value: CLONE_NAMESPACES,
                        value_two: 0,
                        op: Op::ScmpCmpMaskedEq
                    }
                ),
                ("socket".to_string(), eq(0, 1)),
                ("socket".to_string(), eq(0, 2)),
                ("socket".to_string(), eq(0, 10)),
            ]
        );
        assert!(
            rules
                .iter()
                .all(|r| r.action == Action::ScmpActAllow && r.args.len() == 1)
        );
        // A call not in the allow list gets no rule.
        let mut none = BTreeSet::new();
        assert!(seen.rules(&mut none).is_empty());
    }

    #[test]
    fn generated_profiles_condition_only_what_was_observed_governed() {
        use super::super::{
            GO_RUNTIME, Observed,
            calls::{Call, Phase},
        };
        let call = |syscall: &str, raw: [u64; 6], denied: bool| Call {
            syscall: syscall.into(),
            raw,
            ret: Some(0),
            errno: None,
            denied,
            comm: "nginx".into(),
            pid: 1,
            container: None,
            ts: String::new(),
            args: serde_json::Value::Null,
        };
        let mut o = Observed {
            filter_loads: 1,
            ..Observed::default()
        };
        for (c, phase) in [
            (call("socket", raw(0, 2), false), Phase::Subject),
            (call("socket", raw(0, 10), false), Phase::Subject),
            // Denied by the profile the container ran under: its value is not allowed.
            (call("socket", raw(0, 40), true), Phase::Subject),
            (call("prctl", raw(0, 38), false), Phase::RuntimeSetup),
            (call("fcntl", raw(1, 3), false), Phase::Subject),
            (call("read", raw(0, 3), false), Phase::Subject),
        ] {
            o.add(&c, phase);
        }
        let mut warnings = Vec::new();
        let plain = o.profile(false, &mut |w| warnings.push(w));
        assert_eq!(plain.syscalls.len(), 1, "no conditions without --args");
        let p = o.profile(true, &mut |w| warnings.push(w));
        assert!(warnings.is_empty(), "{warnings:?}");
        let main = &p.syscalls[0];
        assert!(main.args.is_empty());
        assert!(main.names.iter().any(|n| n == "read"));
        assert!(!main.names.iter().any(|n| n == "socket" || n == "fcntl"));
        assert!(GO_RUNTIME.iter().all(|g| main.names.iter().any(|n| n == g)));
        // runc's prctl before its filter is not governed: no rule.
        assert!(!p.syscalls.iter().any(|r| r.names == ["prctl"]));
        let conditioned: Vec<(String, u64)> = p.syscalls[1..]
            .iter()
            .map(|r| (r.names.join(","), r.args[0].value))
            .collect();
        let pair = |n: &str, v| (n.to_string(), v);
        assert_eq!(
            conditioned,
            [pair("fcntl", 3), pair("socket", 2), pair("socket", 10)]
        );
        // The check of the same calls passes: every governed call is allowed.
        let e = super::super::profile::Env::host();
        for (name, r) in [
            ("socket", raw(0, 2)),
            ("socket", raw(0, 10)),
            ("fcntl", raw(1, 3)),
        ] {
            assert!(p.decide(name, &r, &e).allows(), "{name}");
        }
        assert!(!p.decide("socket", &raw(0, 40), &e).allows());
        assert!(!p.decide("fcntl", &raw(1, 4), &e).allows());
    }
}
