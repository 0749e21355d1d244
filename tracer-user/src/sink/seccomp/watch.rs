//! Complain mode: a stage between the filter and the sinks that judges every governed call
//! against a seccomp profile, as `seccomp check` does, and hands the sinks a
//! [`Finding`] for each call the profile would not simply have allowed. Nothing is enforced.
//!
//! It wraps the sink that renders (JSON lines, text, the daemon's per-container routing and
//! metrics): each event goes on to it when asked (the daemon streams records and findings into
//! one container's file), then its finding. The profile is chosen per container name, else a
//! default; runc's set-up before it loads the filter is not judged ([`Classifier`]).
use std::{collections::HashMap, io, sync::Arc};

use super::{
    calls::{Classifier, Phase},
    profile::{Compiled, Env, Profile, action_str, verdict_of},
};
use crate::{
    decode::{DecodeError, syscalls},
    error::Error,
    model::{
        Container, Event, Lifecycle, SignalEvent,
        seccomp::Finding,
        seccomp::Verdict,
        summary::{Report, TargetCount},
    },
    sink::{Lost, Sink},
};

/// A profile with its filter built for one container's capabilities, and the name findings
/// give it.
#[derive(Debug)]
pub struct Judge {
    name: Arc<str>,
    filter: Compiled,
}

impl Judge {
    /// `name`: the profile as the user named it (its path).
    pub fn new(name: &str, profile: Profile, env: &Env) -> Judge {
        Judge {
            name: Arc::from(name),
            filter: Compiled::new(profile, env),
        }
    }

    /// What the profile would have done with `syscall(args)`: `None` when it allows it.
    pub fn judge(&self, syscall: &str, args: &[u64; 6]) -> Option<Finding> {
        let v = self.filter.decide(syscall, args);
        Some(Finding {
            verdict: verdict_of(v.action)?,
            action: action_str(v.action),
            errno: v.errno,
            rule: v.rule,
            profile: self.name.clone(),
        })
    }
}

/// The watch stage over `inner`.
pub struct Watch {
    inner: Box<dyn Sink + Send>,
    classifier: Classifier,
    /// For containers without a profile of their own; `None`: they are not judged.
    default: Option<Arc<Judge>>,
    /// By container label (its name; `NS/POD/NAME` in a pod).
    per_container: HashMap<String, Arc<Judge>>,
    /// Pass each event (and signal, lifecycle record, summary) on, each event before its
    /// finding (the daemon's streams); `seccomp watch` writes findings and losses only.
    events: bool,
    /// End with [`Error::WouldReject`] when anything was found (`seccomp watch`, not the
    /// daemon).
    fail: bool,
    found: HashMap<Verdict, u64>,
    /// Records the kernel could not store: findings may be missing.
    lost: u64,
}

impl Watch {
    pub fn new(inner: Box<dyn Sink + Send>, default: Option<Arc<Judge>>) -> Watch {
        Watch {
            inner,
            classifier: Classifier::default(),
            default,
            per_container: HashMap::new(),
            events: false,
            fail: false,
            found: HashMap::new(),
            lost: 0,
        }
    }

    /// Judges the calls of container `name` with `judge` instead of the default.
    pub fn with_container(mut self, name: &str, judge: Arc<Judge>) -> Watch {
        self.per_container.insert(name.to_string(), judge);
        self
    }

    /// Passes every event on too, before its finding.
    pub fn with_events(mut self) -> Watch {
        self.events = true;
        self
    }

    /// Fails the run (exit 9) when something was found.
    pub fn failing(mut self) -> Watch {
        self.fail = true;
        self
    }

    /// The profile for a call of `container`: its own (by its label: its name, `NS/POD/NAME`
    /// in a pod), else the default, if any.
    fn judge_for(&self, container: Option<&Container>) -> Option<&Judge> {
        container
            .and_then(|c| self.per_container.get(c.label().as_ref()))
            .or(self.default.as_ref())
            .map(|j| j.as_ref())
    }

