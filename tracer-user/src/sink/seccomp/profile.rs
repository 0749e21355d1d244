//! Docker's seccomp profile format (moby `profiles/seccomp`: the OCI `LinuxSeccomp` plus
//! `archMap`, per-rule `names`/`name`, `comment`, `includes` and `excludes`), with the OCI enums
//! from `oci-spec`, and how Docker turns it into a filter for one container: which rules apply
//! (architecture, capabilities, kernel version) and what the filter decides for one call.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::seccomp::Verdict as WatchVerdict;
pub use oci_spec::runtime::{Arch, LinuxSeccompAction as Action, LinuxSeccompOperator as Op};

/// Docker's profiles write `null` for empty lists (`"subArchitectures": null`).
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub default_action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub architectures: Vec<Arch>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arch_map: Vec<ArchMap>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flags: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub syscalls: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMap {
    pub architecture: Arch,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub sub_architectures: Vec<Arch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub names: Vec<String>,
    /// Deprecated single-name form, still accepted by Docker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<ArgCond>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Filter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgCond {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub caps: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arches: Vec<String>,
    /// `"5.8"`: the rule needs (includes) or must not have (excludes) at least this kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<String>,
}

/// What a container's filter is built for: Docker evaluates `includes`/`excludes` against the
/// machine's architecture (Go's names: `amd64`, `arm64`), the container's capabilities
/// (bounding set) and the running kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    pub go_arch: &'static str,
    pub native: Arch,
    pub caps: Vec<String>,
    pub kernel: (u32, u32),
}

/// Docker's default capability set (moby `oci/caps/defaults.go`).
pub const DOCKER_DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

impl Env {
    /// This machine, with Docker's default capabilities.
    pub fn host() -> Env {
        let (go_arch, native) = if cfg!(target_arch = "aarch64") {
            ("arm64", Arch::ScmpArchAarch64)
        } else {
            ("amd64", Arch::ScmpArchX86_64)
        };
        Env {
            go_arch,
            native,
            caps: DOCKER_DEFAULT_CAPS.iter().map(|c| c.to_string()).collect(),
            kernel: running_kernel(),
        }
    }

    /// With `--cap-add`/`--cap-drop` applied (names with or without `CAP_`, or `ALL`).
    pub fn with_caps(mut self, add: &[String], drop: &[String]) -> Env {
        let norm = |c: &str| {
            let c = c.to_ascii_uppercase();
            if c.starts_with("CAP_") || c == "ALL" {
                c
            } else {
                format!("CAP_{c}")
            }
        };
        if drop.iter().any(|c| norm(c) == "ALL") {
            self.caps.clear();
        }
        let dropped: Vec<String> = drop.iter().map(|c| norm(c)).collect();
        self.caps.retain(|c| !dropped.contains(c));
        for c in add.iter().map(|c| norm(c)) {
            if c == "ALL" {
                self.caps = ALL_CAPS.iter().map(|c| c.to_string()).collect();
            } else if !self.caps.contains(&c) {
                self.caps.push(c);
            }
        }
        self
    }
}

const ALL_CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// `6.18.0-…` → (6, 18).
fn running_kernel() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    parse_kernel(&release).unwrap_or((0, 0))
}

fn parse_kernel(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// The filter's verdict for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// For `SCMP_ACT_ERRNO`: the errno the call fails with.
    pub errno: Option<u32>,
    /// The rule that decided (index in `syscalls`), `None` for the default action.
    pub rule: Option<usize>,
}

impl Verdict {
    /// Does the call go through (possibly logged or traced)?
    pub fn allows(&self) -> bool {
        matches!(
            self.action,
            Action::ScmpActAllow
                | Action::ScmpActLog
                | Action::ScmpActTrace
                | Action::ScmpActNotify
        )
    }
}

/// libseccomp's precedence when several rules match one call: the most restrictive wins.
fn severity(a: Action) -> u8 {
    match a {
        Action::ScmpActKillProcess => 8,
        Action::ScmpActKill | Action::ScmpActKillThread => 7,
        Action::ScmpActTrap => 6,
        Action::ScmpActErrno => 5,
        Action::ScmpActNotify => 4,
        Action::ScmpActTrace => 3,
        Action::ScmpActLog => 2,
        Action::ScmpActAllow => 1,
    }
}

/// EPERM: what runc uses for `SCMP_ACT_ERRNO` without an errno.
const DEFAULT_ERRNO: u32 = 1;

