//! Seccomp sinks over the typed events: a Docker profile from observed behaviour
//! (`seccomp profile`), observed behaviour checked against a profile (`seccomp check`), and
//! judged call by call (`seccomp watch`, [`watch`]); operations on profiles (`seccomp merge`,
//! `seccomp diff`); docs/seccomp.md.
pub mod args;
pub mod calls;
pub mod diff;
pub mod merge;
pub mod profile;
pub mod watch;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde::Serialize;

use super::{Lost, Sink, file};
use crate::{
    decode::errno,
    error::Error,
    model::{Event, clock::Clock},
};
use calls::{Call, Classifier, Phase};
use profile::{Action, Arch, Env, Profile, Rule, action_name};

/// The architectures a generated profile lists: the native one and those its processes can
/// also run as (Docker's `archMap` for x86_64 and aarch64).
fn native_arches() -> Vec<Arch> {
    if cfg!(target_arch = "aarch64") {
        vec![Arch::ScmpArchAarch64, Arch::ScmpArchArm]
    } else {
        vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
    }
}

/// Allowed in every generated profile although an observation may not see them: a process
/// that cannot exit spins (glibc's `_exit` retries), signal handlers cannot return, and the
/// kernel restarts interrupted calls with `restart_syscall`.
pub const ALWAYS_ALLOWED: [&str; 4] = ["exit", "exit_group", "restart_syscall", "rt_sigreturn"];

/// Allowed when runc was seen: after it loads the filter, runc's init is a Go program whose
/// runtime makes these at moments no observation can predict (preemption signals with
/// `tgkill`, their handlers, scheduler and memory housekeeping). Missing one of them makes a
/// generated profile fail to start the container now and then (measured: `tgkill` was seen in
/// one of two recordings of the same nginx start).
pub const GO_RUNTIME: [&str; 12] = [
    "futex",
    "getpid",
    "gettid",
    "madvise",
    "mmap",
    "munmap",
    "nanosleep",
    "rt_sigprocmask",
    "sched_yield",
    "sigaltstack",
    "tgkill",
    "rt_sigaction",
];

/// What the observation saw, for the allow list.
#[derive(Debug, Default)]
pub struct Observed {
    /// Governed calls by syscall: (calls, of which denied).
    pub subject: BTreeMap<String, (u64, u64)>,
    /// runc's set-up calls before it loaded the filter, by syscall.
    pub runtime_setup: BTreeMap<String, u64>,
    pub filter_loads: u64,
    /// The selector arguments of governed calls that went through (`--args`).
    pub selectors: args::Seen,
}

impl Observed {
    pub fn add(&mut self, call: &Call, phase: Phase) {
        match phase {
            Phase::Subject => {
                let e = self.subject.entry(call.syscall.clone()).or_default();
                e.0 += 1;
                e.1 += u64::from(call.denied);
                if !call.denied {
                    self.selectors.add(&call.syscall, &call.raw);
                }
            }
            Phase::RuntimeSetup => {
                *self.runtime_setup.entry(call.syscall.clone()).or_default() += 1
            }
        }
    }

    /// The allow list: every governed syscall that was not only ever denied; runc's set-up
    /// calls too when no filter load was seen (the observed run had no profile, so which of
    /// them the filter governs cannot be told). With `conditions`, the selector arguments'
    /// observed values ([`args`]) for the calls allowed only because they were observed.
    pub fn profile(&self, conditions: bool, warn: &mut impl FnMut(String)) -> Profile {
        let mut names: BTreeSet<String> = BTreeSet::new();
        for (name, &(calls, denied)) in &self.subject {
            if denied == calls {
                warn(format!(
                    "left out {name}: its {calls} call(s) were all denied by the profile the container ran under"
                ));
            } else {
                names.insert(name.clone());
            }
        }
        // Allowed whatever their arguments: never conditioned.
        let mut by_name: BTreeSet<String> = ALWAYS_ALLOWED.iter().map(|s| s.to_string()).collect();
        if self.filter_loads > 0 || !self.runtime_setup.is_empty() {
            by_name.extend(GO_RUNTIME.iter().map(|s| s.to_string()));
        }
        if self.filter_loads == 0 {
            if self.runtime_setup.is_empty() {
                warn("the container runtime's start-up was not observed: use --from-start (or record from the container's start), or the profile may stop the container from starting".into());
            } else {
                warn("runc was seen without loading a filter (the container ran without a seccomp profile): all of its start-up syscalls are allowed".into());
                by_name.extend(self.runtime_setup.keys().cloned());
            }
        }
        names.retain(|n| !by_name.contains(n));
        let conditioned = if conditions {
            self.selectors.rules(&mut names)
        } else {
            Vec::new()
        };
        names.extend(by_name);
        let mut syscalls = vec![Rule {
            names: names.into_iter().collect(),
            action: Action::ScmpActAllow,
            comment: Some("observed by tracer".into()),
            ..Rule::default()
        }];
        syscalls.extend(conditioned);
        Profile {
            default_action: Action::ScmpActErrno,
            default_errno_ret: Some(libc::EPERM as u32),
            architectures: native_arches(),
            arch_map: Vec::new(),
            flags: Vec::new(),
            syscalls,
        }
    }
}

