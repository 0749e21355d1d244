//! Ring buffer items as the user side receives them: a sequence of length-prefixed items
//! (u16 little-endian length, then the bytes), decoded, paired enter→exit, rendered.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracer::decode::pairing::Pairing;

fuzz_target!(|data: &[u8]| {
    let mut pairing = Pairing::default();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let item = &rest[2..2 + len];
        rest = &rest[2 + len..];
        tracer_fuzz::decode_and_check(&mut pairing, item);
    }
});
