//! A direct JSON writer for the hot record type: the `syscall` line is written straight into
//! the line buffer (numbers with `itoa`, strings with the escaping serde_json uses), with no
//! intermediate `serde_json::Value` per record. Nested structures (socket addresses, structs)
//! still go through serde_json. `tests` check the output against serde_json's.
use serde_json::Value;

use crate::{decode::syscalls, model::event::ArgValue};

/// Appends `s` as a JSON string, escaped exactly as serde_json escapes: `"`, `\` and the
/// control characters below 0x20 (as `\b \t \n \f \r` or `\u00XX`).
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escaping: find the first byte that does.
    let Some(first) = first_to_escape(bytes) else {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    };
    out.extend_from_slice(&bytes[..first]);
    let mut start = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if !NEEDS_ESCAPE[b as usize] {
            continue;
        }
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => b"",
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The first byte serde_json escapes: eight bytes at a time while none is, then by table.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below `n` (n <= 128) sets its high bit in `(w - n * ONES) & !w & HIGH`; a zero
    // byte does with n = 1, so `w ^ (c * ONES)` finds a byte equal to `c`.
    let below = |w: u64, n: u64| w.wrapping_sub(n * ONES) & !w & HIGH;
    let words = bytes.chunks_exact(8);
    let mut checked = 0;
    for w in words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
        if below(w, 0x20)
            | below(w ^ (u64::from(b'"') * ONES), 1)
            | below(w ^ (u64::from(b'\\') * ONES), 1)
            != 0
        {
            break;
        }
        checked += 8;
    }
    bytes[checked..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[b as usize])
        .map(|p| checked + p)
}

/// Bytes serde_json escapes in strings.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

