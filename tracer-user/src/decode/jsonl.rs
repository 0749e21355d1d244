//! JSON lines that tracer wrote (`observe --format json`, the daemon), read back into the same
//! typed events the ring buffer gives: the seccomp commands' `--events FILE`.
//!
//! What a line carries is what comes back: raw registers, the decoded values as written,
//! return value, ids, container, how the enter was seen and what seccomp did. Captured bytes
//! are not in a line (only their rendering), so `captures` stays empty.
use std::{
    io::{self, BufRead},
    sync::Arc,
};

use serde::Deserialize;
use serde_json::Value;

use super::{Enter, SyscallEvent, escape, syscalls};
use crate::model::{
    Container, Event,
    clock::Clock,
    event::{ArgJson, DecodedArg},
};

/// One `syscall` record as docs/events.md lists its fields.
#[derive(Debug, Deserialize)]
struct SyscallLine {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    nr: Option<u32>,
    #[serde(default)]
    syscall: Option<String>,
    #[serde(default)]
    args: Vec<ArgLine>,
    #[serde(default)]
    ret: Option<i64>,
    #[serde(default)]
    duration_ns: Option<u64>,
    #[serde(default)]
    pid: u32,
    #[serde(default)]
    tid: Option<u32>,
    #[serde(default)]
    ns_pid: Option<u32>,
    #[serde(default)]
    ns_tid: Option<u32>,
    #[serde(default)]
    comm: String,
    #[serde(default)]
    cgroup_id: u64,
    #[serde(default)]
    container: Option<Container>,
    #[serde(default)]
    enter: Option<String>,
    #[serde(default)]
    seccomp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ArgLine {
    #[serde(default)]
    value: Value,
    #[serde(default)]
    hex: Option<String>,
    #[serde(default)]
    truncated: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    raw: u64,
}

/// What one line was.
#[derive(Debug, PartialEq)]
pub enum Line {
    Syscall(Box<Event>),
    /// Another record type (`lost`, `summary`), or blank.
    Other,
    /// Not a JSON object of tracer's: counted by the caller.
    Bad,
}

const GENERIC: [&str; 6] = ["arg0", "arg1", "arg2", "arg3", "arg4", "arg5"];

fn enter_of(s: Option<&str>) -> Enter {
    match s {
        Some("missing") => Enter::Missing,
        Some("skipped") => Enter::Skipped,
        Some("unfinished") => Enter::Unfinished,
        _ => Enter::Seen,
    }
}

/// strace-like text of a value read back (the line keeps only the JSON form).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => escape::quoted(s.as_bytes(), false),
        other => other.to_string(),
    }
}

/// Parses one line; `clock` turns its wall-clock `ts` back into the kernel time it came from.
pub fn parse(line: &[u8], clock: &Clock) -> Line {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Line::Other;
    }
    let Ok(l) = serde_json::from_slice::<SyscallLine>(line) else {
        return Line::Bad;
    };
    if l.kind != "syscall" {
        return Line::Other;
    }
    let Some(nr) =
        l.nr.or_else(|| l.syscall.as_deref().and_then(syscalls::number))
    else {
        return Line::Bad;
    };
    let table = syscalls::args(nr);
    let mut raw = [0u64; 6];
    let args = l
        .args
        .iter()
        .take(6)
        .enumerate()
        .map(|(i, a)| {
            raw[i] = a.raw;
            let (name, ty) = table
                .and_then(|t| t.get(i))
                .map_or((GENERIC[i], "unsigned long"), |t| (t.name, t.ty));
            DecodedArg {
                name,
                ty,
                raw: a.raw,
                text: text_of(&a.value),
                json: ArgJson {
                    value: a.value.clone().into(),
                    hex: a.hex.clone(),
                    truncated: a.truncated,
                    path: a.path.clone(),
                },
                shown: true,
                text_pos: i as u8,
                fd_path: None,
            }
        })
        .collect();
    let ktime_ns =
        l.ts.as_deref()
            .and_then(|ts| clock.ktime_of(ts))
            .unwrap_or(0);
    let mut enter = enter_of(l.enter.as_deref());
    let sigsys = l.seccomp.as_deref() == Some("sigsys");
    if l.seccomp.as_deref() == Some("denied") || sigsys {
        enter = Enter::Skipped;
    }
    let mut comm = [0u8; 16];
    let n = l.comm.len().min(15);
    comm[..n].copy_from_slice(&l.comm.as_bytes()[..n]);
    let call = SyscallEvent {
        ktime_ns,
        enter_ns: l.duration_ns.map(|d| ktime_ns.saturating_sub(d)),
        nr,
        args: raw,
        ret: l.ret,
        tgid: l.pid,
        tid: l.tid.unwrap_or(l.pid),
        ns_tgid: l.ns_pid,
        ns_tid: l.ns_tid,
        cgroup_id: l.cgroup_id,
        comm,
        enter,
        sigsys,
        captures: Vec::new(),
        stack: None,
    };
    Line::Syscall(Box::new(Event {
        call,
        args,
        ret_path: None,
        ret_shown: None,
        ret_note: None,
        container: l.container.map(Arc::new),
    }))
}

