//! `cargo xtask bench hooks`: the cost each hook type adds to a syscall of a process that the
//! filter rejects (the host-wide tax). A static `getppid` loop runs on the host, pinned to one
//! CPU, with no tracer and with `tracer observe` attached to an idle container through each hook;
//! modes alternate within every round and the medians are printed.
use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Instant,
};

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};

use crate::{
    images::{self, WORKLOAD_IMAGE},
    util::{cmd, run_ok},
};

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
}

#[derive(Clone, Copy, ValueEnum)]
enum Which {
    /// Host-wide tax per filtered-out syscall, for each hook type.
    Hooks,
    /// Kernel cost per traced event, with and without a captured path.
    Capture,
    /// nginx requests/s under wrk: untraced, `--summary`, streaming JSON to a file.
    Nginx,
    /// getppid storms at rising rates, JSON to a file: records, reported losses, real losses.
    Lossless,
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

struct Tracer(Child);

impl Drop for Tracer {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let _ = self.0.wait();
    }
}

/// Starts tracer on `container` with `hook`, streaming JSON to /dev/null.
fn start_tracer(root: &Path, container: &str, hook: &str) -> Result<Tracer> {
    let (hook, floor) = match hook.strip_suffix("-floor") {
        Some(h) => (h, true),
        None => (hook, false),
    };
    let mut args = vec!["--format", "json", "--output", "/dev/null", "--hook", hook];
    if floor {
        args.push("--follow-nothing");
    }
    start_tracer_with(root, container, &args)
}

