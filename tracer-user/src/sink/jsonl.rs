//! JSON lines (docs/events.md). Each record is serialized whole into a line buffer, then written
//! with one `write_all`, so a line is either all there or not there.
use std::io::{self, Write};

use serde::Serialize;

use super::{Enriched, Lost, Sink};
use crate::{
    clock::Clock,
    decode::{Enter, args, errno, syscalls},
    summary::{self, Report},
    target::Container,
};

pub struct JsonLines<W: Write> {
    out: W,
    clock: Clock,
    opts: args::Options,
    line: Vec<u8>,
    ts: Vec<u8>,
}

#[derive(Serialize)]
struct SyscallLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    ts: &'a str,
    syscall: &'a str,
    nr: u32,
    args: Vec<serde_json::Value>,
    ret: Option<i64>,
    errno: Option<String>,
    duration_ns: Option<u64>,
    pid: u32,
    tid: u32,
    ns_pid: Option<u32>,
    ns_tid: Option<u32>,
    comm: &'a str,
    cgroup_id: u64,
    container: Option<&'a Container>,
    enter: &'static str,
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
            opts: args::Options::default(),
            line: Vec::with_capacity(512),
            ts: Vec::with_capacity(32),
        }
    }

    fn timestamp(&mut self, ktime_ns: u64) -> String {
        self.ts.clear();
        self.clock.format_into(ktime_ns, &mut self.ts);
        String::from_utf8_lossy(&self.ts).into_owned()
    }

    pub fn with_options(mut self, opts: args::Options) -> Self {
        self.opts = opts;
        self
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
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn syscall(&mut self, e: &Enriched<'_>) -> io::Result<()> {
        let ev = e.event;
        let ts = self.timestamp(ev.ktime_ns);
        let name = syscalls::display_name(ev.nr);
        let comm = String::from_utf8_lossy(ev.comm_bytes());
        let line = SyscallLine {
            kind: "syscall",
            ts: &ts,
            syscall: &name,
            nr: ev.nr,
            args: args::decode_with(ev, self.opts)
                .into_iter()
                .map(|a| {
                    let mut o = serde_json::Map::new();
                    o.insert("name".into(), a.name.into());
                    o.insert("type".into(), a.ty.into());
                    o.extend(a.json);
                    o.insert("raw".into(), a.raw.into());
                    serde_json::Value::Object(o)
                })
                .collect(),
            ret: ev.ret,
            errno: ev.ret.and_then(errno::of_ret).map(errno::name),
            duration_ns: ev.duration_ns(),
            pid: ev.tgid,
            tid: ev.tid,
            ns_pid: ev.ns_tgid,
            ns_tid: ev.ns_tid,
            comm: &comm,
            cgroup_id: ev.cgroup_id,
            container: e.container,
            enter: enter_str(ev.enter),
        };
        self.write_line(&line)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, tests as fixtures};

    fn render(flags: u16, nr: u32, ret: i64, comm: &[u8]) -> serde_json::Value {
        let mut r = fixtures::record(flags, nr, ret);
        r.comm = [0; 16];
        r.comm[..comm.len()].copy_from_slice(comm);
        let ev = decode(&fixtures::bytes(&r)).expect("decodes");
        let container = Container {
            id: "f".repeat(64),
            name: "web".into(),
        };
        let mut sink = JsonLines::new(Vec::new(), Clock::with_offset(1_700_000_000_000_000_000));
        sink.syscall(&Enriched {
            event: &ev,
            container: Some(&container),
        })
        .expect("writes");
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
}
