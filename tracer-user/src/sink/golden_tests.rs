//! Golden output: every syscall the table knows (and two it does not), each with eight made-up
//! calls (registers, return values, captures shaped by the syscall's capture spec, hostile
//! bytes), rendered as JSON lines and as strace text, plain, with `-y`, and with `-v -x -s 8`.
//! The JSON line must be the same whether the arguments were decoded for JSON only or for
//! text too, and equal to serde_json's rendering (`jsonl::reference_line`); and every line
//! must be what it was when `tests/fixtures/golden-records.tsv` was written: a CRC-32 per
//! syscall and rendering, so any change in the output fails here and names the syscall.
//!
//! After a deliberate change of the output: `TRACER_GOLDEN=bless cargo test --release -p
//! tracer-user --lib golden` rewrites the file. `TRACER_GOLDEN_DUMP=FILE` writes every line,
//! to compare two commits with `diff`.
use std::{collections::BTreeMap, fmt::Write as _, sync::Arc};

use tracer_common::capture::{
    CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_FDSET, CAP_IOV_DATA, CAP_IOV_IN, CAP_IOV_OUT,
    CAP_MSG_NAME, CAP_MSG_NAMELEN_IN, CAP_MSGHDR_IN, CAP_MSGHDR_OUT, CAP_NONE, CAP_SOCKADDR_IN,
    CAP_SOCKADDR_OUT, CAP_SOCKLEN_OUT, CAP_STR, CAP_STR_SIZED, CAP_STRUCT_IN, CAP_STRUCT_INOUT,
    CAP_STRUCT_OUT, CAPF_AT_EXIT, CAPF_FAULT, CAPF_SHORT, CAPF_TRUNCATED,
};

use super::{
    Sink,
    jsonl::{self, JsonLines},
    text,
};
use crate::{
    decode::{self, Capture, Enter, SyscallEvent, args, capture_spec, escape, syscalls},
    enrich::{Attribution, Enricher, fds::ProcFs},
    model::{Container, Event, Pod, Runtime, clock::Clock},
};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/golden-records.tsv"
);
const VARIANTS: u64 = 8;
/// In the golden file's column order.
const RENDERINGS: [&str; 6] = ["json", "json -v", "json -y", "text", "text -v", "text -y"];

/// splitmix64: the same made-up calls on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

const STRINGS: &[&[u8]] = &[
    b"/etc/hosts",
    b"/usr/share/nginx/html/index.html",
    b"",
    b"\x1b[2J\"q\\\n\t\r\x7f\xff\xfe",
    b"caf\xc3\xa9 \xe2\x82\xac",
    b"a\x00b",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:",
    b"0123456789abcdefghijklmnopqrstuvwxyz",
    b"\x80",
    b"--flag=1",
];

fn sockaddr(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => vec![2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        1 => {
            let mut b = vec![10, 0, 0, 80, 0, 0, 0, 0];
            b.extend_from_slice(&[0; 15]);
            b.push(1);
            b.extend_from_slice(&[0, 0, 0, 3]);
            b
        }
        2 => {
            let mut b = vec![1, 0];
            b.extend_from_slice(rng.pick(STRINGS));
            b.push(0);
            b
        }
        3 => b"\x01\x00\x00@abstract\n\"".to_vec(),
        4 => vec![16, 0, 0, 0, 0x39, 0x30, 0, 0, 1, 0, 0, 0],
        5 => vec![1, 0],
        6 => {
            let n = rng.below(40) as usize;
            rng.bytes(n)
        }
        _ => {
            let mut b = rng.bytes(20);
            b[0] = rng.below(46) as u8;
            b[1] = 0;
            b
        }
    }
}

fn flags(rng: &mut Rng) -> u8 {
    match rng.below(10) {
        0 => CAPF_TRUNCATED,
        1 => CAPF_FAULT,
        2 => CAPF_FAULT | CAPF_SHORT,
        3 => CAPF_AT_EXIT,
        _ => 0,
    }
}

fn cap(arg: usize, kind: u8, flags: u8, index: u8, data: Vec<u8>) -> Capture {
    Capture {
        arg: arg as u8,
        kind,
        flags,
        index,
        data,
    }
}

