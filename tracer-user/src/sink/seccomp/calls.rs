//! Observed syscalls, read back from tracer's JSON lines, and which of them a container's
//! seccomp profile governs.
//!
//! runc's `init` runs inside the container's cgroup before it execs the entrypoint, and loads
//! the container's filter part-way through (with `seccomp(SECCOMP_SET_MODE_FILTER, …)`, or
//! `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, …)` on old runtimes). Its calls before that are
//! not subject to the profile (mounts, pivot_root, sethostname…); its calls after it are
//! (capset, setgroups, the exec fifo, `execve` of the entrypoint…), and a profile that misses
//! them stops the container from starting. So, per process: a process with a `runc` command
//! name is in *runtime set-up* until it loads a filter, then *subject*; every other process
//! (runc's init once it has exec'd the entrypoint too) is subject.
use std::collections::HashMap;

use serde_json::Value;

use crate::{
    decode::{errno, escape, syscalls},
    model::{Event, clock::Clock, event::DecodedArg},
};

/// One observed call, as much as the seccomp commands need of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub syscall: String,
    pub raw: [u64; 6],
    pub ret: Option<i64>,
    pub errno: Option<String>,
    /// Rejected by the profile the container ran under.
    pub denied: bool,
    pub comm: String,
    pub pid: u64,
    pub container: Option<String>,
    pub ts: String,
    /// The decoded arguments, as a record shows them (for reports).
    pub args: Value,
}

impl Call {
    pub fn of(e: &Event, clock: &Clock) -> Call {
        let ev = &e.call;
        let mut ts = Vec::with_capacity(32);
        clock.format_into(ev.ktime_ns, &mut ts);
        let args = e.args.iter().map(DecodedArg::to_json).collect();
        Call {
            syscall: syscalls::display_name(ev.nr).into_owned(),
            raw: ev.args,
            ret: ev.ret,
            errno: ev.ret.and_then(errno::of_ret).map(errno::name),
            denied: ev.seccomp().is_some(),
            comm: String::from_utf8_lossy(ev.comm_bytes()).into_owned(),
            pid: u64::from(ev.tgid),
            container: e.container.as_ref().map(|c| c.name.clone()),
            ts: String::from_utf8_lossy(&ts).into_owned(),
            args: Value::Array(args),
        }
    }

    /// `comm(pid) syscall(args…)` for reports, strings shortened.
    pub fn describe(&self) -> String {
        let args: Vec<String> = self
            .args
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        let s = match &x["value"] {
                            Value::String(s) => escape::quoted(s.as_bytes(), false),
                            other => other.to_string(),
                        };
                        if s.chars().count() > 40 {
                            format!("{}…", s.chars().take(40).collect::<String>())
                        } else {
                            s
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        format!(
            "{}[{}] {}({})",
            clean(&self.comm),
            self.pid,
            self.syscall,
            args.join(", ")
        )
    }
}

/// A traced process's string for a terminal: control characters escaped.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// runc's init before it loaded the container's filter: not governed by the profile.
    RuntimeSetup,
    /// Governed by the profile.
    Subject,
}

/// Loads a seccomp filter for its process (SECCOMP_SET_MODE_FILTER / PR_SET_SECCOMP).
fn loads_filter(syscall: &str, raw: &[u64; 6], ret: Option<i64>) -> bool {
    const SECCOMP_SET_MODE_FILTER: u64 = 1;
    const PR_SET_SECCOMP: u64 = 22;
    const SECCOMP_MODE_FILTER: u64 = 2;
    let ok = ret.is_some_and(|r| r >= 0);
    ok && match syscall {
        "seccomp" => raw[0] == SECCOMP_SET_MODE_FILTER,
        "prctl" => raw[0] == PR_SET_SECCOMP && raw[1] == SECCOMP_MODE_FILTER,
        _ => false,
    }
}

/// Runtime processes remembered at most: past it the map starts over (a runc process that had
/// loaded its filter is then taken for one in set-up: its last calls go unjudged, none is
/// judged wrongly).
const RUNTIME_PROCESSES_KEPT: usize = 4096;

