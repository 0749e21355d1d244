//! The mapping of records to log records, and the queue's bounds, on fixtures (no receiver:
//! the end-to-end tests export to a real one, tests/tests/otlp.rs).
use std::{collections::HashMap, sync::Arc};

use opentelemetry_proto::tonic::{
    common::v1::{AnyValue, any_value::Value},
    logs::v1::LogRecord,
};

use prost::Message as _;

use super::{
    export::{BATCH_BYTES, BATCH_RECORDS, Encoded, Queue, request},
    render::{Render, json_value},
};
use crate::{
    decode::{self, decode, tests as fixtures},
    model::{
        Container, Event, ExportCounts, Lifecycle, LifecycleKind, Lost, Pod, Runtime, clock::Clock,
    },
    sink::{Sink, jsonl::JsonLines},
};

fn clock() -> Clock {
    Clock::with_offset(1_700_000_000_000_000_000)
}

fn pod_container() -> Container {
    Container {
        id: "f".repeat(64),
        name: "web".into(),
        runtime: Runtime::Cri,
        pod: Some(Pod {
            name: "web-0".into(),
            namespace: "shop".into(),
            uid: "u-1".into(),
        }),
    }
}

/// A failed openat of a hostile path by a process with a hostile comm, in a pod.
fn hostile_openat() -> Event {
    let mut r = fixtures::record(0, 257, -2);
    r.comm = *b"\x1b[2J\xff\"q\\\n\0\0\0\0\0\0\0";
    r.args[0] = -100i64 as u64;
    r.args[2] = 0;
    let b = fixtures::with_captures(
        fixtures::bytes(&r),
        &[(
            1,
            tracer_common::capture::CAP_STR,
            0,
            b"/etc/\xffx\n\"\x1b]0;pwned\x07",
        )],
    );
    let mut e = decode::event(
        decode(&b).expect("decodes"),
        decode::args::Options::default(),
    );
    e.container = Some(Arc::new(pod_container()));
    e
}

fn attrs(r: &LogRecord) -> HashMap<&str, &Option<Value>> {
    r.attributes
        .iter()
        .map(|kv| (kv.key.as_str(), &kv.value.as_ref().expect("a value").value))
        .collect()
}

fn s(v: &str) -> Option<Value> {
    Some(Value::StringValue(v.into()))
}

fn i(v: i64) -> Option<Value> {
    Some(Value::IntValue(v))
}

fn body(r: &LogRecord) -> &str {
    match r.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(s)) => s,
        other => panic!("body {other:?}"),
    }
}

#[test]
fn a_syscall_has_the_conventions_attributes_and_its_json_line_as_body() {
    let e = hostile_openat();
    let r = Render::new(clock()).event(&e);
    let a = attrs(&r);
    assert_eq!(a["container.id"], &s(&"f".repeat(64)));
    assert_eq!(a["container.name"], &s("web"));
    assert_eq!(a["container.runtime.name"], &s("cri"));
    assert_eq!(a["k8s.pod.name"], &s("web-0"));
    assert_eq!(a["k8s.namespace.name"], &s("shop"));
    assert_eq!(a["k8s.pod.uid"], &s("u-1"));
    assert_eq!(a["k8s.container.name"], &s("web"));
    assert_eq!(a["process.pid"], &i(100));
    assert_eq!(a["process.vpid"], &i(1));
    assert_eq!(a["thread.id"], &i(101));
    // The comm's invalid byte becomes U+FFFD; control characters stay (protobuf strings
    // carry any UTF-8; receivers escape for display).
    assert_eq!(a["process.executable.name"], &s("\x1b[2J\u{fffd}\"q\\\n"));
    assert_eq!(a["syscall.name"], &s("openat"));
    assert_eq!(a["syscall.return"], &i(-2));
    assert_eq!(a["error.type"], &s("ENOENT"));
    assert_eq!(a["syscall.duration_ns"], &i(500));
    assert_eq!(a["syscall.args.dfd"], &s("AT_FDCWD"));
    assert_eq!(a["syscall.args.flags"], &s("O_RDONLY"));
    // A path that is not UTF-8: the JSON's value and all its bytes in hex.
    let Some(Value::StringValue(path)) = a["syscall.args.filename"] else {
        panic!("filename {:?}", a.get("syscall.args.filename"));
    };
    assert!(path.starts_with("/etc/\u{fffd}x\n\""), "{path:?}");
    assert!(a.contains_key("syscall.args.filename.hex"));
    assert!(!a.contains_key("syscall.seccomp"));
    assert_eq!(r.event_name, "tracer.syscall");
    assert_eq!((r.severity_number, r.severity_text.as_str()), (9, "INFO"));
    assert_eq!(r.time_unix_nano, 1_700_000_000_002_000_500);
    assert!(r.observed_time_unix_nano > r.time_unix_nano);
    // The body is the record's JSON line, as the JSON output writes it.
    let mut line = JsonLines::new(Vec::new(), clock());
    line.event(&e).expect("writes");
    let line = String::from_utf8(line.into_inner()).expect("UTF-8");
    assert_eq!(body(&r), line.trim_end_matches('\n'));
}

