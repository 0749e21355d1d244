//! A paired syscall record turned into the typed event every sink renders: its arguments
//! decoded once, and with `-y` what a returned fd refers to.
use super::{SyscallEvent, args, fdpath, syscalls};
use crate::model::Event;

/// Decodes `call`'s arguments with `opts`; the container is the enrich stage's to fill.
pub fn event(call: SyscallEvent, opts: args::Options) -> Event {
    let args = args::decode_with(&call, opts);
    let ret_path = match call.ret {
        Some(ret)
            if opts.fd_paths
                && ret >= 0
                && fdpath::returns_fd(&syscalls::display_name(call.nr)) =>
        {
            fdpath::resolve(call.tgid, ret)
        }
        _ => None,
    };
    Event {
        call,
        args,
        ret_path,
        container: None,
    }
}
