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
        "{:>12} {:>6} {:>12} {:>10} {:>10} {:>12}",
        "asked/s", "ring", "achieved/s", "records", "lost", "unaccounted"
    ));
    // The last row overdrives a small ring on purpose: losses must all be counted.
    for (rate, ring, daemon) in [
        ("100000", "8M", false),
        ("200000", "8M", false),
        ("400000", "8M", false),
        ("800000", "8M", false),
        ("0", "8M", false),
        ("0", "8M", true),
        ("0", "64K", false),
    ] {
        let mut c = Command::new(root.join("target/release/tracer"));
        if daemon {
            c.args(["-v", "daemon", "--container", &name]);
        } else {
            c.args(["observe", "--container", &name, "--format", "json"]);
        }
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
        let achieved = crate::util::output(&mut cmd(
            "docker",
            &["exec", &name, "/workload", "rate", rate, &n.to_string()],
        ))?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        child.wait()?;
        let (records, lost) = closing_counts(&rest.join("\n")).context("no closing line")?;
        let asked = match (rate, daemon) {
            ("0", true) => "max, daemon",
            ("0", false) => "max",
            _ => rate,
        };
        report.out(format!(
            "{asked:>12} {ring:>6} {:>12} {records:>10} {lost:>10} {:>12}",
            achieved.trim(),
            i128::from(n) - i128::from(records) - i128::from(lost)
        ));
        let _ = std::fs::remove_file(&file);
    }
    Ok(())
}
