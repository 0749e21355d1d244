//! Helpers for the end-to-end tests: containers that remove themselves, a tracer process that
//! reports when it is attached, and loopback HTTP. Run through `cargo xtask test`, which sets
//! the environment; a test without it fails rather than skips.
use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    sync::{
        atomic::{AtomicU32, Ordering},
        mpsc::Receiver,
    },
    time::{Duration, Instant},
};

use serde_json::Value;

pub mod daemon;
pub mod otlp;
pub mod strace;
pub mod strace_suite;

/// The stderr lines of `child`, as they come (echoed with `prefix` when given, to show in a
/// failing test's output).
pub fn stderr_lines(child: &mut Child, prefix: Option<&'static str>) -> Receiver<String> {
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(p) = prefix {
                eprintln!("{p}: {line}");
            }
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits up to `timeout` for a line containing `needle`; panics naming it otherwise.
pub fn wait_for_line(rx: &Receiver<String>, needle: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) if l.contains(needle) => return l,
            Ok(_) => {}
            Err(e) => panic!("no line with {needle:?}: {e}"),
        }
    }
}

/// What is left on `rx`, until it is quiet for 2 s.
pub fn rest_of(rx: &Receiver<String>) -> String {
    let mut out = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(2)) {
        out.push(l);
    }
    out.join("\n")
}

/// A path or name the test harness (`cargo xtask test`) provides.
pub fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the end-to-end tests with `cargo xtask test`")
    })
}

pub fn tracer_bin() -> PathBuf {
    PathBuf::from(env("TRACER_BIN"))
}

pub fn workload_bin() -> PathBuf {
    PathBuf::from(env("TRACER_WORKLOAD"))
}

