//! User-side cost per record: decode, pair, enrich, filter, render and write (to a sink that
//! discards), per record kind: getppid (no argument), openat with a 32-byte path (an enter
//! record plus the exit record), a read with a 32-byte buffer, an execve with a path and three
//! argv strings, a newfstatat with its struct stat, an epoll_wait with two events, a connect
//! with an IPv4 address. Prints ns and heap allocations per record;
//! run with `cargo bench -p tracer-user --bench decode`.
//!
//! `--only TEXT` runs the rows whose label contains TEXT, `--rounds N` sets the records per row
//! (200,000): with both, under `valgrind --tool=callgrind`, two round counts give the
//! instructions per record (docs/benchmarks.md).
use std::{
    alloc::{GlobalAlloc, Layout, System},
    hint::black_box,
    io,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Instant,
};

use tracer::{
    decode::{self, args, decode_record, pairing::Pairing},
    enrich::{Attribution, Enricher},
    filter::{Filter, Pass},
    model::{Container, clock::Clock},
    sink::{Sink, jsonl::JsonLines, text::Text},
};
use tracer_common::{
    capture::{
        CAP_ARGV, CAP_BUF_OUT, CAP_SOCKADDR_IN, CAP_STR, CAP_STRUCT_OUT, CAPF_TRUNCATED,
        EnterRecord,
    },
    record::{KIND_ENTER, KIND_SYSCALL, RecordHeader, SyscallRecord},
};

/// The system allocator, counting the allocations (and reallocations) made through it.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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

/// `rec` with captures `(arg, kind, flags, index, data)` appended and its length set.
fn with_captures(mut rec: Vec<u8>, caps: &[(u8, u8, u8, u8, &[u8])]) -> Vec<u8> {
    for &(arg, kind, flags, index, data) in caps {
        rec.extend_from_slice(&[arg, kind, flags, index]);
        rec.extend_from_slice(&(data.len() as u32).to_ne_bytes());
        rec.extend_from_slice(data);
        rec.resize(rec.len().next_multiple_of(8), 0);
    }
    let len = rec.len() as u32;
    rec[4..8].copy_from_slice(&len.to_ne_bytes());
    rec
}

fn syscall(nr: u32, args: [u64; 6], ret: i64, caps: &[(u8, u8, u8, u8, &[u8])]) -> Vec<u8> {
    let rec = bytes_of(&SyscallRecord {
        header: header(KIND_SYSCALL, size_of::<SyscallRecord>()),
        nr,
        ns_tgid: 7,
        ns_tid: 7,
        _pad: 0,
        ret,
        enter_ns: 999_000,
        cgroup_id: 44,
        args,
        comm: *b"nginx\0\0\0\0\0\0\0\0\0\0\0",
    });
    with_captures(rec, caps)
}

fn enter(nr: u32, caps: &[(u8, u8, u8, u8, &[u8])]) -> Vec<u8> {
    let rec = bytes_of(&EnterRecord {
        header: header(KIND_ENTER, 0),
        nr,
        _pad: 0,
        cgroup_id: 1,
    });
    with_captures(rec, caps)
}

const AT_FDCWD: u64 = -100i64 as u64;
const PTR: u64 = 0x5555_0000;

/// A regular file's `struct stat` (x86_64 layout): 121 bytes, mode 0644, times.
fn stat() -> Vec<u8> {
    let mut b = vec![0u8; 144];
    let mut put = |at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    put(0, 0x803);
    put(8, 1_234_567);
    put(16, 1);
    put(24, 0o100644 | 101 << 32);
    put(32, 101);
    put(48, 121);
    put(56, 4096);
    put(64, 8);
    for k in 0..3 {
        put(72 + 16 * k, 1_700_000_000);
        put(80 + 16 * k, 123_456_789);
    }
    b
}

/// Two `struct epoll_event`s (packed on x86_64: u32 events, u64 data).
fn epoll_events() -> Vec<u8> {
    let mut b = Vec::new();
    for (events, data) in [(0x2001u32, 0x7f00_1234_5678u64), (0x1, 0x7f00_1234_9abc)] {
        b.extend_from_slice(&events.to_ne_bytes());
        b.extend_from_slice(&data.to_ne_bytes());
    }
    b
}

