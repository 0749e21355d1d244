//! Floods: far more events than the ring buffer carries. Every loss is counted (records plus
//! reported losses equal the calls made), user memory stays bounded, tracing recovers when the
//! flood ends, and the daemon's metrics endpoint keeps answering meanwhile.
//!
//! The consumer is stalled on purpose, as a slow log shipper would: tracer writes to a pipe
//! nobody reads during the flood, so the pipe, tracer's queue and then the ring buffer fill and
//! the kernel must drop, whatever the speed of the machine. After the flood the pipe is drained.
use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde_json::Value;
use tests::{Container, daemon::metric, free_port, wait_exit, workload_container};

/// Calls in the flood.
const FLOOD: u64 = 1_000_000;
/// Calls after the flood: every one must arrive.
const AFTER: u64 = 1000;
/// The calls counted: losses are counted per record, and other calls of `docker exec`'s
/// runtime set-up would be lost in the flood too.
const COUNTED: &str = "getppid,openat";
/// What the user side may use while flooded (docs/reliability.md derives the bound).
const RSS_BOUND_KIB: u64 = 64 << 10;

fn getppids(lines: &[Value]) -> u64 {
    lines
        .iter()
        .filter(|v| v["type"] == "syscall" && v["syscall"] == "getppid")
        .count() as u64
}

/// The workload's failing openat calls: the marker of the calls made after the flood.
fn markers(lines: &[Value]) -> u64 {
    lines
        .iter()
        .filter(|v| {
            v["syscall"] == "openat" && v["args"][1]["value"] == "/nonexistent/tracer-workload"
        })
        .count() as u64
}

fn lost_total(lines: &[Value]) -> u64 {
    let lost: Vec<&Value> = lines.iter().filter(|v| v["type"] == "lost").collect();
    let sum: u64 = lost.iter().filter_map(|v| v["count"].as_u64()).sum();
    let total = lost.last().and_then(|v| v["total"].as_u64()).unwrap_or(0);
    assert_eq!(sum, total, "lost lines add up to their running total");
    total
}

/// Peak resident set of `pid` in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `tracer ARGS…` writing JSON lines into a pipe that is not read until `drain`.
struct Stalled {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Stalled {
    /// Starts it and waits for the stderr line containing `ready`.
    fn start(args: &[&str], ready: &str) -> Stalled {
        let mut child = Command::new(tests::tracer_bin())
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracer starts");
        let rx = tests::stderr_lines(&mut child, Some("tracer"));
        tests::wait_for_line(&rx, ready, Duration::from_secs(30));
        Stalled {
            child,
            lines: Arc::default(),
            reader: None,
        }
    }

    /// Starts reading the pipe, and waits until tracer has written everything it kept.
    fn drain(&mut self) {
        let stdout = self.child.stdout.take().expect("stdout");
        let lines = self.lines.clone();
        self.reader = Some(std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().expect("lines").push(l);
            }
        }));
        self.settle();
    }

    /// Waits until no line has come for 600 ms.
    fn settle(&self) {
        let count = || self.lines.lock().expect("lines").len();
        let (mut last, mut still) = (count(), 0);
        while still < 3 {
            std::thread::sleep(Duration::from_millis(200));
            let now = count();
            still = if now == last { still + 1 } else { 0 };
            last = now;
        }
    }

    /// Signals it, waits for its exit, and returns every line, parsed.
    fn stop(mut self, signal: i32) -> Vec<Value> {
        self.settle();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, signal) };
        let status = wait_exit(&mut self.child, "tracer");
        assert!(status.success(), "{status}");
        if let Some(r) = self.reader.take() {
            r.join().expect("reader");
        }
        let lines = self.lines.lock().expect("lines");
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
            .collect()
    }
}

fn flood(c: &Container) {
    c.exec(&["/workload", "storm", &FLOOD.to_string()]);
}

fn after_flood(c: &Container) {
    c.exec(&["/workload", "burst", "0", &AFTER.to_string()]);
}

fn check(lines: &[Value], peak: u64, what: &str) -> u64 {
    let (records, lost) = (getppids(lines), lost_total(lines));
    assert!(
        lost > 0,
        "{what}: the stalled reader did not make the kernel drop"
    );
    assert_eq!(
        records + lost,
        FLOOD,
        "{what}: {records} records + {lost} lost"
    );
    assert_eq!(
        markers(lines),
        AFTER,
        "{what}: after the flood, nothing is lost"
    );
    assert!(
        peak > 0 && peak < RSS_BOUND_KIB,
        "{what}: peak RSS {peak} KiB"
    );
    eprintln!("{what} flood: {records} records + {lost} lost, peak RSS {peak} KiB");
    lost
}

#[test]
fn observe_counts_every_loss_stays_bounded_and_recovers() {
    let c = workload_container();
    let mut t = Stalled::start(
        &[
            "observe",
            "--container",
            &c.name,
            "--format",
            "json",
            "--syscalls",
            COUNTED,
        ],
        "tracer: tracing ",
    );
    flood(&c);
    t.drain();
    after_flood(&c);
    let peak = peak_rss_kib(t.child.id());
    let lines = t.stop(libc::SIGINT);
    check(&lines, peak, "observe");
}

/// One GET /metrics with timeouts: (status line, body, time taken).
fn get_metrics(port: u16) -> (String, String, Duration) {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(5),
    )
    .expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(s, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text)
        .expect("metrics answer within 5 s");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
        start.elapsed(),
    )
}

#[test]
fn the_daemon_answers_metrics_during_a_flood_and_accounts_for_every_call() {
    let c = workload_container();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut d = Stalled::start(
        &[
            "daemon",
            "--container",
            &c.name,
            "--metrics",
            &addr,
            "--syscalls",
            COUNTED,
        ],
        "following container=",
    );
    let flooding = Arc::new(AtomicBool::new(true));
    let poller = {
        let flooding = flooding.clone();
        std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            let mut answers = 0;
            while flooding.load(Ordering::Relaxed) {
                let (status, body, took) = get_metrics(port);
                assert!(status.ends_with("200 OK"), "{status}");
                assert!(body.contains("tracer_lost_events_total"));
                slowest = slowest.max(took);
                answers += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            (answers, slowest)
        })
    };
    flood(&c);
    flooding.store(false, Ordering::Relaxed);
    let (answers, slowest) = poller.join().expect("metrics poller");
    d.drain();
    after_flood(&c);
    let peak = peak_rss_kib(d.child.id());
    d.settle();
    // The kernel's per-container count of the same losses is read every second.
    std::thread::sleep(Duration::from_millis(1500));
    let (_, body, _) = get_metrics(port);
    let lines = d.stop(libc::SIGTERM);
    let lost = check(&lines, peak, "daemon");
    assert_eq!(
        metric(&body, "tracer_lost_events_total"),
        Some(lost as f64),
        "the metric says what the output says"
    );
    let mine = format!(
        "tracer_container_lost_events_total{{container=\"{}\"}}",
        c.name
    );
    assert_eq!(
        metric(&body, &mine),
        Some(lost as f64),
        "every loss is counted against the one container followed"
    );
    assert!(
        answers >= 5,
        "metrics answered {answers} times during the flood"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "slowest metrics answer during the flood: {slowest:?}"
    );
    eprintln!("daemon metrics during the flood: {answers} answers, slowest {slowest:?}");
}
