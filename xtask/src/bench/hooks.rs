//! The kernel side's costs: the host-wide tax each hook type adds to a syscall of a process the
//! filter rejects (a static `getppid` loop on the host, pinned to one CPU, with no tracer and
//! with `tracer observe` attached to an idle container through each hook), and the cost per
//! traced event with and without a captured path, and with the user stack (`-k`).
use std::{path::Path, process::Command, time::Instant};

use anyhow::{Context as _, Result};

use super::{
    BenchArgs, Container, Interrupt, Report, median, start_daemon_env, start_observe, start_tracer,
    start_tracer_with,
};
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
        "raw-exit-only-floor",
        "raw-exit-only",
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
            report.raw(format!("round {round} {mode:>20}: {ns:.1} ns/syscall"));
            results[i].push(ns);
        }
    }
    let base = median(&mut results[0].clone());
    report.out(format!(
        "host-wide tax per filtered-out getppid ({} calls, {} rounds, medians)",
        args.calls, args.rounds
    ));
    report.out(format!(
        "{:>20} {:>14} {:>14}",
        "hook", "ns/syscall", "added ns"
    ));
    for (i, mode) in modes.iter().enumerate() {
        let m = median(&mut results[i]);
        report.out(format!("{mode:>20} {m:>14.1} {:>14.1}", m - base));
    }
    kernel_logs(root, &name, args, report)
}

/// Bytes of BPF instructions the verifier kept (`xlated`) in the programs process `pid` holds:
/// their ids from its fds' fdinfo (program and link fds), sizes from `bpftool prog show id`.
fn xlated_bytes(pid: u32) -> Result<u64> {
    let mut ids = std::collections::BTreeSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fdinfo"))? {
        let info = std::fs::read_to_string(fd?.path()).unwrap_or_default();
        ids.extend(
            info.lines()
                .filter_map(|l| l.strip_prefix("prog_id:"))
                .filter_map(|v| v.trim().parse::<u32>().ok()),
        );
    }
    let mut total = 0;
    for id in ids {
        let out = crate::util::output(&mut cmd(
            "bpftool",
            &["prog", "show", "id", &id.to_string()],
        ))?;
        total += out
            .split_whitespace()
            .skip_while(|w| *w != "xlated")
            .nth(1)
            .and_then(|w| w.strip_suffix('B'))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(total)
}

/// aya-log's diagnostics of the rare paths: off (no `-v`), the verifier removes them, so the
/// programs are as large and as fast as before; with `-v` and `-vv` they are kept. A followed
/// getppid and a failing openat (29-byte path) streamed as JSON, side by side, and the size of
/// what the verifier kept.
fn kernel_logs(root: &Path, name: &str, args: &BenchArgs, report: &mut Report) -> Result<()> {
    let n = args.calls / 10;
    let json = ["--format", "json", "--output", "/dev/null", "--hook", "raw"];
    let levels: [(&str, Vec<&str>); 3] = [
        ("off", json.to_vec()),
        ("-v", [&json[..], &["-v"]].concat()),
        ("-vv", [&json[..], &["-vv"]].concat()),
    ];
    let mut getppid: Vec<Vec<f64>> = vec![Vec::new(); levels.len()];
    let mut openat: Vec<Vec<f64>> = vec![Vec::new(); levels.len()];
    let mut size = vec![0u64; levels.len()];
    for round in 0..args.rounds {
        for (i, (_, a)) in levels.iter().enumerate() {
            let t = start_tracer_with(root, name, a)?;
            size[i] = xlated_bytes(t.pid())?;
            getppid[i].push(timed_in(name, "getppid", n)?);
            openat[i].push(timed_in(name, "openat", n)?);
        }
        report.raw(format!(
            "round {round}: kernel logs off/-v/-vv: getppid {:?} ns, openat {:?} ns",
            getppid.iter().map(|v| v[round].round()).collect::<Vec<_>>(),
            openat.iter().map(|v| v[round].round()).collect::<Vec<_>>()
        ));
    }
    report.out(format!(
        "kernel diagnostics (aya-log): a followed call streamed as JSON ({n} calls, {} rounds, medians)",
        args.rounds
    ));
    report.out(format!(
        "{:>10} {:>16} {:>16} {:>20}",
        "logs", "getppid ns", "openat ns", "xlated bytes kept"
    ));
    for (i, (label, _)) in levels.iter().enumerate() {
        report.out(format!(
            "{label:>10} {:>16.0} {:>16.0} {:>20}",
            median(&mut getppid[i]),
            median(&mut openat[i]),
            size[i]
        ));
    }
    Ok(())
}

