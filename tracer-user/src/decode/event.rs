//! A paired syscall record turned into the typed event every sink renders: its arguments
//! decoded once. What its fds refer to (`-y`) is added by the enrich stage (`enrich::fds`),
//! which sees the stream of events.
use super::{SyscallEvent, args};
use crate::model::Event;

/// Decodes `call`'s arguments with `opts`; the container and fd paths are the enrich stage's
/// to fill.
pub fn event(call: SyscallEvent, opts: args::Options) -> Event {
    let args = args::decode_with(&call, opts);
    let ret_note = if opts.json_only {
        None
    } else {
        args::ret_note(&call, opts)
    };
    Event {
        call,
        args,
        ret_path: None,
        ret_shown: None,
        ret_note,
        container: None,
    }
}

/// Decodes `e`'s arguments again with `opts` (another string size): the daemon's
/// per-container `string-size` below the kernel's, after [`cut_strings`].
pub fn redecode(e: &mut Event, opts: args::Options) {
    e.args = args::decode_with(&e.call, opts);
    e.ret_note = if opts.json_only {
        None
    } else {
        args::ret_note(&e.call, opts)
    };
}

/// Cuts the captured strings and buffers of `call` as the kernel would have with a string
/// size of `n` (paths keep theirs, PATH_MAX, as strace prints them whole). Returns whether
/// anything was cut.
pub fn cut_strings(call: &mut SyscallEvent, n: u32) -> bool {
    use tracer_common::capture::{
        CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_IOV_DATA, CAP_STR_SIZED, CAPF_TRUNCATED,
    };
    let n = n as usize;
    let mut cut = false;
    for c in &mut call.captures {
        // Strings keep one byte more than the size: the kernel reads it to tell a string of
        // exactly the size from a longer one (the decoder shows `n` of them, then `...`).
        let keep = match c.kind {
            CAP_STR_SIZED | CAP_ARGV => n + 1,
            CAP_BUF_IN | CAP_BUF_OUT | CAP_IOV_DATA => n,
            _ => continue,
        };
        if c.data.len() > n {
            c.data.truncate(keep);
            c.flags |= CAPF_TRUNCATED;
            cut = true;
        }
    }
    cut
}
