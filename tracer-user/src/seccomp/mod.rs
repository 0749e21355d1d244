//! `tracer seccomp profile` and `tracer seccomp check`: seccomp profiles from observed
//! behaviour, and observed behaviour checked against a profile (docs/seccomp.md).
//!
//! Both read JSON lines: recorded ones (`--events`), or ones this command records first by
//! running `observe` (or, with `--from-start`, the daemon's follower, which catches a
//! container's cgroup before its entrypoint runs) into a file.
pub mod calls;
pub mod profile;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fs::File,
    io::{BufReader, Write},
    path::{Path, PathBuf},
};

use serde::Serialize;

use crate::{
    cli::seccomp::{CheckConfig, ProfileConfig, Source},
    error::Error,
};
use calls::{Call, Classifier, Phase};
use profile::{Action, Arch, Env, Profile, Rule, action_name};

/// Reads every events file in order, calling `each` for each call with its phase.
fn read_all(
    files: &[PathBuf],
    classifier: &mut Classifier,
    mut each: impl FnMut(&Call, Phase),
) -> Result<(), Error> {
    for path in files {
        let f = File::open(path).map_err(|e| {
            Error::Usage(format!(
                "cannot read events file {}: {e}; give JSON lines written by `tracer observe --format json` or `tracer daemon`",
                path.display()
            ))
        })?;
        let bad = calls::read(BufReader::new(f), classifier, &mut each).map_err(|e| {
            Error::Usage(format!("cannot read events file {}: {e}", path.display()))
        })?;
        if bad > 0 {
            eprintln!(
                "tracer: {}: {bad} line(s) that are not JSON were skipped",
                path.display()
            );
        }
    }
    Ok(())
}

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
}

impl Observed {
    pub fn from_files(files: &[PathBuf]) -> Result<Observed, Error> {
        let mut o = Observed::default();
        let mut classifier = Classifier::default();
        read_all(files, &mut classifier, |call, phase| match phase {
            Phase::Subject => {
                let e = o.subject.entry(call.syscall.clone()).or_default();
                e.0 += 1;
                e.1 += u64::from(call.denied);
            }
            Phase::RuntimeSetup => *o.runtime_setup.entry(call.syscall.clone()).or_default() += 1,
        })?;
        o.filter_loads = classifier.filter_loads;
        Ok(o)
    }

    /// The allow list: every governed syscall that was not only ever denied; runc's set-up
    /// calls too when no filter load was seen (the observed run had no profile, so which of
    /// them the filter governs cannot be told).
    pub fn profile(&self, warn: &mut impl FnMut(String)) -> Profile {
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
        names.extend(ALWAYS_ALLOWED.iter().map(|s| s.to_string()));
        if self.filter_loads > 0 || !self.runtime_setup.is_empty() {
            names.extend(GO_RUNTIME.iter().map(|s| s.to_string()));
        }
        if self.filter_loads == 0 {
            if self.runtime_setup.is_empty() {
                warn("the container runtime's start-up was not observed: use --from-start (or record from the container's start), or the profile may stop the container from starting".into());
            } else {
                warn("runc was seen without loading a filter (the container ran without a seccomp profile): all of its start-up syscalls are allowed".into());
                names.extend(self.runtime_setup.keys().cloned());
            }
        }
        Profile {
            default_action: Action::ScmpActErrno,
            default_errno_ret: Some(libc::EPERM as u32),
            architectures: native_arches(),
            arch_map: Vec::new(),
            flags: Vec::new(),
            syscalls: vec![Rule {
                names: names.into_iter().collect(),
                action: Action::ScmpActAllow,
                comment: Some("observed by tracer".into()),
                ..Rule::default()
            }],
        }
    }
}

