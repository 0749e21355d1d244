//! Signals: what a followed task is delivered (`signal_deliver`), and a followed process's
//! death by a signal (the SIGCHLD its parent is sent, seen at `signal_generate`).
use aya_ebpf::helpers::{
    bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_ktime_get_ns, bpf_probe_read_kernel,
};
use tracer_common::record::{
    FLAG_SIGNAL_CORE, FLAG_SIGNAL_KILLED, FLAG_SIGNAL_NO_ACTION, FLAG_SIGNAL_NO_INFO,
    KERNEL_SIGINFO_LEN, KIND_SIGNAL, SignalRecord,
};

use crate::{
    filter::{Followed, ns_ids, task_followed},
    maps::{EVENTS, STREAM_ON, config_u32},
    syscall::{header, wakeup_flags},
};

/// `struct kernel_siginfo`'s bytes, as the record holds them.
type Info = [u64; KERNEL_SIGINFO_LEN / 8];

/// `include/uapi/asm-generic/siginfo.h`: SIGCHLD's si_code when the child was killed, and when
/// it was killed and dumped core.
const CLD_KILLED: i32 = 2;
const CLD_DUMPED: i32 = 3;
/// Offsets in `struct kernel_siginfo` (64-bit): si_code, and `_sigchld`'s `_pid` and `_status`
/// in the union that starts at 16.
const SI_CODE: usize = 8;
const SI_PID: usize = 16;
const SI_STATUS: usize = 24;

/// `signal_deliver`: TP_PROTO(int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
/// (include/trace/events/signal.h), called by get_signal() in kernel/signal.c in the receiving
/// task's context once it has dequeued the signal, before it runs the handler or the default
/// action.
///
/// `info` is NULL (`SEND_SIG_NOINFO`) on one path only: the group is already dying
/// (`SIGNAL_GROUP_EXIT`: a sibling's exit_group, an exec, a fatal signal or SIGKILL that
/// complete_signal() turned into a SIGKILL for every thread), which get_signal() reports as
/// SIGKILL. No signal reaches the program there (strace, which sees SIGKILL never, prints
/// nothing either): skipped.
#[inline(always)]
pub fn on_deliver(sig: u32, info: *const u8, ka: *const u8) -> Result<(), ()> {
    let Some(Followed { pid_tgid, target }) = task_followed() else {
        return Ok(());
    };
    if info.is_null() || config_u32(&STREAM_ON) == 0 {
        return Ok(());
    }
    let mut flags = 0;
    // SAFETY: probe read of kernel memory; a failure is returned, not faulted.
    let info = match unsafe { bpf_probe_read_kernel(info as *const Info) } {
        Ok(i) => i,
        Err(_) => {
            flags |= FLAG_SIGNAL_NO_INFO;
            [0; KERNEL_SIGINFO_LEN / 8]
        }
    };
    // `struct k_sigaction` starts with `struct sigaction`: sa_handler at 0, sa_flags at 8
    // (include/linux/signal_types.h, x86_64 and arm64).
    // SAFETY: as above; NULL reads fail.
    let action = if ka.is_null() {
        Err(0)
    } else {
        unsafe { bpf_probe_read_kernel(ka as *const [u64; 2]) }
    };
    let [handler, sa_flags] = action.unwrap_or_else(|_| {
        flags |= FLAG_SIGNAL_NO_ACTION;
        [0; 2]
    });
    emit(target, pid_tgid, flags, sig, handler, sa_flags, info)
}

/// `signal_generate` with SIGCHLD: do_notify_parent() (kernel/signal.c) tells the parent how a
/// process ended, from exit_notify() or release_task() (kernel/exit.c) in the context of the
/// process's last exiting thread. `si_code` says a signal killed it and `si_status` which.
///
/// do_notify_parent() also runs for a zombie in another task's context (a tracer detaching, a
/// dying parent handing its zombies to a new reaper): `si_pid` (the child's pid as its parent
/// sees it) must then name the current process, in its own namespace or the host's, or the
/// notice is about another process and skipped.
#[inline(always)]
pub fn on_child_notice(info: *const u8) -> Result<(), ()> {
    let Some(Followed { pid_tgid, target }) = task_followed() else {
        return Ok(());
    };
    if info.is_null() || config_u32(&STREAM_ON) == 0 {
        return Ok(());
    }
    // SAFETY: probe reads of kernel memory; failures are returned, not faulted.
    let code = unsafe { bpf_probe_read_kernel(info.add(SI_CODE) as *const i32) }.map_err(|_| ())?;
    if code != CLD_KILLED && code != CLD_DUMPED {
        return Ok(());
    }
    // SAFETY: as above.
    let pid = unsafe { bpf_probe_read_kernel(info.add(SI_PID) as *const u32) }.map_err(|_| ())?;
    let tgid = (pid_tgid >> 32) as u32;
    let ns_tgid = ns_ids().map_or(0, |(t, _)| t);
    if pid != tgid && pid != ns_tgid {
        return Ok(());
    }
    // SAFETY: as above.
    let status =
        unsafe { bpf_probe_read_kernel(info.add(SI_STATUS) as *const u32) }.map_err(|_| ())?;
    // SAFETY: as above.
    let info = unsafe { bpf_probe_read_kernel(info as *const Info) }
        .unwrap_or([0; KERNEL_SIGINFO_LEN / 8]);
    let mut flags = FLAG_SIGNAL_KILLED | FLAG_SIGNAL_NO_ACTION;
    if code == CLD_DUMPED {
        flags |= FLAG_SIGNAL_CORE;
    }
    emit(target, pid_tgid, flags, status, 0, 0, info)
}

#[inline(always)]
fn emit(
    target: u64,
    pid_tgid: u64,
    flags: u16,
    sig: u32,
    handler: u64,
    sa_flags: u64,
    info: Info,
) -> Result<(), ()> {
    let Some(mut entry) = EVENTS.reserve::<SignalRecord>(0) else {
        crate::syscall::ring_full(target);
        return Err(());
    };
    let (ns_tgid, ns_tid) = ns_ids().unwrap_or((0, 0));
    // SAFETY: helper without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let len = core::mem::size_of::<SignalRecord>() as u32;
    entry.write(SignalRecord {
        header: header(KIND_SIGNAL, flags, len, now, pid_tgid),
        sig,
        ns_tgid,
        ns_tid,
        _pad: 0,
        // SAFETY: helper without arguments.
        cgroup_id: unsafe { bpf_get_current_cgroup_id() },
        handler,
        sa_flags,
        comm: bpf_get_current_comm().unwrap_or([0; 16]),
        info,
    });
    entry.submit(wakeup_flags(u32::MAX));
    Ok(())
}