/// Where a profile or report goes.
#[derive(Debug, Clone)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    /// Writes `text` whole, and syncs a file.
    pub fn write(&self, text: &str) -> io::Result<()> {
        match self {
            Output::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Output::File(path) => {
                let mut f = file::create(path)?;
                f.write_all(text.as_bytes()).and_then(|()| f.sync_data())
            }
        }
    }
}

/// Warns that a result may miss calls the kernel could not deliver.
fn warn_lost(lost: u64) {
    if lost > 0 {
        tracing::warn!(
            "{lost} records were lost: syscalls may be missing from the result; use a larger --ring-size or a shorter observation"
        );
    }
}

/// `seccomp profile`: the allow list of what was observed, written when the run ends.
pub struct ProfileSink {
    clock: Clock,
    classifier: Classifier,
    observed: Observed,
    /// `--args`: argument conditions for the selectors.
    conditions: bool,
    output: Output,
    lost: u64,
    written: Option<(usize, usize)>,
}

impl ProfileSink {
    pub fn new(output: Output, conditions: bool, clock: Clock) -> Self {
        ProfileSink {
            clock,
            classifier: Classifier::default(),
            observed: Observed::default(),
            conditions,
            output,
            lost: 0,
            written: None,
        }
    }
}

impl Sink for ProfileSink {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        let call = Call::of(e, &self.clock);
        let phase = self.classifier.phase(&call);
        self.observed.add(&call, phase);
        Ok(())
    }

    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.lost = lost.total;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.observed.filter_loads = self.classifier.filter_loads;
        warn_lost(self.lost);
        let p = self
            .observed
            .profile(self.conditions, &mut |w| tracing::warn!("{w}"));
        let mut json = serde_json::to_string_pretty(&p).map_err(io::Error::other)?;
        json.push('\n');
        self.output.write(&json)?;
        let names: BTreeSet<&str> = p.syscalls.iter().flat_map(Rule::all_names).collect();
        let conditioned = p.syscalls.iter().filter(|r| !r.args.is_empty()).count();
        self.written = Some((names.len(), conditioned));
        Ok(())
    }

    fn verdict(&mut self) -> Result<(), Error> {
        if let (Some((names, conditioned)), Output::File(path)) = (self.written, &self.output) {
            tracing::info!(
                "profile with {names} syscalls ({conditioned} rules with argument conditions) written to {}",
                path.display()
            );
        }
        Ok(())
    }
}

/// One group of calls the profile would not let through.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub syscall: String,
    pub calls: u64,
    pub action: String,
    pub errno: Option<String>,
    pub first: FirstCall,
}

#[derive(Debug, Clone, Serialize)]
pub struct FirstCall {
    pub ts: String,
    pub pid: u64,
    pub comm: String,
    pub container: Option<String>,
    pub call: String,
    pub args: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub profile: PathBuf,
    pub covers_native_arch: bool,
    pub observed: u64,
    pub runtime_setup: u64,
    /// In order of first occurrence: the first is what breaks first.
    pub denied: Vec<Finding>,
}