/// What reading one input gave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub syscalls: u64,
    /// Lines that are not tracer's JSON (a line cut by a crash, another file's text).
    pub bad: u64,
    /// The first such line, 1-based.
    pub first_bad: Option<u64>,
}

/// Reads `input` line by line, handing batches of events to `each` (false: stop).
pub fn read<R: BufRead>(
    mut input: R,
    clock: &Clock,
    batch: usize,
    mut each: impl FnMut(Vec<Event>) -> bool,
) -> io::Result<Read> {
    let mut stats = Read::default();
    let mut line = Vec::with_capacity(1024);
    let mut events = Vec::with_capacity(batch);
    let mut n = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        n += 1;
        match parse(&line, clock) {
            Line::Syscall(e) => {
                stats.syscalls += 1;
                events.push(*e);
                if events.len() >= batch && !each(std::mem::take(&mut events)) {
                    return Ok(stats);
                }
            }
            Line::Other => {}
            Line::Bad => {
                stats.bad += 1;
                stats.first_bad.get_or_insert(n);
            }
        }
    }
    if !events.is_empty() {
        each(events);
    }
    Ok(stats)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::{
        decode::{self, decode as decode_record, tests as fixtures},
        sink::jsonl::reference_line,
    };

    #[test]
    fn a_written_line_reads_back_as_the_same_event() {
        let clock = Clock::with_offset(1_700_000_000_123_456_789);
        let mut r = fixtures::record(0, 257, -2);
        r.args = [(-100i64) as u64, 0x4000, 0o2000000, 0, 0, 0];
        let mut e = decode::event(
            decode_record(&fixtures::bytes(&r)).expect("decodes"),
            decode::args::Options::default(),
        );
        e.container = Some(Arc::new(Container {
            runtime: crate::model::Runtime::Podman,
            pod: None,
            id: "c".repeat(64),
            name: "web".into(),
        }));
        let line = reference_line(&e, clock);
        let Line::Syscall(back) = parse(line.as_bytes(), &clock) else {
            panic!("not read back: {line}");
        };
        assert_eq!(back.call.nr, e.call.nr);
        assert_eq!(back.call.args, e.call.args);
        assert_eq!(back.call.ret, e.call.ret);
        assert_eq!(back.call.ktime_ns, e.call.ktime_ns);
        assert_eq!(back.call.duration_ns(), e.call.duration_ns());
        assert_eq!((back.call.tgid, back.call.tid), (e.call.tgid, e.call.tid));
        assert_eq!(back.call.comm, e.call.comm);
        assert_eq!(back.container, e.container);
        let values = |e: &Event| e.args.iter().map(|a| a.json.clone()).collect::<Vec<_>>();
        assert_eq!(values(&back), values(&e));
        // Written again, it is the same line.
        assert_eq!(reference_line(&back, clock), line);
    }

    #[test]
    fn other_records_blank_and_garbage() {
        let clock = Clock::with_offset(0);
        assert_eq!(
            parse(b"{\"type\":\"lost\",\"count\":1}", &clock),
            Line::Other
        );
        assert_eq!(parse(b"  \n", &clock), Line::Other);
        assert_eq!(parse(b"{not json", &clock), Line::Bad);
        assert_eq!(parse(b"\x7fELF\x02\x01\x01\0\xff\xfe", &clock), Line::Bad);
        assert_eq!(parse(b"{\"type\":\"syscall\"}", &clock), Line::Bad);
        let text = b"{\"type\":\"syscall\",\"nr\":110,\"pid\":5,\"ret\":1}\n\xff\xfe\n{\"type\":\"lost\"}\n";
        let mut got = Vec::new();
        let stats = read(&text[..], &clock, 8, |b| {
            got.extend(b);
            true
        })
        .expect("reads");
        assert_eq!(
            stats,
            Read {
                syscalls: 1,
                bad: 1,
                first_bad: Some(2)
            }
        );
        assert_eq!(got[0].call.nr, 110);
    }

    #[test]
    fn seccomp_marks_come_back() {
        let clock = Clock::with_offset(0);
        let l =
            br#"{"type":"syscall","nr":90,"pid":5,"ret":-1,"enter":"skipped","seccomp":"denied"}"#;
        let Line::Syscall(e) = parse(l, &clock) else {
            panic!("parses")
        };
        assert_eq!(e.call.seccomp(), Some("denied"));
        let l = br#"{"type":"syscall","nr":90,"pid":5,"ret":null,"seccomp":"sigsys"}"#;
        let Line::Syscall(e) = parse(l, &clock) else {
            panic!("parses")
        };
        assert_eq!(e.call.seccomp(), Some("sigsys"));
    }
}
