//! Summary mode against a deterministic workload: exact counts aggregated in the kernel.
use std::time::Duration;

use serde_json::Value;
use tests::{Container, Tracer, docker, env};

const K: u64 = 1000;
const M: u64 = 500;

/// A container whose main process makes K getppid and M failing openat once it gets SIGUSR1:
/// nothing else runs in it (no `docker exec`, whose runc init makes syscalls of its own).
fn signalled_burst(args: &[&str]) -> (Container, tests::Finished) {
    let image = env("TRACER_WORKLOAD_IMAGE");
    let (k, m) = (K.to_string(), M.to_string());
    let c = Container::run(
        "summary",
        &[
            "--network",
            "none",
            &image,
            "/workload",
            "signal-burst",
            &k,
            &m,
        ],
    );
    let mut a = vec!["--container", c.name.as_str()];
    a.extend_from_slice(args);
    let tracer = Tracer::start(&a);
    std::thread::sleep(Duration::from_millis(300));
    docker(&["kill", "-s", "USR1", &c.name]);
    docker(&["wait", &c.name]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    (c, done)
}

fn row<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["syscalls"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["syscall"] == name))
        .unwrap_or(&Value::Null)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

#[test]
fn summary_counts_calls_errors_and_times_exactly() {
    let (c, done) = signalled_burst(&["--summary", "--interval", "100ms", "--format", "json"]);
    let lines = done.json();
    assert!(
        lines.iter().all(|v| v["type"] == "summary"),
        "summary only: no syscall records"
    );
    let total = lines.last().expect("a final summary");
    assert_eq!(total["total"], true);
    assert_eq!(total["container"]["name"], c.name.as_str());
    let getppid = row(total, "getppid");
    assert_eq!(u(&getppid["calls"]), K);
    assert_eq!(u(&getppid["errors"]), 0);
    assert_eq!(
        u(&getppid["timed"]),
        K,
        "every getppid paired with its enter"
    );
    let openat = row(total, "openat");
    assert_eq!(u(&openat["calls"]), M);
    assert_eq!(u(&openat["errors"]), M);
    assert_eq!(u(&openat["errnos"]["ENOENT"]), M);
    assert_eq!(u(&row(total, "exit_group")["calls"]), 1);
    for r in total["syscalls"].as_array().expect("rows") {
        let hist: u64 = r["hist"].as_array().expect("hist").iter().map(u).sum();
        assert_eq!(
            hist,
            u(&r["timed"]),
            "histogram of {} adds up",
            r["syscall"]
        );
        assert!(u(&r["timed"]) <= u(&r["calls"]));
        if u(&r["timed"]) > 0 {
            assert!(u(&r["min_ns"]) <= u(&r["max_ns"]));
            assert!(u(&r["min_ns"]) * u(&r["timed"]) <= u(&r["total_ns"]));
        }
    }
    // The intervals' deltas add up to the totals.
    let intervals: Vec<&Value> = lines.iter().filter(|v| v["total"] == false).collect();
    assert!(intervals.len() >= 2, "{} intervals", intervals.len());
    for name in ["getppid", "openat", "exit_group"] {
        for field in ["calls", "errors", "total_ns", "timed"] {
            let sum: u64 = intervals.iter().map(|i| u(&row(i, name)[field])).sum();
            assert_eq!(sum, u(&row(total, name)[field]), "{name}.{field}");
        }
        for b in 0..32 {
            let sum: u64 = intervals.iter().map(|i| u(&row(i, name)["hist"][b])).sum();
            assert_eq!(sum, u(&row(total, name)["hist"][b]), "{name}.hist[{b}]");
        }
    }
}

#[test]
fn summary_text_is_strace_c_and_streams_alongside() {
    let (_c, done) = signalled_burst(&["--summary", "--stream", "--histogram", "getppid"]);
    let out = &done.stdout;
    assert!(
        out.contains("% time     seconds  usecs/call     calls    errors syscall\n"),
        "{out}"
    );
    let line = |name: &str| {
        out.lines()
            .find(|l| l.ends_with(&format!(" {name}")) && !l.starts_with('['))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let g = line("getppid");
    assert_eq!(g.get(3).map(String::as_str), Some("1000"), "{out}");
    let o = line("openat");
    assert_eq!((o[3].as_str(), o[4].as_str()), ("500", "500"), "{out}");
    assert!(out.contains("getppid latency (ns), 1000 timed calls:"));
    // --stream: the records are there too.
    let streamed = out.lines().filter(|l| l.contains("] getppid() = ")).count();
    assert_eq!(streamed, K as usize);
}