#[test]
fn a_container_without_a_pod_and_a_call_that_never_returned() {
    let mut r = fixtures::record(tracer_common::record::FLAG_NO_RETURN, 231, 0);
    r.ns_tgid = 0;
    let mut e = decode::event(
        decode(&fixtures::bytes(&r)).expect("decodes"),
        decode::args::Options::default(),
    );
    e.container = Some(Arc::new(Container {
        pod: None,
        runtime: Runtime::Docker,
        ..pod_container()
    }));
    let mut render = Render::new(clock());
    // Twice: the second from the container's cached attributes.
    for _ in 0..2 {
        let rec = render.event(&e);
        let a = attrs(&rec);
        assert_eq!(a["container.runtime.name"], &s("docker"));
        for absent in [
            "k8s.pod.name",
            "syscall.return",
            "error.type",
            "syscall.duration_ns",
        ] {
            assert!(!a.contains_key(absent), "{absent}");
        }
        assert_eq!(a["syscall.name"], &s("exit_group"));
    }
}

#[test]
fn lifecycle_and_lost_records() {
    let mut render = Render::new(clock());
    let l = Lifecycle {
        ktime_ns: 5,
        kind: LifecycleKind::Died,
        container: Arc::new(pod_container()),
        pid: Some(42),
        cgroup_id: Some(7),
        exit_code: Some(137),
        old_name: None,
    };
    let r = render.lifecycle(&l);
    let a = attrs(&r);
    assert_eq!(r.event_name, "tracer.container");
    assert_eq!(a["container.lifecycle"], &s("died"));
    assert_eq!(a["process.pid"], &i(42));
    assert_eq!(a["process.exit.code"], &i(137));
    assert_eq!(a["k8s.pod.name"], &s("web-0"));
    let v: serde_json::Value = serde_json::from_str(body(&r)).expect("JSON body");
    assert_eq!(
        (v["type"].as_str(), v["event"].as_str()),
        (Some("container"), Some("died"))
    );

    let r = render.lost(&Lost {
        count: 3,
        total: u64::MAX,
        ktime_ns: 9,
    });
    let a = attrs(&r);
    assert_eq!(r.event_name, "tracer.lost");
    assert_eq!(r.severity_text, "WARN");
    assert_eq!((a["lost.count"], a["lost.total"]), (&i(3), &i(i64::MAX)));
}

#[test]
fn json_values_map_to_any_values() {
    let v = serde_json::json!({"family": "AF_INET", "port": 80, "big": u64::MAX, "neg": -1,
        "list": [true, null, 1.5], "none": null});
    let Some(Value::KvlistValue(kv)) = json_value(&v).value else {
        panic!("an object is a key-value list");
    };
    let get = |k: &str| {
        kv.values
            .iter()
            .find(|x| x.key == k)
            .and_then(|x| x.value.clone())
            .expect(k)
    };
    assert_eq!(get("family").value, s("AF_INET"));
    assert_eq!(get("port").value, i(80));
    assert_eq!(get("big").value, s("18446744073709551615"));
    assert_eq!(get("neg").value, i(-1));
    assert_eq!(get("none"), AnyValue { value: None });
    let Some(Value::ArrayValue(list)) = get("list").value else {
        panic!("an array");
    };
    assert_eq!(
        list.values
            .iter()
            .map(|v| v.value.clone())
            .collect::<Vec<_>>(),
        [
            Some(Value::BoolValue(true)),
            None,
            Some(Value::DoubleValue(1.5))
        ]
    );
}