/// Tells, call by call, which phase each process is in. Only runc's processes are remembered
/// (by host pid): whether each has loaded its filter. A process named otherwise is governed,
/// and forgotten (runc's init execs the entrypoint under its name); one that ends
/// (`exit_group`) is forgotten, so a reused pid starts over. This holds across a daemon's
/// days of container restarts and `docker exec`s.
#[derive(Debug, Default)]
pub struct Classifier {
    /// runc processes: `true` while in set-up, `false` once their filter is loaded.
    setup: HashMap<u64, bool>,
    /// Some runtime process was seen loading a filter.
    pub filter_loads: u64,
}

impl Classifier {
    pub fn phase(&mut self, call: &Call) -> Phase {
        self.phase_of(
            call.pid,
            call.comm.as_bytes(),
            &call.syscall,
            &call.raw,
            call.ret,
        )
    }

    /// The phase of `syscall(raw) = ret` made by process `pid` named `comm` (what
    /// [`Classifier::phase`] reads of a [`Call`]; the watch stage gives an event's without
    /// building one).
    pub fn phase_of(
        &mut self,
        pid: u64,
        comm: &[u8],
        syscall: &str,
        raw: &[u64; 6],
        ret: Option<i64>,
    ) -> Phase {
        if !comm.starts_with(b"runc") {
            if !self.setup.is_empty() {
                self.setup.remove(&pid);
            }
            return Phase::Subject;
        }
        if self.setup.len() >= RUNTIME_PROCESSES_KEPT && !self.setup.contains_key(&pid) {
            self.setup.clear();
        }
        let in_setup = *self.setup.entry(pid).or_insert(true);
        let phase = if !in_setup {
            Phase::Subject
        } else {
            if loads_filter(syscall, raw, ret) {
                // The loading call runs before the filter exists; what follows is governed.
                self.setup.insert(pid, false);
                self.filter_loads += 1;
            }
            Phase::RuntimeSetup
        };
        if syscall == "exit_group" {
            self.setup.remove(&pid);
        }
        phase
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::decode::jsonl;

    fn line(pid: u64, comm: &str, syscall: &str, raw: &[u64], ret: i64) -> String {
        let args: Vec<Value> = raw
            .iter()
            .map(|r| serde_json::json!({"name": "a", "type": "long", "value": r, "raw": r}))
            .collect();
        serde_json::json!({"type": "syscall", "ts": "2026-01-01T00:00:00.000000001Z",
            "syscall": syscall, "args": args, "ret": ret, "errno": null, "pid": pid,
            "comm": comm, "enter": "seen", "seccomp": null,
            "container": {"id": "x", "name": "web"}})
        .to_string()
    }

    #[test]
    fn runc_calls_before_its_filter_are_runtime_setup() {
        let text = [
            line(10, "runc:[2:INIT]", "mount", &[0, 0, 0, 0, 0, 0], 0),
            line(10, "runc:[2:INIT]", "seccomp", &[1, 0, 0x1234, 0, 0, 0], 0),
            line(10, "runc:[2:INIT]", "capset", &[0, 0, 0, 0, 0, 0], 0),
            line(10, "nginx", "execve", &[0, 0, 0, 0, 0, 0], 0),
            line(11, "nginx", "openat", &[0, 0, 0, 0, 0, 0], 3),
            line(12, "runc:[1:CHILD]", "unshare", &[0, 0, 0, 0, 0, 0], 0),
            "{not json".to_string(),
        ]
        .join("\n");
        let clock = Clock::with_offset(0);
        let mut c = Classifier::default();
        let mut seen = Vec::new();
        let stats = jsonl::read(text.as_bytes(), &clock, 4, |events| {
            for e in &events {
                let call = Call::of(e, &clock);
                let phase = c.phase(&call);
                seen.push((call.syscall, phase));
            }
            true
        })
        .expect("read");
        assert_eq!(stats.bad, 1);
        assert_eq!(c.filter_loads, 1);
        use Phase::*;
        assert_eq!(
            seen,
            [
                ("mount".to_string(), RuntimeSetup),
                ("seccomp".to_string(), RuntimeSetup),
                ("capset".to_string(), Subject),
                ("execve".to_string(), Subject),
                ("openat".to_string(), Subject),
                ("unshare".to_string(), RuntimeSetup),
            ]
        );
    }
}