#[inline]
pub fn uint(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

#[inline]
pub fn int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub fn opt_uint(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => uint(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

pub fn opt_int(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(v) => int(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// `"key":` (keys are static ASCII without characters to escape).
pub fn key(out: &mut Vec<u8>, k: &str) {
    out.push(b'"');
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `,"key":` — the next field of an object.
pub fn next_key(out: &mut Vec<u8>, k: &str) {
    out.push(b',');
    key(out, k);
}

/// Any value: the common scalars directly, the rest through serde_json.
pub fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::String(s) => string(out, s),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => uint(out, u),
            (None, Some(i)) => int(out, i),
            _ => {
                let _ = serde_json::to_writer(&mut *out, v);
            }
        },
        _ => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

/// What a `syscall` line repeats for every call of a syscall, written once per syscall number:
/// `"syscall":"openat","nr":257,"args":[`, and each argument's
/// `{"name":"dfd","type":"int","value":`.
pub struct Prefix {
    head: Vec<u8>,
    /// (name, C type, prefix) of each argument, as `syscalls::args` lists them.
    args: Vec<(&'static str, &'static str, Vec<u8>)>,
}

impl Prefix {
    /// Syscall `nr`'s, `None` for a number the table does not know.
    pub fn of(nr: u32) -> Option<&'static Prefix> {
        static BY_NR: std::sync::OnceLock<Vec<Option<Prefix>>> = std::sync::OnceLock::new();
        let table = BY_NR.get_or_init(|| {
            (0..tracer_common::config::MAX_SYSCALL_NR)
                .map(|nr| {
                    let name = syscalls::name(nr)?;
                    let mut head = Vec::new();
                    key(&mut head, "syscall");
                    string(&mut head, name);
                    next_key(&mut head, "nr");
                    uint(&mut head, u64::from(nr));
                    head.extend_from_slice(b",\"args\":[");
                    let args = syscalls::args(nr)
                        .unwrap_or_default()
                        .iter()
                        .map(|a| {
                            let mut p = Vec::new();
                            arg_head(&mut p, a.name, a.ty);
                            (a.name, a.ty, p)
                        })
                        .collect();
                    Some(Prefix { head, args })
                })
                .collect()
        });
        table.get(nr as usize)?.as_ref()
    }
}

/// `{"name":"dfd","type":"int","value":`.
fn arg_head(out: &mut Vec<u8>, name: &str, ty: &str) {
    out.push(b'{');
    key(out, "name");
    string(out, name);
    next_key(out, "type");
    string(out, ty);
    next_key(out, "value");
}

/// `"syscall":"openat","nr":257,"args":[` (`prefix`: syscall `nr`'s).
pub fn syscall_head(out: &mut Vec<u8>, prefix: Option<&Prefix>, nr: u32) {
    match prefix {
        Some(p) => out.extend_from_slice(&p.head),
        None => {
            key(out, "syscall");
            string(out, &syscalls::display_name(nr));
            next_key(out, "nr");
            uint(out, u64::from(nr));
            out.extend_from_slice(b",\"args\":[");
        }
    }
}

/// `{"name":"dfd","type":"int","value":` for argument `i` (`prefix`: its syscall's).
pub fn arg_prefix(out: &mut Vec<u8>, prefix: Option<&Prefix>, i: usize, name: &str, ty: &str) {
    let same = |a: &str, b: &str| std::ptr::eq(a, b) || a == b;
    let known = prefix
        .and_then(|p| p.args.get(i))
        .filter(|(n, t, _)| same(n, name) && same(t, ty));
    match known {
        Some((_, _, p)) => out.extend_from_slice(p),
        None => arg_head(out, name, ty),
    }
}

/// An argument's typed value.
pub fn arg_value(out: &mut Vec<u8>, v: &ArgValue) {
    match v {
        ArgValue::Null => out.extend_from_slice(b"null"),
        ArgValue::Bool(true) => out.extend_from_slice(b"true"),
        ArgValue::Bool(false) => out.extend_from_slice(b"false"),
        ArgValue::Int(n) => int(out, *n),
        ArgValue::UInt(n) => uint(out, *n),
        ArgValue::Name(s) => string(out, s),
        ArgValue::Str(s) => string(out, s),
        ArgValue::Array(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                arg_value(out, v);
            }
            out.push(b']');
        }
        ArgValue::Object(o) => {
            out.push(b'{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                key(out, k);
                arg_value(out, v);
            }
            out.push(b'}');
        }
        ArgValue::Json(v) => value(out, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_serde_json() {
        let all: String = (0u8..=0x7f).map(char::from).collect::<String>() + "é€\u{fffd}";
        let mut out = Vec::new();
        string(&mut out, &all);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            serde_json::to_string(&all).unwrap_or_default()
        );
    }

    #[test]
    fn every_byte_at_every_place_escapes_like_serde_json() {
        // Each ASCII byte (and a multi-byte character) at each offset of a 17-byte string:
        // in the first word, the second, and the tail the table checks.
        let chars = (0u8..0x80).map(char::from).chain(['é', '\u{fffd}']);
        for c in chars {
            for at in 0..17 {
                let mut s = "abcdefghijklmnopq".to_string();
                s.replace_range(at..=at, &c.to_string());
                let mut out = Vec::new();
                string(&mut out, &s);
                assert_eq!(
                    String::from_utf8(out).unwrap_or_default(),
                    serde_json::to_string(&s).unwrap_or_default(),
                    "{c:?} at {at}"
                );
            }
        }
    }

    #[test]
    fn typed_values_like_serde_json() {
        let values = [
            ArgValue::Null,
            ArgValue::Bool(false),
            ArgValue::Int(-7),
            ArgValue::UInt(u64::MAX),
            ArgValue::Name("AT_FDCWD"),
            ArgValue::Str("a\"\n\u{1b}".into()),
            ArgValue::Array(vec![ArgValue::Int(1), ArgValue::Str("x".into())]),
            ArgValue::Array(Vec::new()),
            ArgValue::Object(vec![
                ("family", ArgValue::Name("AF_INET")),
                ("port", ArgValue::UInt(80)),
                ("inner", ArgValue::Object(Vec::new())),
            ]),
            ArgValue::Json(Box::new(serde_json::json!({"b": [1, null], "a": "z"}))),
        ];
        for v in values {
            let mut out = Vec::new();
            arg_value(&mut out, &v);
            assert_eq!(
                String::from_utf8(out).unwrap_or_default(),
                serde_json::to_string(&v.to_json()).unwrap_or_default()
            );
        }
    }

    #[test]
    fn numbers_and_values_like_serde_json() {
        for v in [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(-5),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!("a\"b"),
            serde_json::json!({"family": "AF_INET", "port": 80}),
            serde_json::json!([1, "x"]),
        ] {
            let mut out = Vec::new();
            value(&mut out, &v);
            assert_eq!(
                String::from_utf8(out).unwrap_or_default(),
                serde_json::to_string(&v).unwrap_or_default()
            );
        }
    }
}