/// Plausible captures of argument `i`, of the kind its spec says.
fn captures_of(rng: &mut Rng, i: usize, kind: u8, size: u16, len_arg: u8, out: &mut Vec<Capture>) {
    let f = flags(rng);
    match kind {
        CAP_STR | CAP_STR_SIZED => {
            out.push(cap(i, kind, f, 0, rng.pick(STRINGS).to_vec()));
            if f & CAPF_FAULT != 0 && rng.below(2) == 0 {
                out.push(cap(i, kind, CAPF_AT_EXIT, 0, rng.pick(STRINGS).to_vec()));
            }
        }
        CAP_BUF_IN | CAP_BUF_OUT => {
            let data = match rng.below(3) {
                0 => rng.pick(STRINGS).to_vec(),
                1 => {
                    let n = rng.below(40) as usize;
                    rng.bytes(n)
                }
                _ => {
                    let mut b = rng.pick(STRINGS).to_vec();
                    b.push(0);
                    b
                }
            };
            out.push(cap(i, kind, f, 0, data));
        }
        CAP_SOCKADDR_IN | CAP_SOCKADDR_OUT => {
            let data = if rng.below(4) == 0 {
                rng.bytes(4)
            } else {
                sockaddr(rng)
            };
            out.push(cap(i, kind, f, 0, data));
            if kind == CAP_SOCKADDR_OUT && rng.below(4) != 0 {
                let n = (rng.below(130) as i32 - 2).to_ne_bytes().to_vec();
                let at = if (len_arg as usize) < 6 {
                    len_arg as usize
                } else {
                    i
                };
                out.push(cap(at, CAP_SOCKLEN_OUT, 0, 0, n));
            }
        }
        CAP_IOV_IN | CAP_IOV_OUT => {
            let n = rng.below(5);
            let mut array = Vec::new();
            for k in 0..n {
                array.extend_from_slice(&(0x7f00_0000 + k * 0x100).to_ne_bytes());
                array.extend_from_slice(&rng.pick(&[0u64, 1, 5, 16, 64, 4096]).to_ne_bytes());
                if rng.below(4) != 0 {
                    let data = rng.pick(STRINGS).to_vec();
                    out.push(cap(i, CAP_IOV_DATA, flags(rng), k as u8, data));
                }
            }
            out.push(cap(i, kind, f, 0, array));
        }
        CAP_MSGHDR_IN | CAP_MSGHDR_OUT => {
            let words = [
                rng.pick(&[0u64, 0x7f00_1000]),
                rng.pick(&[0u64, 16, 28, 110]),
                0x7f00_2000,
                rng.below(4),
                rng.pick(&[0u64, 0x7f00_3000]),
                rng.pick(&[0u64, 24]),
                rng.pick(&[0u64, 0x40, 0x2000_0000]),
            ];
            let data = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
            out.push(cap(i, kind, f, 0, data));
            if words[0] != 0 && rng.below(3) != 0 {
                out.push(cap(i, CAP_MSG_NAME, 0, 0, sockaddr(rng)));
            }
            if rng.below(3) == 0 {
                out.push(cap(
                    i,
                    CAP_MSG_NAMELEN_IN,
                    0,
                    0,
                    128i32.to_ne_bytes().to_vec(),
                ));
            }
            captures_of(rng, i, CAP_IOV_IN + (kind - CAP_MSGHDR_IN), 0, 6, out);
        }
        CAP_ARGV => {
            for k in 0..rng.below(5) {
                out.push(cap(
                    i,
                    kind,
                    flags(rng),
                    k as u8,
                    rng.pick(STRINGS).to_vec(),
                ));
            }
            if rng.below(3) == 0 {
                out.push(cap(i, kind, CAPF_TRUNCATED, 9, Vec::new()));
            }
        }
        CAP_FDSET => {
            let n = rng.pick(&[0usize, 8, 16, 128]);
            out.push(cap(i, kind, f, 0, rng.bytes(n)));
            if rng.below(2) == 0 {
                out.push(cap(i, kind, CAPF_AT_EXIT, 0, rng.bytes(n)));
            }
        }
        CAP_STRUCT_IN | CAP_STRUCT_OUT | CAP_STRUCT_INOUT => {
            let n = match size {
                0 => rng.below(64) as usize,
                1 => {
                    let mut path = rng.pick(STRINGS).to_vec();
                    path.push(0);
                    out.push(cap(i, kind, f, 0, path));
                    return;
                }
                s => s as usize * (1 + rng.below(3) as usize),
            };
            out.push(cap(i, kind, f, 0, rng.bytes(n)));
            if kind == CAP_STRUCT_INOUT || rng.below(4) == 0 {
                out.push(cap(i, kind, CAPF_AT_EXIT, 0, rng.bytes(n)));
            }
        }
        _ => {}
    }
}

