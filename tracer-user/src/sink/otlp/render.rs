//! Records as OpenTelemetry log records (docs/otlp.md): the body is the record's JSON line
//! (docs/events.md), the attributes follow OpenTelemetry's semantic conventions for the
//! container, the Kubernetes pod and the process, beside tracer's own (`syscall.*`,
//! `signal.*`, `container.lifecycle`, `lost.*`).
use opentelemetry_proto::tonic::{
    common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value},
    logs::v1::{LogRecord, SeverityNumber},
};

use crate::{
    decode::{errno, flags, syscalls},
    model::{
        Container, Event, Lifecycle, Lost, SignalEvent, SignalKind,
        clock::Clock,
        event::{ArgValue, DecodedArg},
    },
    sink::{Sink, jsonl::JsonLines},
};

/// Renders records into log records; keeps the JSON writer and the last container's
/// attributes between them.
pub struct Render {
    json: JsonLines<Vec<u8>>,
    clock: Clock,
    /// The last container's id and attributes (the same on every record of a container).
    container: Option<(String, Vec<KeyValue>)>,
}

fn any(value: Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: any(value),
        ..KeyValue::default()
    }
}

fn string(s: impl Into<String>) -> Value {
    Value::StringValue(s.into())
}

fn int(i: impl Into<i64>) -> Value {
    Value::IntValue(i.into())
}

/// A JSON value as an OTLP value: objects as key-value lists, arrays as arrays, integers as
/// integers (an unsigned one past `i64::MAX` as its decimal string: OTLP integers are
/// signed), `null` as the empty value.
pub fn json_value(v: &serde_json::Value) -> AnyValue {
    use serde_json::Value as J;
    let value = match v {
        J::Null => None,
        J::Bool(b) => Some(Value::BoolValue(*b)),
        J::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::IntValue(i),
            (None, Some(u)) => Value::StringValue(u.to_string()),
            _ => Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        }),
        J::String(s) => Some(Value::StringValue(s.clone())),
        J::Array(a) => Some(Value::ArrayValue(ArrayValue {
            values: a.iter().map(json_value).collect(),
        })),
        J::Object(o) => Some(Value::KvlistValue(KeyValueList {
            values: o
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: Some(json_value(v)),
                    ..KeyValue::default()
                })
                .collect(),
        })),
    };
    AnyValue { value }
}

/// An argument's value, as [`json_value`] maps its JSON (u64 past i64 as a decimal string).
pub fn arg_value(v: &ArgValue) -> AnyValue {
    let value = match v {
        ArgValue::Null => None,
        ArgValue::Bool(b) => Some(Value::BoolValue(*b)),
        ArgValue::Int(i) => Some(Value::IntValue(*i)),
        ArgValue::UInt(u) => Some(match i64::try_from(*u) {
            Ok(i) => Value::IntValue(i),
            Err(_) => Value::StringValue(u.to_string()),
        }),
        ArgValue::Name(s) => Some(Value::StringValue((*s).to_string())),
        ArgValue::Str(s) => Some(Value::StringValue(s.clone())),
        ArgValue::Array(a) => Some(Value::ArrayValue(ArrayValue {
            values: a.iter().map(arg_value).collect(),
        })),
        ArgValue::Object(o) => Some(Value::KvlistValue(KeyValueList {
            values: o
                .iter()
                .map(|(k, v)| KeyValue {
                    key: (*k).to_string(),
                    value: Some(arg_value(v)),
                    ..KeyValue::default()
                })
                .collect(),
        })),
        ArgValue::Json(j) => return json_value(j),
    };
    AnyValue { value }
}

/// `container.*` (and `k8s.*` for a pod's container, found through CRI).
fn container_attributes(c: &Container) -> Vec<KeyValue> {
    let mut out = vec![
        kv("container.id", string(c.id.as_str())),
        kv("container.name", string(c.name.as_str())),
        kv("container.runtime.name", string(c.runtime.as_str())),
    ];
    if let Some(pod) = &c.pod {
        out.extend([
            kv("k8s.pod.name", string(pod.name.as_str())),
            kv("k8s.namespace.name", string(pod.namespace.as_str())),
            kv("k8s.pod.uid", string(pod.uid.as_str())),
            kv("k8s.container.name", string(c.name.as_str())),
        ]);
    }
    out
}

/// `process.pid`, `process.vpid` (the pid in the container's namespace), `thread.id` and
/// `process.executable.name` (the comm: 15 bytes at most, chosen by the process).
fn process_attributes(
    out: &mut Vec<KeyValue>,
    tgid: u32,
    ns_tgid: Option<u32>,
    tid: u32,
    comm: &[u8],
) {
    out.push(kv("process.pid", int(tgid)));
    if let Some(v) = ns_tgid {
        out.push(kv("process.vpid", int(v)));
    }
    out.push(kv("thread.id", int(tid)));
    out.push(kv(
        "process.executable.name",
        string(String::from_utf8_lossy(comm)),
    ));
}

/// `syscall.args.NAME` (its JSON value), with `.hex`, `.truncated` and `.path` when the
/// record has them.
fn arg_attributes(out: &mut Vec<KeyValue>, a: &DecodedArg) {
    let key = format!("syscall.args.{}", a.name);
    if let Some(h) = &a.json.hex {
        out.push(kv(&format!("{key}.hex"), string(h.as_str())));
    }
    if a.json.truncated {
        out.push(kv(&format!("{key}.truncated"), Value::BoolValue(true)));
    }
    if let Some(p) = &a.json.path {
        out.push(kv(&format!("{key}.path"), string(p.as_str())));
    }
    out.push(KeyValue {
        key,
        value: Some(arg_value(&a.json.value)),
        ..KeyValue::default()
    });
}

fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Render {
    pub fn new(clock: Clock) -> Self {
        Render {
            json: JsonLines::new(Vec::with_capacity(1024), clock),
            clock,
            container: None,
        }
    }

    /// The JSON line `write` puts in the writer, without its newline.
    fn body(
        &mut self,
        write: impl FnOnce(&mut JsonLines<Vec<u8>>) -> std::io::Result<()>,
    ) -> Option<AnyValue> {
        self.json.get_mut().clear();
        // Writing into a Vec cannot fail.
        let _ = write(&mut self.json);
        let line = self.json.get_mut();
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        // serde_json and the direct writer write UTF-8 only.
        let text = String::from_utf8(line.clone())
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        any(Value::StringValue(text))
    }

    fn record(
        &self,
        event_name: &str,
        ktime_ns: u64,
        severity: SeverityNumber,
        body: Option<AnyValue>,
        attributes: Vec<KeyValue>,
    ) -> LogRecord {
        let wall = self.clock.wall_ns(ktime_ns);
        LogRecord {
            time_unix_nano: u64::try_from(wall.max(0)).unwrap_or(u64::MAX),
            observed_time_unix_nano: now_unix_nano(),
            severity_number: severity as i32,
            severity_text: severity
                .as_str_name()
                .trim_start_matches("SEVERITY_NUMBER_")
                .to_string(),
            body,
            attributes,
            event_name: event_name.to_string(),
            ..LogRecord::default()
        }
    }

    fn container_into(&mut self, out: &mut Vec<KeyValue>, c: Option<&Container>) {
        let Some(c) = c else { return };
        match &self.container {
            Some((id, attrs)) if *id == c.id => out.extend(attrs.iter().cloned()),
            _ => {
                let attrs = container_attributes(c);
                out.extend(attrs.iter().cloned());
                self.container = Some((c.id.clone(), attrs));
            }
        }
    }

    pub fn event(&mut self, e: &Event) -> LogRecord {
        let ev = &e.call;
        let mut attrs = Vec::with_capacity(16 + e.args.len());
        self.container_into(&mut attrs, e.container.as_deref());
        process_attributes(&mut attrs, ev.tgid, ev.ns_tgid, ev.tid, ev.comm_bytes());
        attrs.push(kv("syscall.name", string(syscalls::display_name(ev.nr))));
        if let Some(ret) = ev.ret {
            attrs.push(kv("syscall.return", int(ret)));
            if let Some(e) = errno::of_ret(ret) {
                attrs.push(kv("error.type", string(errno::name(e))));
            }
        }
        if let Some(d) = ev.duration_ns() {
            attrs.push(kv(
                "syscall.duration_ns",
                int(i64::try_from(d).unwrap_or(i64::MAX)),
            ));
        }
        if let Some(s) = ev.seccomp() {
            attrs.push(kv("syscall.seccomp", string(s)));
        }
        for a in &e.args {
            arg_attributes(&mut attrs, a);
        }
        let body = self.body(|j| j.event(e));
        self.record(
            "tracer.syscall",
            ev.ktime_ns,
            SeverityNumber::Info,
            body,
            attrs,
        )
    }

    pub fn lifecycle(&mut self, l: &Lifecycle) -> LogRecord {
        let mut attrs = Vec::with_capacity(10);
        self.container_into(&mut attrs, Some(&l.container));
        attrs.push(kv("container.lifecycle", string(l.kind.as_str())));
        if let Some(pid) = l.pid {
            attrs.push(kv("process.pid", int(pid)));
        }
        if let Some(code) = l.exit_code {
            attrs.push(kv("process.exit.code", int(code)));
        }
        let body = self.body(|j| j.lifecycle(l));
        self.record(
            "tracer.container",
            l.ktime_ns,
            SeverityNumber::Info,
            body,
            attrs,
        )
    }

    pub fn signal(&mut self, s: &SignalEvent) -> LogRecord {
        let mut attrs = Vec::with_capacity(12);
        self.container_into(&mut attrs, s.container.as_deref());
        process_attributes(&mut attrs, s.tgid, s.ns_tgid, s.tid, s.comm_bytes());
        attrs.push(kv(
            "signal.name",
            string(flags::signal_string(i64::from(s.sig))),
        ));
        attrs.push(kv("signal.number", int(s.sig)));
        let name = match s.kind {
            SignalKind::Delivered { .. } => "tracer.signal",
            SignalKind::Killed { .. } => "tracer.killed",
        };
        let body = self.body(|j| j.signal(s));
        self.record(name, s.ktime_ns, SeverityNumber::Info, body, attrs)
    }

    pub fn lost(&mut self, l: &Lost) -> LogRecord {
        let attrs = vec![
            kv(
                "lost.count",
                int(i64::try_from(l.count).unwrap_or(i64::MAX)),
            ),
            kv(
                "lost.total",
                int(i64::try_from(l.total).unwrap_or(i64::MAX)),
            ),
        ];
        let body = self.body(|j| j.lost(l));
        self.record("tracer.lost", l.ktime_ns, SeverityNumber::Warn, body, attrs)
    }
}
