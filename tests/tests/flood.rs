//! Floods: far more events than the ring buffer carries. Every loss is counted (records plus
//! reported losses equal the calls made), user memory stays bounded, tracing recovers when the
//! flood ends, and the daemon's metrics endpoint keeps answering meanwhile.
use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use tests::{
    Container, Tracer,
    daemon::{Daemon, metric, read_lines},
    free_port, workload_container,
};

/// Calls in the flood: a small ring buffer cannot keep up with them.
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

/// Floods, waits until the tracer has written what it kept (`out` stops growing), then makes
/// the marker calls.
fn flood_then_markers(c: &Container, out: &Path) {
    c.exec(&["/workload", "storm", &FLOOD.to_string()]);
    let size = || std::fs::metadata(out).map_or(0, |m| m.len());
    let (mut last, mut still) = (size(), 0);
    while still < 3 {
        std::thread::sleep(Duration::from_millis(200));
        let now = size();
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    c.exec(&["/workload", "burst", "0", &AFTER.to_string()]);
}

#[test]
fn observe_counts_every_loss_stays_bounded_and_recovers() {
    let c = workload_container();
    let tracer = Tracer::start(&[
        "--container",
        &c.name,
        "--format",
        "json",
        "--ring-size",
        "64K",
        "--syscalls",
        COUNTED,
    ]);
    let pid = tracer.pid();
    flood_then_markers(&c, &tracer.stdout_path);
    let peak = peak_rss_kib(pid);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let lines = done.json();
    let (records, lost) = (getppids(&lines), lost_total(&lines));
    assert!(
        lost > 0,
        "a 64K ring kept up with {FLOOD} calls: flood harder"
    );
    assert_eq!(records + lost, FLOOD, "{records} records + {lost} lost");
    assert_eq!(markers(&lines), AFTER, "after the flood, nothing is lost");
    assert!(peak > 0 && peak < RSS_BOUND_KIB, "peak RSS {peak} KiB");
    eprintln!("observe flood: {records} records + {lost} lost, peak RSS {peak} KiB");
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
    let mut d = Daemon::start(&[
        "--container",
        &c.name,
        "--metrics",
        &addr,
        "--ring-size",
        "64K",
        "--syscalls",
        COUNTED,
    ]);
    d.wait_for_log("following", Duration::from_secs(10));
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
    let pid = d.pid();
    let file = d.file(&c.name);
    flood_then_markers(&c, &file);
    flooding.store(false, Ordering::Relaxed);
    let (answers, slowest) = poller.join().expect("metrics poller");
    let peak = peak_rss_kib(pid);
    let mut seen = 0;
    let wait = Instant::now();
    while seen != AFTER && wait.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
        seen = markers(&read_lines(&file));
    }
    assert_eq!(seen, AFTER, "calls after the flood written");
    let (_, body, _) = get_metrics(port);
    let (status, stderr) = d.stop();
    assert!(status.success(), "{stderr}");
    let lines = read_lines(&file);
    let (records, lost) = (getppids(&lines), lost_total(&lines));
    assert!(
        lost > 0,
        "a 64K ring kept up with {FLOOD} calls: flood harder"
    );
    assert_eq!(records + lost, FLOOD, "{records} records + {lost} lost");
    assert_eq!(
        metric(&body, "tracer_lost_events_total"),
        Some(lost as f64),
        "the metric says what the file says"
    );
    assert_eq!(markers(&lines), AFTER);
    assert!(
        answers >= 5,
        "metrics answered {answers} times during the flood"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "slowest metrics answer during the flood: {slowest:?}"
    );
    assert!(peak > 0 && peak < RSS_BOUND_KIB, "peak RSS {peak} KiB");
    eprintln!(
        "daemon flood: {records} records + {lost} lost, {answers} metrics answers (slowest {slowest:?}), peak RSS {peak} KiB"
    );
}
