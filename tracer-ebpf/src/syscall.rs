//! Enter/exit pairing, shared by every hook type. Each hook hands over what its context gives.
use core::ffi::c_void;

use aya_ebpf::{
    bindings::{BPF_RB_AVAIL_DATA, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP},
    helpers::{bpf_get_current_cgroup_id, bpf_ktime_get_ns, bpf_probe_read_kernel},
};
use tracer_common::{
    capture::{CAP_ARGV, CAP_IOV_OUT, CAP_NONE, CaptureSpec, EnterRecord, LEN_IN_UNKNOWN},
    config::{PENDING_DONE, PENDING_IN_FLIGHT, PENDING_SIGSYS, Pending},
    record::{
        COMM_LEN, FLAG_ENTER_MISSING, FLAG_EXIT_ONLY, FLAG_NO_RETURN, FLAG_SECCOMP_SIGSYS,
        FLAG_THREAD_KNOWN, KIND_ENTER, KIND_SYSCALL, RecordHeader, SyscallRecord,
    },
    stats::{STAT_PENDING_FULL, STAT_REGS_UNREADABLE, STAT_RINGBUF_FULL, STAT_STACK_FAILED},
};

use crate::{
    capture::{Cursor, EnterFacts, SIDE_ENTER, SIDE_EXIT, SIDE_WHOLE, all_args, put_stack},
    filter::{Followed, ns_ids, status_shown, syscall_selected, task_followed},
    maps::{
        CAPTURE_SPEC, EVENTS, PENDING, STACK_ON, STREAM_ON, WAKE_ON, WAKE_SYSCALLS, WAKEUP_BYTES,
        config_u32, config_u64, count,
    },
    summary,
};

/// x86_64 and aarch64 numbers of the syscalls that never return to the caller.
#[cfg(bpf_target_arch = "x86_64")]
const NO_RETURN: [u32; 2] = [60, 231]; // exit, exit_group
#[cfg(bpf_target_arch = "aarch64")]
const NO_RETURN: [u32; 2] = [93, 94]; // exit, exit_group

/// x86_64 and aarch64 numbers of the calls that start a task (the child returns 0 from them
/// without having entered them). aarch64 has neither fork nor vfork: clone repeated.
#[cfg(bpf_target_arch = "x86_64")]
const CLONES: [u32; 4] = [56, 57, 58, 435]; // clone, fork, vfork, clone3
#[cfg(bpf_target_arch = "aarch64")]
const CLONES: [u32; 4] = [220, 220, 220, 435]; // clone, clone3

/// What the exit hook knows besides the return value.
pub enum ExitRegs {
    /// Registers were read (raw and BTF tracepoints); `None` when the read failed.
    Regs(Option<crate::regs::SyscallRegs>),
    /// Only the syscall number (classic tracepoint: `id` field of `raw_syscalls/sys_exit`).
    Nr(u32),
}

#[inline(always)]
fn spec_of(nr: u32) -> Option<&'static CaptureSpec> {
    CAPTURE_SPEC.get(nr)
}

#[inline(always)]
fn has(spec: &CaptureSpec, pred: fn(u8) -> bool) -> bool {
    spec.kind.iter().any(|&k| pred(k))
}

