//! The OTLP sink (tracer's library) against the real receiver, without the kernel: what the
//! pipeline's writer does with it (a record at a time, a flush per batch, finish at the end),
//! driven directly with decoded events. Every record arrives, whole and in order; a receiver
//! that is down or stalls costs records that are all counted, and an end within the flush
//! deadline. (tests/tests/otlp.rs runs the same through `tracer daemon` on a real container.)
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tests::{
    free_port,
    otlp::{Mode, Receiver},
};
use tracer::{
    decode::{self, Capture, Enter, SyscallEvent},
    model::{Container, Event, ExportCounts, ExportReport, Runtime, clock::Clock},
    sink::{
        Sink,
        otlp::{Endpoint, FLUSH_DEADLINE, Otlp},
    },
};

/// tracer_common::capture::CAP_STR: a NUL-terminated string read by the kernel.
const CAP_STR: u8 = 1;

/// The `i`th failed openat of `/nonexistent/N` by thread 1000+i of a workload container.
fn openat(i: u32, container: &Arc<Container>) -> Event {
    let mut comm = [0u8; 16];
    comm[..8].copy_from_slice(b"workload");
    let call = SyscallEvent {
        ktime_ns: 1_000_000_000 + u64::from(i) * 1000,
        enter_ns: Some(1_000_000_000 + u64::from(i) * 1000 - 300),
        nr: 257,
        args: [(-100i64) as u64, 0x1000, 0, 0, 0, 0],
        ret: Some(-2),
        tgid: 4242,
        tid: 1000 + i,
        ns_tgid: Some(7),
        ns_tid: Some(i),
        cgroup_id: 99,
        comm,
        enter: Enter::Seen,
        sigsys: false,
        captures: vec![Capture {
            arg: 1,
            kind: CAP_STR,
            flags: 0,
            index: 0,
            data: format!("/nonexistent/{i}").into_bytes(),
        }],
        stack: None,
    };
    let mut e = decode::event(call, decode::args::Options::default());
    e.container = Some(container.clone());
    e
}

/// Feeds `n` records in batches of `batch` to a sink exporting to `endpoint`, then finishes
/// it: what the sink counted, and how long `finish` took.
fn feed(endpoint: &str, n: u32, batch: u32) -> (ExportReport, Duration) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let _in_runtime = rt.enter();
    let container = Arc::new(Container {
        id: "c0ffee".repeat(10),
        name: "web".into(),
        runtime: Runtime::Docker,
        pod: None,
    });
    let counts = Arc::new(ExportCounts::default());
    let endpoint = Endpoint::parse(endpoint).expect("endpoint");
    let mut sink = Otlp::start(&endpoint, Clock::new(), counts.clone()).expect("sink");
    for i in 0..n {
        sink.event(&openat(i, &container)).expect("never fails");
        if (i + 1) % batch == 0 {
            sink.flush().expect("never fails");
        }
    }
    let t = Instant::now();
    sink.finish().expect("never fails");
    (counts.report(), t.elapsed())
}

#[test]
fn every_record_arrives_whole_and_in_order() {
    let rx = Receiver::start(Mode::Accept);
    let n = 5000;
    let (report, took) = feed(&rx.endpoint(), n, 100);
    assert_eq!(report.exported, u64::from(n), "{report:?}");
    assert_eq!((report.dropped(), report.failures), (0, 0), "{report:?}");
    assert!(took < Duration::from_secs(2), "finish took {took:?}");
    let records = rx.records();
    assert_eq!(records.len(), n as usize);
    for (i, r) in records.iter().enumerate() {
        let a = &r["attributes"];
        assert_eq!(a["thread.id"], 1000 + i, "{r}");
        assert_eq!(
            a["syscall.args.filename"],
            format!("/nonexistent/{i}"),
            "{r}"
        );
        assert_eq!(a["error.type"], "ENOENT", "{r}");
        assert_eq!(a["container.name"], "web", "{r}");
        let body: serde_json::Value =
            serde_json::from_str(r["body"].as_str().expect("string body")).expect("JSON body");
        assert_eq!(body["tid"], 1000 + i, "{r}");
    }
    // Batches of at most 512 records: at least ten requests, not one per record.
    let requests: std::collections::BTreeSet<u64> = records
        .iter()
        .filter_map(|r| r["request"].as_u64())
        .collect();
    assert!(
        (10..=20).contains(&requests.len()),
        "{} requests",
        requests.len()
    );
}

#[test]
fn a_receiver_that_is_down_or_refuses_costs_counted_records_and_a_bounded_end() {
    let refusing = Receiver::start(Mode::Unavailable);
    for endpoint in [
        format!("http://127.0.0.1:{}", free_port()),
        refusing.endpoint(),
    ] {
        let (report, took) = feed(&endpoint, 1000, 100);
        assert_eq!(report.exported, 0, "{endpoint}: {report:?}");
        assert_eq!(report.dropped(), 1000, "{endpoint}: {report:?}");
        assert!(report.failures >= 1, "{endpoint}: {report:?}");
        assert!(
            took <= FLUSH_DEADLINE + Duration::from_secs(1),
            "{endpoint}: finish took {took:?}"
        );
    }
    assert!(refusing.records().is_empty());
}

#[test]
fn a_stalled_receiver_fills_the_queue_and_the_end_waits_at_most_the_deadline() {
    let rx = Receiver::start(Mode::Stall);
    // More than the queue holds, as fast as the sink takes them.
    let n = 20_000;
    let (report, took) = feed(&rx.endpoint(), n, 1000);
    assert_eq!(report.exported, 0, "{report:?}");
    assert_eq!(report.dropped(), u64::from(n), "{report:?}");
    assert!(report.queue_full > 0 && report.at_exit > 0, "{report:?}");
    assert!(
        took <= FLUSH_DEADLINE + Duration::from_secs(1),
        "finish took {took:?}"
    );
}
