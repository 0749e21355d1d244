//! Recording files (`tracer show FILE`): whatever the bytes, the reader never panics, every
//! frame it returns lies before the error it stops at, and the records of its batches decode,
//! pair and render as live ones do.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracer::bpf::{
    reader::records,
    recording::{Frame, Reader},
};
use tracer::decode::pairing::Pairing;

fuzz_target!(|data: &[u8]| {
    let Ok((mut reader, _header)) = Reader::open(data) else {
        return;
    };
    let mut pairing = Pairing::default();
    loop {
        let before = reader.offset();
        match reader.next_frame() {
            Ok(Some(Frame::Batch(b))) => {
                for rec in records(&b) {
                    tracer_fuzz::decode_and_check(&mut pairing, rec);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                assert_eq!(e.offset(), before, "the error names the frame it stopped at");
                assert!(e.offset() as usize <= data.len());
                break;
            }
        }
        assert!(reader.offset() as usize <= data.len());
    }
});
