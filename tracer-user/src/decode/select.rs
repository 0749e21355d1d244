//! select and pselect6: the fd sets passed in (`[3 4]`), and strace's note after the return
//! value: `(Timeout)`, or the sets the call left ready and the time left,
//! `(in [3], out [4], left {tv_sec=0, tv_usec=99})`.
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::structs::Decoded;

/// The descriptors set in `bits` below `nfds`, lowest first.
pub fn set_fds(bits: &[u8], nfds: u32) -> impl Iterator<Item = u32> + '_ {
    bits.iter().enumerate().flat_map(move |(byte, &b)| {
        (0..8u32)
            .filter(move |bit| b & (1 << bit) != 0)
            .map(move |bit| byte as u32 * 8 + bit)
            .filter(move |&fd| fd < nfds)
    })
}

/// `[3 4]`: an fd set as strace prints it.
pub fn fd_set(bits: &[u8], nfds: u32) -> Decoded {
    let fds: Vec<u32> = set_fds(bits, nfds).collect();
    let mut text = String::from("[");
    for (i, fd) in fds.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        let _ = write!(text, "{fd}");
    }
    text.push(']');
    (text, json!(fds))
}

/// `nfds` as the kernel takes it: an int, negative ones rejected (fs/select.c).
pub fn nfds(raw: u64) -> u32 {
    u32::try_from(raw as u32 as i32).unwrap_or(0)
}

/// The note after a successful return of `ready` descriptors: the ready sets (`sets`: the
/// three sets as the call left them, None where no set was passed or it was unreadable),
/// then `left` (the timeout's text as the call left it) when a timeout was passed.
pub fn note(ready: i64, nfds: u32, sets: [Option<&[u8]>; 3], left: Option<&str>) -> String {
    if ready == 0 {
        return "Timeout".into();
    }
    let mut out = String::new();
    let mut remaining = ready;
    let mut sep = "";
    for (name, set) in ["in", "out", "except"].iter().zip(sets) {
        if remaining <= 0 {
            break;
        }
        let Some(bits) = set else { continue };
        let mut first = true;
        for fd in set_fds(bits, nfds) {
            if first {
                let _ = write!(out, "{sep}{name} [{fd}");
                first = false;
                sep = ", ";
            } else {
                let _ = write!(out, " {fd}");
            }
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
        if !first {
            out.push(']');
        }
    }
    if let Some(left) = left {
        let _ = write!(out, "{sep}left {left}");
    }
    out
}

/// JSON of the ready sets.
pub fn ready_json(nfds: u32, sets: [Option<&[u8]>; 3]) -> Value {
    let list = |s: Option<&[u8]>| s.map(|b| set_fds(b, nfds).collect::<Vec<_>>());
    json!({"in": list(sets[0]), "out": list(sets[1]), "except": list(sets[2])})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_notes_as_strace_prints_them() {
        // strace 6.1, tests/xselect.c.
        let bits = [0b0001_1000u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(fd_set(&bits, 5).0, "[3 4]");
        assert_eq!(fd_set(&bits, 4).0, "[3]");
        assert_eq!(fd_set(&[0; 8], 64).0, "[]");
        assert_eq!(note(0, 5, [None; 3], None), "Timeout");
        let zero = [0u8; 8];
        // The three sets in one buffer: the call left it empty.
        assert_eq!(
            note(1, 5, [Some(&zero), Some(&zero), Some(&zero)], None),
            ""
        );
        let three = [0b1000u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            note(
                1,
                5,
                [Some(&three), None, None],
                Some("{tv_sec=0, tv_usec=99}")
            ),
            "in [3], left {tv_sec=0, tv_usec=99}"
        );
        assert_eq!(
            note(2, 5, [Some(&three), Some(&bits), None], None),
            "in [3], out [3]"
        );
        assert_eq!(nfds(u64::MAX), 0);
        assert_eq!(nfds(0xffff_ffff_0000_0005), 5);
    }
}
