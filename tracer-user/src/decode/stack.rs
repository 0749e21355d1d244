//! `-k`: the user stack capture ([`CAP_STACK`]) of a syscall record → its frames' addresses.
//! What is at each address is the enrich stage's to find (`enrich::stack`).
use tracer_common::capture::{CAP_STACK, MAX_STACK_FRAMES};

use crate::model::{Frame, event::Capture};

/// Takes the stack capture out of `captures` (argument decoders never see it) and returns its
/// frames: `None` when there was none (no `-k`), empty when the kernel's walk failed. A length
/// that is not a whole number of addresses keeps its whole ones; more than
/// [`MAX_STACK_FRAMES`] are cut there (the kernel asks for no more).
pub fn take(captures: &mut Vec<Capture>) -> Option<Vec<Frame>> {
    let i = captures.iter().position(|c| c.kind == CAP_STACK)?;
    let c = captures.remove(i);
    captures.retain(|c| c.kind != CAP_STACK);
    if c.fault() {
        return Some(Vec::new());
    }
    Some(
        c.data
            .chunks_exact(8)
            .take(MAX_STACK_FRAMES as usize)
            .map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                u64::from_ne_bytes(a)
            })
            // The walk ends at a zero frame pointer; a zero address is no frame.
            .take_while(|&addr| addr != 0)
            .map(|addr| Frame {
                addr,
                ..Frame::default()
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use tracer_common::capture::{CAP_BUF_OUT, CAPF_FAULT};

    use super::*;
    use crate::decode::{decode, tests as fixtures};

    fn stack_bytes(addrs: &[u64]) -> Vec<u8> {
        addrs.iter().flat_map(|a| a.to_ne_bytes()).collect()
    }

    /// Captures as the stack's are sent: argument 0.
    fn with(rec: Vec<u8>, caps: &[(u8, u8, &[u8])]) -> Vec<u8> {
        let caps: Vec<(u8, u8, u8, &[u8])> = caps.iter().map(|&(k, f, d)| (0, k, f, d)).collect();
        fixtures::with_captures(rec, &caps)
    }

    fn addrs(frames: &[Frame]) -> Vec<u64> {
        frames.iter().map(|f| f.addr).collect()
    }

    #[test]
    fn a_record_without_a_stack_capture_has_no_stack() {
        let ev = decode(&fixtures::bytes(&fixtures::record(0, 110, 1))).expect("decodes");
        assert_eq!(ev.stack, None);
    }

    #[test]
    fn decodes_the_addresses_innermost_first_apart_from_the_argument_captures() {
        let data = stack_bytes(&[0x401a2b, 0x401b00, 0x7f00_0000_1234]);
        let b = with(
            fixtures::bytes(&fixtures::record(0, 0, 5)),
            &[(CAP_BUF_OUT, 0, b"hello"), (CAP_STACK, 0, &data)],
        );
        let ev = decode(&b).expect("decodes");
        let stack = ev.stack.expect("a stack");
        assert_eq!(addrs(&stack), [0x401a2b, 0x401b00, 0x7f00_0000_1234]);
        assert!(
            stack
                .iter()
                .all(|f| f.module.is_none() && f.symbol.is_none())
        );
        assert_eq!(ev.captures.len(), 1, "the stack is not an argument capture");
        assert_eq!(ev.captures[0].data, b"hello");
    }

    #[test]
    fn a_failed_walk_is_an_empty_stack() {
        let b = with(
            fixtures::bytes(&fixtures::record(0, 39, 5)),
            &[(CAP_STACK, CAPF_FAULT, b"")],
        );
        assert_eq!(decode(&b).expect("decodes").stack, Some(Vec::new()));
    }

    #[test]
    fn odd_lengths_zero_frames_and_too_many_frames_are_cut() {
        // 2 whole addresses and 3 stray bytes.
        let mut data = stack_bytes(&[0x1000, 0x2000]);
        data.extend_from_slice(&[1, 2, 3]);
        let b = with(
            fixtures::bytes(&fixtures::record(0, 39, 5)),
            &[(CAP_STACK, 0, &data)],
        );
        assert_eq!(
            addrs(&decode(&b).expect("decodes").stack.expect("stack")),
            [0x1000, 0x2000]
        );
        let data = stack_bytes(&[0x1000, 0, 0x3000]);
        let b = with(
            fixtures::bytes(&fixtures::record(0, 39, 5)),
            &[(CAP_STACK, 0, &data)],
        );
        assert_eq!(
            addrs(&decode(&b).expect("decodes").stack.expect("stack")),
            [0x1000]
        );
        let many: Vec<u64> = (1..=40).collect();
        let b = with(
            fixtures::bytes(&fixtures::record(0, 39, 5)),
            &[(CAP_STACK, 0, &stack_bytes(&many))],
        );
        let stack = decode(&b).expect("decodes").stack.expect("stack");
        assert_eq!(stack.len(), MAX_STACK_FRAMES as usize);
        // A stack capture claiming more bytes than the record holds is an error, not a panic.
        let mut bad = with(
            fixtures::bytes(&fixtures::record(0, 39, 5)),
            &[(CAP_STACK, 0, &stack_bytes(&[1, 2]))],
        );
        bad[128 + 4] = 200;
        assert!(decode(&bad).is_err());
    }
}
