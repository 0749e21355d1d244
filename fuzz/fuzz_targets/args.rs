//! The argument decoders, driven directly: any syscall number, any raw arguments and return
//! value, any captured argument contents (strings, buffers, sockaddrs, iovecs, structs, argv).
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracer::decode::{Capture, Enter, SyscallEvent};

#[derive(Debug, Arbitrary)]
struct Input {
    nr: u16,
    args: [u64; 6],
    ret: Option<i64>,
    enter: u8,
    ktime_ns: u64,
    enter_ns: u64,
    tid: u32,
    ns_tid: Option<u32>,
    comm: [u8; 16],
    captures: Vec<Cap>,
}

#[derive(Debug, Arbitrary)]
struct Cap {
    arg: u8,
    kind: u8,
    flags: u8,
    index: u8,
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let enter = match input.enter % 4 {
        0 => Enter::Seen,
        1 => Enter::Missing,
        2 => Enter::Skipped,
        _ => Enter::Unfinished,
    };
    let ev = SyscallEvent {
        ktime_ns: input.ktime_ns,
        enter_ns: (enter == Enter::Seen).then_some(input.enter_ns),
        // Mostly real syscall numbers, sometimes past the table.
        nr: u32::from(input.nr % 640),
        args: input.args,
        ret: if enter == Enter::Unfinished {
            None
        } else {
            input.ret
        },
        tgid: input.tid,
        tid: input.tid,
        ns_tgid: input.ns_tid,
        ns_tid: input.ns_tid,
        cgroup_id: 0,
        comm: input.comm,
        enter,
        sigsys: enter == Enter::Skipped && input.enter & 4 != 0,
        captures: input
            .captures
            .into_iter()
            .map(|c| Capture {
                arg: c.arg % 8,
                kind: c.kind % 16,
                flags: c.flags,
                index: c.index,
                data: c.data,
            })
            .collect(),
        stack: None,
    };
    tracer_fuzz::check_rendering(&ev);
});