/// Made-up call `variant` of syscall `nr`.
fn call(nr: u32, variant: u64) -> SyscallEvent {
    let mut rng = Rng(u64::from(nr) << 8 | variant);
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = match rng.below(14) {
            0 => 0,
            1 => 1,
            2 => 3,
            3 => 0xffff_ffff,
            4 => u64::MAX,
            5 => -100i64 as u64,
            6 => 0x7ffd_1234_5678,
            7 => rng.next(),
            8 => rng.next() & 0xffff,
            9 => rng.below(64),
            10 => 1 << rng.below(40),
            11 => 0x80000 | 0x40 | 2,
            12 => rng.pick(&[2, 10, 16, 0o644, 0x1021, 0x2_0000_0001]),
            _ => 0xdefa_ced0_0000_0000 | rng.below(8),
        };
    }
    let ret = match rng.below(12) {
        0 => 0,
        1 => 1,
        2 => 3,
        3 => 16,
        4 => 78,
        5 => -2,
        6 => -11,
        7 => -512,
        8 => -4095,
        9 => -4096,
        10 => 0x7f00_0000_0000,
        _ => rng.below(300) as i64,
    };
    let enter = match variant {
        5 => Enter::Missing,
        6 | 7 => Enter::Skipped,
        _ => Enter::Seen,
    };
    let sigsys = variant == 7;
    let mut comm = [0u8; 16];
    let c: &[u8] = rng.pick(&[b"nginx".as_slice(), b"\x1b[2J\"\\\n\xff", b"worker 1"]);
    comm[..c.len()].copy_from_slice(c);
    let mut captures = Vec::new();
    if let (Some(name), Some(list)) = (syscalls::name(nr), syscalls::args(nr)) {
        let spec = capture_spec::spec_for(name, list);
        for i in 0..6 {
            if spec.kind[i] != CAP_NONE {
                let before = captures.len();
                captures_of(
                    &mut rng,
                    i,
                    spec.kind[i],
                    spec.size[i],
                    spec.len_arg[i],
                    &mut captures,
                );
                // Mostly, the length argument says how much there is.
                let len_arg = usize::from(spec.len_arg[i]);
                if let (Some(c), Some(a)) = (captures.get(before), args.get_mut(len_arg))
                    && rng.below(4) != 0
                {
                    *a = c.data.len() as u64;
                }
            }
        }
    }
    if variant == 3 {
        // Something the spec does not say: any kind, on any argument.
        let (i, kind) = (rng.below(6) as usize, rng.below(21) as u8);
        captures_of(&mut rng, i, kind, 8, 6, &mut captures);
    }
    SyscallEvent {
        ktime_ns: 5_000_000_000 + u64::from(nr) * 1_000_003 + variant,
        enter_ns: (enter == Enter::Seen).then_some(4_999_000_000),
        nr,
        args,
        ret: (variant != 4 && !sigsys).then_some(ret),
        tgid: 300 + (variant as u32 % 2),
        tid: 301 + variant as u32,
        ns_tgid: (variant != 2).then_some(7),
        ns_tid: (variant != 2).then_some(8 + variant as u32),
        cgroup_id: 4242,
        comm,
        enter,
        sigsys,
        captures,
        stack: None,
    }
}

/// A /proc whose every fd names a file, some of them hostile.
struct Files;

impl ProcFs for Files {
    fn link(&self, _: u32, fd: i32) -> Option<Vec<u8>> {
        let names: [&[u8]; 4] = [
            b"/var/log/nginx/access.log",
            b"socket:[4242]",
            b"/tmp/\x1b[2J\"\n\xff",
            b"pipe:[77]",
        ];
        (fd % 5 != 4).then(|| names[fd.unsigned_abs() as usize % 4].to_vec())
    }

    fn cloexec(&self, _: u32, fd: i32) -> Option<bool> {
        Some(fd % 2 == 0)
    }

    fn same_file(&self, _: u32, _: i32, _: &[u8]) -> bool {
        true
    }

    fn cwd(&self, _: u32) -> Option<Vec<u8>> {
        Some(b"/srv/\xffwww".to_vec())
    }
}

/// One rendering: decode options, and whether `-y`'s fd tables annotate the arguments.
struct Rendering {
    opts: args::Options,
    enrich: Enricher,
}

impl Rendering {
    fn new(opts: args::Options, fd_paths: bool, container: &Arc<Container>) -> Self {
        let enrich = Enricher::new(Attribution::Fixed(container.clone()), false);
        Rendering {
            opts,
            enrich: if fd_paths {
                enrich.with_fd_paths(Box::new(Files))
            } else {
                enrich
            },
        }
    }

    fn event(&mut self, ev: &SyscallEvent, json_only: bool) -> Event {
        let mut e = decode::event(
            ev.clone(),
            args::Options {
                json_only,
                ..self.opts
            },
        );
        self.enrich.enrich(&mut e);
        e
    }
}

