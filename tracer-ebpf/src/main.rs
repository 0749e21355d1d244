//! Kernel programs of `tracer`. Three interchangeable hook types on `raw_syscalls` enter and
//! exit; user space loads one pair (`--hook`). Each entry point is a thin wrapper.
#![no_std]
#![no_main]

mod capture;
mod diag;
mod filter;
mod maps;
mod regs;
mod signal;
mod summary;
mod syscall;

use aya_ebpf::{
    EbpfContext,
    macros::{btf_tracepoint, raw_tracepoint, tracepoint},
    programs::{BtfTracePointContext, RawTracePointContext, TracePointContext},
};
use syscall::{ExitRegs, on_enter, on_exit, on_exit_call, on_exit_only, on_sigsys};

// --- raw tracepoints: TP_PROTO(struct pt_regs *regs, long id) / (struct pt_regs *regs, long ret)

#[raw_tracepoint(tracepoint = "sys_enter")]
pub fn raw_sys_enter(ctx: RawTracePointContext) -> i32 {
    let regs: *const regs::PtRegs = ctx.arg(0);
    let nr: i64 = ctx.arg(1);
    let _ = on_enter(ctx.as_ptr(), nr as u32, || {
        regs::read(regs).map(|r| r.args).unwrap_or([0; 6])
    });
    0
}

#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn raw_sys_exit(ctx: RawTracePointContext) -> i32 {
    let regs: *const regs::PtRegs = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    let _ = on_exit(ctx.as_ptr(), ret, || ExitRegs::Regs(regs::read(regs)));
    0
}

/// `--exit-only`: the one program on `sys_exit`, with no `sys_enter` program beside it.
#[raw_tracepoint(tracepoint = "sys_exit")]
pub fn raw_sys_exit_only(ctx: RawTracePointContext) -> i32 {
    let regs: *const regs::PtRegs = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    let _ = on_exit_only(ctx.as_ptr(), ret, || ExitRegs::Regs(regs::read(regs)));
    0
}

/// `--exit-only`: `exit` and `exit_group`, which have no `sys_exit`, seen as the task ends.
#[raw_tracepoint(tracepoint = "sched_process_exit")]
pub fn raw_sched_process_exit_call(ctx: RawTracePointContext) -> i32 {
    let _ = on_exit_call(ctx.as_ptr());
    0
}

// --- signal_generate: TP_PROTO(int sig, struct kernel_siginfo *info, struct task_struct *task,
// int group, int result) in include/trace/events/signal.h. Every hook type uses this one.

/// include/uapi/asm-generic/signal.h (x86_64 and arm64 alike).
const SIGSYS: u64 = 31;
const SIGCHLD: u64 = 17;

#[raw_tracepoint(tracepoint = "signal_generate")]
pub fn raw_signal_generate(ctx: RawTracePointContext) -> i32 {
    let sig: u64 = ctx.arg(0);
    if sig & 0xffff_ffff == SIGSYS {
        let info: *const u8 = ctx.arg(1);
        let _ = on_sigsys(info);
    } else if sig & 0xffff_ffff == SIGCHLD {
        // A process telling its parent how it ended: a death by signal (signal.rs).
        let info: *const u8 = ctx.arg(1);
        let _ = signal::on_child_notice(info);
    }
    0
}

// --- signal_deliver: TP_PROTO(int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
// in include/trace/events/signal.h, in the receiving task. Every hook type uses this one.

#[raw_tracepoint(tracepoint = "signal_deliver")]
pub fn raw_signal_deliver(ctx: RawTracePointContext) -> i32 {
    let sig: u64 = ctx.arg(0);
    let info: *const u8 = ctx.arg(1);
    let ka: *const u8 = ctx.arg(2);
    let _ = signal::on_deliver(sig as u32, info, ka);
    0
}

// --- sched/sched_process_fork and sched_process_exit, classic tracepoints (their fields are
// in /sys/kernel/tracing/events/sched/*/format); attached only with `-p` (FILTER_TASKS).

#[tracepoint(category = "sched", name = "sched_process_fork")]
pub fn tp_sched_process_fork(ctx: TracePointContext) -> u32 {
    let off = maps::config_u32(&maps::FORK_CHILD_PID_OFF) as usize;
    // SAFETY: `child_pid` (pid_t) at the offset the loader read from the format file.
    filter::on_fork(|| unsafe { ctx.read_at::<i32>(off) }.ok().map(|p| p as u32));
    0
}

#[tracepoint(category = "sched", name = "sched_process_exit")]
pub fn tp_sched_process_exit(_ctx: TracePointContext) -> u32 {
    filter::on_task_exit();
    0
}

#[tracepoint(category = "sched", name = "sched_process_free")]
pub fn tp_sched_process_free(ctx: TracePointContext) -> u32 {
    let off = maps::config_u32(&maps::FREE_PID_OFF) as usize;
    // SAFETY: `pid` (pid_t) at the offset the loader read from the format file.
    filter::on_task_free(|| unsafe { ctx.read_at::<i32>(off) }.ok().map(|p| p as u32));
    0
}

// --- BTF tracepoints: same arguments, typed by the kernel's BTF.

#[btf_tracepoint(function = "sys_enter")]
pub fn btf_sys_enter(ctx: BtfTracePointContext) -> i32 {
    let regs: *const regs::PtRegs = ctx.arg(0);
    let nr: i64 = ctx.arg(1);
    let _ = on_enter(ctx.as_ptr(), nr as u32, || {
        regs::read(regs).map(|r| r.args).unwrap_or([0; 6])
    });
    0
}

#[btf_tracepoint(function = "sys_exit")]
pub fn btf_sys_exit(ctx: BtfTracePointContext) -> i32 {
    let regs: *const regs::PtRegs = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    let _ = on_exit(ctx.as_ptr(), ret, || ExitRegs::Regs(regs::read(regs)));
    0
}

#[btf_tracepoint(function = "sys_exit")]
pub fn btf_sys_exit_only(ctx: BtfTracePointContext) -> i32 {
    let regs: *const regs::PtRegs = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    let _ = on_exit_only(ctx.as_ptr(), ret, || ExitRegs::Regs(regs::read(regs)));
    0
}

// --- classic tracepoints: /sys/kernel/tracing/events/raw_syscalls/sys_{enter,exit}/format
// sys_enter: `long id` at offset 8, `unsigned long args[6]` at offset 16.
// sys_exit:  `long id` at offset 8, `long ret` at offset 16.

#[tracepoint(category = "raw_syscalls", name = "sys_enter")]
pub fn tp_sys_enter(ctx: TracePointContext) -> u32 {
    // SAFETY: offsets from the tracepoint's format file.
    let nr = unsafe { ctx.read_at::<i64>(8) }.unwrap_or(-1);
    let _ = on_enter(ctx.as_ptr(), nr as u32, || {
        unsafe { ctx.read_at::<[u64; 6]>(16) }.unwrap_or([0; 6])
    });
    0
}

#[tracepoint(category = "raw_syscalls", name = "sys_exit")]
pub fn tp_sys_exit(ctx: TracePointContext) -> u32 {
    // SAFETY: offsets from the tracepoint's format file.
    let nr = unsafe { ctx.read_at::<i64>(8) }.unwrap_or(-1);
    let ret = unsafe { ctx.read_at::<i64>(16) }.unwrap_or(0);
    let _ = on_exit(ctx.as_ptr(), ret, || ExitRegs::Nr(nr as u32));
    0
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";
