//! `cargo xtask bench WHICH`: benchmarks that print their numbers and keep the raw runs.
//!
//! Every benchmark alternates its modes within each round and reports medians, so that ratios
//! are measured side by side in one run. Each run also writes `docs/bench-runs/WHICH.md`: the
//! machine, the command, every raw measurement and the final table.
mod decode;
mod hooks;
mod lossless;
mod nginx;
mod report;
mod soak;

use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};

use crate::{
    images::WORKLOAD_IMAGE,
    util::{cmd, run_ok},
};
use report::Report;

#[derive(Args)]
pub struct BenchArgs {
    #[arg(value_enum)]
    which: Which,
    /// Rounds; every mode runs once per round.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// getppid calls per run.
    #[arg(long, default_value_t = 5_000_000)]
    calls: u64,
    /// How long the soak runs.
    #[arg(long, default_value_t = 10)]
    minutes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// Host-wide tax per filtered-out syscall, for each hook type.
    Hooks,
    /// Kernel cost per traced event, with and without a captured path.
    Capture,
    /// What the kernel-side filters save: a followed getppid streamed, left out by the
    /// kernel's syscall set, or by -Z in user space; the host tax of -p's task filter.
    Filters,
    /// nginx requests/s under wrk: untraced, strace, bpftrace, tracer JSON, tracer summary.
    Nginx,
    /// getppid storms at rising rates, JSON to a file: records, reported losses, real losses.
    Lossless,
    /// User-side cost per record kind (decode to JSON or text): instructions (callgrind),
    /// allocations, ns; needs no kernel nor container.
    Decode,
    /// The daemon's syscall counts in the kernel (--metrics): a followed getppid with and
    /// without them.
    Counts,
    /// The daemon for --minutes (10): 20 containers restarting in turn, exec storms,
    /// rotation; RSS, fds, CPU and losses over time.
    Soak,
    /// All of the above but the soak, one after the other.
    All,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Hooks => "hooks",
            Which::Capture => "capture",
            Which::Filters => "filters",
            Which::Nginx => "nginx",
            Which::Lossless => "lossless",
            Which::Decode => "decode",
            Which::Counts => "counts",
            Which::Soak => "soak",
            Which::All => "all",
        }
    }
}

/// An idle workload container, removed when dropped.
struct Container(String);

impl Container {
    fn workload() -> Result<Container> {
        let name = format!("tracer-bench-{}", std::process::id());
        run_ok(
            cmd(
                "docker",
                &["run", "-d", "--name", &name, "--network", "none"],
            )
            .arg(WORKLOAD_IMAGE)
            .stdout(Stdio::null()),
        )?;
        Ok(Container(name))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = cmd("docker", &["rm", "-f", &self.0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A child process interrupted (SIGINT) and reaped when dropped.
struct Interrupt(Child);

impl Interrupt {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let _ = self.0.wait();
    }
}

/// Starts tracer on `container` with `hook`, streaming JSON to /dev/null.
fn start_tracer(root: &Path, container: &str, hook: &str) -> Result<Interrupt> {
    let (hook, floor) = match hook.strip_suffix("-floor") {
        Some(h) => (h, true),
        None => (hook, false),
    };
    let (hook, exit_only) = match hook.strip_suffix("-exit-only") {
        Some(h) => (h, true),
        None => (hook, false),
    };
    let mut args = vec!["--format", "json", "--output", "/dev/null", "--hook", hook];
    if floor {
        args.push("--follow-nothing");
    }
    if exit_only {
        args.push("--exit-only");
    }
    start_tracer_with(root, container, &args)
}

/// Starts `tracer observe --container CONTAINER ARGS` and waits for its "tracing" line.
fn start_tracer_with(root: &Path, container: &str, args: &[&str]) -> Result<Interrupt> {
    start_observe(root, &[&["--container", container][..], args].concat())
}

/// Spawns `c` and reads its stderr until `ready` says a line shows it started (`Some(true)`),
/// skipping lines it does not know (`Some(false)`); `None`: a line that means it failed.
fn spawn_until(
    c: &mut Command,
    what: &str,
    ready: impl Fn(&str) -> Option<bool>,
) -> Result<Interrupt> {
    let mut child = c.stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().context("stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let t = Interrupt(child);
    loop {
        match lines.next() {
            Some(Ok(l)) => match ready(&l) {
                Some(true) => break,
                Some(false) => {}
                None => bail!("{what} did not start: {l}"),
            },
            other => bail!("{what} did not start: {other:?}"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Ok(t)
}

/// Starts `tracer observe ARGS` and waits for its "tracing" line.
fn start_observe(root: &Path, args: &[&str]) -> Result<Interrupt> {
    let mut c = Command::new(root.join("target/release/tracer"));
    c.arg("observe").args(args);
    // With -v, log lines may come first.
    spawn_until(&mut c, "tracer", |l| {
        if l.contains("tracer: tracing") || l.starts_with("tracing ") {
            Some(true)
        } else {
            (!l.starts_with("tracer:")).then_some(false)
        }
    })
}

/// Starts `tracer -v daemon --container CONTAINER ARGS` and waits until it follows it.
fn start_daemon(root: &Path, container: &str, args: &[&str]) -> Result<Interrupt> {
    let mut c = Command::new(root.join("target/release/tracer"));
    c.args(["-v", "daemon", "--container", container])
        .args(args);
    spawn_until(&mut c, "tracer daemon", |l| {
        Some(l.contains("following") && l.contains("via="))
    })
}

/// Starts `tracer daemon ARGS` with `envs` and waits for its start line (the programs are
/// attached), whatever it follows.
fn start_daemon_env(root: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<Interrupt> {
    let mut c = Command::new(root.join("target/release/tracer"));
    c.arg("daemon").args(args).envs(envs.iter().copied());
    spawn_until(&mut c, "tracer daemon", |l| {
        Some(l.contains("tracer: daemon following"))
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Installs a Debian package when `binary` is missing.
fn ensure_installed(binary: &str, package: &str) -> Result<()> {
    if Path::new("/usr/bin").join(binary).exists() {
        return Ok(());
    }
    run_ok(
        cmd("apt-get", &["install", "-y", "-qq", package]).env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn run_one(root: &Path, which: Which, args: &BenchArgs) -> Result<()> {
    let mut report = Report::new(which.name(), args.rounds, args.calls);
    match which {
        Which::Hooks => hooks::hooks(root, args, &mut report)?,
        Which::Capture => hooks::capture(root, args, &mut report)?,
        Which::Filters => hooks::filters(root, args, &mut report)?,
        Which::Nginx => nginx::nginx(root, args, &mut report)?,
        Which::Lossless => lossless::lossless(root, args, &mut report)?,
        Which::Decode => decode::decode(root, args, &mut report)?,
        Which::Counts => soak::counts(root, args, &mut report)?,
        Which::Soak => soak::soak(root, args.minutes, &mut report)?,
        Which::All => unreachable!("expanded by run"),
    }
    report.save(root)
}

pub fn run(root: &Path, args: BenchArgs) -> Result<()> {
    if args.which == Which::Decode {
        // User space only: no engine, no kernel programs.
        return run_one(root, Which::Decode, &args);
    }
    crate::setup::run_all(root)?;
    crate::demo::build_tracer(root)?;
    if args.which == Which::All {
        for which in [
            Which::Hooks,
            Which::Capture,
            Which::Nginx,
            Which::Lossless,
            Which::Decode,
            Which::Counts,
        ] {
            run_one(root, which, &args)?;
        }
        return Ok(());
    }
    run_one(root, args.which, &args)
}
