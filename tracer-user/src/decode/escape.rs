//! Bytes from traced processes, made safe to print: strace's quoting for text (no raw control
//! character ever reaches a terminal), and a lossless JSON form.
use std::fmt::Write as _;

/// strace's quoted form: `"GET / HTTP/1.1\r\n"`, octal escapes for other non-printable bytes
/// (three digits when a digit follows, as strace does), and `...` after the closing quote when
/// the data was cut.
pub fn quote(out: &mut String, bytes: &[u8], truncated: bool) {
    out.push('"');
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let next_is_digit = bytes.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                if next_is_digit {
                    let _ = write!(out, "\\{b:03o}");
                } else {
                    let _ = write!(out, "\\{b:o}");
                }
            }
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
}

pub fn quoted(bytes: &[u8], truncated: bool) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    quote(&mut s, bytes, truncated);
    s
}

pub use crate::model::event::ArgJson;

/// JSON for captured bytes: the text when they are UTF-8, else the text with U+FFFD for each
/// invalid sequence plus every byte in `hex`.
pub fn json_bytes(bytes: &[u8], truncated: bool) -> ArgJson {
    let (value, hex) = match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), None),
        Err(_) => {
            let mut hex = String::with_capacity(bytes.len() * 2);
            for b in bytes {
                let _ = write!(hex, "{b:02x}");
            }
            (String::from_utf8_lossy(bytes).into_owned(), Some(hex))
        }
    };
    ArgJson {
        value: value.into(),
        hex,
        truncated,
        path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_strace() {
        assert_eq!(
            quoted(b"GET / HTTP/1.1\r\nHost", true),
            r#""GET / HTTP/1.1\r\nHost"..."#
        );
        assert_eq!(
            quoted(b"a\"b\\c\td\x0be\x0c", false),
            r#""a\"b\\c\td\ve\f""#
        );
        assert_eq!(quoted(b"\0\x01x\x00", false), r#""\0\1x\0""#);
        assert_eq!(quoted(b"\x001\xff7", false), r#""\0001\3777""#);
        assert_eq!(quoted(b"\x1b[2J\x9b", false), r#""\33[2J\233""#);
    }

    #[test]
    fn quoted_text_never_contains_control_characters() {
        let all: Vec<u8> = (0..=255).collect();
        let q = quoted(&all, false);
        assert!(q.chars().all(|c| (' '..='~').contains(&c)), "{q}");
    }

    #[test]
    fn json_is_lossless() {
        let j = |b: &[u8], t| serde_json::Value::Object(json_bytes(b, t).to_object());
        assert_eq!(
            j(b"/etc/hosts", false),
            serde_json::json!({"value": "/etc/hosts"})
        );
        assert_eq!(
            j(b"a\xffb", true),
            serde_json::json!({"value": "a\u{fffd}b", "hex": "61ff62", "truncated": true})
        );
    }
}
