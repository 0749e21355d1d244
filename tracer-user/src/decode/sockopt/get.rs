//! getsockopt's value as strace 6.1 prints it (net.c, print_getsockopt): decoded by level and
//! option from the bytes the kernel wrote, `rlen` being the length it returned. The capture
//! holds min(buffer size, returned length) bytes (at most 128); a value that needs more than
//! the capture holds is printed as its pointer (`None`), as strace does when it cannot read.
use serde_json::{Map, Value, json};

use super::{INT, int, int_at, is_int, txrehash};
use crate::decode::{
    errno,
    escape::{self, ArgJson, Hex},
    structs::Decoded,
};

/// How bytes are quoted: strace's `-x`/`-xx` and `-s`.
#[derive(Clone, Copy, Debug)]
pub struct Quoting {
    pub hex: Hex,
    pub string_size: usize,
}

/// A field of a struct strace prints only as far as the returned length reaches.
#[derive(Clone, Copy)]
enum Field {
    /// `%d`.
    Int,
    /// `%u`.
    Uint,
    /// A uid or gid: unsigned, but `-1` as such.
    Id,
}

/// `struct linger`.
const LINGER: &[(&str, Field)] = &[("l_onoff", Field::Int), ("l_linger", Field::Int)];
/// `struct ucred`.
const UCRED: &[(&str, Field)] = &[("pid", Field::Int), ("uid", Field::Id), ("gid", Field::Id)];
/// `struct tpacket_stats` (include/uapi/linux/if_packet.h) with v3's `tp_freeze_q_cnt`.
const TPACKET_STATS: &[(&str, Field)] = &[
    ("tp_packets", Field::Uint),
    ("tp_drops", Field::Uint),
    ("tp_freeze_q_cnt", Field::Uint),
];

/// The value of option `(level, name)` after a successful call: `ulen` the buffer size passed
/// in, `rlen` the length returned, `data` the capture.
pub fn value(
    level: i32,
    name: i32,
    ulen: i32,
    rlen: i32,
    data: &[u8],
    q: Quoting,
) -> Option<(String, ArgJson)> {
    // Negative lengths are forged by the caller (the kernel neither takes nor returns one).
    if ulen <= 0 || rlen <= 0 {
        return None;
    }
    let len = rlen as usize;
    let decoded = |d: Option<Decoded>| d.map(|(t, j)| (t, ArgJson::of(j)));
    match level {
        libc::SOL_SOCKET => match name {
            libc::SO_LINGER => return decoded(fields(data, len, LINGER)),
            libc::SO_PEERCRED => return decoded(fields(data, len, UCRED)),
            // A sock_filter array, which is not decoded.
            libc::SO_ATTACH_FILTER => return None,
            libc::SO_ERROR if len < INT => return quoted(data, len, Hex::All, q.string_size),
            libc::SO_ERROR => return decoded(error(data)),
            libc::SO_TXREHASH if len < INT => return quoted(data, len, Hex::All, q.string_size),
            libc::SO_TXREHASH => return decoded(txrehash(data)),
            n if is_int(n) && len < INT => return quoted(data, len, Hex::All, q.string_size),
            n if is_int(n) => return decoded(int(data)),
            _ => {}
        },
        libc::SOL_PACKET if name == libc::PACKET_STATISTICS => {
            return decoded(fields(data, len, TPACKET_STATS));
        }
        // A bit set and an array, which are not decoded.
        libc::SOL_RAW if name == super::ICMP_FILTER => return None,
        libc::SOL_NETLINK if name == libc::NETLINK_LIST_MEMBERSHIPS => return None,
        // strace reads an `int` whatever the length: without 4 bytes, the pointer.
        libc::SOL_NETLINK => return decoded(int(data)),
        _ => {}
    }
    if len == INT {
        decoded(int(data))
    } else {
        quoted(data, len, q.hex, q.string_size)
    }
}

/// `len` bytes quoted as strace's `printstr_ex` prints them: `string_size` of them, `...`
/// after when there are more. `None` when the capture holds fewer than strace reads.
fn quoted(data: &[u8], len: usize, hex: Hex, string_size: usize) -> Option<(String, ArgJson)> {
    let read = len.min(string_size.saturating_add(1));
    if data.len() < read {
        return None;
    }
    let shown = &data[..len.min(string_size)];
    let cut = len > string_size;
    Some((
        escape::quoted_with(shown, cut, hex),
        escape::json_bytes(shown, cut),
    ))
}

