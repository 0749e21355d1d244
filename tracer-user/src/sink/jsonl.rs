//! JSON lines (docs/events.md). Each record is serialized whole into a line buffer, then written
//! with one `write_all`, so a line is either all there or not there.
use std::{
    io::{self, Write},
    sync::Arc,
};

use serde::Serialize;

use super::{Lost, Sink, json_writer as w, summary};
use crate::{
    decode::{Enter, errno, syscalls},
    model::{
        Container, Event, Frame, Lifecycle, SignalEvent, SignalKind,
        clock::{Clock, TsCache},
        event::DecodedArg,
        seccomp::Finding,
        signal::Handler,
        summary::Report,
    },
};

pub struct JsonLines<W: Write> {
    out: W,
    clock: Clock,
    line: Vec<u8>,
    ts: Vec<u8>,
    ts_cache: TsCache,
    /// The last container's JSON, rendered once (the same on every record of a target).
    container_json: Option<(Arc<Container>, Vec<u8>)>,
}

#[derive(Serialize)]
struct LostLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    ts: &'a str,
    count: u64,
    total: u64,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W, clock: Clock) -> Self {
        JsonLines {
            out,
            clock,
            line: Vec::with_capacity(512),
            ts: Vec::with_capacity(32),
            ts_cache: TsCache::default(),
            container_json: None,
        }
    }

    fn timestamp(&mut self, ktime_ns: u64) -> String {
        self.ts.clear();
        self.clock.format_into(ktime_ns, &mut self.ts);
        String::from_utf8_lossy(&self.ts).into_owned()
    }

    /// The writer, to flush or reopen it.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// The writer, once the sink is done (tests and embedding).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn write_line(&mut self, value: &impl Serialize) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }
}

pub fn enter_str(e: Enter) -> &'static str {
    match e {
        Enter::Seen => "seen",
        Enter::Missing => "missing",
        Enter::Skipped => "skipped",
        Enter::Unfinished => "unfinished",
    }
}