fn log_records(n: usize, body_bytes: usize) -> Vec<LogRecord> {
    (0..n)
        .map(|k| LogRecord {
            time_unix_nano: k as u64,
            body: Some(AnyValue {
                value: Some(Value::StringValue("x".repeat(body_bytes))),
            }),
            ..LogRecord::default()
        })
        .collect()
}

fn records(n: usize, body_bytes: usize) -> Vec<Encoded> {
    log_records(n, body_bytes)
        .iter()
        .map(|r| r.encode_to_vec())
        .collect()
}

#[test]
fn a_batch_is_one_request_as_the_generated_types_encode_it() {
    use opentelemetry_proto::tonic::{
        collector::logs::v1::ExportLogsServiceRequest,
        common::v1::{InstrumentationScope, KeyValue},
        logs::v1::{ResourceLogs, ScopeLogs},
        resource::v1::Resource,
    };
    let resource = Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue { value: s("tracer") }),
            ..KeyValue::default()
        }],
        ..Resource::default()
    };
    let scope = InstrumentationScope {
        name: "tracer".into(),
        ..InstrumentationScope::default()
    };
    // Records of sizes around the varint steps (127/128 bytes, 16 KiB).
    let mut logs = log_records(3, 100);
    logs.extend(log_records(1, 130));
    logs.extend(log_records(1, 20_000));
    let encoded: Vec<Encoded> = logs.iter().map(|r| r.encode_to_vec()).collect();
    let bytes = request(&resource.encode_to_vec(), &scope.encode_to_vec(), &encoded);
    let want = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope),
                log_records: logs,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    };
    assert_eq!(bytes, want.encode_to_vec());
    assert_eq!(ExportLogsServiceRequest::decode(bytes).ok(), Some(want));
}

fn time_of(r: &Encoded) -> Option<u64> {
    LogRecord::decode(r.as_slice())
        .ok()
        .map(|r| r.time_unix_nano)
}

#[test]
fn a_full_queue_drops_and_counts_what_does_not_fit() {
    let counts = Arc::new(ExportCounts::default());
    let q = Queue::new(10, counts.clone());
    assert!(q.has_room(9) && !q.has_room(10));
    let mut batch = records(7, 1);
    q.push(&mut batch);
    assert!(batch.is_empty());
    assert!(q.has_room(2) && !q.has_room(3));
    q.push(&mut records(5, 1));
    let r = counts.report();
    assert_eq!((r.queue_full, r.dropped()), (2, 2));
    assert_eq!(counts.queued.load(std::sync::atomic::Ordering::Relaxed), 10);
}

#[tokio::test]
async fn batches_are_bounded_by_records_and_bytes_and_end_with_the_queue() {
    let counts = Arc::new(ExportCounts::default());
    let q = Queue::new(10_000, counts);
    q.push(&mut records(BATCH_RECORDS + 3, 10));
    assert_eq!(q.next_batch().await.map(|b| b.len()), Some(BATCH_RECORDS));
    // Three left: sent once the batch delay has passed.
    let t = std::time::Instant::now();
    let rest = q.next_batch().await.expect("the rest");
    assert!(
        t.elapsed() >= super::export::BATCH_DELAY / 2,
        "{:?}",
        t.elapsed()
    );
    assert_eq!(rest.first().and_then(time_of), Some(BATCH_RECORDS as u64));
    assert_eq!(rest.len(), 3);
    // Closed: what is queued goes at once, big records as many as fit in BATCH_BYTES.
    q.push(&mut records(5, BATCH_BYTES / 4));
    q.close(tokio::time::Instant::now());
    let t = std::time::Instant::now();
    assert_eq!(q.next_batch().await.map(|b| b.len()), Some(3));
    assert_eq!(q.next_batch().await.map(|b| b.len()), Some(2));
    assert!(q.next_batch().await.is_none(), "closed and empty");
    assert!(t.elapsed() < super::export::BATCH_DELAY / 2);
}