/// Every rendering of every made-up call: (syscall, rendering) → lines.
fn render_all() -> BTreeMap<(String, &'static str), String> {
    let container = Arc::new(Container {
        id: "c".repeat(64),
        name: "we\"b\u{1b}".into(),
        runtime: Runtime::Cri,
        pod: Some(Pod {
            name: "web-0".into(),
            namespace: "shop".into(),
            uid: "u-1".into(),
        }),
    });
    let clock = Clock::with_offset(1_700_000_000_000_000_000);
    let verbose = args::Options {
        no_abbrev: true,
        hex: escape::Hex::NonAscii,
        string_size: 8,
        ..args::Options::default()
    };
    // Each rendering twice (for JSON only, and with text), so that the fd tables of both see
    // the same stream.
    let mut renderings = [
        (
            Rendering::new(args::Options::default(), false, &container),
            Rendering::new(args::Options::default(), false, &container),
        ),
        (
            Rendering::new(args::Options::default(), true, &container),
            Rendering::new(args::Options::default(), true, &container),
        ),
        (
            Rendering::new(verbose, false, &container),
            Rendering::new(verbose, false, &container),
        ),
    ];
    let mut sink = JsonLines::new(Vec::new(), clock);
    let mut out = BTreeMap::new();
    let nrs = (0..tracer_common::config::MAX_SYSCALL_NR)
        .filter(|&nr| syscalls::name(nr).is_some())
        .chain([600, 1023]);
    for nr in nrs {
        let name = syscalls::display_name(nr).into_owned();
        for variant in 0..VARIANTS {
            let ev = call(nr, variant);
            for (k, (json_r, text_r)) in renderings.iter_mut().enumerate() {
                let json = json_r.event(&ev, true);
                let full = text_r.event(&ev, false);
                sink.event(&json).expect("writes to memory");
                let line = String::from_utf8(std::mem::take(sink.get_mut())).expect("UTF-8");
                let mut again = JsonLines::new(Vec::new(), clock);
                again.event(&full).expect("writes to memory");
                assert_eq!(
                    line,
                    String::from_utf8_lossy(&again.into_inner()),
                    "{name} variant {variant}: JSON differs between JSON-only and full decoding"
                );
                assert_eq!(
                    line,
                    jsonl::reference_line(&json, clock),
                    "{name} variant {variant}: the direct writer differs from serde_json"
                );
                let mut text_line = String::new();
                text::render(&mut text_line, &full, false);
                let [json_name, text_name] = [
                    ["json", "text"],
                    ["json -y", "text -y"],
                    ["json -v", "text -v"],
                ][k];
                out.entry((name.clone(), json_name))
                    .or_insert_with(String::new)
                    .push_str(&line);
                out.entry((name.clone(), text_name))
                    .or_insert_with(String::new)
                    .push_str(&text_line);
            }
        }
    }
    out
}

/// `syscall\tcrc…` per syscall, one column per rendering.
fn digests(all: &BTreeMap<(String, &'static str), String>) -> String {
    let mut by_name: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for ((name, _), lines) in all {
        by_name
            .entry(name)
            .or_default()
            .push(crc32fast::hash(lines.as_bytes()));
    }
    let mut out = format!("# syscall\t{}\n", RENDERINGS.join("\t"));
    for (name, crcs) in by_name {
        out.push_str(name);
        for c in crcs {
            let _ = write!(out, "\t{c:08x}");
        }
        out.push('\n');
    }
    out
}

#[test]
fn every_syscall_renders_as_it_did() {
    // A BTreeMap keeps the renderings of a syscall sorted, as the columns are.
    assert!(RENDERINGS.is_sorted());
    let all = render_all();
    if let Ok(path) = std::env::var("TRACER_GOLDEN_DUMP") {
        let lines: String = all.values().map(String::as_str).collect();
        std::fs::write(&path, lines).expect("writes the dump");
    }
    let got = digests(&all);
    if std::env::var("TRACER_GOLDEN").as_deref() == Ok("bless") {
        std::fs::write(GOLDEN, &got).expect("writes the golden file");
        return;
    }
    let want = std::fs::read_to_string(GOLDEN).expect("tests/fixtures/golden-records.tsv");
    if got != want {
        let changed: Vec<&str> = got
            .lines()
            .zip(want.lines())
            .filter(|(g, w)| g != w)
            .filter_map(|(g, _)| g.split('\t').next())
            .collect();
        let example = changed.first().map_or_else(String::new, |name| {
            all.iter()
                .filter(|((n, _), _)| n == name)
                .map(|((_, r), lines)| format!("{r}:\n{lines}"))
                .collect()
        });
        panic!(
            "the output changed for {} syscalls ({} lines now, {} in the file): {changed:?}\n\
             now, for the first:\n{example}",
            changed.len(),
            got.lines().count(),
            want.lines().count()
        );
    }
}
