//! The daemon for days, compressed: `cargo xtask bench soak` follows 20 workload containers
//! that tick (a getppid every 50 ms) while they restart in turn, `docker exec` storms run in
//! them and the output files rotate at 1 MiB, for `--minutes` (10 by default). Every 30 s it
//! samples the daemon's RSS, open fds, CPU time, records written and losses (its /proc and its
//! /metrics), and prints the table; the last lines compare the end with the first sample after
//! warm-up.
//!
//! And `cargo xtask bench counts`: what counting in the kernel costs a followed getppid: the
//! daemon's syscall counts (`--metrics`) against the daemon without them, and summary mode's
//! aggregates in a hash against an array, side by side.
use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result};

use super::{BenchArgs, Container, Interrupt, Report, median, spawn_until};
use crate::{
    images::WORKLOAD_IMAGE,
    util::{cmd, output, run_ok},
};

const CONTAINERS: usize = 20;
const SAMPLE_EVERY: Duration = Duration::from_secs(30);

/// Containers removed when dropped.
struct Fleet(Vec<String>);

impl Drop for Fleet {
    fn drop(&mut self) {
        let mut c = cmd("docker", &["rm", "-f"]);
        c.args(&self.0).stdout(Stdio::null()).stderr(Stdio::null());
        let _ = c.status();
    }
}

/// One sample of the daemon.
#[derive(Clone)]
struct Sample {
    at: Duration,
    rss_kib: u64,
    fds: usize,
    cpu_s: f64,
    records: f64,
    lost: f64,
    restarts: usize,
    execs: usize,
}