/// `seccomp check`: every governed call evaluated against a profile as it comes; the report
/// when the run ends.
pub struct CheckSink {
    clock: Clock,
    classifier: Classifier,
    profile_path: PathBuf,
    profile: Profile,
    env: Env,
    json: bool,
    observed: u64,
    setup: u64,
    index: HashMap<(String, String, Option<u32>), usize>,
    denied: Vec<Finding>,
    lost: u64,
}

impl CheckSink {
    pub fn new(
        profile_path: PathBuf,
        profile: Profile,
        env: Env,
        json: bool,
        clock: Clock,
    ) -> Self {
        CheckSink {
            clock,
            classifier: Classifier::default(),
            profile_path,
            profile,
            env,
            json,
            observed: 0,
            setup: 0,
            index: HashMap::new(),
            denied: Vec::new(),
            lost: 0,
        }
    }

    pub fn report(&self) -> CheckReport {
        CheckReport {
            profile: self.profile_path.clone(),
            covers_native_arch: self.profile.covers_native(&self.env),
            observed: self.observed,
            runtime_setup: self.setup,
            denied: self.denied.clone(),
        }
    }
}

impl Sink for CheckSink {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        let call = Call::of(e, &self.clock);
        if self.classifier.phase(&call) == Phase::RuntimeSetup {
            self.setup += 1;
            return Ok(());
        }
        self.observed += 1;
        let v = self.profile.decide(&call.syscall, &call.raw, &self.env);
        if v.allows() {
            return Ok(());
        }
        let action = action_name(v.action);
        let key = (call.syscall.clone(), action.clone(), v.errno);
        match self.index.get(&key) {
            Some(&i) => self.denied[i].calls += 1,
            None => {
                self.index.insert(key, self.denied.len());
                self.denied.push(Finding {
                    syscall: call.syscall.clone(),
                    calls: 1,
                    action,
                    errno: v.errno.map(|e| errno::name(e as i32)),
                    first: FirstCall {
                        call: call.describe(),
                        ts: call.ts,
                        pid: call.pid,
                        comm: call.comm,
                        container: call.container,
                        args: call.args,
                    },
                });
            }
        }
        Ok(())
    }

    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.lost = lost.total;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        warn_lost(self.lost);
        let report = self.report();
        let text = if self.json {
            let mut line = serde_json::to_string(&report).map_err(io::Error::other)?;
            line.push('\n');
            line
        } else {
            report_text(&report)
        };
        Output::Stdout.write(&text)
    }

    fn verdict(&mut self) -> Result<(), Error> {
        if self.denied.is_empty() {
            Ok(())
        } else {
            Err(Error::WouldDeny(self.denied.len()))
        }
    }
}

pub fn load_profile(path: &Path) -> Result<Profile, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read profile {}: {e}; give a Docker seccomp profile (JSON)",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "bad seccomp profile {}: {e}; it must follow Docker's format (defaultAction, syscalls[].names/action/args, …)",
            path.display()
        ))
    })
}

fn report_text(r: &CheckReport) -> String {
    let mut out = String::new();
    if !r.covers_native_arch {
        out.push_str("warning: the profile does not list this machine's architecture\n");
    }
    if r.denied.is_empty() {
        out.push_str(&format!(
            "{}: all {} observed calls allowed ({} runtime set-up calls not governed)\n",
            r.profile.display(),
            r.observed,
            r.runtime_setup
        ));
    } else {
        let calls: u64 = r.denied.iter().map(|f| f.calls).sum();
        out.push_str(&format!(
            "{}: would deny {} syscall(s), {calls} of {} observed calls ({} runtime set-up calls not governed); first denied first:\n",
            r.profile.display(),
            r.denied.len(),
            r.observed,
            r.runtime_setup
        ));
        out.push_str(&format!(
            "{:<20} {:>8}  {:<28} first call\n",
            "syscall", "calls", "action"
        ));
        for f in &r.denied {
            let action = match &f.errno {
                Some(e) => format!("{}({e})", f.action),
                None => f.action.clone(),
            };
            out.push_str(&format!(
                "{:<20} {:>8}  {:<28} {}\n",
                f.syscall, f.calls, action, f.first.call
            ));
        }
    }
    out
}