/// `[ECONNREFUSED]`: SO_ERROR's pending error by name (the number when it has none).
fn error(b: &[u8]) -> Option<Decoded> {
    let v = int_at(b, 0)?;
    let name = errno::name(v);
    // `errno::name` spells a number without a name `E<n>`; strace prints it unsigned.
    if name == format!("E{v}") {
        let u = v as u32;
        Some((format!("[{u}]"), json!(u)))
    } else {
        Some((format!("[{name}]"), json!(name)))
    }
}

/// `{l_onoff=1, l_linger=5}` for the first `len` bytes (no more than the struct): a field the
/// length cuts short is its bytes in hex (`{l_onoff="\x01\x00\x00"}`), a field it does not
/// reach is left out (strace's `MAYBE_PRINT_FIELD_LEN`). In JSON, a cut field is its bytes'
/// hex digits.
fn fields(data: &[u8], len: usize, shape: &[(&str, Field)]) -> Option<Decoded> {
    let len = len.min(shape.len() * INT);
    let data = data.get(..len)?;
    let mut text = String::from("{");
    let mut o = Map::new();
    for (k, &(name, field)) in shape.iter().enumerate() {
        let start = k * INT;
        if len <= start {
            break;
        }
        if k > 0 {
            text.push_str(", ");
        }
        text.push_str(name);
        text.push('=');
        let Some(v) = int_at(data, start) else {
            let part = &data[start..];
            text.push_str(&escape::quoted_with(part, false, Hex::All));
            let digits: String = part.iter().map(|b| format!("{b:02x}")).collect();
            o.insert(name.into(), json!(digits));
            continue;
        };
        let v: Value = match field {
            Field::Int => json!(v),
            Field::Id if v == -1 => json!(-1),
            Field::Uint | Field::Id => json!(v as u32),
        };
        text.push_str(&v.to_string());
        o.insert(name.into(), v);
    }
    text.push('}');
    Some((text, Value::Object(o)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Quoting = Quoting {
        hex: Hex::None,
        string_size: 32,
    };

    fn text(level: i32, name: i32, ulen: i32, rlen: i32, data: &[u8]) -> Option<String> {
        value(level, name, ulen, rlen, data, Q).map(|v| v.0)
    }

    fn ints(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|i| i.to_ne_bytes()).collect()
    }

    #[test]
    fn linger_and_ucred_as_far_as_the_length_goes() {
        // strace 6.1, tests/so_linger.c and tests/so_peercred.c.
        let sol = libc::SOL_SOCKET;
        let l = ints(&[1, -1752346657]);
        let linger = |len: i32, data: &[u8]| text(sol, libc::SO_LINGER, len, len, data);
        assert_eq!(
            linger(8, &l).as_deref(),
            Some("{l_onoff=1, l_linger=-1752346657}")
        );
        // [9 => 8]: the capture holds the 8 bytes returned.
        assert_eq!(
            text(sol, libc::SO_LINGER, 9, 8, &l).as_deref(),
            Some("{l_onoff=1, l_linger=-1752346657}")
        );
        assert_eq!(
            linger(3, &l[..3]).as_deref(),
            Some(r#"{l_onoff="\x01\x00\x00"}"#)
        );
        assert_eq!(linger(4, &l[..4]).as_deref(), Some("{l_onoff=1}"));
        assert_eq!(
            linger(7, &l[..7]).as_deref(),
            Some(r#"{l_onoff=1, l_linger="\xdf\x4f\x8d"}"#)
        );
        // Fewer bytes captured than returned: unreadable.
        assert_eq!(linger(8, &l[..4]), None);
        assert_eq!(text(sol, libc::SO_LINGER, 0, 0, &[]), None);
        let u = ints(&[17413, 0, -1]);
        let ucred = |len: i32, data: &[u8]| text(sol, libc::SO_PEERCRED, len, len, data);
        assert_eq!(ucred(12, &u).as_deref(), Some("{pid=17413, uid=0, gid=-1}"));
        assert_eq!(
            text(sol, libc::SO_PEERCRED, 13, 12, &u).as_deref(),
            Some("{pid=17413, uid=0, gid=-1}")
        );
        assert_eq!(
            ucred(3, &u[..3]).as_deref(),
            Some(r#"{pid="\x05\x44\x00"}"#)
        );
        assert_eq!(
            ucred(7, &u[..7]).as_deref(),
            Some(r#"{pid=17413, uid="\x00\x00\x00"}"#)
        );
        assert_eq!(ucred(8, &u[..8]).as_deref(), Some("{pid=17413, uid=0}"));
        let big = ints(&[1, 0, 4_000_000_000u32 as i32]);
        let (t, j) = value(sol, libc::SO_PEERCRED, 12, 12, &big, Q).expect("decodes");
        assert_eq!(t, "{pid=1, uid=0, gid=4000000000}");
        assert_eq!(
            j.value.to_json(),
            json!({"pid": 1, "uid": 0, "gid": 4_000_000_000u32})
        );
        let (_, j) = value(sol, libc::SO_LINGER, 3, 3, &l[..3], Q).expect("decodes");
        assert_eq!(j.value.to_json(), json!({"l_onoff": "010000"}));
    }

    #[test]
    fn so_error_by_name_or_in_hex() {
        // strace 6.1, tests/so_error.c.
        let sol = libc::SOL_SOCKET;
        let e = ints(&[libc::ECONNREFUSED]);
        let err = |ulen, rlen, data: &[u8]| text(sol, libc::SO_ERROR, ulen, rlen, data);
        assert_eq!(err(4, 4, &e).as_deref(), Some("[ECONNREFUSED]"));
        assert_eq!(err(5, 4, &e).as_deref(), Some("[ECONNREFUSED]"));
        assert_eq!(err(1, 1, &e[..1]).as_deref(), Some(r#""\x6f""#));
        assert_eq!(err(3, 3, &e[..3]).as_deref(), Some(r#""\x6f\x00\x00""#));
        assert_eq!(err(0, 0, &[]), None);
        assert_eq!(err(-1, -1, &[]), None);
        assert_eq!(err(4, 4, &ints(&[0])).as_deref(), Some("[0]"));
        assert_eq!(err(4, 4, &ints(&[-2])).as_deref(), Some("[4294967294]"));
        let (_, j) = value(sol, libc::SO_ERROR, 4, 4, &e, Q).expect("decodes");
        assert_eq!(j.value.to_json(), json!("ECONNREFUSED"));
    }

    #[test]
    fn ints_and_the_rest_by_length() {
        // strace 6.1, tests/sockopt-sol_socket.c.
        let sol = libc::SOL_SOCKET;
        let v = ints(&[-1234567890]);
        assert_eq!(
            text(sol, libc::SO_DEBUG, 4, 4, &v).as_deref(),
            Some("[-1234567890]")
        );
        assert_eq!(
            text(sol, libc::SO_DEBUG, 3, 3, &v[..3]).as_deref(),
            Some(r#""\x2e\xfd\x69""#)
        );
        assert_eq!(
            text(sol, libc::SO_TXREHASH, 4, 4, &ints(&[1])).as_deref(),
            Some("[SOCK_TXREHASH_ENABLED]")
        );
        assert_eq!(
            text(sol, libc::SO_TXREHASH, 5, 4, &ints(&[2])).as_deref(),
            Some("[2 /* SOCK_TXREHASH_??? */]")
        );
        // Options strace does not decode: an int when 4 bytes came back, else the bytes.
        assert_eq!(
            text(sol, libc::SO_TYPE, 5, 4, &ints(&[5])).as_deref(),
            Some("[5]")
        );
        assert_eq!(
            text(sol, libc::SO_PEERSEC, 3, 3, b"ab\0").as_deref(),
            Some(r#""ab\0""#)
        );
        assert_eq!(
            text(sol, libc::SO_PEERSEC, 40, 11, b"unconfined\0").as_deref(),
            Some(r#""unconfined\0""#)
        );
        // Cut at -s: strace reads one byte more than it shows.
        let long = [b'x'; 40];
        let cut = format!("\"{}\"...", "x".repeat(32));
        assert_eq!(
            text(libc::SOL_TCP, libc::TCP_INFO, 104, 104, &long).as_deref(),
            Some(cut.as_str())
        );
        assert_eq!(
            text(libc::SOL_TCP, libc::TCP_CONGESTION, 40, 40, &long).as_deref(),
            Some(cut.as_str())
        );
        assert_eq!(
            text(libc::SOL_TCP, libc::TCP_CONGESTION, 40, 40, &long[..32]),
            None
        );
        // SOL_NETLINK: an int whatever the length.
        assert_eq!(
            text(libc::SOL_NETLINK, 3, 8, 8, &ints(&[1, 2])).as_deref(),
            Some("[1]")
        );
        let stats = ints(&[10, 2]);
        assert_eq!(
            text(libc::SOL_PACKET, libc::PACKET_STATISTICS, 12, 8, &stats).as_deref(),
            Some("{tp_packets=10, tp_drops=2}")
        );
        assert_eq!(
            text(libc::SOL_NETLINK, libc::NETLINK_LIST_MEMBERSHIPS, 4, 4, &v),
            None
        );
    }
}