/// A name no other test or earlier run uses.
pub fn unique(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "tracer-test-{what}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs docker and returns its output; panics with docker's stderr when it fails.
pub fn docker(args: &[&str]) -> String {
    engine("docker", args)
}

/// Runs an engine's command line (docker, podman) and returns its output; panics with its
/// stderr when it fails.
pub fn engine(cli: &str, args: &[&str]) -> String {
    let out = Command::new(cli)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cli} runs: {e}"));
    assert!(
        out.status.success(),
        "{cli} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A container removed (with its volumes) when dropped.
pub struct Container {
    pub name: String,
    /// The engine's command line: docker or podman.
    pub cli: &'static str,
}

impl Container {
    /// `docker run -d --name NAME ARGS…`
    pub fn run(what: &str, args: &[&str]) -> Container {
        Container::run_on("docker", &unique(what), args)
    }

    /// `CLI run -d --name NAME ARGS…` on docker or podman. podman runs with explicit rlimits:
    /// its defaults need CAP_SYS_RESOURCE, which root lacks on these machines.
    pub fn run_on(cli: &'static str, name: &str, args: &[&str]) -> Container {
        let mut all = vec!["run", "-d", "--name", name];
        if cli == "podman" {
            all.extend_from_slice(&[
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1000:1000",
            ]);
        }
        all.extend_from_slice(args);
        // The guard exists before the engine is asked: a run that fails half-way is removed.
        let c = Container {
            name: name.to_string(),
            cli,
        };
        engine(cli, &all);
        c
    }

    /// `docker create` only: a container that exists and is not running.
    pub fn create(what: &str, args: &[&str]) -> Container {
        let name = unique(what);
        let mut all = vec!["create", "--name", &name];
        all.extend_from_slice(args);
        docker(&all);
        Container {
            name,
            cli: "docker",
        }
    }

    pub fn id(&self) -> String {
        engine(self.cli, &["inspect", "-f", "{{.Id}}", &self.name])
    }

    pub fn pid(&self) -> u32 {
        engine(self.cli, &["inspect", "-f", "{{.State.Pid}}", &self.name])
            .parse()
            .expect("pid")
    }

    /// The container's cgroup v2 directory.
    pub fn cgroup_dir(&self) -> PathBuf {
        let text = std::fs::read_to_string(format!("/proc/{}/cgroup", self.pid())).expect("cgroup");
        let rel = text
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .expect("cgroup v2 line");
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        let mount = mounts
            .lines()
            .find_map(|l| {
                let (pre, post) = l.split_once(" - ")?;
                post.starts_with("cgroup2 ")
                    .then(|| pre.split_whitespace().nth(4))?
            })
            .expect("cgroup2 mount");
        PathBuf::from(mount).join(rel.trim_start_matches('/'))
    }

    pub fn exec(&self, args: &[&str]) -> String {
        let mut all = vec!["exec", &self.name];
        all.extend_from_slice(args);
        engine(self.cli, &all)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new(self.cli)
            .args(["rm", "-f", "-v", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `ENGINE exec` of `workload burst K M` (K getppid, M failing openat); returns its pid as it
/// sees it.
pub fn burst(c: &Container, k: u32, m: u32) -> u64 {
    burst_pid(&c.exec(&["/workload", "burst", &k.to_string(), &m.to_string()]))
}

/// The pid that `workload burst` printed.
pub fn burst_pid(out: &str) -> u64 {
    out.strip_prefix("pid ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("workload printed {out:?}"))
}

/// A run that ended well, lost nothing, and in which the workload process `ns_pid` made
/// exactly K getppid and M failing openat (`workload burst K M`); its syscall records.
pub fn assert_burst(done: &Finished, ns_pid: u64, k: usize, m: usize) -> Vec<Value> {
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stderr.contains(" records, 0 lost"), "{}", done.stderr);
    let records = done.syscalls();
    let mine = workload_calls(&records, ns_pid);
    let getppid = mine.iter().filter(|v| v["syscall"] == "getppid").count();
    let enoent = mine
        .iter()
        .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
        .count();
    assert_eq!((getppid, enoent), (k, m), "{}", done.stderr);
    records
}

/// The records of the workload process `ns_pid` after its exec (runc's init runs as the same
/// process before it execs the workload; the comm changes there).
pub fn workload_calls(records: &[Value], ns_pid: u64) -> Vec<&Value> {
    records
        .iter()
        .filter(|v| v["ns_pid"].as_u64() == Some(ns_pid) && v["comm"] == "workload")
        .collect()
}

/// A workload container idling in `pause()`, no network.
pub fn workload_container() -> Container {
    Container::run(
        "workload",
        &["--network", "none", &env("TRACER_WORKLOAD_IMAGE")],
    )
}

/// An nginx container on 127.0.0.1:`port` (host network), with its config in a temp file.
pub fn nginx_container(port: u16) -> (Container, TempDir) {
    nginx_named(&unique("nginx"), port, &[])
}

/// `nginx_container` with a given name and extra `docker run` options (before the image).
pub fn nginx_named(name: &str, port: u16, extra: &[&str]) -> (Container, TempDir) {
    let dir = TempDir::new("nginx");
    let conf = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/nginx.conf"))
        .expect("nginx.conf fixture")
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let path = dir.0.join("nginx.conf");
    std::fs::write(&path, conf).expect("write conf");
    let mount = format!("{}:/etc/nginx/nginx.conf:ro", path.display());
    let image = env("TRACER_NGINX_IMAGE");
    let mut args = vec![
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "-v",
        &mount,
    ];
    args.extend_from_slice(extra);
    args.push(&image);
    docker(&args);
    let c = Container {
        name: name.to_string(),
        cli: "docker",
    };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            let logs = Command::new("docker").args(["logs", name]).output();
            let state = Command::new("docker")
                .args([
                    "inspect",
                    "-f",
                    "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}",
                    name,
                ])
                .output();
            panic!("nginx did not listen: state {state:?}, logs {logs:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (c, dir)
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(what));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// One HTTP/1.0 GET on loopback; returns the status line.
pub fn http_get(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .expect("send");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("read");
    body.lines().next().unwrap_or_default().to_string()
}

/// A running `tracer observe` that has said it is attached.
pub struct Tracer {
    child: Option<Child>,
    stderr: std::sync::mpsc::Receiver<String>,
    pub stdout_path: PathBuf,
    /// The "tracer: tracing …" line it started with.
    pub started: String,
    _dir: TempDir,
}

pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The output file's bytes (`stdout` is their text): a recording, for `tracer record`.
    pub output: Vec<u8>,
}

impl Finished {
    pub fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect()
    }

    /// Syscall records only.
    pub fn syscalls(&self) -> Vec<Value> {
        self.json()
            .into_iter()
            .filter(|v| v["type"] == "syscall")
            .collect()
    }
}

impl Tracer {
    /// Starts `tracer observe ARGS --output FILE` and waits for the "tracing" line.
    pub fn start(args: &[&str]) -> Tracer {
        Tracer::start_as("observe", args)
    }

    /// Starts `tracer COMMAND ARGS --output FILE` (observe, record) and waits for the
    /// "tracing" line.
    pub fn start_as(command: &str, args: &[&str]) -> Tracer {
        Tracer::start_with_env(command, args, &[])
    }

    /// `start_as` with these environment variables set.
    pub fn start_with_env(command: &str, args: &[&str], envs: &[(&str, &str)]) -> Tracer {
        let dir = TempDir::new("out");
        let stdout_path = dir.0.join("out");
        let mut child = Command::new(tracer_bin())
            .arg(command)
            .args(args)
            .envs(envs.iter().copied())
            .arg("--output")
            .arg(&stdout_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracer starts");
        let mut t = Tracer {
            stderr: stderr_lines(&mut child, None),
            child: Some(child),
            stdout_path,
            started: String::new(),
            _dir: dir,
        };
        match t.stderr.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if l.starts_with("tracer: tracing ") => {
                t.started = l;
                t
            }
            other => panic!("tracer did not report tracing: {other:?}"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Lets the ring buffer drain what was just done, then stops with SIGINT.
    pub fn stop(mut self) -> Finished {
        std::thread::sleep(Duration::from_millis(300));
        let mut child = self.child.take().expect("child");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        self.finish(&mut child)
    }

    /// Waits for tracer to end by itself (--count, --duration).
    pub fn wait(mut self) -> Finished {
        let mut child = self.child.take().expect("child");
        self.finish(&mut child)
    }

    fn finish(&mut self, child: &mut Child) -> Finished {
        let status = wait_exit(child, "tracer");
        let output = std::fs::read(&self.stdout_path).unwrap_or_default();
        Finished {
            status,
            stdout: String::from_utf8(output.clone()).unwrap_or_default(),
            stderr: rest_of(&self.stderr),
            output,
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits up to 60 s for `child` to exit; panics naming `what` otherwise.
pub fn wait_exit(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs tracer to completion (error cases).
pub fn run_tracer(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(tracer_bin())
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("tracer runs")
}

/// The raw tracepoints `pid` holds a BPF link to (its fds' `tp_name`).
pub fn raw_tracepoints(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .expect("fdinfo")
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        if text.contains("link_type:\traw_tracepoint") {
            out.extend(
                text.lines()
                    .filter_map(|l| l.strip_prefix("tp_name:"))
                    .map(|t| t.trim().to_string()),
            );
        }
    }
    out.sort();
    out
}

/// Runs the workload on the host (outside every container).
pub fn host_workload(args: &[&str]) -> Child {
    Command::new(workload_bin())
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("workload runs")
}

/// The capabilities `seccomp check --container ID -v` read for the container (its `… (its
/// OCI spec): CAP_…` line).
pub fn spec_caps_line(id: &str, envs: &[(&str, &str)]) -> String {
    let profile = format!("{}/fixtures/seccomp/deny.json", env!("CARGO_MANIFEST_DIR"));
    let out = run_tracer(
        &[
            "seccomp",
            "check",
            "--profile",
            &profile,
            "--container",
            id,
            "--duration",
            "1s",
            "-v",
        ],
        envs,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    stderr
        .lines()
        .find_map(|l| l.split_once("'s capabilities (its OCI spec): "))
        .map(|(_, caps)| caps.to_string())
        .unwrap_or_else(|| panic!("no capabilities line: {stderr}"))
}