#[inline(always)]
pub fn on_enter(ctx: *mut c_void, nr: u32, args: impl FnOnce() -> [u64; 6]) -> Result<(), ()> {
    let Some(Followed { pid_tgid, target }) = task_followed() else {
        return Ok(());
    };
    let stream = config_u32(&STREAM_ON) != 0;
    if !syscall_selected(nr) {
        return Ok(());
    }
    // SAFETY: helper without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let tid = pid_tgid as u32;
    // Summary-only runs never show arguments: skip reading the registers.
    let args = if stream { args() } else { [0; 6] };
    let mut facts = EnterFacts {
        len_in: LEN_IN_UNKNOWN,
        retry: 0,
    };
    if stream
        && let Some(spec) = spec_of(nr)
        && has(spec, CaptureSpec::reads_at_enter)
    {
        facts = emit_enter(target, pid_tgid, nr, now, &args, spec);
    }
    if nr == NO_RETURN[0] || nr == NO_RETURN[1] {
        let _ = PENDING.remove(tid);
        summary::record(target, nr, None, None);
        if !stream {
            return Ok(());
        }
        let parts = Parts {
            target,
            nr,
            ret: 0,
            enter_ns: now,
            now,
            args,
            flags: FLAG_NO_RETURN,
            ns: ns_ids(),
        };
        return emit(ctx, pid_tgid, parts);
    }
    // A known thread's entry is rewritten in place: an LRU update allocates and relinks an
    // element, several times the cost of a lookup.
    if let Some(p) = PENDING.get_ptr_mut(tid) {
        // SAFETY: value pointer of the entry keyed by this thread; only this thread writes it.
        let p = unsafe { &mut *p };
        p.enter_ns = now;
        p.args = args;
        p.nr = nr;
        p.state = PENDING_IN_FLIGHT;
        p.len_in = facts.len_in;
        p.retry = facts.retry;
    } else {
        let pending = Pending {
            enter_ns: now,
            args,
            nr,
            state: PENDING_IN_FLIGHT,
            len_in: facts.len_in,
            retry: facts.retry,
            ..Pending::default()
        };
        remember(tid, ns_ids(), pending);
    }
    Ok(())
}

/// First sight of a thread: its `PENDING` entry, with its ids in the target PID namespace
/// (looked up once per thread).
#[inline(always)]
fn remember(tid: u32, ns: Option<(u32, u32)>, p: Pending) {
    let (ns_tgid, ns_tid) = ns.unwrap_or((0, 0));
    let entry = Pending {
        ns_tgid,
        ns_tid,
        ..p
    };
    if PENDING.insert(tid, entry, 0).is_err() {
        count(STAT_PENDING_FULL);
        crate::diag::pending_full(tid);
    }
}