impl ArgCond {
    /// libseccomp compares the 64-bit register value.
    pub fn matches(&self, args: &[u64; 6]) -> bool {
        let Some(&v) = args.get(self.index as usize) else {
            return false;
        };
        match self.op {
            Op::ScmpCmpNe => v != self.value,
            Op::ScmpCmpLt => v < self.value,
            Op::ScmpCmpLe => v <= self.value,
            Op::ScmpCmpEq => v == self.value,
            Op::ScmpCmpGe => v >= self.value,
            Op::ScmpCmpGt => v > self.value,
            Op::ScmpCmpMaskedEq => v & self.value == self.value_two,
        }
    }
}

impl Filter {
    /// `includes`: every criterion given holds.
    fn all_hold(&self, env: &Env) -> bool {
        (self.arches.is_empty() || self.arches.iter().any(|a| a == env.go_arch))
            && self.caps.iter().all(|c| env.caps.contains(c))
            && self
                .min_kernel
                .as_deref()
                .and_then(parse_kernel)
                .is_none_or(|k| env.kernel >= k)
    }

    /// `excludes`: any criterion given holds.
    fn any_holds(&self, env: &Env) -> bool {
        self.arches.iter().any(|a| a == env.go_arch)
            || self.caps.iter().any(|c| env.caps.contains(c))
            || self
                .min_kernel
                .as_deref()
                .and_then(parse_kernel)
                .is_some_and(|k| env.kernel >= k)
    }
}

impl Rule {
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .map(String::as_str)
            .chain(self.name.as_deref())
    }

    /// Whether Docker puts this rule into the filter for `env`.
    pub fn applies(&self, env: &Env) -> bool {
        self.includes.as_ref().is_none_or(|f| f.all_hold(env))
            && self.excludes.as_ref().is_none_or(|f| !f.any_holds(env))
    }
}

impl Profile {
    /// The architectures the filter covers: `architectures` plus, for every `archMap` entry,
    /// its architecture and sub-architectures (Docker expands the map for the native one).
    pub fn covers_native(&self, env: &Env) -> bool {
        self.architectures.contains(&env.native)
            || self.arch_map.iter().any(|m| m.architecture == env.native)
            || (self.architectures.is_empty() && self.arch_map.is_empty())
    }

    /// What the filter does with `syscall(args)` for a container described by `env`.
    pub fn decide(&self, syscall: &str, args: &[u64; 6], env: &Env) -> Verdict {
        let rules = self
            .syscalls
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.all_names().any(|n| n == syscall) && rule.applies(env));
        self.decide_among(rules, args)
    }

    /// The verdict for `args` among the rules Docker put into the filter for the call's name:
    /// the most restrictive matching rule, else the default action.
    fn decide_among<'a>(
        &'a self,
        rules: impl Iterator<Item = (usize, &'a Rule)>,
        args: &[u64; 6],
    ) -> Verdict {
        let mut best: Option<Verdict> = None;
        for (i, rule) in rules {
            if !rule.args.iter().all(|c| c.matches(args)) {
                continue;
            }
            let v = Verdict {
                action: rule.action,
                errno: (rule.action == Action::ScmpActErrno).then(|| {
                    rule.errno_ret
                        .or(self.default_errno_ret)
                        .unwrap_or(DEFAULT_ERRNO)
                }),
                rule: Some(i),
            };
            if best.is_none_or(|b| severity(v.action) > severity(b.action)) {
                best = Some(v);
            }
        }
        best.unwrap_or(Verdict {
            action: self.default_action,
            errno: (self.default_action == Action::ScmpActErrno)
                .then(|| self.default_errno_ret.unwrap_or(DEFAULT_ERRNO)),
            rule: None,
        })
    }
}

/// A profile with its filter built for one container ([`Env`]): the rules Docker puts into
/// it, by syscall name, so a call is decided without looking at the others (the watch stage
/// decides every call of a stream). Decides as [`Profile::decide`] does.
#[derive(Debug, Clone)]
pub struct Compiled {
    profile: Profile,
    by_name: HashMap<String, Vec<usize>>,
}

impl Compiled {
    pub fn new(profile: Profile, env: &Env) -> Compiled {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, rule) in profile.syscalls.iter().enumerate() {
            if rule.applies(env) {
                for n in rule.all_names() {
                    let rules = by_name.entry(n.to_string()).or_default();
                    if rules.last() != Some(&i) {
                        rules.push(i);
                    }
                }
            }
        }
        Compiled { profile, by_name }
    }

    pub fn decide(&self, syscall: &str, args: &[u64; 6]) -> Verdict {
        let rules = self
            .by_name
            .get(syscall)
            .into_iter()
            .flatten()
            .map(|&i| (i, &self.profile.syscalls[i]));
        self.profile.decide_among(rules, args)
    }
}

