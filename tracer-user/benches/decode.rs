//! User-side cost per record: decode, pair, render, write (to a sink that discards), for a
//! record without captures (getppid) and one with a captured path (openat, enter record plus
//! exit record). Prints ns per record; run with `cargo bench -p tracer-user --bench decode`.
use std::{hint::black_box, io, time::Instant};

use std::sync::Arc;

use tracer::{
    decode::{self, args, decode_record, pairing::Pairing},
    model::{Container, clock::Clock},
    sink::{Sink, jsonl::JsonLines, text::Text},
};
use tracer_common::{
    capture::{CAP_STR, EnterRecord},
    record::{KIND_ENTER, KIND_SYSCALL, RecordHeader, SyscallRecord},
};

fn bytes_of<T>(v: &T) -> Vec<u8> {
    // SAFETY: plain-integer repr(C) records without implicit padding.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }.to_vec()
}

fn header(kind: u16, len: usize) -> RecordHeader {
    RecordHeader {
        kind,
        flags: 0,
        len: len as u32,
        ktime_ns: 1_000_000,
        tgid: 100,
        tid: 101,
    }
}

fn syscall(nr: u32, ret: i64) -> Vec<u8> {
    bytes_of(&SyscallRecord {
        header: header(KIND_SYSCALL, size_of::<SyscallRecord>()),
        nr,
        ns_tgid: 7,
        ns_tid: 7,
        _pad: 0,
        ret,
        enter_ns: 999_000,
        cgroup_id: 44,
        args: [(-100i64) as u64, 0x5555_0000, 0x80000, 0, 0, 0],
        comm: *b"nginx\0\0\0\0\0\0\0\0\0\0\0",
    })
}

fn enter_with_path(nr: u32, path: &[u8]) -> Vec<u8> {
    let mut b = bytes_of(&EnterRecord {
        header: header(KIND_ENTER, 0),
        nr,
        _pad: 0,
    });
    b.extend_from_slice(&[1, CAP_STR, 0, 0]);
    b.extend_from_slice(&(path.len() as u32).to_ne_bytes());
    b.extend_from_slice(path);
    b.resize(b.len().next_multiple_of(8), 0);
    let len = b.len() as u32;
    b[4..8].copy_from_slice(&len.to_ne_bytes());
    b
}

fn run(
    label: &str,
    records: &[Vec<u8>],
    events_per_round: usize,
    mut sink: Box<dyn Sink>,
    opts: args::Options,
) {
    const ROUNDS: usize = 200_000;
    let container = Arc::new(Container {
        runtime: Default::default(),
        pod: None,
        id: "f".repeat(64),
        name: "web".into(),
    });
    let mut pairing = Pairing::default();
    let start = Instant::now();
    for _ in 0..ROUNDS {
        for r in records {
            let Ok(rec) = decode_record(black_box(r)) else {
                continue;
            };
            if let Some(call) = pairing.push(rec) {
                let mut e = decode::event(call, opts);
                e.container = Some(container.clone());
                sink.event(&e).expect("sink");
            }
        }
    }
    sink.flush().expect("flush");
    let ns = start.elapsed().as_nanos() as f64 / (ROUNDS * events_per_round) as f64;
    println!("{label:<40} {ns:>8.0} ns/event {:>10.0} events/s", 1e9 / ns);
}

fn main() {
    let getppid = vec![syscall(110, 1)];
    let openat = vec![
        enter_with_path(257, b"/usr/share/nginx/html/index.html"),
        syscall(257, 10),
    ];
    for (label, recs) in [("getppid", &getppid), ("openat + 32-byte path", &openat)] {
        run(
            &format!("{label}, json"),
            recs,
            1,
            Box::new(JsonLines::new(io::sink(), Clock::new())),
            args::Options {
                json_only: true,
                ..args::Options::default()
            },
        );
        run(
            &format!("{label}, text"),
            recs,
            1,
            Box::new(Text::new(io::sink(), false)),
            args::Options::default(),
        );
    }
}
