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