#[inline(always)]
pub fn on_exit(ctx: *mut c_void, ret: i64, regs: impl FnOnce() -> ExitRegs) -> Result<(), ()> {
    let Some(Followed { pid_tgid, target }) = task_followed() else {
        return Ok(());
    };
    let stream = config_u32(&STREAM_ON) != 0;
    // SAFETY: helper without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let tid = pid_tgid as u32;
    let mut sigsys = false;
    let known = match PENDING.get_ptr_mut(tid) {
        Some(p) => {
            // SAFETY: value pointer of a map entry owned by this thread's key.
            let p = unsafe { &mut *p };
            if p.state == PENDING_SIGSYS {
                p.state = PENDING_DONE;
                sigsys = true;
            } else if p.state == PENDING_IN_FLIGHT {
                p.state = PENDING_DONE;
                let (nr, enter_ns) = (p.nr, p.enter_ns);
                summary::record(target, nr, Some(ret), Some(now.saturating_sub(enter_ns)));
                if !stream || !status_shown(ret) {
                    return Ok(());
                }
                let ns = Some((p.ns_tgid, p.ns_tid));
                let parts = Parts {
                    target,
                    nr,
                    ret,
                    enter_ns,
                    now,
                    args: p.args,
                    flags: 0,
                    ns,
                };
                if let Some(spec) = spec_of(nr) {
                    // A successful exec replaced the memory the strings were in.
                    let retry = if ret == 0 && has(spec, is_argv) {
                        0
                    } else {
                        p.retry
                    };
                    if retry != 0
                        || (ret >= 0 && has(spec, CaptureSpec::is_exit_kind))
                        || has(spec, is_iov_out)
                    {
                        let facts = EnterFacts {
                            len_in: p.len_in,
                            retry,
                        };
                        return emit_with_captures(ctx, pid_tgid, parts, spec, facts, SIDE_EXIT);
                    }
                }
                return emit(ctx, pid_tgid, parts);
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
            count(STAT_REGS_UNREADABLE);
            crate::diag::regs_unreadable();
            return Ok(());
        }
        ExitRegs::Nr(nr) => (nr, [0; 6]),
    };
    if !syscall_selected(nr) {
        return Ok(());
    }
    // A call answered with SIGSYS never ran: no return value to count.
    summary::record(target, nr, (!sigsys).then_some(ret), None);
    let ns = ns_ids();
    if !known {
        let done = Pending {
            state: PENDING_DONE,
            ..Pending::default()
        };
        remember(tid, ns, done);
    }
    // A call answered with SIGSYS never returned: unfinished, which the status filter in the
    // kernel never drops.
    if !stream || (!sigsys && !status_shown(ret)) {
        return Ok(());
    }
    let flags = match (known, sigsys) {
        (true, true) => FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN | FLAG_SECCOMP_SIGSYS,
        (true, false) => FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN,
        _ => FLAG_ENTER_MISSING,
    };
    emit(
        ctx,
        pid_tgid,
        Parts {
            target,
            nr,
            ret,
            enter_ns: 0,
            now,
            args,
            flags,
            ns,
        },
    )
}

/// `--exit-only`'s exit program (no `sys_enter` program is attached): each call is reported
/// from its exit alone. On x86-64 and arm64 the argument registers are still in `pt_regs` at
/// exit and `orig_ax` / `syscallno` hold the number; user space selects only the calls that
/// leave their inputs as they were (`capture_spec::needs_enter`), so their enter-side
/// captures are read here from the same memory, into the one record. A program of its own:
/// beside `on_exit`'s paths the verifier would walk both capture loops twice over.
#[inline(always)]
pub fn on_exit_only(ctx: *mut c_void, ret: i64, regs: impl FnOnce() -> ExitRegs) -> Result<(), ()> {
    let Some(Followed { pid_tgid, target }) = task_followed() else {
        return Ok(());
    };
    // SAFETY: helper without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let tid = pid_tgid as u32;
    let (nr, args) = match regs() {
        ExitRegs::Regs(Some(r)) => (r.nr, r.args),
        ExitRegs::Regs(None) => {
            count(STAT_REGS_UNREADABLE);
            crate::diag::regs_unreadable();
            return Ok(());
        }
        // The classic tracepoint has no registers: user space refuses the combination.
        ExitRegs::Nr(_) => return Ok(()),
    };
    // The thread's entry keeps its ids in the target PID namespace (looked up once) and the
    // mark of a SIGSYS from seccomp (`on_sigsys`).
    let (ns, sigsys, first) = match PENDING.get_ptr_mut(tid) {
        Some(p) => {
            // SAFETY: value pointer of a map entry owned by this thread's key.
            let p = unsafe { &mut *p };
            let sigsys = p.state == PENDING_SIGSYS;
            p.state = PENDING_DONE;
            (Some((p.ns_tgid, p.ns_tid)), sigsys, false)
        }
        None => {
            let ns = ns_ids();
            let done = Pending {
                state: PENDING_DONE,
                ..Pending::default()
            };
            remember(tid, ns, done);
            (ns, false, true)
        }
    };
    if !syscall_selected(nr) {
        return Ok(());
    }
    // A call answered with SIGSYS never ran: no return value to count, and unfinished, which
    // the status filter never drops.
    summary::record(target, nr, (!sigsys).then_some(ret), None);
    if config_u32(&STREAM_ON) == 0 || (!sigsys && !status_shown(ret)) {
        return Ok(());
    }
    let flags = if sigsys {
        FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN | FLAG_SECCOMP_SIGSYS
    } else if first && ret == 0 && CLONES.contains(&nr) {
        // A new task's first return, from the call its parent made: as with an enter program,
        // the child side of the call, never entered.
        FLAG_ENTER_MISSING
    } else {
        FLAG_EXIT_ONLY
    };
    let parts = Parts {
        target,
        nr,
        ret,
        enter_ns: 0,
        now,
        args,
        flags,
        ns,
    };
    // `CAPTURE_SPEC` is an array: every number has a spec, most of them empty.
    if !sigsys
        && let Some(spec) = spec_of(nr)
        && has(spec, |k| k != CAP_NONE)
    {
        let facts = EnterFacts {
            len_in: LEN_IN_UNKNOWN,
            retry: 0,
        };
        return emit_with_captures(ctx, pid_tgid, parts, spec, facts, SIDE_WHOLE);
    }
    emit(ctx, pid_tgid, parts)
}

/// `sched_process_exit` with `--exit-only` (kernel/exit.c `do_exit`, in the exiting task):
/// `exit` and `exit_group` never reach `sys_exit`, so their record comes from here. The task's
/// saved user registers still hold the call it is leaving by (`orig_ax` / `syscallno`) and
/// its arguments; a task killed by a signal, or by a sibling's `exit_group`, is leaving from
/// another call, or none, and has no record here (its death is a signal record).
#[inline(always)]
pub fn on_exit_call(ctx: *mut c_void) -> Result<(), ()> {
    let Some(Followed { pid_tgid, target }) = task_followed() else {
        return Ok(());
    };
    // SAFETY: helpers on the current task, which is alive (it is running this program).
    let regs = unsafe {
        aya_ebpf::helpers::generated::bpf_task_pt_regs(
            aya_ebpf::helpers::generated::bpf_get_current_task_btf(),
        )
    } as *const crate::regs::PtRegs;
    let Some(r) = crate::regs::read(regs) else {
        return Ok(());
    };
    if r.nr != NO_RETURN[0] && r.nr != NO_RETURN[1] {
        return Ok(());
    }
    if !syscall_selected(r.nr) {
        return Ok(());
    }
    summary::record(target, r.nr, None, None);
    let tid = pid_tgid as u32;
    let ns = match PENDING.get_ptr(tid) {
        // SAFETY: value pointer of a map entry owned by this thread's key.
        Some(p) => unsafe { Some(((*p).ns_tgid, (*p).ns_tid)) },
        None => ns_ids(),
    };
    let _ = PENDING.remove(tid);
    if config_u32(&STREAM_ON) == 0 {
        return Ok(());
    }
    // SAFETY: helper without arguments.
    let now = unsafe { bpf_ktime_get_ns() };
    let parts = Parts {
        target,
        nr: r.nr,
        ret: 0,
        enter_ns: 0,
        now,
        args: r.args,
        flags: FLAG_NO_RETURN | FLAG_EXIT_ONLY,
        ns,
    };
    emit(ctx, pid_tgid, parts)
}

/// `include/uapi/asm-generic/siginfo.h`: SIGSYS's `si_code` when seccomp sent it.
const SYS_SECCOMP: i32 = 1;
/// Offsets in `struct kernel_siginfo` (64-bit): si_code, and `_sigsys._syscall` in the union
/// that starts at 16 after the 8-byte `_call_addr`.
const SI_CODE: usize = 8;
const SI_SYSCALL: usize = 24;

/// `signal_generate` with SIGSYS: when seccomp sends it (`SCMP_ACT_KILL*`, `SCMP_ACT_TRAP`), it
/// does so from inside the rejected call, before `sys_enter` would have run, to the calling
/// thread itself. Marks the thread so the exit that follows is reported as that rejection.
#[inline(always)]
pub fn on_sigsys(info: *const u8) -> Result<(), ()> {
    let Some(Followed { pid_tgid, .. }) = task_followed() else {
        return Ok(());
    };
    // SAFETY: probe reads of kernel memory; failures are returned, not faulted.
    let code = unsafe { bpf_probe_read_kernel(info.add(SI_CODE) as *const i32) }.map_err(|_| ())?;
    if code != SYS_SECCOMP {
        return Ok(());
    }
    // SAFETY: as above.
    let nr =
        unsafe { bpf_probe_read_kernel(info.add(SI_SYSCALL) as *const i32) }.map_err(|_| ())?;
    let tid = pid_tgid as u32;
    match PENDING.get_ptr_mut(tid) {
        Some(p) => {
            // SAFETY: value pointer of a map entry owned by this thread's key.
            let p = unsafe { &mut *p };
            p.state = PENDING_SIGSYS;
            p.nr = nr as u32;
        }
        None => {
            let mark = Pending {
                state: PENDING_SIGSYS,
                nr: nr as u32,
                ..Pending::default()
            };
            remember(tid, ns_ids(), mark);
        }
    }
    Ok(())
}

/// Wake the reader only once `WAKEUP_BYTES` are waiting: a wakeup per record costs the traced
/// thread about a microsecond (irq_work and a scheduler wakeup). The reader also drains on a
/// short timer, so a trickle of records is not held back for long. With `-y`/`-yy`
/// (`WAKE_ON`), the exits of the calls in `WAKE_SYSCALLS` (those that create fds or change a
/// socket) wake it at once, so that what /proc and sock_diag are asked about them is asked
/// while it still exists. `nr`: `u32::MAX` for records that are not a syscall's exit.
#[inline(always)]
pub(crate) fn wakeup_flags(nr: u32) -> u64 {
    let waiting = EVENTS.query(u64::from(BPF_RB_AVAIL_DATA));
    if waiting >= config_u64(&WAKEUP_BYTES)
        || (config_u32(&WAKE_ON) != 0 && matches!(WAKE_SYSCALLS.get(nr), Some(&v) if v != 0))
    {
        u64::from(BPF_RB_FORCE_WAKEUP)
    } else {
        u64::from(BPF_RB_NO_WAKEUP)
    }
}

#[inline(always)]
pub(crate) fn header(kind: u16, flags: u16, len: u32, now: u64, pid_tgid: u64) -> RecordHeader {
    RecordHeader {
        kind,
        flags,
        len,
        ktime_ns: now,
        tgid: (pid_tgid >> 32) as u32,
        tid: pid_tgid as u32,
    }
}

/// What a syscall record says besides the task's identity.
struct Parts {
    /// The followed target (cgroup id) the record is counted against when it is lost.
    target: u64,
    nr: u32,
    ret: i64,
    enter_ns: u64,
    now: u64,
    args: [u64; 6],
    flags: u16,
    /// (tgid, tid) in the target PID namespace, when known.
    ns: Option<(u32, u32)>,
}

/// Writes the record in place at `dst` (ring buffer or scratch memory), field by field: a
/// record built on the stack and copied would take 128 bytes of the frame that the capture
/// loops' call chain shares (512 bytes for the whole chain).
#[inline(always)]
fn fill(dst: *mut SyscallRecord, pid_tgid: u64, p: &Parts, len: u32) {
    let (ns_tgid, ns_tid) = p.ns.unwrap_or((0, 0));
    // SAFETY: `dst` points to 128 writable, 8-aligned bytes (a ring buffer reservation of a
    // SyscallRecord, or the scratch buffer).
    unsafe {
        core::ptr::addr_of_mut!((*dst).header).write(header(
            KIND_SYSCALL,
            p.flags,
            len,
            p.now,
            pid_tgid,
        ));
        core::ptr::addr_of_mut!((*dst).nr).write(p.nr);
        core::ptr::addr_of_mut!((*dst).ns_tgid).write(ns_tgid);
        core::ptr::addr_of_mut!((*dst).ns_tid).write(ns_tid);
        core::ptr::addr_of_mut!((*dst)._pad).write(0);
        core::ptr::addr_of_mut!((*dst).ret).write(p.ret);
        core::ptr::addr_of_mut!((*dst).enter_ns).write(p.enter_ns);
        core::ptr::addr_of_mut!((*dst).cgroup_id).write(bpf_get_current_cgroup_id());
        let args = core::ptr::addr_of_mut!((*dst).args).cast::<u64>();
        for (k, a) in p.args.iter().enumerate() {
            args.add(k).write(*a);
        }
        let comm = core::ptr::addr_of_mut!((*dst).comm);
        if aya_ebpf::helpers::generated::bpf_get_current_comm(comm.cast(), COMM_LEN as u32) != 0 {
            comm.write([0; COMM_LEN]);
        }
    }
}

/// `-k`: records carry the caller's user stack. A read-only global: when off, the verifier
/// drops the stack paths and the hot path is as before.
#[inline(always)]
fn stack_on() -> bool {
    config_u32(&STACK_ON) != 0
}

/// Appends the user stack capture to the scratch record (`-k`), counting a failed walk.
#[inline(always)]
fn add_stack(c: &mut Cursor, ctx: *mut c_void) {
    if !put_stack(c, ctx) {
        count(STAT_STACK_FAILED);
        crate::diag::stack_failed();
    }
}

/// The fixed-size record, written in place in the ring buffer (with `-k`, built in the
/// scratch buffer with the stack after it).
#[inline(always)]
fn emit(ctx: *mut c_void, pid_tgid: u64, parts: Parts) -> Result<(), ()> {
    const FIXED: usize = core::mem::size_of::<SyscallRecord>();
    if stack_on()
        && let Some(mut c) = Cursor::new(FIXED)
    {
        add_stack(&mut c, ctx);
        fill(c.base().cast(), pid_tgid, &parts, c.off() as u32);
        return output(&c, parts.nr, parts.target);
    }
    emit_fixed(pid_tgid, parts)
}

#[inline(always)]
fn emit_fixed(pid_tgid: u64, parts: Parts) -> Result<(), ()> {
    let Some(mut entry) = EVENTS.reserve::<SyscallRecord>(0) else {
        ring_full(parts.target);
        return Err(());
    };
    let len = core::mem::size_of::<SyscallRecord>() as u32;
    fill(entry.as_mut_ptr(), pid_tgid, &parts, len);
    entry.submit(wakeup_flags(parts.nr));
    Ok(())
}

/// The record followed by exit-side captures, built in the scratch buffer.
#[inline(always)]
fn emit_with_captures(
    ctx: *mut c_void,
    pid_tgid: u64,
    parts: Parts,
    spec: &CaptureSpec,
    facts: EnterFacts,
    side: u64,
) -> Result<(), ()> {
    const FIXED: usize = core::mem::size_of::<SyscallRecord>();
    if Cursor::new(FIXED).is_none() {
        return emit_fixed(pid_tgid, parts);
    }
    all_args(spec, &parts.args, parts.ret, side, facts);
    let Some(mut c) = Cursor::current() else {
        return Err(());
    };
    if stack_on() {
        add_stack(&mut c, ctx);
    }
    fill(c.base().cast(), pid_tgid, &parts, c.off() as u32);
    output(&c, parts.nr, parts.target)
}

/// The enter-side captures, in a record of their own. Returns what the exit side needs
/// (`Pending::len_in`, `Pending::retry`).
#[inline(always)]
fn emit_enter(
    target: u64,
    pid_tgid: u64,
    nr: u32,
    now: u64,
    args: &[u64; 6],
    spec: &CaptureSpec,
) -> EnterFacts {
    const FIXED: usize = core::mem::size_of::<EnterRecord>();
    let none = EnterFacts {
        len_in: LEN_IN_UNKNOWN,
        retry: 0,
    };
    if Cursor::new(FIXED).is_none() {
        return none;
    }
    let facts = all_args(spec, args, 0, SIDE_ENTER, none);
    let Some(c) = Cursor::current() else {
        return facts;
    };
    let r = EnterRecord {
        header: header(KIND_ENTER, 0, c.off() as u32, now, pid_tgid),
        nr,
        _pad: 0,
        // SAFETY: helper without arguments.
        cgroup_id: unsafe { bpf_get_current_cgroup_id() },
    };
    // SAFETY: the scratch buffer is 8-aligned and larger than a record.
    unsafe { c.base().cast::<EnterRecord>().write(r) };
    let _ = output(&c, u32::MAX, target);
    facts
}

#[inline(always)]
fn is_argv(kind: u8) -> bool {
    kind == CAP_ARGV
}

/// Read even when the call failed: strace shows a failed preadv's iovec array (its
/// addresses; no data was read).
fn is_iov_out(kind: u8) -> bool {
    kind == CAP_IOV_OUT
}

#[inline(always)]
fn output(c: &Cursor, nr: u32, target: u64) -> Result<(), ()> {
    let Some(bytes) = c.bytes() else {
        return Err(());
    };
    if EVENTS.output::<[u8]>(bytes, wakeup_flags(nr)).is_err() {
        ring_full(target);
        return Err(());
    }
    Ok(())
}

/// A record of `target` the ring buffer had no room for: counted host-wide, and against the
/// target when the daemon keeps per-target counts.
#[inline(always)]
pub(crate) fn ring_full(target: u64) {
    count(STAT_RINGBUF_FULL);
    crate::summary::lost(target);
    crate::diag::ring_full();
}