    /// Findings so far, by verdict.
    pub fn found(&self) -> &HashMap<Verdict, u64> {
        &self.found
    }
}

impl Sink for Watch {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        if self.events {
            self.inner.event(e)?;
        }
        let ev = &e.call;
        let name = syscalls::display_name(ev.nr);
        let phase =
            self.classifier
                .phase_of(u64::from(ev.tgid), ev.comm_bytes(), &name, &ev.args, ev.ret);
        if phase == Phase::RuntimeSetup {
            return Ok(());
        }
        let Some(f) = self
            .judge_for(e.container.as_deref())
            .and_then(|j| j.judge(&name, &e.call.args))
        else {
            return Ok(());
        };
        *self.found.entry(f.verdict).or_default() += 1;
        self.inner.seccomp(e, &f)
    }

    fn seccomp(&mut self, e: &Event, f: &Finding) -> io::Result<()> {
        self.inner.seccomp(e, f)
    }

    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.lost = lost.total;
        self.inner.lost(lost)
    }

    // Signals, lifecycle and summaries go with the events: `seccomp watch` writes findings
    // (and losses) only.
    fn signal(&mut self, s: &SignalEvent) -> io::Result<()> {
        match self.events {
            true => self.inner.signal(s),
            false => Ok(()),
        }
    }

    fn lifecycle(&mut self, l: &Lifecycle) -> io::Result<()> {
        match self.events {
            true => self.inner.lifecycle(l),
            false => Ok(()),
        }
    }

    fn summary(&mut self, r: &Report, c: Option<&Container>) -> io::Result<()> {
        match self.events {
            true => self.inner.summary(r, c),
            false => Ok(()),
        }
    }

    fn counts(&mut self, c: &[TargetCount]) -> io::Result<()> {
        self.inner.counts(c)
    }

    fn undecodable(&mut self, e: &DecodeError) {
        self.inner.undecodable(e);
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.inner.reopen()
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.fail {
            super::warn_lost(self.lost);
        }
        self.inner.finish()
    }

    fn verdict(&mut self) -> Result<(), Error> {
        self.inner.verdict()?;
        let total: u64 = self.found.values().sum();
        if !self.fail || total == 0 {
            return Ok(());
        }
        let by: Vec<String> = Verdict::ALL
            .iter()
            .filter_map(|v| Some(format!("{} {}", self.found.get(v)?, v.as_str())))
            .collect();
        Err(Error::WouldReject {
            calls: total,
            by: by.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io::Write,
        sync::{Arc, Mutex},
    };

    use serde_json::Value;

    use super::*;
    use crate::{
        decode::{self, tests as fixtures},
        error::exit,
        model::{Runtime, clock::Clock},
        sink::{jsonl, jsonl::JsonLines, text::Text},
    };

    /// Output the test reads back while the sink owns the writer.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().expect("lock").clone()).expect("utf-8")
        }
    }

    fn container(name: &str) -> Arc<Container> {
        Arc::new(Container {
            id: format!("{name}-id"),
            name: name.into(),
            runtime: Runtime::Docker,
            pod: None,
        })
    }

    fn event(pid: u32, comm: &str, syscall: &str, args: [u64; 6], ret: i64, c: &str) -> Event {
        let nr = syscalls::number(syscall).expect(syscall);
        let mut r = fixtures::record(0, nr, ret);
        (r.header.tgid, r.header.tid, r.args) = (pid, pid, args);
        r.comm = [0; 16];
        r.comm[..comm.len()].copy_from_slice(comm.as_bytes());
        let ev = decode::decode(&fixtures::bytes(&r)).expect("decodes");
        let mut e = decode::event(ev, decode::args::Options::default());
        e.container = Some(container(c));
        e
    }

    fn profile(name: &str) -> Profile {
        let text = match name {
            "no-chmod" => include_str!("../../../../tests/fixtures/seccomp/no-chmod.json"),
            "kill-chmod" => include_str!("../../../../tests/fixtures/seccomp/kill-chmod.json"),
            _ => include_str!("../../../../tests/fixtures/seccomp/deny.json"),
        };
        serde_json::from_str(text).expect("profile")
    }

    fn judge(name: &str) -> Arc<Judge> {
        Arc::new(Judge::new(
            &format!("{name}.json"),
            profile(name),
            &Env::host(),
        ))
    }

    const AT_FDCWD: u64 = -100i64 as u64;

    /// runc's init before and after its filter load, then the entrypoint, then a chmod.
    fn start_and_chmod(c: &str, pid: u32) -> Vec<Event> {
        vec![
            event(
                pid,
                "runc:[2:INIT]",
                "fchmodat",
                [AT_FDCWD, 0, 0o755, 0, 0, 0],
                0,
                c,
            ),
            event(
                pid,
                "runc:[2:INIT]",
                "seccomp",
                [1, 0, 0x1000, 0, 0, 0],
                0,
                c,
            ),
            event(pid, "runc:[2:INIT]", "fchmod", [3, 0o600, 0, 0, 0, 0], 0, c),
            event(pid, "workload", "execve", [0; 6], 0, c),
            event(pid, "workload", "getppid", [0; 6], 1, c),
            event(
                pid,
                "workload",
                "fchmodat",
                [AT_FDCWD, 0, 0o777, 0, 0, 0],
                0,
                c,
            ),
            event(pid, "workload", "exit_group", [0; 6], 0, c),
        ]
    }

    #[test]
    fn records_then_findings_with_the_call_embedded() {
        let out = Shared::default();
        let clock = Clock::with_offset(1_700_000_000_000_000_000);
        let inner = JsonLines::new(out.clone(), clock);
        let mut w = Watch::new(Box::new(inner), Some(judge("no-chmod"))).with_events();
        for e in start_and_chmod("web", 40) {
            w.event(&e).expect("writes");
        }
        w.finish().expect("finishes");
        assert!(
            w.verdict().is_ok(),
            "the daemon's stage never fails the run"
        );
        let lines: Vec<Value> = out
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let kinds: Vec<String> = lines
            .iter()
            .map(|v| format!("{} {}", v["type"], v["syscall"]).replace('"', ""))
            .collect();
        // runc's chmod before its filter is not judged; after it, it is (fchmod), as is the
        // workload's.
        assert_eq!(
            kinds,
            [
                "syscall fchmodat",
                "syscall seccomp",
                "syscall fchmod",
                "seccomp fchmod",
                "syscall execve",
                "syscall getppid",
                "syscall fchmodat",
                "seccomp fchmodat",
                "syscall exit_group",
            ]
        );
        let f = &lines[7];
        assert_eq!(f["verdict"], "would_deny");
        assert_eq!(f["action"], "SCMP_ACT_ERRNO");
        assert_eq!(f["errno"], "EPERM");
        assert_eq!(f["rule"], 0);
        assert_eq!(f["profile"], "no-chmod.json");
        assert_eq!(f["container"]["name"], "web");
        assert_eq!(f["ts"], lines[6]["ts"]);
        // The call exactly as its own record shows it.
        assert_eq!(f["call"], lines[6]);
        let e = start_and_chmod("web", 40).remove(5);
        let reference: Value =
            serde_json::from_str(&jsonl::reference_line(&e, clock)).expect("reference");
        assert_eq!(f["call"], reference);
        assert_eq!(w.found().get(&Verdict::WouldDeny), Some(&2));
    }

    #[test]
    fn a_profile_per_container_and_a_failing_watch() {
        let out = Shared::default();
        let inner = JsonLines::new(out.clone(), Clock::with_offset(0));
        let mut w = Watch::new(Box::new(inner), Some(judge("no-chmod")))
            .with_container("db", judge("kill-chmod"))
            .failing();
        for (c, pid) in [("web", 40), ("db", 50), ("other", 60)] {
            for e in start_and_chmod(c, pid) {
                w.event(&e).expect("writes");
            }
        }
        // Signals go with the events: not written by a watch of findings.
        let b = decode::signal_event::tests::bytes(&decode::signal_event::tests::delivery(
            23, -6, 8, 0x46_e180,
        ));
        let Ok(decode::Record::Signal(s)) = decode::decode_record(&b) else {
            panic!("a signal record")
        };
        w.signal(&s).expect("writes");
        let findings: Vec<Value> = out
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert!(
            findings.iter().all(|v| v["type"] == "seccomp"),
            "findings only"
        );
        let verdicts: Vec<(String, String)> = findings
            .iter()
            .map(|v| {
                (
                    v["container"]["name"].as_str().unwrap_or_default().into(),
                    v["verdict"].as_str().unwrap_or_default().into(),
                )
            })
            .collect();
        let pair = |c: &str, v: &str| (c.to_string(), v.to_string());
        assert_eq!(
            verdicts,
            [
                pair("web", "would_deny"),
                pair("web", "would_deny"),
                pair("db", "would_kill"),
                pair("db", "would_kill"),
                pair("other", "would_deny"),
                pair("other", "would_deny"),
            ]
        );
        assert!(findings[2]["errno"].is_null());
        assert_eq!(findings[2]["action"], "SCMP_ACT_KILL_PROCESS");
        let e = w.verdict().expect_err("findings fail the watch");
        assert_eq!(e.exit_code(), exit::WOULD_DENY);
        assert_eq!(
            e.to_string(),
            "the profile would not have allowed 6 observed call(s) (4 would_deny, 2 would_kill), each in the findings written; allow them in the profile, or change what the container does"
        );
    }

    #[test]
    fn a_reused_pid_starts_over() {
        let out = Shared::default();
        let inner = JsonLines::new(out.clone(), Clock::with_offset(0));
        let mut w = Watch::new(Box::new(inner), Some(judge("no-chmod")));
        // An exec's runc init loads its filter and dies before exec'ing (exit_group); its pid
        // comes back as a new runc init still setting up: not judged.
        let pid = 70;
        for e in [
            event(
                pid,
                "runc:[2:INIT]",
                "seccomp",
                [1, 0, 0x1000, 0, 0, 0],
                0,
                "web",
            ),
            event(
                pid,
                "runc:[2:INIT]",
                "exit_group",
                [1, 0, 0, 0, 0, 0],
                0,
                "web",
            ),
            event(
                pid,
                "runc:[2:INIT]",
                "fchmod",
                [3, 0o600, 0, 0, 0, 0],
                0,
                "web",
            ),
        ] {
            w.event(&e).expect("writes");
        }
        assert_eq!(out.text(), "");
    }

    #[test]
    fn text_lines_end_with_the_verdict() {
        let out = Shared::default();
        let mut w = Watch::new(
            Box::new(Text::new(out.clone(), false)),
            Some(judge("kill-chmod")),
        );
        let mut e = event(
            9,
            "workload",
            "fchmodat",
            [AT_FDCWD, 0, 0o777, 0, 0, 0],
            0,
            "web",
        );
        e.call.enter_ns = Some(e.call.ktime_ns - 2000);
        w.event(&e).expect("writes");
        let mut e = event(9, "work\x1b[2J", "exit_group", [0; 6], 0, "web");
        e.call.ret = None;
        let deny = Arc::new(Judge::new("deny.json", profile("deny"), &Env::host()));
        let mut w2 = Watch::new(Box::new(Text::new(out.clone(), false)), Some(deny));
        w2.event(&e).expect("writes");
        assert_eq!(
            out.text(),
            "[pid     7] fchmodat(AT_FDCWD, NULL, 0777) = 0 (seccomp would_kill: SCMP_ACT_KILL_PROCESS)\n\
             [pid     7] exit_group(0) = ? (seccomp would_deny: SCMP_ACT_ERRNO(EPERM))\n"
        );
    }
}