impl<W: Write> JsonLines<W> {
    /// The `syscall` object of `e` appended to the line buffer: the hot path, written
    /// directly, field by field (docs/events.md has the schema; the tests compare it with
    /// serde_json's rendering of the same values).
    fn syscall_object(&mut self, e: &Event) {
        let ev = &e.call;
        let l = &mut self.line;
        l.extend_from_slice(b"{\"type\":\"syscall\",\"ts\":\"");
        self.clock.format_cached(ev.ktime_ns, l, &mut self.ts_cache);
        l.extend_from_slice(b"\",");
        let prefix = w::Prefix::of(ev.nr);
        w::syscall_head(l, prefix, ev.nr);
        for (i, a) in e.args.iter().enumerate() {
            if i > 0 {
                l.push(b',');
            }
            w::arg_prefix(l, prefix, i, a.name, a.ty);
            w::arg_value(l, &a.json.value);
            if let Some(h) = &a.json.hex {
                l.extend_from_slice(b",\"hex\":");
                w::string(l, h);
            }
            if a.json.truncated {
                l.extend_from_slice(b",\"truncated\":true");
            }
            if let Some(p) = &a.json.path {
                l.extend_from_slice(b",\"path\":");
                w::string(l, p);
            }
            l.extend_from_slice(b",\"raw\":");
            w::uint(l, a.raw);
            l.push(b'}');
        }
        l.extend_from_slice(b"],\"ret\":");
        w::opt_int(l, ev.ret);
        l.extend_from_slice(b",\"errno\":");
        match ev.ret.and_then(errno::of_ret) {
            Some(e) => match errno::name_static(e) {
                Some(name) => w::string(l, name),
                None => w::string(l, &errno::name(e)),
            },
            None => l.extend_from_slice(b"null"),
        }
        l.extend_from_slice(b",\"duration_ns\":");
        w::opt_uint(l, ev.duration_ns());
        l.extend_from_slice(b",\"pid\":");
        w::uint(l, u64::from(ev.tgid));
        l.extend_from_slice(b",\"tid\":");
        w::uint(l, u64::from(ev.tid));
        l.extend_from_slice(b",\"ns_pid\":");
        w::opt_uint(l, ev.ns_tgid.map(u64::from));
        l.extend_from_slice(b",\"ns_tid\":");
        w::opt_uint(l, ev.ns_tid.map(u64::from));
        l.extend_from_slice(b",\"comm\":");
        w::string(l, &String::from_utf8_lossy(ev.comm_bytes()));
        l.extend_from_slice(b",\"cgroup_id\":");
        w::uint(l, ev.cgroup_id);
        l.extend_from_slice(b",\"container\":");
        match &e.container {
            Some(c) => {
                // The same container as the last record's: the same Arc (the common case),
                // or an equal one.
                let cached = self
                    .container_json
                    .as_ref()
                    .filter(|(last, _)| Arc::ptr_eq(last, c) || **last == **c);
                match cached {
                    Some((_, json)) => l.extend_from_slice(json),
                    None => {
                        let json = container_json(c);
                        l.extend_from_slice(&json);
                        self.container_json = Some((c.clone(), json));
                    }
                }
            }
            None => l.extend_from_slice(b"null"),
        }
        l.extend_from_slice(b",\"enter\":\"");
        l.extend_from_slice(enter_str(ev.enter).as_bytes());
        l.extend_from_slice(b"\",\"seccomp\":");
        match ev.seccomp() {
            Some(s) => {
                l.push(b'"');
                l.extend_from_slice(s.as_bytes());
                l.push(b'"');
            }
            None => l.extend_from_slice(b"null"),
        }
        if let Some(stack) = &ev.stack {
            w::next_key(l, "stack");
            stack_json(l, stack);
        }
        l.push(b'}');
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.line.clear();
        self.syscall_object(e);
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    /// `{"type":"seccomp",…,"call":{the syscall record}}` (docs/events.md).
    fn seccomp(&mut self, e: &Event, f: &Finding) -> io::Result<()> {
        let ts = self.timestamp(e.call.ktime_ns);
        self.line.clear();
        finding_head(&mut self.line, e, f, &ts)?;
        self.syscall_object(e);
        self.line.extend_from_slice(b"}\n");
        self.out.write_all(&self.line)
    }

    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        let ts = self.timestamp(lost.ktime_ns);
        self.write_line(&LostLine {
            kind: "lost",
            ts: &ts,
            count: lost.count,
            total: lost.total,
        })
    }

    fn signal(&mut self, s: &SignalEvent) -> io::Result<()> {
        let ts = self.timestamp(s.ktime_ns);
        self.write_line(&signal_json(s, &ts))
    }

    fn lifecycle(&mut self, l: &Lifecycle) -> io::Result<()> {
        let ts = self.timestamp(l.ktime_ns);
        self.write_line(&lifecycle_json(l, &ts))
    }

