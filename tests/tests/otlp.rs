//! `tracer daemon --otlp` against a real OTLP/gRPC receiver (tests/fixtures/otlp_receiver.py,
//! from the official `opentelemetry-proto` package): every record of the exact-count workload
//! arrives as a log record with the semantic conventions' attributes; a receiver that is down
//! or stalls costs only counted records, never the file output or a prompt shutdown.
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{
    burst,
    daemon::{Daemon, complete_lines, eventually, http, metric, read_lines},
    free_port,
    otlp::{Mode, Receiver},
    workload_container,
};

const K: usize = 300;
const M: usize = 200;

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The burst's getppid and openat calls among the receiver's log records (after its exec:
/// comm `workload`).
fn workload_records(records: &[Value], ns_pid: u64) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| {
            let a = &r["attributes"];
            r["event_name"] == "tracer.syscall"
                && a["process.vpid"].as_u64() == Some(ns_pid)
                && a["process.executable.name"] == "workload"
                && (a["syscall.name"] == "getppid" || a["syscall.name"] == "openat")
        })
        .collect()
}

/// The workload's calls in the daemon's JSON lines.
fn workload_lines(lines: &[Value], ns_pid: u64) -> (usize, usize) {
    let mine = || {
        lines.iter().filter(move |v| {
            v["type"] == "syscall"
                && v["ns_pid"].as_u64() == Some(ns_pid)
                && v["comm"] == "workload"
        })
    };
    (
        mine().filter(|v| v["syscall"] == "getppid").count(),
        mine()
            .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
            .count(),
    )
}

/// `(exported, dropped)` from the closing line's `; otlp: N exported, M dropped`.
fn closing_counts(stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.contains("; otlp: "))
        .unwrap_or_else(|| panic!("no closing line with otlp counts in {stderr}"));
    let rest = line.split_once("; otlp: ").map_or("", |(_, r)| r);
    let mut words = rest.split([' ', ',']).filter(|w| !w.is_empty());
    let exported = words.next().and_then(|w| w.parse().ok());
    let _ = words.next();
    let dropped = words.next().and_then(|w| w.parse().ok());
    match (exported, dropped) {
        (Some(e), Some(d)) => (e, d),
        _ => panic!("unreadable closing line {line:?}"),
    }
}

fn scrape(port: u16) -> String {
    let (status, body) = http(port, "/metrics");
    assert!(status.contains("200"), "{status}");
    body
}

#[test]
fn every_record_of_a_burst_arrives_as_a_log_record() {
    let rx = Receiver::start(Mode::Accept);
    let c = workload_container();
    let metrics = free_port();
    let mut d = Daemon::start(&[
        "--container",
        &c.name,
        "--otlp",
        &rx.endpoint(),
        "--metrics",
        &metrics.to_string(),
    ]);
    d.wait_following(&c.name);
    let start_ns = now_ns();
    let ns_pid = burst(&c, K as u32, M as u32);
    eventually("the burst at the receiver", Duration::from_secs(10), || {
        workload_records(&rx.records(), ns_pid).len() == K + M
    });
    // Nothing else runs in the container: what was written is what was exported.
    let body = scrape(metrics);
    let received = rx.records().len() as f64;
    assert_eq!(
        metric(&body, "tracer_otlp_records_exported_total"),
        Some(received),
        "{body}"
    );
    for reason in ["queue_full", "export_failed", "rejected", "at_exit"] {
        let series = format!("tracer_otlp_records_dropped_total{{reason=\"{reason}\"}}");
        assert_eq!(metric(&body, &series), Some(0.0), "{series}: {body}");
    }
    assert_eq!(
        metric(&body, "tracer_otlp_export_failures_total"),
        Some(0.0)
    );

    let (status, stderr) = d.stop();
    let end_ns = now_ns();
    assert!(status.success(), "{stderr}");
    let lines = read_lines(&d.file(&c.name));
    assert_eq!(workload_lines(&lines, ns_pid), (K, M));
    let records = rx.records();
    assert_eq!(closing_counts(&stderr), (lines.len() as u64, 0), "{stderr}");
    // One log record per line of the file, in order; its body is that line.
    let bodies: Vec<Value> = records
        .iter()
        .map(|r| {
            let text = r["body"].as_str().expect("a string body");
            serde_json::from_str(text).unwrap_or_else(|e| panic!("body {text:?}: {e}"))
        })
        .collect();
    assert_eq!(bodies.len(), lines.len());
    assert!(bodies == lines, "the bodies differ from the file's lines");
    // Batched: a few requests, not one per record.
    let requests: std::collections::BTreeSet<u64> = records
        .iter()
        .filter_map(|r| r["request"].as_u64())
        .collect();
    assert!(requests.len() <= 5, "{} requests", requests.len());

    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let id = c.id();
    let mine = workload_records(&records, ns_pid);
    let (mut getppid, mut enoent) = (0, 0);
    for r in &mine {
        let a = &r["attributes"];
        let line: Value =
            serde_json::from_str(r["body"].as_str().unwrap_or_default()).expect("JSON body");
        assert_eq!(a["container.id"], id.as_str(), "{r}");
        assert_eq!(a["container.name"], c.name.as_str(), "{r}");
        assert_eq!(a["container.runtime.name"], "docker", "{r}");
        assert_eq!(a["process.pid"], line["pid"], "{r}");
        assert_eq!(a["thread.id"], line["tid"], "{r}");
        assert_eq!(a["syscall.name"], line["syscall"], "{r}");
        assert_eq!(a["syscall.return"], line["ret"], "{r}");
        assert_eq!(r["severity_text"], "INFO");
        assert_eq!(r["resource"]["service.name"], "tracer");
        assert_eq!(r["resource"]["host.name"], hostname.trim());
        assert_eq!(r["scope"]["name"], "tracer");
        let t = r["time_unix_nano"].as_u64().unwrap_or_default();
        assert!(
            (start_ns..=end_ns).contains(&t),
            "time {t} outside the run: {r}"
        );
        match a["syscall.name"].as_str() {
            Some("getppid") => {
                getppid += 1;
                assert!(a.get("error.type").is_none(), "{r}");
            }
            Some("openat") => {
                enoent += 1;
                assert_eq!(a["error.type"], "ENOENT", "{r}");
                assert_eq!(a["syscall.return"], -2, "{r}");
                assert_eq!(
                    a["syscall.args.filename"], "/nonexistent/tracer-workload",
                    "{r}"
                );
                assert_eq!(a["syscall.args.dfd"], "AT_FDCWD", "{r}");
                assert_eq!(a["syscall.args.flags"], "O_RDONLY", "{r}");
            }
            other => panic!("unexpected call {other:?}: {r}"),
        }
    }
    assert_eq!((getppid, enoent), (K, M));
    // The container's lifecycle came too.
    assert!(records.iter().any(|r| r["event_name"] == "tracer.container"
        && r["attributes"]["container.lifecycle"] == "followed"
        && r["attributes"]["container.id"] == id.as_str()));
}