/// `SCMP_ACT_ERRNO` and friends, as in profiles.
pub fn action_name(a: Action) -> String {
    action_str(a).to_string()
}

/// `SCMP_ACT_ERRNO` and friends, as in profiles.
pub fn action_str(a: Action) -> &'static str {
    match a {
        Action::ScmpActKill => "SCMP_ACT_KILL",
        Action::ScmpActKillThread => "SCMP_ACT_KILL_THREAD",
        Action::ScmpActKillProcess => "SCMP_ACT_KILL_PROCESS",
        Action::ScmpActTrap => "SCMP_ACT_TRAP",
        Action::ScmpActErrno => "SCMP_ACT_ERRNO",
        Action::ScmpActNotify => "SCMP_ACT_NOTIFY",
        Action::ScmpActTrace => "SCMP_ACT_TRACE",
        Action::ScmpActLog => "SCMP_ACT_LOG",
        Action::ScmpActAllow => "SCMP_ACT_ALLOW",
    }
}

/// What the watch stage reports for an action: nothing for `SCMP_ACT_ALLOW`.
pub fn verdict_of(a: Action) -> Option<WatchVerdict> {
    Some(match a {
        Action::ScmpActAllow => return None,
        Action::ScmpActErrno => WatchVerdict::WouldDeny,
        Action::ScmpActKill | Action::ScmpActKillThread | Action::ScmpActKillProcess => {
            WatchVerdict::WouldKill
        }
        Action::ScmpActTrap => WatchVerdict::WouldTrap,
        Action::ScmpActLog => WatchVerdict::WouldLog,
        Action::ScmpActTrace => WatchVerdict::WouldTrace,
        Action::ScmpActNotify => WatchVerdict::WouldNotify,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every feature of Docker's format, written for these tests.
    const PROFILE: &str = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
            {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
        ],
        "syscalls": [
            {"names": ["read", "write", "getppid"], "action": "SCMP_ACT_ALLOW"},
            {"name": "close", "action": "SCMP_ACT_ALLOW"},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
            {"names": ["kexec_load"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
            {"names": ["cacheflush"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
             "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["chmod"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["chmod"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 1, "value": 2048, "op": "SCMP_CMP_GE"}]},
            {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 2, "value": 4, "op": "SCMP_CMP_LT"}, {"index": 3, "value": 1, "op": "SCMP_CMP_GT"}]},
            {"names": ["uname"], "action": "SCMP_ACT_LOG"}
        ]
    }"#;

    fn env(caps: &[&str]) -> Env {
        Env {
            go_arch: "amd64",
            native: Arch::ScmpArchX86_64,
            caps: caps.iter().map(|c| c.to_string()).collect(),
            kernel: (6, 18),
        }
    }

    fn verdict(p: &Profile, e: &Env, name: &str, args: [u64; 6]) -> (Action, Option<u32>) {
        let v = p.decide(name, &args, e);
        (v.action, v.errno)
    }

    #[test]
    fn docker_format_semantics() {
        let p: Profile = serde_json::from_str(PROFILE).expect("parses");
        let plain = env(&DOCKER_DEFAULT_CAPS);
        let admin = env(&["CAP_SYS_ADMIN"]);
        let allow = (Action::ScmpActAllow, None);
        let eperm = (Action::ScmpActErrno, Some(1));
        let z = [0u64; 6];
        assert!(p.covers_native(&plain));
        assert_eq!(verdict(&p, &plain, "getppid", z), allow);
        assert_eq!(verdict(&p, &plain, "close", z), allow, "legacy name");
        assert_eq!(verdict(&p, &plain, "unlink", z), eperm, "default");
        assert_eq!(
            verdict(&p, &plain, "ptrace", z),
            allow,
            "minKernel 4.8 on 6.18"
        );
        assert_eq!(verdict(&p, &plain, "kexec_load", z), eperm, "minKernel 99");
        assert_eq!(verdict(&p, &plain, "arch_prctl", z), allow, "arches amd64");
        assert_eq!(
            verdict(&p, &plain, "cacheflush", z),
            eperm,
            "arches arm only"
        );
        assert_eq!(
            verdict(&p, &plain, "mount", z),
            eperm,
            "needs CAP_SYS_ADMIN"
        );
        assert_eq!(verdict(&p, &admin, "mount", z), allow);
        assert_eq!(verdict(&p, &plain, "socket", [2, 1, 0, 0, 0, 0]), allow);
        assert_eq!(
            verdict(&p, &plain, "socket", [40, 1, 0, 0, 0, 0]),
            eperm,
            "AF_VSOCK"
        );
        assert_eq!(
            verdict(&p, &plain, "personality", [8, 0, 0, 0, 0, 0]),
            allow
        );
        assert_eq!(
            verdict(&p, &plain, "personality", [9, 0, 0, 0, 0, 0]),
            eperm
        );
        // clone without namespace flags: allowed; with CLONE_NEWUSER: denied; with
        // CAP_SYS_ADMIN the rule is excluded and nothing allows clone.
        assert_eq!(verdict(&p, &plain, "clone", [0x11, 0, 0, 0, 0, 0]), allow);
        assert_eq!(
            verdict(&p, &plain, "clone", [0x1000_0000, 0, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(verdict(&p, &admin, "clone", [0x11, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(
            verdict(&p, &plain, "clone3", z),
            (Action::ScmpActErrno, Some(38))
        );
        assert_eq!(verdict(&p, &admin, "clone3", z), eperm);
        // Two matching rules: the more restrictive wins.
        assert_eq!(verdict(&p, &plain, "chmod", [0, 0o755, 0, 0, 0, 0]), allow);
        assert_eq!(
            verdict(&p, &plain, "chmod", [0, 0o4755, 0, 0, 0, 0]),
            (Action::ScmpActKillProcess, None)
        );
        // Conditions on several arguments: all must hold.
        assert_eq!(verdict(&p, &plain, "mmap", [0, 0, 3, 2, 0, 0]), allow);
        assert_eq!(verdict(&p, &plain, "mmap", [0, 0, 3, 1, 0, 0]), eperm);
        assert!(
            p.decide("uname", &z, &plain).allows(),
            "SCMP_ACT_LOG lets the call through"
        );
        // Round trip keeps the document.
        let again: Profile =
            serde_json::from_str(&serde_json::to_string(&p).expect("ser")).expect("de");
        assert_eq!(again, p);
    }

    #[test]
    fn the_compiled_filter_decides_as_the_profile() {
        let p: Profile = serde_json::from_str(PROFILE).expect("parses");
        for e in [env(&DOCKER_DEFAULT_CAPS), env(&["CAP_SYS_ADMIN"]), env(&[])] {
            let c = Compiled::new(p.clone(), &e);
            for name in [
                "read",
                "close",
                "unlink",
                "ptrace",
                "kexec_load",
                "arch_prctl",
                "cacheflush",
                "mount",
                "socket",
                "personality",
                "clone",
                "clone3",
                "chmod",
                "mmap",
                "uname",
            ] {
                for args in [
                    [0u64; 6],
                    [40, 0, 0, 0, 0, 0],
                    [8, 0o4755, 3, 2, 0, 0],
                    [0x1000_0000, 0o755, 5, 0, 0, 0],
                ] {
                    assert_eq!(
                        c.decide(name, &args),
                        p.decide(name, &args, &e),
                        "{name} {args:?} {:?}",
                        e.caps
                    );
                }
            }
        }
    }

    #[test]
    fn seed_profiles_parse() {
        for (name, text) in [
            (
                "deny",
                include_str!("../../../../tests/fixtures/seccomp/deny.json"),
            ),
            (
                "no-chmod",
                include_str!("../../../../tests/fixtures/seccomp/no-chmod.json"),
            ),
        ] {
            let p: Profile = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let e = env(&DOCKER_DEFAULT_CAPS);
            assert!(p.covers_native(&e), "{name}");
        }
        let deny: Profile =
            serde_json::from_str(include_str!("../../../../tests/fixtures/seccomp/deny.json"))
                .expect("deny");
        assert_eq!(deny.decide("read", &[0; 6], &env(&[])).errno, Some(1));
    }

    #[test]
    fn capabilities_from_docker_flags() {
        let e = Env::host().with_caps(&["sys_admin".into()], &["NET_RAW".into()]);
        assert!(e.caps.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(!e.caps.contains(&"CAP_NET_RAW".to_string()));
        let none = Env::host().with_caps(&[], &["ALL".into()]);
        assert!(none.caps.is_empty());
        assert_eq!(parse_kernel("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(parse_kernel("4.8"), Some((4, 8)));
    }
}