/// ns per call of `workload time CALL N` run inside `container`.
pub(super) fn timed_in(container: &str, call: &str, n: u64) -> Result<f64> {
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
    let mut r: [Vec<f64>; 7] = Default::default();
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
        let exit_only = ["--format", "json", "--output", "/dev/null", "--exit-only"];
        let tracer = start_tracer_with(root, &name, &exit_only)?;
        r[5].push(timed_in(&name, "getppid", n)?);
        r[6].push(timed_in(&name, "openat", n)?);
        drop(tracer);
        report.raw(format!(
            "round {round}: getppid {:.0} -> {:.0} ns (-k {:.0} ns, --exit-only {:.0} ns), openat {:.0} -> {:.0} ns (--exit-only {:.0} ns)",
            r[0][round],
            r[2][round],
            r[4][round],
            r[5][round],
            r[1][round],
            r[3][round],
            r[6][round]
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
        ("getppid --exit-only", m[0], m[5]),
        ("openat --exit-only", m[1], m[6]),
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
    report.out(format!(
        "{:>28} {:>32.0}",
        "path capture, --exit-only",
        (m[6] - m[1]) - (m[5] - m[0])
    ));
    Ok(())
}

/// What filtering in the kernel saves. A followed process (`workload time getppid N` in the
/// container): untraced; every call streamed as JSON; `-e trace=openat`, where the kernel's
/// syscall set drops getppid before any record is made; `-Z`, where the exit program drops the
/// successful getppid; `-Z -y`, where the fd tables need every call, so each getppid is
/// recorded, read and decoded and only then dropped by the user-space status filter. And the
/// host-wide tax on an unrelated process (the pinned host loop) of `-p`'s task-set filter against the
/// cgroup filter of `--container`, both following the idle container's main process.
pub fn filters(root: &Path, args: &BenchArgs, report: &mut Report) -> Result<()> {
    let guard = Container::workload()?;
    let name = guard.0.clone();
    let pid = crate::util::output(&mut cmd(
        "docker",
        &["inspect", "-f", "{{.State.Pid}}", &name],
    ))?;
    let pid = pid.trim().to_string();
    let n = args.calls / 10;
    let json = ["--format", "json", "--output", "/dev/null"];
    let followed: [(&str, Vec<&str>); 5] = [
        ("every call streamed", json.to_vec()),
        ("--exit-only", [&json[..], &["--exit-only"]].concat()),
        (
            "-e trace=openat (kernel)",
            [&json[..], &["-e", "trace=openat"]].concat(),
        ),
        ("-Z (kernel)", [&json[..], &["-Z"]].concat()),
        ("-Z -y (user space)", [&json[..], &["-Z", "-y"]].concat()),
    ];
    let endpoint = format!("unix://{}", crate::setup::CONTAINERD_SOCKET);
    let out = ["--output", "/dev/null"];
    // Each starts a tracer; the host loop runs while it is attached.
    type Start<'a> = Box<dyn Fn() -> Result<Interrupt> + 'a>;
    let waiting = ["--container", "tracer-bench-does-not-exist"];
    let host: [(&str, Start); 7] = [
        (
            "--container (cgroup filter)",
            Box::new(|| start_observe(root, &[&["--container", &name][..], &json[..]].concat())),
        ),
        (
            "--container --exit-only",
            Box::new(|| {
                start_observe(
                    root,
                    &[&["--container", &name][..], &json[..], &["--exit-only"]].concat(),
                )
            }),
        ),
        (
            "-p (task-set filter)",
            Box::new(|| start_observe(root, &[&["-p", &pid][..], &json[..]].concat())),
        ),
        (
            "daemon, Docker (one depth)",
            Box::new(|| {
                start_daemon_env(root, &[&["--container", &name][..], &out[..]].concat(), &[])
            }),
        ),
        (
            // No pod is selected: attached anyway, to measure the two-depth filter.
            "daemon, CRI (two depths)",
            Box::new(|| {
                start_daemon_env(
                    root,
                    &[
                        &["--runtime", "cri", "--selector", "tracer-bench=none"][..],
                        &["--attach-always"][..],
                        &out[..],
                    ]
                    .concat(),
                    &[("CONTAINER_RUNTIME_ENDPOINT", &endpoint)],
                )
            }),
        ),
        (
            "daemon waiting, attached",
            Box::new(|| {
                start_daemon_env(
                    root,
                    &[&waiting[..], &["--attach-always"], &out[..]].concat(),
                    &[],
                )
            }),
        ),
        (
            "daemon waiting (detached)",
            Box::new(|| start_daemon_env(root, &[&waiting[..], &out[..]].concat(), &[])),
        ),
    ];
    let mut f: Vec<Vec<f64>> = vec![Vec::new(); followed.len() + 1];
    let mut h: Vec<Vec<f64>> = vec![Vec::new(); host.len() + 1];
    for round in 0..args.rounds {
        f[0].push(timed_in(&name, "getppid", n)?);
        for (i, (_, a)) in followed.iter().enumerate() {
            let _t = start_tracer_with(root, &name, a)?;
            f[i + 1].push(timed_in(&name, "getppid", n)?);
        }
        h[0].push(storm(root, args.calls)?);
        for (i, (_, start)) in host.iter().enumerate() {
            let _t = start()?;
            h[i + 1].push(storm(root, args.calls)?);
        }
        report.raw(format!(
            "round {round}: followed getppid {:?} ns; host getppid {:?} ns",
            f.iter().map(|v| v[round].round()).collect::<Vec<_>>(),
            h.iter().map(|v| v[round].round()).collect::<Vec<_>>()
        ));
    }
    let fm: Vec<f64> = f.iter_mut().map(|v| median(v)).collect();
    let hm: Vec<f64> = h.iter_mut().map(|v| median(v)).collect();
    report.out(format!(
        "a followed getppid ({n} calls in the container, {} rounds, medians)",
        args.rounds
    ));
    report.out(format!(
        "{:>30} {:>12} {:>10}",
        "tracer", "ns/call", "added ns"
    ));
    report.out(format!("{:>30} {:>12.0} {:>10}", "untraced", fm[0], "-"));
    for (i, (label, _)) in followed.iter().enumerate() {
        report.out(format!(
            "{label:>30} {:>12.0} {:>10.0}",
            fm[i + 1],
            fm[i + 1] - fm[0]
        ));
    }
    report.out(format!(
        "host-wide tax on an unrelated getppid ({} calls, pinned loop, medians)",
        args.calls
    ));
    report.out(format!(
        "{:>30} {:>12} {:>10}",
        "tracer", "ns/call", "added ns"
    ));
    report.out(format!("{:>30} {:>12.1} {:>10}", "untraced", hm[0], "-"));
    for (i, (label, _)) in host.iter().enumerate() {
        report.out(format!(
            "{label:>30} {:>12.1} {:>10.1}",
            hm[i + 1],
            hm[i + 1] - hm[0]
        ));
    }
    Ok(())
}