#[test]
fn a_receiver_that_is_down_costs_counted_records_until_it_comes_up() {
    let port = free_port();
    let c = workload_container();
    let metrics = free_port();
    let mut d = Daemon::start(&[
        "--container",
        &c.name,
        "--otlp",
        &format!("http://127.0.0.1:{port}"),
        "--metrics",
        &metrics.to_string(),
    ]);
    d.wait_following(&c.name);
    let file = d.file(&c.name);
    let t = Instant::now();
    let ns_pid = burst(&c, K as u32, M as u32);
    // The file gets every record as fast as without --otlp.
    eventually("the burst in the file", Duration::from_secs(3), || {
        workload_lines(&complete_lines(&file), ns_pid) == (K, M)
    });
    eprintln!("burst in the file {:?} after it started", t.elapsed());
    // Every record so far is given up after its batch's attempts, and counted.
    let written = complete_lines(&file).len() as f64;
    eventually(
        "every record counted dropped",
        Duration::from_secs(20),
        || {
            metric(
                &scrape(metrics),
                "tracer_otlp_records_dropped_total{reason=\"export_failed\"}",
            ) == Some(written)
        },
    );
    let body = scrape(metrics);
    assert_eq!(
        metric(&body, "tracer_otlp_records_exported_total"),
        Some(0.0)
    );
    assert!(
        metric(&body, "tracer_otlp_export_failures_total").is_some_and(|n| n >= 5.0),
        "{body}"
    );

    // The receiver comes up: the next records arrive.
    let rx = Receiver::start_on(port, Mode::Accept);
    let (k2, m2) = (50, 20);
    let ns_pid2 = burst(&c, k2 as u32, m2 as u32);
    eventually(
        "the second burst at the receiver",
        Duration::from_secs(15),
        || workload_records(&rx.records(), ns_pid2).len() == k2 + m2,
    );
    let (status, stderr) = d.stop();
    assert!(status.success(), "{stderr}");
    let lines = read_lines(&file);
    let (exported, dropped) = closing_counts(&stderr);
    assert_eq!(dropped as f64, written, "{stderr}");
    assert_eq!(exported + dropped, lines.len() as u64, "{stderr}");
    assert_eq!(exported, rx.records().len() as u64, "{stderr}");
    assert!(workload_records(&rx.records(), ns_pid).is_empty());
}

#[test]
fn a_stalled_receiver_never_holds_up_the_file_or_the_shutdown() {
    let rx = Receiver::start(Mode::Stall);
    let c = workload_container();
    let mut d = Daemon::start(&["--container", &c.name, "--otlp", &rx.endpoint()]);
    d.wait_following(&c.name);
    let file = d.file(&c.name);
    let ns_pid = burst(&c, K as u32, M as u32);
    eventually("the burst in the file", Duration::from_secs(3), || {
        workload_lines(&complete_lines(&file), ns_pid) == (K, M)
    });
    // SIGTERM while an export waits for its answer: the flush deadline (5 s) bounds the end.
    let t = Instant::now();
    let (status, stderr) = d.stop();
    let took = t.elapsed();
    eprintln!("stopped in {took:?}");
    assert!(status.success(), "{stderr}");
    assert!(took < Duration::from_secs(8), "stop took {took:?}");
    let lines = read_lines(&file);
    assert_eq!(workload_lines(&lines, ns_pid), (K, M));
    assert_eq!(closing_counts(&stderr), (0, lines.len() as u64), "{stderr}");
    assert!(rx.records().is_empty());
}