fn proc_status(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

/// The sum of a metric's series in a Prometheus text body.
fn metric_sum(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

fn scrape(port: u16) -> String {
    output(&mut cmd(
        "curl",
        &["-s", &format!("http://127.0.0.1:{port}/metrics")],
    ))
    .unwrap_or_default()
}

/// The daemon `pid` now, from its /proc and its /metrics on `port`.
fn sample(pid: u32, port: u16, at: Duration, restarts: usize, execs: usize) -> Sample {
    let body = scrape(port);
    Sample {
        at,
        rss_kib: proc_status(pid, "VmRSS:"),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count()),
        cpu_s: cpu_seconds(pid),
        records: metric_sum(&body, "tracer_records_total"),
        lost: metric_sum(&body, "tracer_lost_events_total"),
        restarts,
        execs,
    }
}

pub fn soak(root: &Path, minutes: u64, report: &mut Report) -> Result<()> {
    let names: Vec<String> = (0..CONTAINERS)
        .map(|i| format!("tracer-soak-{}-{i}", std::process::id()))
        .collect();
    let fleet = Fleet(names.clone());
    for n in &fleet.0 {
        run_ok(
            cmd("docker", &["run", "-d", "--name", n, "--network", "none"])
                .arg(WORKLOAD_IMAGE)
                .args(["/workload", "tick", "50"])
                .stdout(Stdio::null()),
        )?;
    }
    let dir = std::env::temp_dir().join(format!("tracer-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let port = 19_000 + (std::process::id() % 1000) as u16;
    let mut c = Command::new(root.join("target/release/tracer"));
    c.arg("daemon");
    for n in &names {
        c.args(["--container", n]);
    }
    c.arg("--output-dir")
        .arg(&dir)
        .args(["--rotate-size", "1M", "--rotate-keep", "3"])
        .args(["--metrics", &format!("127.0.0.1:{port}")]);
    let daemon: Interrupt = spawn_until(&mut c, "tracer daemon", |l| {
        Some(l.contains("tracer: daemon following"))
    })?;
    let pid = daemon.pid();
    let start = Instant::now();
    let end = start + Duration::from_secs(minutes * 60);
    let (mut restarts, mut execs, mut turn) = (0, 0, 0usize);
    let mut samples: Vec<Sample> = Vec::new();
    let mut next_sample = start;
    while Instant::now() < end {
        if Instant::now() >= next_sample {
            let s = sample(pid, port, start.elapsed(), restarts, execs);
            report.raw(format!(
                "t={:>4}s rss={} KiB fds={} cpu={:.1}s records={} lost={} restarts={} execs={}",
                s.at.as_secs(),
                s.rss_kib,
                s.fds,
                s.cpu_s,
                s.records,
                s.lost,
                s.restarts,
                s.execs
            ));
            samples.push(s);
            next_sample += SAMPLE_EVERY;
        }
        // Two containers restart, then an exec storm of 10 bursts across the fleet.
        for _ in 0..2 {
            let n = &names[turn % CONTAINERS];
            turn += 1;
            run_ok(cmd("docker", &["restart", "-t", "1", n]).stdout(Stdio::null()))?;
            restarts += 1;
        }
        for k in 0..10 {
            let n = &names[(turn + k * 3) % CONTAINERS];
            let out = cmd("docker", &["exec", n, "/workload", "burst", "200", "20"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if out.is_ok_and(|s| s.success()) {
                execs += 1;
            }
        }
    }
    let last = sample(pid, port, start.elapsed(), restarts, execs);
    drop(daemon);
    drop(fleet);
    let _ = std::fs::remove_dir_all(&dir);
    samples.push(last.clone());
    report.out(format!(
        "tracer daemon following {CONTAINERS} containers for {minutes} min: each ticking (getppid every 50 ms), 2 restarts and 10 `docker exec` bursts (200 getppid, 20 failing openat) per cycle, rotation at 1 MiB keeping 3"
    ));
    report.out(format!(
        "{:>6} {:>9} {:>5} {:>8} {:>10} {:>6} {:>8} {:>6}",
        "t (s)", "RSS KiB", "fds", "CPU s", "records", "lost", "restarts", "execs"
    ));
    for s in &samples {
        report.out(format!(
            "{:>6} {:>9} {:>5} {:>8.1} {:>10} {:>6} {:>8} {:>6}",
            s.at.as_secs(),
            s.rss_kib,
            s.fds,
            s.cpu_s,
            s.records,
            s.lost,
            s.restarts,
            s.execs
        ));
    }
    // From the first sample after warm-up (one minute: every container followed, every file
    // open) to the end.
    let warm = samples
        .iter()
        .find(|s| s.at >= Duration::from_secs(60))
        .context("the run was shorter than a minute")?;
    let span = (last.at - warm.at).as_secs_f64();
    report.out(format!(
        "after warm-up ({:.0} s): RSS {} -> {} KiB ({:+} KiB), fds {} -> {}, CPU {:.3} s per s, {:.2} CPU-s per million records, lost {}",
        span,
        warm.rss_kib,
        last.rss_kib,
        last.rss_kib as i64 - warm.rss_kib as i64,
        warm.fds,
        last.fds,
        (last.cpu_s - warm.cpu_s) / span,
        (last.cpu_s - warm.cpu_s) / ((last.records - warm.records).max(1.0) / 1e6),
        last.lost
    ));
    Ok(())
}

/// A followed getppid in a container: untraced; under the daemon without `--metrics` and with
/// them (the kernel counts each call per cgroup and syscall, `COUNTS_ON`); and `observe
/// --summary` with its aggregates in the hash by (target, syscall) and in the array by syscall
/// number (`SUMMARY_SINGLE`). Modes alternate in order from round to round.
pub fn counts(root: &Path, args: &BenchArgs, report: &mut Report) -> Result<()> {
    let guard = Container::workload()?;
    let name = guard.0.clone();
    let n = args.calls / 10;
    let port = 19_500 + (std::process::id() % 400) as u16;
    let metrics = format!("127.0.0.1:{port}");
    let summary = ["--summary", "--output", "/dev/null"];
    let modes: [(&str, bool, Vec<&str>); 4] = [
        (
            "daemon, JSON to /dev/null",
            true,
            vec!["--output", "/dev/null"],
        ),
        (
            "daemon --metrics (kernel counts)",
            true,
            vec!["--output", "/dev/null", "--metrics", &metrics],
        ),
        (
            "observe --summary, hash",
            false,
            [&summary[..], &["--summary-by-key"]].concat(),
        ),
        ("observe --summary, array", false, summary.to_vec()),
    ];
    let mut untraced = Vec::new();
    let mut traced: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for round in 0..args.rounds {
        untraced.push(super::hooks::timed_in(&name, "getppid", n)?);
        let mut line = format!("round {round}: untraced {:.0} ns", untraced[round]);
        let mut order: Vec<usize> = (0..modes.len()).collect();
        order.rotate_left(round % modes.len());
        for i in order {
            let (label, daemon, args) = &modes[i];
            let t = match daemon {
                true => super::start_daemon(root, &name, args)?,
                false => super::start_tracer_with(root, &name, args)?,
            };
            let ns = super::hooks::timed_in(&name, "getppid", n)?;
            drop(t);
            traced[i].push(ns);
            line.push_str(&format!(", {label} {ns:.0} ns"));
        }
        report.raw(line);
    }
    let base = median(&mut untraced);
    report.out(format!(
        "a followed getppid ({n} calls, {} rounds, medians): untraced {base:.0} ns",
        args.rounds
    ));
    report.out(format!("{:>36} {:>10} {:>10}", "mode", "ns", "added ns"));
    let mut m = Vec::new();
    for (i, (label, _, _)) in modes.iter().enumerate() {
        let v = median(&mut traced[i]);
        m.push(v);
        report.out(format!("{label:>36} {v:>10.0} {:>10.0}", v - base));
    }
    report.out(format!(
        "{:>36} {:>21.0}",
        "the daemon's kernel counts alone",
        m[1] - m[0]
    ));
    report.out(format!(
        "{:>36} {:>21.0}",
        "summary: array minus hash",
        m[3] - m[2]
    ));
    Ok(())
}