/// Starts `tracer observe --container CONTAINER ARGS` and waits for its "tracing" line.
fn start_tracer_with(root: &Path, container: &str, args: &[&str]) -> Result<Tracer> {
    let mut c = Command::new(root.join("target/release/tracer"));
    c.args(["observe", "--container", container]).args(args);
    let mut child = c.stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().context("stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let t = Tracer(child);
    match lines.next() {
        Some(Ok(l)) if l.contains("tracing") => {}
        other => bail!("tracer did not start: {other:?}"),
    }
    std::thread::spawn(move || for _ in lines {});
    Ok(t)
}

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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn hooks(root: &Path, args: &BenchArgs) -> Result<()> {
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
            eprintln!("round {round} {mode:>10}: {ns:.1} ns/syscall");
            results[i].push(ns);
        }
    }
    let base = median(&mut results[0].clone());
    println!(
        "\nhost-wide tax per filtered-out getppid ({} calls, {} rounds, medians)",
        args.calls, args.rounds
    );
    println!("{:>12} {:>14} {:>14}", "hook", "ns/syscall", "added ns");
    for (i, mode) in modes.iter().enumerate() {
        let m = median(&mut results[i]);
        println!("{mode:>12} {m:>14.1} {:>14.1}", m - base);
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
/// path the kernel reads (a failing openat of a 29-byte path), streaming JSON to /dev/null.
fn capture(root: &Path, args: &BenchArgs) -> Result<()> {
    let guard = Container::workload()?;
    let name = guard.0.clone();
    let n = args.calls / 10;
    let mut r: [Vec<f64>; 4] = Default::default();
    for round in 0..args.rounds {
        r[0].push(timed_in(&name, "getppid", n)?);
        r[1].push(timed_in(&name, "openat", n)?);
        let tracer = start_tracer(root, &name, "raw")?;
        r[2].push(timed_in(&name, "getppid", n)?);
        r[3].push(timed_in(&name, "openat", n)?);
        drop(tracer);
        eprintln!(
            "round {round}: getppid {:.0} -> {:.0} ns, openat {:.0} -> {:.0} ns",
            r[0][round], r[2][round], r[1][round], r[3][round]
        );
    }
    let m: Vec<f64> = r.iter_mut().map(|v| median(v)).collect();
    println!(
        "\nper-event kernel cost, traced minus untraced ({n} calls, {} rounds, medians)",
        args.rounds
    );
    println!(
        "{:>28} {:>10} {:>10} {:>10}",
        "call", "untraced", "traced", "added ns"
    );
    println!(
        "{:>28} {:>10.0} {:>10.0} {:>10.0}",
        "getppid (no capture)",
        m[0],
        m[2],
        m[2] - m[0]
    );
    println!(
        "{:>28} {:>10.0} {:>10.0} {:>10.0}",
        "openat (29-byte path)",
        m[1],
        m[3],
        m[3] - m[1]
    );
    println!(
        "{:>28} {:>32.0}",
        "path capture alone",
        (m[3] - m[1]) - (m[2] - m[0])
    );
    Ok(())
}

/// Requests/s of one `wrk -t1 -c32` run against 127.0.0.1:`port`.
fn wrk(port: u16, seconds: u32) -> Result<f64> {
    let out = crate::util::output(&mut cmd(
        "wrk",
        &[
            "-t1",
            "-c32",
            &format!("-d{seconds}s"),
            &format!("http://127.0.0.1:{port}/"),
        ],
    ))?;
    out.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{out}"))
}

/// nginx in a container on the host network; modes alternate within each round.
fn nginx(root: &Path, args: &BenchArgs) -> Result<()> {
    if !crate::util::succeeds(&mut cmd("wrk", &["--version"]))
        && !Path::new("/usr/bin/wrk").exists()
    {
        run_ok(
            cmd("apt-get", &["install", "-y", "-qq", "wrk"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }
    let port = 18080;
    let dir = std::env::temp_dir().join(format!("tracer-bench-nginx-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let conf = std::fs::read_to_string(root.join("tests/fixtures/nginx.conf"))?
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let name = format!("tracer-bench-nginx-{}", std::process::id());
    let mount = format!(
        "{}:/etc/nginx/nginx.conf:ro",
        dir.join("nginx.conf").display()
    );
    run_ok(
        cmd(
            "docker",
            &[
                "run",
                "-d",
                "--name",
                &name,
                "--network",
                "host",
                "-v",
                &mount,
            ],
        )
        .arg(crate::images::NGINX_IMAGE)
        .stdout(Stdio::null()),
    )?;
    let _guard = Container(name.clone());
    std::thread::sleep(std::time::Duration::from_secs(1));
    let out_file = dir.join("events.jsonl");
    let out_arg = out_file.display().to_string();
    let modes: [(&str, &[&str]); 3] = [
        ("untraced", &[]),
        ("summary", &["--summary", "--output", "/dev/null"]),
        ("json to file", &["--format", "json", "--output", &out_arg]),
    ];
    let seconds = 5;
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for round in 0..args.rounds {
        for (i, (mode, extra)) in modes.iter().enumerate() {
            let _tracer = if extra.is_empty() {
                None
            } else {
                Some(start_tracer_with(root, &name, extra)?)
            };
            let rps = wrk(port, seconds)?;
            eprintln!("round {round} {mode:>14}: {rps:.0} req/s");
            results[i].push(rps);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let base = median(&mut results[0].clone());
    println!(
        "\nnginx under wrk -t1 -c32 -d{seconds}s ({} rounds, medians)",
        args.rounds
    );
    println!("{:>14} {:>12} {:>10}", "mode", "req/s", "ratio");
    for (i, (mode, _)) in modes.iter().enumerate() {
        let m = median(&mut results[i]);
        println!("{mode:>14} {m:>12.0} {:>10.3}", m / base);
    }
    Ok(())
}

/// `tracer: N records, M lost` → (N, M).
fn closing_counts(stderr: &str) -> Option<(u64, u64)> {
    let line = stderr.lines().rev().find(|l| l.contains(" records, "))?;
    let rest = line.strip_prefix("tracer: ")?;
    let (records, rest) = rest.split_once(" records, ")?;
    let lost = rest.split_whitespace().next()?;
    Some((records.parse().ok()?, lost.parse().ok()?))
}

/// For each rate: a `workload rate R N` storm of getppid in the container, tracer writing JSON
/// lines to a file; every call is either a record or a counted loss.
fn lossless(root: &Path, args: &BenchArgs) -> Result<()> {
    let guard = Container::workload()?;
    let name = guard.0.clone();
    let n = args.calls / 5;
    let file = std::env::temp_dir().join(format!("tracer-bench-{}.jsonl", std::process::id()));
    println!(
        "getppid storms of {n} calls in the container, JSON lines to {}",
        file.display()
    );
    println!(
        "{:>12} {:>6} {:>12} {:>10} {:>10} {:>12}",
        "asked/s", "ring", "achieved/s", "records", "lost", "unaccounted"
    );
    // The last row overdrives a small ring on purpose: losses must all be counted.
    for (rate, ring) in [
        ("100000", "8M"),
        ("200000", "8M"),
        ("400000", "8M"),
        ("800000", "8M"),
        ("0", "8M"),
        ("0", "64K"),
    ] {
        let mut child = Command::new(root.join("target/release/tracer"))
            .args(["observe", "--container", &name, "--format", "json"])
            .args(["--syscalls", "getppid", "--ring-size", ring, "--output"])
            .arg(&file)
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().context("stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        match lines.next() {
            Some(Ok(l)) if l.contains("tracing") => {}
            other => bail!("tracer did not start: {other:?}"),
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
        let asked = if rate == "0" { "max" } else { rate };
        println!(
            "{asked:>12} {ring:>6} {:>12} {records:>10} {lost:>10} {:>12}",
            achieved.trim(),
            i128::from(n) - i128::from(records) - i128::from(lost)
        );
        let _ = std::fs::remove_file(&file);
    }
    Ok(())
}

pub fn run(root: &Path, args: BenchArgs) -> Result<()> {
    crate::setup::run_all(root)?;
    crate::demo::build_tracer(root)?;
    match args.which {
        Which::Hooks => hooks(root, &args),
        Which::Capture => capture(root, &args),
        Which::Nginx => nginx(root, &args),
        Which::Lossless => lossless(root, &args),
    }
}
