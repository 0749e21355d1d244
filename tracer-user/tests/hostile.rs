//! Hostile input: arbitrary bytes in records, captures and strings. Decoding never panics,
//! every JSON line parses, and text never carries a raw control character.
use proptest::prelude::*;
use tracer::{
    decode::{self, Record, args, decode_record, escape, pairing::Pairing},
    model::clock::Clock,
    sink::{Sink, jsonl::JsonLines, text::Text},
};
use tracer_common::{
    capture::{
        CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_IOV_DATA, CAP_IOV_IN, CAP_SOCKADDR_IN,
        CAP_SOCKADDR_OUT, CAP_STR, CAP_STRUCT_IN, CAP_STRUCT_OUT,
    },
    record::{KIND_SIGNAL, KIND_SYSCALL},
};

/// A syscall record header and body for `nr`, with `caps` appended as captures.
fn record(
    nr: u32,
    ret: i64,
    args: [u64; 6],
    flags: u16,
    comm: [u8; 16],
    caps: &[(u8, u8, u8, Vec<u8>)],
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&KIND_SYSCALL.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes()); // len, fixed below
    b.extend_from_slice(&1_000u64.to_ne_bytes());
    b.extend_from_slice(&10u32.to_ne_bytes());
    b.extend_from_slice(&11u32.to_ne_bytes());
    b.extend_from_slice(&nr.to_ne_bytes());
    b.extend_from_slice(&1u32.to_ne_bytes());
    b.extend_from_slice(&1u32.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(&ret.to_ne_bytes());
    b.extend_from_slice(&500u64.to_ne_bytes());
    b.extend_from_slice(&7u64.to_ne_bytes());
    for a in args {
        b.extend_from_slice(&a.to_ne_bytes());
    }
    b.extend_from_slice(&comm);
    for (arg, kind, index, data) in caps {
        b.extend_from_slice(&[*arg, *kind, 0, *index]);
        b.extend_from_slice(&(data.len() as u32).to_ne_bytes());
        b.extend_from_slice(data);
        b.resize(b.len().next_multiple_of(8), 0);
    }
    let len = b.len() as u32;
    b[4..8].copy_from_slice(&len.to_ne_bytes());
    b
}

fn kinds() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![
        CAP_STR,
        CAP_BUF_IN,
        CAP_BUF_OUT,
        CAP_SOCKADDR_IN,
        CAP_SOCKADDR_OUT,
        CAP_IOV_IN,
        CAP_IOV_DATA,
        CAP_STRUCT_IN,
        CAP_STRUCT_OUT,
        CAP_ARGV,
        0,
        200,
    ])
}

/// Text without control characters but its line ends.
fn assert_printable(t: &str) {
    for c in t.chars() {
        assert!(
            c == '\n' || !c.is_control(),
            "control character {c:?} in {t:?}"
        );
    }
}

/// A signal record is one JSON line and printable text.
fn assert_safe_signal(s: &tracer::model::SignalEvent) {
    let mut json = JsonLines::new(Vec::new(), Clock::new());
    json.signal(s).expect("write to a Vec");
    let out = json.into_inner();
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert!(v["type"] == "signal" || v["type"] == "killed", "{v}");
    let mut text = Text::new(Vec::new(), false);
    text.signal(s).expect("write to a Vec");
    let t = String::from_utf8(text.into_inner()).expect("text is UTF-8");
    assert_eq!(t.matches('\n').count(), 1, "{t}");
    assert_printable(&t);
}

fn assert_safe_outputs(bytes: &[u8]) {
    let Ok(rec) = decode_record(bytes) else {
        return;
    };
    if let Record::Signal(s) = &rec {
        assert_safe_signal(s);
        return;
    }
    let mut pairing = Pairing::default();
    let Some(ev) = pairing.push(rec.clone()).or(match rec {
        Record::Syscall(ev) => Some(ev),
        Record::Enter(_) | Record::Signal(_) => None,
    }) else {
        return;
    };
    let e = decode::event(ev.clone(), args::Options::default());
    let mut json = JsonLines::new(Vec::new(), Clock::new());
    json.event(&decode::event(
        ev,
        args::Options {
            json_only: true,
            ..args::Options::default()
        },
    ))
    .expect("write to a Vec");
    let out = json.into_inner();
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["type"], "syscall");
    let mut text = Text::new(Vec::new(), false);
    text.event(&e).expect("write to a Vec");
    let t = String::from_utf8(text.into_inner()).expect("text is UTF-8");
    for c in t.chars() {
        assert!(
            c == '\n' || !c.is_control(),
            "control character {c:?} in {t:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_record(&bytes);
        assert_safe_outputs(&bytes);
    }

    #[test]
    fn arbitrary_signal_records_stay_safe(
        flags in 0u16..16,
        body in prop::collection::vec(any::<u8>(), 120),
    ) {
        let mut b = Vec::new();
        b.extend_from_slice(&KIND_SIGNAL.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&128u32.to_ne_bytes());
        b.extend_from_slice(&body);
        prop_assert!(matches!(decode_record(&b), Ok(Record::Signal(_))));
        assert_safe_outputs(&b);
    }

    #[test]
    fn arbitrary_captures_stay_escaped(
        nr in 0u32..460,
        ret in prop_oneof![Just(-2i64), Just(0), Just(5), any::<i64>()],
        args in any::<[u64; 6]>(),
        flags in 0u16..8,
        comm in any::<[u8; 16]>(),
        caps in prop::collection::vec(
            (0u8..7, kinds(), 0u8..20, prop::collection::vec(any::<u8>(), 0..300)),
            0..6,
        ),
    ) {
        assert_safe_outputs(&record(nr, ret, args, flags, comm, &caps));
    }

    #[test]
    fn quoting_is_printable_ascii(bytes in prop::collection::vec(any::<u8>(), 0..4200), cut in any::<bool>()) {
        let q = escape::quoted(&bytes, cut);
        prop_assert!(q.bytes().all(|b| (0x20..0x7f).contains(&b)));
        let j = serde_json::Value::Object(escape::json_bytes(&bytes, cut).to_object());
        let back: serde_json::Value = serde_json::from_str(&j.to_string()).expect("json");
        if let Some(hex) = back.get("hex").and_then(|h| h.as_str()) {
            let decoded: Vec<u8> = (0..hex.len()).step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            prop_assert_eq!(decoded, bytes);
        } else {
            prop_assert_eq!(back["value"].as_str().map(str::as_bytes), Some(&bytes[..]));
        }
    }
}

#[test]
fn long_paths_and_terminal_escapes() {
    let path = vec![b'a'; 4095];
    let evil = b"\x1b]0;pwned\x07\x1b[2J\xff\xfe/etc/\"x\"".to_vec();
    for data in [path, evil] {
        assert_safe_outputs(&record(
            257,
            -2,
            [0; 6],
            0,
            *b"\x1b[31mcomm\0\0\0\0\0\0\0",
            &[(1, CAP_STR, 0, data)],
        ));
    }
}