/// Runs `tracer seccomp profile`.
pub async fn profile(cfg: ProfileConfig) -> Result<(), Error> {
    let files = collect(&cfg.source).await?;
    let observed = Observed::from_files(&files.paths)?;
    let p = observed.profile(&mut |w| eprintln!("tracer: {w}"));
    let names = p.syscalls.first().map_or(0, |r| r.names.len());
    let mut json =
        serde_json::to_string_pretty(&p).map_err(|e| Error::Internal(format!("profile: {e}")))?;
    json.push('\n');
    match &cfg.output {
        Some(path) => {
            let mut f = crate::sink::file::create(path).map_err(|e| Error::Output {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            f.write_all(json.as_bytes())
                .and_then(|()| f.sync_data())
                .map_err(|e| Error::Output {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            eprintln!(
                "tracer: profile with {names} syscalls written to {}",
                path.display()
            );
        }
        None => {
            let mut out = std::io::stdout();
            let _ = out.write_all(json.as_bytes()).and_then(|()| out.flush());
        }
    }
    Ok(())
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

/// Evaluates every governed call of `files` against `profile`.
pub fn check_files(
    profile_path: &Path,
    profile: &Profile,
    env: &Env,
    files: &[PathBuf],
) -> Result<CheckReport, Error> {
    let mut classifier = Classifier::default();
    let mut observed = 0;
    let mut setup = 0;
    let mut index: HashMap<(String, String, Option<u32>), usize> = HashMap::new();
    let mut denied: Vec<Finding> = Vec::new();
    read_all(files, &mut classifier, |call, phase| {
        if phase == Phase::RuntimeSetup {
            setup += 1;
            return;
        }
        observed += 1;
        let v = profile.decide(&call.syscall, &call.raw, env);
        if v.allows() {
            return;
        }
        let action = action_name(v.action);
        let key = (call.syscall.clone(), action.clone(), v.errno);
        match index.get(&key) {
            Some(&i) => denied[i].calls += 1,
            None => {
                index.insert(key, denied.len());
                denied.push(Finding {
                    syscall: call.syscall.clone(),
                    calls: 1,
                    action,
                    errno: v
                        .errno
                        .map(|e| crate::decode::errno::name(e as i32).to_string()),
                    first: FirstCall {
                        ts: call.ts.clone(),
                        pid: call.pid,
                        comm: call.comm.clone(),
                        container: call.container.clone(),
                        call: call.describe(),
                        args: call.args.clone(),
                    },
                });
            }
        }
    })?;
    Ok(CheckReport {
        profile: profile_path.to_path_buf(),
        covers_native_arch: profile.covers_native(env),
        observed,
        runtime_setup: setup,
        denied,
    })
}

fn load_profile(path: &Path) -> Result<Profile, Error> {
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

fn print_text(r: &CheckReport) {
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
    let mut stdout = std::io::stdout();
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Runs `tracer seccomp check`; `Error::WouldDeny` when something would be denied.
pub async fn check(cfg: CheckConfig) -> Result<(), Error> {
    let profile = load_profile(&cfg.profile)?;
    let env = match &cfg.source.container {
        Some(name) => container_env(name)
            .await
            .unwrap_or_else(|_| cfg.env.clone()),
        None => cfg.env.clone(),
    };
    let files = collect(&cfg.source).await?;
    let report = check_files(&cfg.profile, &profile, &env, &files.paths)?;
    if cfg.json {
        let mut line = serde_json::to_string(&report).unwrap_or_default();
        line.push('\n');
        let mut stdout = std::io::stdout();
        let _ = stdout
            .write_all(line.as_bytes())
            .and_then(|()| stdout.flush());
    } else {
        print_text(&report);
    }
    if report.denied.is_empty() {
        Ok(())
    } else {
        Err(Error::WouldDeny(report.denied.len()))
    }
}

/// The capabilities Docker gives `name` (its `--cap-add`/`--cap-drop`, or all when privileged).
async fn container_env(name: &str) -> Result<Env, Error> {
    let docker = crate::target::docker::connect_negotiated().await?;
    let info = docker
        .inspect_container(
            name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .map_err(|e| Error::Internal(format!("docker inspect {name}: {e}")))?;
    let host = info.host_config.unwrap_or_default();
    let env = Env::host();
    if host.privileged == Some(true) {
        return Ok(env.with_caps(&["ALL".into()], &[]));
    }
    Ok(env.with_caps(
        &host.cap_add.unwrap_or_default(),
        &host.cap_drop.unwrap_or_default(),
    ))
}

/// Events files to read: the given ones, or one recorded now.
struct Collected {
    paths: Vec<PathBuf>,
    /// Removed when dropped (a recording nobody asked to keep).
    _temp: Option<TempFile>,
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A private (0700) directory for a recording.
fn temp_file() -> Result<TempFile, Error> {
    use std::os::unix::fs::DirBuilderExt as _;
    let dir = std::env::temp_dir().join(format!("tracer-seccomp-{}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::Output {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
    Ok(TempFile(dir.join("events.jsonl")))
}

async fn collect(src: &Source) -> Result<Collected, Error> {
    let Some(name) = &src.container else {
        return Ok(Collected {
            paths: src.events.clone(),
            _temp: None,
        });
    };
    let (path, temp) = match &src.record {
        Some(p) => (p.clone(), None),
        None => {
            let t = temp_file()?;
            (t.0.clone(), Some(t))
        }
    };
    let summary = if src.from_start {
        crate::daemon::run(crate::cli::daemon::DaemonConfig {
            containers: vec![name.clone()],
            output: crate::cli::daemon::Output::File(path.clone()),
            rotation: None,
            metrics: None,
            syscalls: Vec::new(),
            ring_size: 8 << 20,
            string_size: 32,
            duration: src.duration,
        })
        .await?
    } else {
        crate::pipeline::observe(crate::cli::observe::ObserveConfig::json_to_file(
            crate::target::TargetSpec::Container(name.clone()),
            path.clone(),
            src.duration,
        ))
        .await?
    };
    eprintln!("tracer: {} records, {} lost", summary.records, summary.lost);
    if summary.lost > 0 {
        eprintln!(
            "tracer: warning: {} records were lost: syscalls may be missing from the result; use a larger --ring-size or a shorter observation",
            summary.lost
        );
    }
    Ok(Collected {
        paths: vec![path],
        _temp: temp,
    })
}
