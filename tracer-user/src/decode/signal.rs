//! Signal sets as strace 6.1 prints them (src/signal.c): `[HUP INT]`, `~[KILL]` when two
//! thirds or more of the bits are set, `[]` for none; `RTMIN`, `RT_1`… for real-time signals.
use serde_json::{Value, json};

use super::{flags, structs::Decoded};

/// `sizeof(sigset_t)` in the kernel (`_NSIG / 8` on x86_64 and aarch64).
pub const NSIG_BYTES: u64 = 8;

/// The set in `b` of `len` bytes (the call's sigsetsize), when strace prints it: `len` within
/// `min_len..=NSIG_BYTES` and that many bytes captured. None: strace prints the address.
pub fn sigset(b: &[u8], len: u64, min_len: u64) -> Option<Decoded> {
    if len < min_len || len > NSIG_BYTES {
        return None;
    }
    let len = len as usize;
    let bytes = b.get(..len)?;
    // The set as 32-bit words, the bytes past `len` zero.
    let words = len.div_ceil(4);
    let mut mask = [0u32; (NSIG_BYTES / 4) as usize];
    for (i, &byte) in bytes.iter().enumerate() {
        // Little-endian words on the hosts we run on: byte i holds bits 8i..8i+7.
        mask[i / 4] |= u32::from(byte) << (8 * (i % 4));
    }
    let bits = words * 32;
    let set: u32 = mask[..words].iter().map(|w| w.count_ones()).sum();
    let inverted = set as usize >= bits * 2 / 3;
    let mut text = String::new();
    if inverted {
        text.push('~');
    }
    text.push('[');
    let mut names = Vec::new();
    for bit in 0..bits {
        let on = mask[bit / 32] >> (bit % 32) & 1 == 1;
        if on == inverted {
            continue;
        }
        let sig = bit as i64 + 1;
        let name = match flags::SIGNALS.iter().find(|(v, _)| *v as i64 == sig) {
            Some((_, n)) => n.trim_start_matches("SIG").to_string(),
            None if sig == flags::SIGRTMIN => "RTMIN".into(),
            None if sig > flags::SIGRTMIN && sig <= flags::SIGRTMAX => {
                format!("RT_{}", sig - flags::SIGRTMIN)
            }
            None => sig.to_string(),
        };
        if !names.is_empty() {
            text.push(' ');
        }
        text.push_str(&name);
        names.push(Value::from(sig));
    }
    text.push(']');
    let j = json!({"inverted": inverted, "signals": names});
    Some((text, j))
}
