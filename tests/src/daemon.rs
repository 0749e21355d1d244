//! A running `tracer daemon`, its output files, its metrics endpoint, and an engine restart.
use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{TempDir, tracer_bin};

pub struct Daemon {
    child: Option<Child>,
    stderr: std::sync::mpsc::Receiver<String>,
    pub dir: TempDir,
    /// The "tracer: daemon following …" line it started with.
    pub started: String,
}

impl Daemon {
    /// `tracer daemon ARGS` with `--output-dir` in a fresh directory; waits for its start line.
    pub fn start(args: &[&str]) -> Daemon {
        let dir = TempDir::new("daemon");
        Daemon::start_in(dir, args, true)
    }

    /// As `start`, with these environment variables set.
    pub fn start_with_env(args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        Daemon::launch(TempDir::new("daemon"), args, true, envs)
    }

    /// As `start`, with `--output-dir DIR` only when `output_dir`.
    pub fn start_in(dir: TempDir, args: &[&str], output_dir: bool) -> Daemon {
        Daemon::launch(dir, args, output_dir, &[])
    }

    /// As `start_with_env`, run through `wrapper` (a command that ends by exec'ing its
    /// arguments: `unshare --cgroup`…).
    pub fn start_wrapped(wrapper: &[&str], args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        Daemon::launch_via(wrapper, TempDir::new("daemon"), args, true, envs)
    }

    fn launch(dir: TempDir, args: &[&str], output_dir: bool, envs: &[(&str, &str)]) -> Daemon {
        Daemon::launch_via(&[], dir, args, output_dir, envs)
    }

    fn launch_via(
        wrapper: &[&str],
        dir: TempDir,
        args: &[&str],
        output_dir: bool,
        envs: &[(&str, &str)],
    ) -> Daemon {
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(tracer_bin());
                c
            }
            None => Command::new(tracer_bin()),
        };
        cmd.arg("daemon").args(args).envs(envs.iter().copied());
        if output_dir {
            cmd.arg("--output-dir").arg(&dir.0);
        }
        let mut child = cmd
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracer daemon starts");
        let mut d = Daemon {
            stderr: crate::stderr_lines(&mut child, Some("daemon")),
            child: Some(child),
            dir,
            started: String::new(),
        };
        d.started = crate::wait_for_line(
            &d.stderr,
            "tracer: daemon following ",
            Duration::from_secs(30),
        );
        d
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Waits until a stderr line contains `needle` (the daemon logs at info level).
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        crate::wait_for_line(&self.stderr, needle, timeout)
    }

    /// Waits until the daemon has put container `name`'s cgroup in the kernel filter: the
    /// "following" line comes once the engine answered, which after an engine restart can be
    /// later than a `docker exec` started at once.
    pub fn wait_following(&self, name: &str) {
        self.wait_for_log(
            &format!("following container=\"{name}\""),
            Duration::from_secs(30),
        );
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.pid() as i32, sig) };
    }

    /// Open file descriptors of the daemon.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// SIGTERM, then the exit status and the rest of stderr. The output directory stays until
    /// the `Daemon` is dropped.
    pub fn stop(&mut self) -> (ExitStatus, String) {
        std::thread::sleep(Duration::from_millis(300));
        let mut child = self.child.take().expect("child");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = crate::wait_exit(&mut child, "daemon");
        let mut rest = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_secs(1)) {
            rest.push(l);
        }
        (status, rest.join("\n"))
    }

    /// The JSON lines file of container `name`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.0.join(format!("{name}.jsonl"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every line of `path` parsed; panics on a line that is not complete JSON.
pub fn read_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{} does not end with a complete line",
        path.display()
    );
    text.lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("bad line in {}: {e}: {l:?}", path.display()))
        })
        .collect()
}

/// Complete lines of a file being written (a trailing partial line is left out).
pub fn complete_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let end = text.rfind('\n').map_or(0, |i| i + 1);
    text[..end]
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Polls until `f` is true.
pub fn eventually(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One HTTP/1.0 GET of `path` on 127.0.0.1:`port`: (status line, body).
pub fn http(port: u16, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

/// The value of one metric line (`name{labels} value`) in a Prometheus text body.
pub fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Stops dockerd (SIGTERM; `--live-restore` keeps containers running) and starts it again with
/// the same command line; returns once the engine answers.
pub fn restart_dockerd() {
    let pid = Command::new("pgrep")
        .args(["-o", "-x", "dockerd"])
        .output()
        .expect("pgrep");
    let pid: i32 = String::from_utf8_lossy(&pid.stdout)
        .trim()
        .parse()
        .expect("a running dockerd");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut args = args;
    if !args.iter().any(|a| a == "--live-restore") {
        // Without it the engine stops every container when it stops (an engine started by
        // something other than `cargo xtask setup`): restart it with it.
        eprintln!("restart_dockerd: adding --live-restore to {args:?}");
        args.push("--live-restore".into());
    }
    // SAFETY: plain signal to a pid.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    // Gone, or a zombie its parent has not reaped yet (an engine started as someone's child).
    eventually("dockerd to exit", Duration::from_secs(60), || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
            s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))
        })
    });
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open("/var/log/tracer-dockerd.log")
        .expect("log");
    // `setsid -f` forks and exits at once; the engine lives on, detached, as before.
    let mut setsid = Command::new("setsid")
        .arg("-f")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("dockerd restarts");
    let _ = setsid.wait();
    eventually("dockerd to answer", Duration::from_secs(60), || {
        Command::new("docker")
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
}

/// One sample of an OpenMetrics exposition, as the Prometheus client library's parser reads it.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: serde_json::Map<String, Value>,
    pub value: f64,
}

impl Sample {
    /// Has every label of `labels`, with these values.
    pub fn has(&self, labels: &[(&str, &str)]) -> bool {
        labels
            .iter()
            .all(|(k, v)| self.labels.get(*k).and_then(Value::as_str) == Some(*v))
    }
}

/// Scrapes /metrics on 127.0.0.1:`port` and parses it with the Prometheus project's own
/// OpenMetrics parser (`prometheus_client`, in the venv `TRACER_PYTHON` names), which rejects
/// a malformed exposition: the test fails then.
pub fn scrape(port: u16) -> Vec<Sample> {
    let (status, body) = http(port, "/metrics");
    assert!(status.contains("200"), "{status}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/openmetrics.py");
    let mut child = Command::new(crate::env("TRACER_PYTHON"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write body");
    let out = child.wait_with_output().expect("parser ends");
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused /metrics: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("parser's JSON");
            Sample {
                name: v["name"].as_str().unwrap_or_default().to_string(),
                labels: v["labels"].as_object().cloned().unwrap_or_default(),
                value: v["value"].as_f64().unwrap_or(f64::NAN),
            }
        })
        .collect()
}

/// The value of the one sample `name` with `labels`, if there is one.
pub fn sample(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == name && s.has(labels))
        .map(|s| s.value)
}
