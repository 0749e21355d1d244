//! The kernel side's costs: the host-wide tax each hook type adds to a syscall of a process the
//! filter rejects (a static `getppid` loop on the host, pinned to one CPU, with no tracer and
//! with `tracer observe` attached to an idle container through each hook), and the cost per
//! traced event with and without a captured path, and with the user stack (`-k`).
use std::{path::Path, process::Command, time::Instant};

use anyhow::{Context as _, Result};

use super::{BenchArgs, Container, Report, median, start_tracer, start_tracer_with};
use crate::{
    images,
    util::{cmd, run_ok},
};

/// ns per getppid of the pinned host loop.
fn storm(root: &Path, calls: u64) -> Result<f64> {
    let start = Instant::now();
    run_ok(
        Command::new("taskset")
            .args(["-c", "1"])
            .arg(images::workload_bin(root))
            .args(["storm", &calls.to_string()]),
    )?;
    Ok(start.elapsed().as_nanos() as f64 / calls as f64)
}

pub fn hooks(root: &Path, args: &BenchArgs, report: &mut Report) -> Result<()> {
    let guard = Container::workload()?;
    let name = guard.0.clone();
    // `-floor`: the same hook with programs that return at once, i.e. the kernel's own cost of
    // having a program on the tracepoint, which no filter can go below.
    let modes = [
        "none",
        "raw-floor",
        "raw",
        "btf-floor",
        "btf",
        "tracepoint-floor",
        "tracepoint",
    ];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for round in 0..args.rounds {
        for (i, mode) in modes.iter().enumerate() {
            let _tracer = match *mode {
                "none" => None,
                hook => Some(start_tracer(root, &name, hook)?),
            };
            let ns = storm(root, args.calls)?;
            report.raw(format!("round {round} {mode:>16}: {ns:.1} ns/syscall"));
            results[i].push(ns);
        }
    }
    let base = median(&mut results[0].clone());
    report.out(format!(
        "host-wide tax per filtered-out getppid ({} calls, {} rounds, medians)",
        args.calls, args.rounds
    ));
    report.out(format!(
        "{:>16} {:>14} {:>14}",
        "hook", "ns/syscall", "added ns"
    ));
    for (i, mode) in modes.iter().enumerate() {
        let m = median(&mut results[i]);
        report.out(format!("{mode:>16} {m:>14.1} {:>14.1}", m - base));
    }
    Ok(())
}

/// ns per call of `workload time CALL N` run inside `container`.
fn timed_in(container: &str, call: &str, n: u64) -> Result<f64> {
    let out = crate::util::output(&mut cmd(
        "docker",
        &["exec", container, "/workload", "time", call, &n.to_string()],
    ))?;
    out.trim()
        .parse()
        .with_context(|| format!("workload printed {out:?}"))
}

/// Traced minus untraced ns per call, for a call without captures (getppid) and one whose
/// path the kernel reads (a failing openat of a 29-byte path), streaming JSON to /dev/null;
/// and getppid with `-k` (the kernel walks the user stack of every record).
pub fn capture(root: &Path, args: &BenchArgs, report: &mut Report) -> Result<()> {
    let guard = Container::workload()?;
    let name = guard.0.clone();
    let n = args.calls / 10;
    let mut r: [Vec<f64>; 5] = Default::default();
    for round in 0..args.rounds {
        r[0].push(timed_in(&name, "getppid", n)?);
        r[1].push(timed_in(&name, "openat", n)?);
        let tracer = start_tracer(root, &name, "raw")?;
        r[2].push(timed_in(&name, "getppid", n)?);
        r[3].push(timed_in(&name, "openat", n)?);
        drop(tracer);
        let stack = [
            "-k",
            "--format",
            "json",
            "--output",
            "/dev/null",
            "--hook",
            "raw",
        ];
        let tracer = start_tracer_with(root, &name, &stack)?;
        r[4].push(timed_in(&name, "getppid", n)?);
        drop(tracer);
        report.raw(format!(
            "round {round}: getppid {:.0} -> {:.0} ns (-k {:.0} ns), openat {:.0} -> {:.0} ns",
            r[0][round], r[2][round], r[4][round], r[1][round], r[3][round]
        ));
    }
    let m: Vec<f64> = r.iter_mut().map(|v| median(v)).collect();
    report.out(format!(
        "per-event kernel cost, traced minus untraced ({n} calls, {} rounds, medians)",
        args.rounds
    ));
    report.out(format!(
        "{:>28} {:>10} {:>10} {:>10}",
        "call", "untraced", "traced", "added ns"
    ));
    for (label, untraced, traced) in [
        ("getppid (no capture)", m[0], m[2]),
        ("openat (29-byte path)", m[1], m[3]),
        ("getppid -k (user stack)", m[0], m[4]),
    ] {
        report.out(format!(
            "{label:>28} {untraced:>10.0} {traced:>10.0} {:>10.0}",
            traced - untraced
        ));
    }
    report.out(format!(
        "{:>28} {:>32.0}",
        "path capture alone",
        (m[3] - m[1]) - (m[2] - m[0])
    ));
    report.out(format!(
        "{:>28} {:>32.0}",
        "user stack (-k) alone",
        m[4] - m[2]
    ));
    Ok(())
}