    fn summary(&mut self, r: &Report, container: Option<&Container>) -> io::Result<()> {
        let start = self.timestamp(r.start_ktime);
        let end = self.timestamp(r.end_ktime);
        let line = serde_json::json!({
            "type": "summary",
            "ts": end,
            "container": container,
            "interval": {"start": start, "end": end},
            "total": r.total,
            "syscalls": summary::json_rows(&r.rows),
        });
        self.write_line(&line)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A `seccomp` record up to its `call`: the verdict, the profile's action, errno and rule, and
/// the call's name and container (the call itself follows, as its `syscall` record).
fn finding_head(l: &mut Vec<u8>, e: &Event, f: &Finding, ts: &str) -> io::Result<()> {
    l.extend_from_slice(b"{\"type\":\"seccomp\",");
    w::key(l, "ts");
    w::string(l, ts);
    w::next_key(l, "verdict");
    w::string(l, f.verdict.as_str());
    w::next_key(l, "action");
    w::string(l, f.action);
    w::next_key(l, "errno");
    match f.errno {
        Some(n) => w::string(l, &errno::name(n as i32)),
        None => l.extend_from_slice(b"null"),
    }
    w::next_key(l, "rule");
    match f.rule {
        Some(i) => w::uint(l, i as u64),
        None => l.extend_from_slice(b"null"),
    }
    w::next_key(l, "profile");
    w::string(l, &f.profile);
    w::next_key(l, "syscall");
    w::string(l, &syscalls::display_name(e.call.nr));
    w::next_key(l, "container");
    serde_json::to_writer(&mut *l, &e.container.as_deref())?;
    w::next_key(l, "call");
    Ok(())
}

/// `{"id":…,"name":…,"runtime":…}`, and the pod's fields in a pod.
fn container_json(c: &Container) -> Vec<u8> {
    let mut json = Vec::with_capacity(128);
    json.push(b'{');
    w::key(&mut json, "id");
    w::string(&mut json, &c.id);
    w::next_key(&mut json, "name");
    w::string(&mut json, &c.name);
    w::next_key(&mut json, "runtime");
    w::string(&mut json, c.runtime.as_str());
    if let Some(pod) = &c.pod {
        w::next_key(&mut json, "pod");
        w::string(&mut json, &pod.name);
        w::next_key(&mut json, "namespace");
        w::string(&mut json, &pod.namespace);
        w::next_key(&mut json, "pod_uid");
        w::string(&mut json, &pod.uid);
    }
    json.push(b'}');
    json
}

/// `-k`'s frames: `[{"addr":"0x…","module":"/lib/libc.so.6","symbol":"getppid","offset":7,
/// "file_offset":"0x…"}]`, innermost first; `null` for what is not known. Module paths that
/// are not UTF-8 get U+FFFD for each invalid sequence.
fn stack_json(l: &mut Vec<u8>, stack: &[Frame]) {
    l.push(b'[');
    for (i, f) in stack.iter().enumerate() {
        if i > 0 {
            l.push(b',');
        }
        l.push(b'{');
        w::key(l, "addr");
        w::string(l, &format!("{:#x}", f.addr));
        w::next_key(l, "module");
        match &f.module {
            Some(m) => w::string(l, &String::from_utf8_lossy(m)),
            None => l.extend_from_slice(b"null"),
        }
        w::next_key(l, "symbol");
        match &f.symbol {
            Some(s) => w::string(l, s),
            None => l.extend_from_slice(b"null"),
        }
        w::next_key(l, "offset");
        w::uint(l, f.offset);
        w::next_key(l, "file_offset");
        match f.file_offset {
            Some(o) => w::string(l, &format!("{o:#x}")),
            None => l.extend_from_slice(b"null"),
        }
        l.push(b'}');
    }
    l.push(b']');
}

/// A `container` record: what happened to a followed container (docs/events.md). Fields
/// that are not known are left out.
pub fn lifecycle_json(l: &Lifecycle, ts: &str) -> serde_json::Value {
    let mut v = serde_json::json!({
        "type": "container",
        "event": l.kind.as_str(),
        "ts": ts,
        "container": &*l.container,
    });
    let o = v.as_object_mut().expect("an object");
    if let Some(p) = l.pid {
        o.insert("pid".into(), p.into());
    }
    if let Some(c) = l.cgroup_id {
        o.insert("cgroup_id".into(), c.into());
    }
    if let Some(c) = l.exit_code {
        o.insert("exit_code".into(), c.into());
    }
    if let Some(n) = &l.old_name {
        o.insert("old_name".into(), n.as_str().into());
    }
    v
}

/// A `signal` record (a delivery) or a `killed` record (a death by signal), docs/events.md.
pub fn signal_json(s: &SignalEvent, ts: &str) -> serde_json::Value {
    let name = crate::decode::flags::signal_string(i64::from(s.sig));
    let mut v = serde_json::json!({
        "type": match s.kind {
            SignalKind::Delivered { .. } => "signal",
            SignalKind::Killed { .. } => "killed",
        },
        "ts": ts,
        "signal": name,
        "signo": s.sig,
    });
    let m = v.as_object_mut().expect("an object");
    match &s.kind {
        SignalKind::Delivered {
            handler,
            sa_flags,
            info,
        } => {
            m.insert(
                "siginfo".into(),
                info.as_ref()
                    .map_or(serde_json::Value::Null, |(_, j)| j.clone()),
            );
            let handler = handler.map(|h| match h {
                Handler::Default => "SIG_DFL".to_string(),
                Handler::Ignore => "SIG_IGN".to_string(),
                Handler::At(a) => format!("{a:#x}"),
            });
            m.insert("handler".into(), handler.into());
            m.insert("sa_flags".into(), (*sa_flags).into());
        }
        SignalKind::Killed { core } => {
            m.insert("core_dumped".into(), (*core).into());
        }
    }
    for (k, val) in [
        ("pid", serde_json::json!(s.tgid)),
        ("tid", serde_json::json!(s.tid)),
        ("ns_pid", serde_json::json!(s.ns_tgid)),
        ("ns_tid", serde_json::json!(s.ns_tid)),
        (
            "comm",
            serde_json::json!(String::from_utf8_lossy(s.comm_bytes())),
        ),
        ("cgroup_id", serde_json::json!(s.cgroup_id)),
        ("container", serde_json::json!(s.container.as_deref())),
    ] {
        m.insert(k.into(), val);
    }
    v
}

/// The line `JsonLines` writes for `ev`, built the slow way through serde_json, field by field
/// as docs/events.md lists them: the reference the direct writer must equal byte for byte (unit
/// tests and the fuzz targets check it).
pub fn reference_line(e: &Event, clock: Clock) -> String {
    let ev = &e.call;
    let mut ts = Vec::new();
    clock.format_into(ev.ktime_ns, &mut ts);
    let args: Vec<serde_json::Value> = e.args.iter().map(DecodedArg::to_json).collect();
    let mut v = serde_json::json!({
        "type": "syscall",
        "ts": String::from_utf8_lossy(&ts),
        "syscall": syscalls::display_name(ev.nr),
        "nr": ev.nr,
        "args": args,
        "ret": ev.ret,
        "errno": ev.ret.and_then(errno::of_ret).map(errno::name),
        "duration_ns": ev.duration_ns(),
        "pid": ev.tgid,
        "tid": ev.tid,
        "ns_pid": ev.ns_tgid,
        "ns_tid": ev.ns_tid,
        "comm": String::from_utf8_lossy(ev.comm_bytes()),
        "cgroup_id": ev.cgroup_id,
        "container": e.container.as_deref(),
        "enter": enter_str(ev.enter),
        "seccomp": ev.seccomp(),
    });
    if let (Some(stack), Some(o)) = (&ev.stack, v.as_object_mut()) {
        let frames: Vec<serde_json::Value> = stack
            .iter()
            .map(|f| {
                serde_json::json!({
                    "addr": format!("{:#x}", f.addr),
                    "module": f.module.as_deref().map(String::from_utf8_lossy),
                    "symbol": f.symbol,
                    "offset": f.offset,
                    "file_offset": f.file_offset.map(|o| format!("{o:#x}")),
                })
            })
            .collect();
        o.insert("stack".into(), frames.into());
    }
    serde_json::to_string(&v).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{self, decode, tests as fixtures};

    #[test]
    fn lifecycle_records_leave_out_what_is_not_known() {
        let c = std::sync::Arc::new(Container {
            id: "abc".into(),
            name: "web".into(),
            runtime: crate::model::Runtime::Docker,
            pod: None,
        });
        let l = Lifecycle {
            ktime_ns: 1,
            kind: crate::model::LifecycleKind::Died,
            container: c.clone(),
            pid: None,
            cgroup_id: Some(7),
            exit_code: Some(137),
            old_name: None,
        };
        assert_eq!(
            lifecycle_json(&l, "T"),
            serde_json::json!({"type": "container", "event": "died", "ts": "T",
                "container": {"id": "abc", "name": "web", "runtime": "docker"},
                "cgroup_id": 7, "exit_code": 137})
        );
        let l = Lifecycle {
            kind: crate::model::LifecycleKind::Renamed,
            pid: Some(42),
            exit_code: None,
            old_name: Some("old".into()),
            ..l
        };
        let v = lifecycle_json(&l, "T");
        assert_eq!(
            (v["event"].as_str(), v["pid"].as_u64()),
            (Some("renamed"), Some(42))
        );
        assert_eq!(v["old_name"], "old");
        assert!(v.get("exit_code").is_none());
    }

    fn event(ev: crate::model::SyscallEvent, container: &Container) -> Event {
        let mut e = decode::event(ev, decode::args::Options::default());
        e.container = Some(std::sync::Arc::new(container.clone()));
        e
    }

    fn render(flags: u16, nr: u32, ret: i64, comm: &[u8]) -> serde_json::Value {
        let mut r = fixtures::record(flags, nr, ret);
        r.comm = [0; 16];
        r.comm[..comm.len()].copy_from_slice(comm);
        let ev = decode(&fixtures::bytes(&r)).expect("decodes");
        let container = Container {
            runtime: crate::model::Runtime::Cri,
            id: "f".repeat(64),
            name: "web".into(),
            pod: Some(crate::model::Pod {
                name: "web-0".into(),
                namespace: "shop".into(),
                uid: "u-1".into(),
            }),
        };
        let mut sink = JsonLines::new(Vec::new(), Clock::with_offset(1_700_000_000_000_000_000));
        sink.event(&event(ev, &container)).expect("writes");
        let out = sink.out;
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out).expect("one valid JSON line")
    }

    #[test]
    fn failed_openat() {
        let v = render(0, 257, -2, b"workload");
        assert_eq!(v["type"], "syscall");
        assert_eq!(v["ts"], "2023-11-14T22:13:20.002000500Z");
        assert_eq!(v["syscall"], "openat");
        assert_eq!(v["nr"], 257);
        let args = v["args"].as_array().expect("args");
        assert_eq!(args.len(), 4, "openat has four arguments");
        assert_eq!(args[0]["name"], "dfd");
        assert_eq!(args[0]["type"], "int");
        assert_eq!(
            (args[0]["value"].as_i64(), args[0]["raw"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(args[2]["name"], "flags");
        assert_eq!(args[2]["value"], "O_ACCMODE");
        assert_eq!(args[2]["raw"], 3);
        assert_eq!(v["ret"], -2);
        assert_eq!(v["errno"], "ENOENT");
        assert_eq!(v["duration_ns"], 500);
        assert_eq!(
            (v["pid"].as_u64(), v["tid"].as_u64()),
            (Some(100), Some(101))
        );
        assert_eq!(
            (v["ns_pid"].as_u64(), v["ns_tid"].as_u64()),
            (Some(1), Some(7))
        );
        assert_eq!(v["comm"], "workload");
        assert_eq!(v["container"]["name"], "web");
        assert_eq!(
            v["container"],
            serde_json::json!({"id": "f".repeat(64), "name": "web", "runtime": "cri",
                "pod": "web-0", "namespace": "shop", "pod_uid": "u-1"})
        );
        assert_eq!(v["container"]["id"], "f".repeat(64));
        assert_eq!(v["enter"], "seen");
    }

    #[test]
    fn no_return_has_null_ret_errno_duration() {
        let v = render(tracer_common::record::FLAG_NO_RETURN, 231, 0, b"sh");
        assert_eq!(v["syscall"], "exit_group");
        assert!(v["ret"].is_null() && v["errno"].is_null() && v["duration_ns"].is_null());
        let v = render(0, 257, 3, b"sh");
        assert!(v["errno"].is_null());
    }

    #[test]
    fn hostile_comm_is_escaped() {
        let v = render(0, 0, 0, b"\x1b[2J\"\\\n\xff");
        assert_eq!(v["comm"], "\u{1b}[2J\"\\\n\u{fffd}");
    }

    #[test]
    fn direct_writer_equals_serde_json_byte_for_byte() {
        use crate::model::event::Capture;
        use tracer_common::capture::{CAP_SOCKADDR_OUT, CAP_STR};
        let container = Container {
            runtime: crate::model::Runtime::Podman,
            pod: None,
            id: "f".repeat(64),
            name: "we\"b\u{1b}".into(),
        };
        let clock = Clock::with_offset(1_700_000_000_123_456_789);
        let mut cases = Vec::new();
        for (flags, nr, ret) in [
            (0u16, 257u32, -2i64),
            (0, 288, 4),
            (1, 231, 0),
            (2, 0, 5),
            (6, 90, -1),
            (0, 999, 0),
        ] {
            let mut r = fixtures::record(flags, nr, ret);
            r.comm = *b"\x1b[2J\xff\"q\\\n\0\0\0\0\0\0\0";
            let mut ev = decode(&fixtures::bytes(&r)).expect("decodes");
            ev.captures = vec![
                Capture {
                    arg: 1,
                    kind: CAP_STR,
                    flags: 1,
                    index: 0,
                    data: b"/etc/\xffx\n\"".to_vec(),
                },
                Capture {
                    arg: 1,
                    kind: CAP_SOCKADDR_OUT,
                    flags: 0,
                    index: 0,
                    data: vec![2, 0, 0, 80, 127, 0, 0, 1],
                },
            ];
            cases.push(ev);
        }
        // -k: frames known, half known, unknown, hostile; and a walk that failed.
        let mut r = fixtures::record(0, 110, 1);
        r.comm = *b"getppid\0\0\0\0\0\0\0\0\0";
        let mut ev = decode(&fixtures::bytes(&r)).expect("decodes");
        ev.stack = Some(vec![
            Frame {
                addr: 0x7f00_1234_5678,
                module: Some(b"/usr/lib/x86_64-linux-gnu/libc.so.6".to_vec()),
                symbol: Some("getppid".into()),
                offset: 7,
                file_offset: Some(0xe0f37),
            },
            Frame {
                addr: 0x401000,
                module: Some(b"/app/\xff\x1b[2J\"\n".to_vec()),
                symbol: Some("q\"\\\u{1b}".into()),
                offset: 0,
                file_offset: None,
            },
            Frame {
                addr: 0x10,
                ..Frame::default()
            },
        ]);
        cases.push(ev.clone());
        ev.stack = Some(Vec::new());
        cases.push(ev);
        // One sink for all: the cached container JSON and timestamp are exercised too.
        let mut sink = JsonLines::new(Vec::new(), clock);
        let mut want = String::new();
        for ev in cases {
            let e = event(ev, &container);
            sink.event(&e).expect("writes");
            want.push_str(&reference_line(&e, clock));
        }
        let ours = String::from_utf8(sink.into_inner()).expect("utf-8");
        assert_eq!(ours, want);
    }

    #[test]
    fn stack_frames_only_with_k() {
        let v = render(0, 110, 1, b"getppid");
        assert!(v.get("stack").is_none(), "no stack without -k");
        let r = fixtures::record(0, 110, 1);
        let mut ev = decode(&fixtures::bytes(&r)).expect("decodes");
        ev.stack = Some(vec![
            Frame {
                addr: 0x7f00_1234_5678,
                module: Some(b"/usr/lib/x86_64-linux-gnu/libc.so.6".to_vec()),
                symbol: Some("getppid".into()),
                offset: 7,
                file_offset: Some(0xe0f37),
            },
            Frame {
                addr: 0x10,
                ..Frame::default()
            },
        ]);
        let mut sink = JsonLines::new(Vec::new(), Clock::with_offset(0));
        let container = Container {
            runtime: crate::model::Runtime::Podman,
            pod: None,
            id: "f".repeat(64),
            name: "web".into(),
        };
        sink.event(&event(ev, &container)).expect("writes");
        let v: serde_json::Value = serde_json::from_slice(&sink.out).expect("json");
        assert_eq!(
            v["stack"],
            serde_json::json!([
                {"addr": "0x7f0012345678", "module": "/usr/lib/x86_64-linux-gnu/libc.so.6",
                 "symbol": "getppid", "offset": 7, "file_offset": "0xe0f37"},
                {"addr": "0x10", "module": null, "symbol": null, "offset": 0,
                 "file_offset": null},
            ])
        );
    }

    #[test]
    fn lost_line() {
        let mut sink = JsonLines::new(Vec::new(), Clock::with_offset(0));
        sink.lost(&Lost {
            count: 3,
            total: 10,
            ktime_ns: 1,
        })
        .expect("writes");
        let v: serde_json::Value = serde_json::from_slice(&sink.out).expect("json");
        assert_eq!(v["type"], "lost");
        assert_eq!(
            (v["count"].as_u64(), v["total"].as_u64()),
            (Some(3), Some(10))
        );
    }

    fn signal_line(r: &tracer_common::record::SignalRecord) -> serde_json::Value {
        let b = crate::decode::signal_event::tests::bytes(r);
        let Ok(crate::decode::Record::Signal(mut s)) = decode::decode_record(&b) else {
            panic!("a signal record")
        };
        s.container = Some(std::sync::Arc::new(Container {
            runtime: crate::model::Runtime::Podman,
            pod: None,
            id: "f".repeat(64),
            name: "web".into(),
        }));
        let mut sink = JsonLines::new(Vec::new(), Clock::with_offset(0));
        sink.signal(&s).expect("writes");
        assert!(
            sink.out.ends_with(b"}\n") && sink.out.iter().filter(|&&b| b == b'\n').count() == 1
        );
        serde_json::from_slice(&sink.out).expect("json")
    }

    #[test]
    fn signal_and_killed_lines() {
        use crate::decode::signal_event::tests::{delivery, killed};
        let v = signal_line(&delivery(10, -6, 42, 0x40_1000));
        assert_eq!(
            v,
            serde_json::json!({
                "type": "signal",
                "ts": v["ts"],
                "signal": "SIGUSR1",
                "signo": 10,
                "siginfo": {"si_signo": "SIGUSR1", "si_code": "SI_TKILL", "si_pid": 42, "si_uid": 0},
                "handler": "0x401000",
                "sa_flags": 0x0400_0000,
                "pid": 300,
                "tid": 301,
                "ns_pid": 7,
                "ns_tid": 8,
                "comm": "sigs",
                "cgroup_id": 4242,
                "container": {"id": "f".repeat(64), "name": "web", "runtime": "podman"},
            })
        );
        assert!(v["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
        assert_eq!(signal_line(&delivery(15, 0, 1, 0))["handler"], "SIG_DFL");
        assert_eq!(signal_line(&delivery(15, 0, 1, 1))["handler"], "SIG_IGN");
        let k = signal_line(&killed(11, true));
        assert_eq!(
            (
                &k["type"],
                &k["signal"],
                &k["signo"],
                &k["core_dumped"],
                &k["pid"]
            ),
            (
                &serde_json::json!("killed"),
                &serde_json::json!("SIGSEGV"),
                &serde_json::json!(11),
                &serde_json::json!(true),
                &serde_json::json!(300)
            )
        );
        assert!(k.get("siginfo").is_none() && k.get("handler").is_none());
        // A line the JSON reader (seccomp profile from files) passes over, not a bad line.
        let line = serde_json::to_vec(&k).expect("json");
        assert!(matches!(
            crate::decode::jsonl::parse(&line, &Clock::with_offset(0)),
            crate::decode::jsonl::Line::Other
        ));
    }
}
