//! nginx throughput under `wrk -t1 -c32` over loopback: untraced, the peers (strace attached to
//! every nginx process; bpftrace printing one line per syscall of the container's cgroup, and
//! counting in a map) and tracer (JSON lines to a file, a binary recording, the daemon writing
//! JSON lines and writing a recording, and `--summary`). Modes alternate within each round;
//! medians and ratios to untraced.
use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result, bail};

use super::{
    BenchArgs, Container, Interrupt, Report, ensure_installed, median, start_daemon,
    start_tracer_with,
};
use crate::util::{cmd, run_ok};

const PORT: u16 = 18080;
const SECONDS: u32 = 5;

/// Requests/s of one `wrk -t1 -c32` run against 127.0.0.1:`PORT`.
fn wrk() -> Result<f64> {
    let out = crate::util::output(&mut cmd(
        "wrk",
        &[
            "-t1",
            "-c32",
            &format!("-d{SECONDS}s"),
            &format!("http://127.0.0.1:{PORT}/"),
        ],
    ))?;
    out.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk output:\n{out}"))
}

/// The container's cgroup v2 directory (hybrid or pure v2 hierarchy).
fn cgroup_dir(container: &str) -> Result<PathBuf> {
    let pid = crate::util::output(&mut cmd(
        "docker",
        &["inspect", "-f", "{{.State.Pid}}", container],
    ))?;
    let cgroups = std::fs::read_to_string(format!("/proc/{}/cgroup", pid.trim()))?;
    let rel = cgroups
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .context("no cgroup v2 entry")?;
    let unified = Path::new("/sys/fs/cgroup/unified");
    let root = if unified.join("cgroup.procs").exists() {
        unified
    } else {
        Path::new("/sys/fs/cgroup")
    };
    Ok(root.join(rel.trim_start_matches('/')))
}

