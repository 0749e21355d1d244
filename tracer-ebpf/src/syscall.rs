//! Enter/exit pairing, shared by every hook type. Each hook hands over what its context gives.
use aya_ebpf::helpers::{bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_ktime_get_ns};
use tracer_common::{
    config::{PENDING_DONE, PENDING_IN_FLIGHT, Pending},
    record::{
        FLAG_ENTER_MISSING, FLAG_NO_RETURN, FLAG_THREAD_KNOWN, KIND_SYSCALL, RecordHeader,
        SyscallRecord,
    },
    stats::{STAT_PENDING_FULL, STAT_RINGBUF_FULL},
};

use crate::{
    filter::{ns_ids, syscall_selected, task_followed},
    maps::{EVENTS, PENDING, count},
};

/// x86_64 and aarch64 numbers of the syscalls that never return to the caller.
#[cfg(bpf_target_arch = "x86_64")]
const NO_RETURN: [u32; 2] = [60, 231]; // exit, exit_group
#[cfg(bpf_target_arch = "aarch64")]
const NO_RETURN: [u32; 2] = [93, 94]; // exit, exit_group

/// What the exit hook knows besides the return value.
pub enum ExitRegs {
    /// Registers were read (raw and BTF tracepoints); `None` when the read failed.
    Regs(Option<crate::regs::SyscallRegs>),
    /// Only the syscall number (classic tracepoint: `id` field of `raw_syscalls/sys_exit`).
    Nr(u32),
}

#[inline(always)]
pub fn on_enter(nr: u32, args: impl FnOnce() -> [u64; 6]) -> Result<(), ()> {
    let Some(pid_tgid) = task_followed() else {
        return Ok(());
    };
    if !syscall_selected(nr) {
        return Ok(());
    }
    // SAFETY: helper without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let tid = pid_tgid as u32;
    let args = args();
    if nr == NO_RETURN[0] || nr == NO_RETURN[1] {
        let _ = PENDING.remove(tid);
        return emit(pid_tgid, nr, 0, now, now, args, FLAG_NO_RETURN);
    }
    let pending = Pending {
        enter_ns: now,
        args,
        nr,
        state: PENDING_IN_FLIGHT,
    };
    if PENDING.insert(tid, pending, 0).is_err() {
        count(STAT_PENDING_FULL);
    }
    Ok(())
}

#[inline(always)]
pub fn on_exit(ret: i64, regs: impl FnOnce() -> ExitRegs) -> Result<(), ()> {
    let Some(pid_tgid) = task_followed() else {
        return Ok(());
    };
    // SAFETY: helper without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let tid = pid_tgid as u32;
    let known = match PENDING.get_ptr_mut(tid) {
        Some(p) => {
            // SAFETY: value pointer of a map entry owned by this thread's key.
            let p = unsafe { &mut *p };
            if p.state == PENDING_IN_FLIGHT {
                p.state = PENDING_DONE;
                return emit(pid_tgid, p.nr, ret, p.enter_ns, now, p.args, 0);
            }
            true
        }
        None => false,
    };
    // No enter for this exit: a syscall in flight when tracing began, the child side of a
    // fork/clone, or (on a known thread) a syscall that seccomp rejected before `sys_enter`.
    let (nr, args) = match regs() {
        ExitRegs::Regs(Some(r)) => (r.nr, r.args),
        ExitRegs::Regs(None) => {
            count(tracer_common::stats::STAT_REGS_UNREADABLE);
            return Ok(());
        }
        ExitRegs::Nr(nr) => (nr, [0; 6]),
    };
    if !syscall_selected(nr) {
        return Ok(());
    }
    if !known {
        let done = Pending {
            state: PENDING_DONE,
            ..Pending::default()
        };
        if PENDING.insert(tid, done, 0).is_err() {
            count(STAT_PENDING_FULL);
        }
    }
    let flags = if known {
        FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN
    } else {
        FLAG_ENTER_MISSING
    };
    emit(pid_tgid, nr, ret, 0, now, args, flags)
}

#[inline(always)]
fn emit(
    pid_tgid: u64,
    nr: u32,
    ret: i64,
    enter_ns: u64,
    now: u64,
    args: [u64; 6],
    flags: u16,
) -> Result<(), ()> {
    let Some(mut entry) = EVENTS.reserve::<SyscallRecord>(0) else {
        count(STAT_RINGBUF_FULL);
        return Err(());
    };
    let (ns_tgid, ns_tid) = ns_ids().unwrap_or((0, 0));
    let comm = bpf_get_current_comm().unwrap_or([0; 16]);
    entry.write(SyscallRecord {
        header: RecordHeader {
            kind: KIND_SYSCALL,
            flags,
            len: core::mem::size_of::<SyscallRecord>() as u32,
            ktime_ns: now,
            tgid: (pid_tgid >> 32) as u32,
            tid: pid_tgid as u32,
        },
        nr,
        ns_tgid,
        ns_tid,
        _pad: 0,
        ret,
        enter_ns,
        // SAFETY: helper without arguments.
        cgroup_id: unsafe { bpf_get_current_cgroup_id() },
        args,
        comm,
    });
    entry.submit(0);
    Ok(())
}
