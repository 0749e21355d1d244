//! The properties every fuzz target checks on what `tracer` would print: whatever the bytes,
//! one record gives one valid JSON line, and text lines carry no raw control character.
use tracer::{
    decode::{self, SyscallEvent, args},
    model::clock::Clock,
    sink::{
        Sink as _,
        jsonl::{self, JsonLines},
        text,
    },
};

/// Renders `ev` as a JSON line and as text, and checks both.
pub fn check_rendering(ev: &SyscallEvent) {
    let clock = Clock::with_offset(1_700_000_000_000_000_000);
    let json = decode::event(
        ev.clone(),
        args::Options {
            json_only: true,
            ..args::Options::default()
        },
    );
    let mut sink = JsonLines::new(Vec::new(), clock);
    sink.event(&json).expect("writing to memory");
    sink.flush().expect("flushing to memory");
    let out = sink.into_inner();
    assert_eq!(out.last(), Some(&b'\n'), "a JSON record ends its line");
    assert_eq!(
        out.iter().filter(|&&b| b == b'\n').count(),
        1,
        "one record, one line"
    );
    let v: serde_json::Value = serde_json::from_slice(&out).expect("the line is valid JSON");
    assert_eq!(v["type"], "syscall");
    // The direct writer equals serde_json's rendering of the same record, byte for byte.
    let reference = jsonl::reference_line(&json, clock);
    assert_eq!(
        String::from_utf8_lossy(&out),
        reference,
        "direct JSON writer and serde_json differ"
    );

    // Decoded for text too (what `tracer seccomp` records), the JSON line is the same.
    let full = decode::event(ev.clone(), args::Options::default());
    let mut sink = JsonLines::new(Vec::new(), clock);
    sink.event(&full).expect("writing to memory");
    assert_eq!(
        String::from_utf8_lossy(&sink.into_inner()),
        String::from_utf8_lossy(&out),
        "JSON differs between JSON-only and full decoding"
    );

    let mut line = String::new();
    text::render(&mut line, &full, false);
    assert!(line.ends_with('\n'));
    for l in line.lines() {
        assert!(l.starts_with("[pid "), "every text line is a record: {l:?}");
        assert!(
            !l.chars().any(char::is_control),
            "raw control character in text output: {l:?}"
        );
    }
}

/// Decodes one ring buffer record, pairs it, and checks the rendering of what comes out.
pub fn decode_and_check(pairing: &mut decode::pairing::Pairing, item: &[u8]) {
    let Ok(rec) = decode::decode_record(item) else {
        return;
    };
    if let decode::Record::Syscall(ev) = &rec {
        check_rendering(ev);
    }
    if let Some(ev) = pairing.push(rec) {
        check_rendering(&ev);
    }
}
