//! Lossless throughput: for each rate, a `workload rate R N` storm of getppid in the container,
//! tracer writing JSON lines to a file; every call is either a record or a counted loss.
use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context as _, Result, bail};

use super::{BenchArgs, Container, Report};
use crate::util::cmd;

/// `tracer: N records, M lost` → (N, M).
fn closing_counts(stderr: &str) -> Option<(u64, u64)> {
    let line = stderr.lines().rev().find(|l| l.contains(" records, "))?;
    let rest = line.strip_prefix("tracer: ")?;
    let (records, rest) = rest.split_once(" records, ")?;
    let lost = rest.split_whitespace().next()?;
    Some((records.parse().ok()?, lost.parse().ok()?))
}

/// CPU seconds (user + system) `pid` has used so far, from /proc/PID/stat (clock ticks).
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after `) state`.
    let ticks: f64 = fields
        .get(11..13)
        .context("short /proc/PID/stat")?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(ticks / hz)
}

/// Waits for `pid` and returns the CPU seconds it used in all (its rusage).
fn reap(pid: u32) -> Result<f64> {
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child with valid out-pointers.
    let r = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    if r < 0 {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(secs(usage.ru_utime) + secs(usage.ru_stime))
}

/// What records the storm.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Observe,
    Daemon,
    Record,
    RecordExitOnly,
}

pub fn lossless(root: &Path, args: &BenchArgs, report: &mut Report) -> Result<()> {
    let guard = Container::workload()?;
    let name = guard.0.clone();
    let n = args.calls / 5;
    let file = std::env::temp_dir().join(format!("tracer-bench-{}.jsonl", std::process::id()));
    report.out(format!(
        "getppid storms of {n} calls in the container, JSON lines to {}",
        file.display()
    ));
    report.out(format!(
        "{:>22} {:>6} {:>12} {:>10} {:>10} {:>12} {:>14}",
        "asked/s", "ring", "achieved/s", "records", "lost", "unaccounted", "CPU s/M rec"
    ));
    // The last row overdrives a small ring on purpose: losses must all be counted.
    for (rate, ring, mode) in [
        ("100000", "8M", Mode::Observe),
        ("200000", "8M", Mode::Observe),
        ("400000", "8M", Mode::Observe),
        ("800000", "8M", Mode::Observe),
        ("0", "8M", Mode::Observe),
        ("0", "8M", Mode::Daemon),
        ("1000000", "8M", Mode::Record),
        ("0", "8M", Mode::Record),
        ("0", "8M", Mode::RecordExitOnly),
        ("0", "64K", Mode::Observe),
    ] {
        let daemon = mode == Mode::Daemon;
        let mut c = Command::new(root.join("target/release/tracer"));
        match mode {
            Mode::Daemon => c.args(["-v", "daemon", "--container", &name]),
            Mode::Observe => c.args(["observe", "--container", &name, "--format", "json"]),
            Mode::Record => c.args(["record", "--container", &name]),
            Mode::RecordExitOnly => c.args(["record", "--container", &name, "--exit-only"]),
        };
        let mut child = c
            .args(["--syscalls", "getppid", "--ring-size", ring, "--output"])
            .arg(&file)
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().context("stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let ready = |l: &str| {
            if daemon {
                l.contains("following") && l.contains("via=")
            } else {
                l.contains("tracing")
            }
        };
        loop {
            match lines.next() {
                Some(Ok(l)) if ready(&l) => break,
                Some(Ok(_)) if daemon => {}
                other => bail!("tracer did not start: {other:?}"),
            }
        }
        // The load (the verifier's seconds) is not the records' cost.
        let cpu_ready = cpu_seconds(child.id())?;
        let achieved = crate::util::output(&mut cmd(
            "docker",
            &["exec", &name, "/workload", "rate", rate, &n.to_string()],
        ))?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let cpu = reap(child.id())? - cpu_ready;
        let (mut records, lost) = closing_counts(&rest.join("\n")).context("no closing line")?;
        if matches!(mode, Mode::Record | Mode::RecordExitOnly) {
            // A recording also keeps the calls `show -y` follows (the exec's openat, close…):
            // the storm's are its getppid, as `show` decodes them.
            let shown = crate::util::output(
                Command::new(root.join("target/release/tracer"))
                    .args(["show", "--format", "json", "--syscalls", "getppid"])
                    .arg(&file),
            )?;
            records = shown.lines().filter(|l| l.contains("\"getppid\"")).count() as u64;
        }
        let asked = match (rate, mode) {
            ("0", Mode::Daemon) => "max, daemon",
            ("0", Mode::Record) => "max, record",
            ("0", Mode::RecordExitOnly) => "max, record --exit-only",
            ("0", Mode::Observe) => "max",
            (_, Mode::Record) => "1000000, record",
            _ => rate,
        };
        report.out(format!(
            "{asked:>22} {ring:>6} {:>12} {records:>10} {lost:>10} {:>12} {:>14.3}",
            achieved.trim(),
            i128::from(n) - i128::from(records) - i128::from(lost),
            cpu / records.max(1) as f64 * 1e6
        ));
        let _ = std::fs::remove_file(&file);
    }
    Ok(())
}