/// (label, ring buffer records making one event).
fn kinds() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let path: &[u8] = b"/usr/share/nginx/html/index.html";
    // 32 bytes of a 78-byte request: the kernel cuts the buffer at the string size.
    let request: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:";
    let sin: &[u8] = &[2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    vec![
        ("getppid", vec![syscall(110, [0; 6], 1, &[])]),
        (
            "openat + 32-byte path",
            vec![
                enter(257, &[(1, CAP_STR, 0, 0, path)]),
                syscall(257, [AT_FDCWD, PTR, 0x80000, 0, 0, 0], 10, &[]),
            ],
        ),
        (
            "read + 32-byte buffer",
            vec![syscall(
                0,
                [9, PTR, 1024, 0, 0, 0],
                78,
                &[(1, CAP_BUF_OUT, CAPF_TRUNCATED, 0, request)],
            )],
        ),
        (
            "execve + path + 3 argv",
            vec![
                enter(
                    59,
                    &[
                        (0, CAP_STR, 0, 0, b"/usr/sbin/nginx"),
                        (1, CAP_ARGV, 0, 0, b"nginx"),
                        (1, CAP_ARGV, 0, 1, b"-g"),
                        (1, CAP_ARGV, 0, 2, b"daemon off;"),
                    ],
                ),
                syscall(59, [PTR, PTR + 64, PTR + 128, 0, 0, 0], 0, &[]),
            ],
        ),
        (
            "newfstatat + stat",
            vec![
                enter(262, &[(1, CAP_STR, 0, 0, b"")]),
                syscall(
                    262,
                    [10, PTR, PTR + 256, 0x1000, 0, 0],
                    0,
                    &[(2, CAP_STRUCT_OUT, 0, 0, &stat())],
                ),
            ],
        ),
        (
            "epoll_wait + 2 events",
            vec![syscall(
                232,
                [7, PTR, 512, 60_000, 0, 0],
                2,
                &[(1, CAP_STRUCT_OUT, 0, 0, &epoll_events())],
            )],
        ),
        (
            "connect + sockaddr_in",
            vec![
                enter(42, &[(1, CAP_SOCKADDR_IN, 0, 0, sin)]),
                syscall(42, [3, PTR, 16, 0, 0, 0], 0, &[]),
            ],
        ),
    ]
}

fn run(label: &str, records: &[Vec<u8>], rounds: usize, sink: Box<dyn Sink>, opts: args::Options) {
    let container = Arc::new(Container {
        runtime: Default::default(),
        pod: None,
        id: "f".repeat(64),
        name: "web".into(),
    });
    // The stages as `observe --container` sets them up.
    let mut sink = sink;
    let mut enrich = Enricher::new(Attribution::Fixed(container), false);
    let mut filter = Filter::new(None);
    let mut pairing = Pairing::default();
    let mut round = || {
        for r in records {
            let Ok(rec) = decode_record(black_box(r)) else {
                continue;
            };
            if let Some(call) = pairing.push(rec) {
                let mut e = decode::event(call, opts);
                enrich.enrich(&mut e);
                if filter.pass(&e) == Pass::Keep {
                    sink.event(&e).expect("sink");
                }
            }
        }
    };
    // Tables built on first use are not the records' cost.
    round();
    let allocs = ALLOCS.load(Relaxed);
    let start = Instant::now();
    for _ in 0..rounds {
        round();
    }
    sink.flush().expect("flush");
    let elapsed = start.elapsed();
    let allocs = (ALLOCS.load(Relaxed) - allocs) as f64 / rounds as f64;
    let ns = elapsed.as_nanos() as f64 / rounds as f64;
    println!(
        "{label:<34} {ns:>7.0} ns/event {:>6.2} M events/s {allocs:>6.1} allocs/event",
        1e3 / ns
    );
}

fn main() {
    let mut only = String::new();
    let mut rounds = 200_000;
    let mut argv = std::env::args().skip(1);
    while let Some(a) = argv.next() {
        match a.as_str() {
            "--only" => only = argv.next().unwrap_or_default(),
            "--rounds" => rounds = argv.next().and_then(|n| n.parse().ok()).unwrap_or(rounds),
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    for (kind, records) in kinds() {
        let json = format!("{kind}, json");
        if json.contains(&only) {
            run(
                &json,
                &records,
                rounds,
                Box::new(JsonLines::new(io::sink(), Clock::new())),
                args::Options {
                    json_only: true,
                    ..args::Options::default()
                },
            );
        }
        let text = format!("{kind}, text");
        if text.contains(&only) {
            run(
                &text,
                &records,
                rounds,
                Box::new(Text::new(io::sink(), false)),
                args::Options::default(),
            );
        }
    }
}