/// `strace -f` attached to every process of the container, writing to `out`; returns once
/// every process is attached.
fn start_strace(cgroup: &Path, out: &Path) -> Result<Interrupt> {
    let procs = std::fs::read_to_string(cgroup.join("cgroup.procs"))?;
    let pids: Vec<&str> = procs.split_whitespace().collect();
    let mut c = Command::new("strace");
    c.args(["-f", "-o"]).arg(out);
    for pid in &pids {
        c.args(["-p", pid]);
    }
    let mut child = c.stderr(Stdio::piped()).spawn()?;
    let stderr = child.stderr.take().context("stderr")?;
    let guard = Interrupt(child);
    let mut lines = BufReader::new(stderr).lines();
    let mut attached = 0;
    while attached < pids.len() {
        match lines.next() {
            Some(Ok(l)) if l.contains("attached") => attached += 1,
            Some(Ok(_)) => {}
            _ => bail!("strace ended before attaching to {} processes", pids.len()),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Ok(guard)
}

/// bpftrace running `action` on every raw syscall exit of the container's cgroup, its output in
/// `out`; returns once its BEGIN probe (which fires after every probe is attached) has printed.
fn start_bpftrace(cgroup: &Path, action: &str, out: &Path) -> Result<Interrupt> {
    let program = format!(
        "BEGIN {{ printf(\"ready\\n\"); }} \
         tracepoint:raw_syscalls:sys_exit /cgroup == cgroupid(\"{}\")/ {{ {action} }}",
        cgroup.display()
    );
    // Standard output to the file (not `-o`, which buffers until exit): lines land as printed.
    let file = std::fs::File::create(out)?;
    let child = Command::new("bpftrace")
        .args(["-e", &program])
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()?;
    let guard = Interrupt(child);
    let start = Instant::now();
    while !std::fs::read_to_string(out).is_ok_and(|s| s.contains("ready")) {
        if start.elapsed() > Duration::from_secs(30) {
            bail!("bpftrace did not attach within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(guard)
}

/// `tracer record --container NAME -o OUT EXTRA…`: the kernel's records to a file, decoded
/// later.
fn start_record(root: &Path, container: &str, out: &str, extra: &[&str]) -> Result<Interrupt> {
    let mut c = Command::new(root.join("target/release/tracer"));
    c.args(["record", "--container", container, "-o", out]);
    c.args(extra);
    super::spawn_until(&mut c, "tracer record", |l| {
        if l.contains("tracer: tracing") {
            Some(true)
        } else {
            (!l.starts_with("tracer:")).then_some(false)
        }
    })
}

/// nginx in a container on the host network, serving its default page.
fn start_nginx(root: &Path, dir: &Path) -> Result<Container> {
    let conf = std::fs::read_to_string(root.join("tests/fixtures/nginx.conf"))?
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{PORT}"));
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let name = format!("tracer-bench-nginx-{}", std::process::id());
    let mount = format!(
        "{}:/etc/nginx/nginx.conf:ro",
        dir.join("nginx.conf").display()
    );
    let mut c = cmd("docker", &["run", "-d", "--name", &name]);
    c.args(["--network", "host", "-v", &mount]);
    run_ok(c.arg(crate::images::NGINX_IMAGE).stdout(Stdio::null()))?;
    let guard = Container(name);
    std::thread::sleep(Duration::from_secs(1));
    Ok(guard)
}

#[derive(Clone, Copy)]
enum Mode {
    Untraced,
    Strace,
    BpftracePrint,
    BpftraceCount,
    TracerJson,
    TracerJsonSameCalls,
    TracerJsonExitOnly,
    TracerRecord,
    TracerRecordExitOnly,
    TracerDaemon,
    TracerDaemonBinary,
    TracerSummary,
}

impl Mode {
    const ALL: [Mode; 12] = [
        Mode::Untraced,
        Mode::Strace,
        Mode::BpftracePrint,
        Mode::BpftraceCount,
        Mode::TracerJson,
        Mode::TracerJsonSameCalls,
        Mode::TracerJsonExitOnly,
        Mode::TracerRecord,
        Mode::TracerRecordExitOnly,
        Mode::TracerDaemon,
        Mode::TracerDaemonBinary,
        Mode::TracerSummary,
    ];

    fn label(self) -> &'static str {
        match self {
            Mode::Untraced => "untraced",
            Mode::Strace => "strace -f, to a file",
            Mode::BpftracePrint => "bpftrace printf, to a file",
            Mode::BpftraceCount => "bpftrace count map",
            Mode::TracerJson => "tracer JSON, to a file",
            Mode::TracerJsonSameCalls => "JSON, --exit-only's calls",
            Mode::TracerJsonExitOnly => "JSON --exit-only",
            Mode::TracerRecord => "tracer record, to a file",
            Mode::TracerRecordExitOnly => "record --exit-only",
            Mode::TracerDaemon => "tracer daemon, to a file",
            Mode::TracerDaemonBinary => "tracer daemon, binary",
            Mode::TracerSummary => "tracer --summary",
        }
    }
}

/// Every call but those `--exit-only` leaves out (tracer-user's `capture_spec::needs_enter`,
/// named in its start line).
const EXIT_ONLY_KEEPS: &str = "trace=!accept,accept4,execve,execveat,getpeername,getsockname,getsockopt,poll,ppoll,pselect6,recvfrom,recvmsg,select,sendfile";

pub fn nginx(root: &Path, args: &BenchArgs, report: &mut Report) -> Result<()> {
    ensure_installed("wrk", "wrk")?;
    ensure_installed("strace", "strace")?;
    ensure_installed("bpftrace", "bpftrace")?;
    let dir = std::env::temp_dir().join(format!("tracer-bench-nginx-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let nginx = start_nginx(root, &dir)?;
    let cgroup = cgroup_dir(&nginx.0)?;
    let out_file = dir.join("events.out");
    let out_arg = out_file.display().to_string();
    // The daemon's recordings: NAME.trec there (moved aside to NAME.trec.1 … on each start).
    let rec_dir = dir.join("recordings");
    std::fs::create_dir_all(&rec_dir)?;
    let rec_dir_arg = rec_dir.display().to_string();
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); Mode::ALL.len()];
    for round in 0..args.rounds {
        for (i, mode) in Mode::ALL.iter().enumerate() {
            let _observer = match mode {
                Mode::Untraced => None,
                Mode::Strace => Some(start_strace(&cgroup, &out_file)?),
                Mode::BpftracePrint => Some(start_bpftrace(
                    &cgroup,
                    "printf(\"%d %d %d\\n\", tid, args->id, args->ret);",
                    &out_file,
                )?),
                Mode::BpftraceCount => Some(start_bpftrace(
                    &cgroup,
                    "@[args->id] = count();",
                    &out_file,
                )?),
                Mode::TracerJson => Some(start_tracer_with(
                    root,
                    &nginx.0,
                    &["--format", "json", "--output", &out_arg],
                )?),
                // The calls --exit-only keeps, with both programs: what the enter program
                // costs, apart from the calls it leaves out.
                Mode::TracerJsonSameCalls => Some(start_tracer_with(
                    root,
                    &nginx.0,
                    &[
                        "--format",
                        "json",
                        "-e",
                        EXIT_ONLY_KEEPS,
                        "--output",
                        &out_arg,
                    ],
                )?),
                Mode::TracerJsonExitOnly => Some(start_tracer_with(
                    root,
                    &nginx.0,
                    &["--format", "json", "--exit-only", "--output", &out_arg],
                )?),
                Mode::TracerRecord => Some(start_record(root, &nginx.0, &out_arg, &[])?),
                Mode::TracerRecordExitOnly => {
                    Some(start_record(root, &nginx.0, &out_arg, &["--exit-only"])?)
                }
                Mode::TracerDaemon => Some(start_daemon(root, &nginx.0, &["--output", &out_arg])?),
                Mode::TracerDaemonBinary => {
                    let args = ["--format", "binary", "--output-dir", &rec_dir_arg];
                    Some(start_daemon(root, &nginx.0, &args)?)
                }
                Mode::TracerSummary => Some(start_tracer_with(
                    root,
                    &nginx.0,
                    &["--summary", "--output", "/dev/null"],
                )?),
            };
            let rps = wrk()?;
            report.raw(format!(
                "round {round} {:>28}: {rps:.0} req/s",
                mode.label()
            ));
            results[i].push(rps);
        }
        let _ = std::fs::remove_file(&out_file);
        let _ = std::fs::remove_dir_all(&rec_dir);
        std::fs::create_dir_all(&rec_dir)?;
    }
    drop(nginx);
    let _ = std::fs::remove_dir_all(&dir);
    let base = median(&mut results[0].clone());
    report.out(format!(
        "nginx under wrk -t1 -c32 -d{SECONDS}s ({} rounds, medians)",
        args.rounds
    ));
    report.out(format!("{:>28} {:>12} {:>10}", "mode", "req/s", "ratio"));
    for (i, mode) in Mode::ALL.iter().enumerate() {
        let m = median(&mut results[i]);
        report.out(format!("{:>28} {m:>12.0} {:>10.3}", mode.label(), m / base));
    }
    Ok(())
}
