//! Bytes from traced processes, made safe to print: strace's quoting for text (no raw control
//! character ever reaches a terminal), and a lossless JSON form.
use std::fmt::Write as _;

/// strace's quoted form: `"GET / HTTP/1.1\r\n"`, octal escapes for other non-printable bytes
/// (three digits when a digit follows, as strace does), and `...` after the closing quote when
/// the data was cut.
pub fn quote(out: &mut String, bytes: &[u8], truncated: bool) {
    quote_with(out, bytes, truncated, Hex::None);
}

/// strace's `-x` / `-xx` (`--strings-in-hex`): which strings are printed as `\x` escapes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Hex {
    /// Octal escapes for non-printable bytes only (strace's default).
    #[default]
    None,
    /// `-x`: the whole string in hex when any byte is neither printable nor whitespace.
    NonAscii,
    /// `-xx`: every string in hex.
    All,
}

/// [`quote`] in the given hex style.
pub fn quote_with(out: &mut String, bytes: &[u8], truncated: bool, hex: Hex) {
    // strace's string_quote: with -x, a byte above 0x7e or a control character other than
    // \t \n \v \f \r turns the whole string to hex.
    let all_hex = match hex {
        Hex::None => false,
        Hex::All => true,
        Hex::NonAscii => bytes
            .iter()
            .any(|&b| b > 0x7e || (b < b' ' && !(9..=13).contains(&b))),
    };
    if all_hex {
        out.reserve(bytes.len() * 4 + 5);
        out.push('"');
        for b in bytes {
            let _ = write!(out, "\\x{b:02x}");
        }
        out.push('"');
        if truncated {
            out.push_str("...");
        }
        return;
    }
    out.push('"');
    unquoted(out, bytes);
    out.push('"');
    if truncated {
        out.push_str("...");
    }
}

/// [`quote`]'s escapes without the quotes: for names printed bare, such as `-k`'s module paths
/// and symbols.
pub fn unquoted(out: &mut String, bytes: &[u8]) {
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
}

pub fn quoted(bytes: &[u8], truncated: bool) -> String {
    quoted_with(bytes, truncated, Hex::None)
}

pub fn quoted_with(bytes: &[u8], truncated: bool, hex: Hex) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    quote_with(&mut s, bytes, truncated, hex);
    s
}

pub use crate::model::event::ArgJson;

/// Appends every byte as two lower-case hex digits.
pub fn hex_into(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// JSON for captured bytes: the text when they are UTF-8, else the text with U+FFFD for each
/// invalid sequence plus every byte in `hex`.
pub fn json_bytes(bytes: &[u8], truncated: bool) -> ArgJson {
    let (value, hex) = match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), None),
        Err(_) => {
            let mut hex = String::with_capacity(bytes.len() * 2);
            hex_into(&mut hex, bytes);
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
    fn hex_styles_match_strace_x_and_xx() {
        // strace 6.1 -x: only strings with a non-printable, non-space byte go hex, whole.
        assert_eq!(quoted_with(b"a\tb\n", false, Hex::NonAscii), r#""a\tb\n""#);
        assert_eq!(
            quoted_with(b"a\x01", true, Hex::NonAscii),
            r#""\x61\x01"..."#
        );
        assert_eq!(quoted_with(b"\xe9t", false, Hex::NonAscii), r#""\xe9\x74""#);
        // -xx: all of them.
        assert_eq!(quoted_with(b"ok", false, Hex::All), r#""\x6f\x6b""#);
        assert_eq!(quoted_with(b"", false, Hex::All), r#""""#);
    }

    #[test]
    fn quoted_text_never_contains_control_characters() {
        let all: Vec<u8> = (0..=255).collect();
        let q = quoted(&all, false);
        assert!(q.chars().all(|c| (' '..='~').contains(&c)), "{q}");
    }

    #[test]
    fn hex_of_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let mut h = String::new();
        hex_into(&mut h, &all);
        let want: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(h, want);
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
