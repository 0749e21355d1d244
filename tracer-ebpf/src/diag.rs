//! Diagnostics of the rare paths, through aya-log: shown with `-v` (warnings) and `-vv`
//! (failed reads of user memory). Off by default: the loader sets aya-log's read-only
//! `AYA_LOG_LEVEL` to 0, the verifier then knows every level test is false and removes the log
//! statements, so the programs it runs are those without them (`cargo xtask bench hooks`
//! prints both sizes and costs).
//!
//! Each is a function of its own (a BPF subprogram): the statement's code is not copied into
//! every caller, and it is reached only on the path that failed. A path that fails in a storm
//! (a full ring buffer drops thousands of records a second) would flood the log: each logs on
//! the 1st, 2nd, 4th, 8th… failure of its kind on a CPU, with the count so far. The first
//! argument of the macros is a context they do not use.
use aya_ebpf::{helpers::bpf_get_current_pid_tgid, macros::map, maps::PerCpuArray};
use aya_log_ebpf::{
    debug,
    macro_support::{Level, level_enabled},
    warn,
};
use tracer_common::stats::{
    STAT_PENDING_FULL, STAT_REGS_UNREADABLE, STAT_RINGBUF_FULL, STAT_STACK_FAILED,
    STAT_SUMMARY_FULL, STAT_TASKS_FULL,
};

use crate::maps::STATS;

/// Failed reads of user memory on this CPU (`-vv`): the one failure `STATS` does not count.
#[map]
static READS_FAILED: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
fn tid() -> u32 {
    bpf_get_current_pid_tgid() as u32
}

/// `STATS[stat]` on this CPU when it is a power of two (the caller has just counted it).
#[inline(always)]
fn nth(stat: u32) -> Option<u64> {
    if !level_enabled(Level::Warn) {
        return None;
    }
    // SAFETY: per-CPU slot, read at once.
    let n = unsafe { *STATS.get_ptr(stat)? };
    n.is_power_of_two().then_some(n)
}

#[inline(never)]
pub fn ring_full() {
    if let Some(n) = nth(STAT_RINGBUF_FULL) {
        warn!(
            &(),
            "ring buffer full: a record of tid {} dropped ({} on this CPU so far)",
            tid(),
            n
        );
    }
}

#[inline(never)]
pub fn pending_full(tid: u32) {
    if let Some(n) = nth(STAT_PENDING_FULL) {
        warn!(
            &(),
            "pending map full: tid {}'s enter not kept ({} on this CPU so far)", tid, n
        );
    }
}

#[inline(never)]
pub fn regs_unreadable() {
    if let Some(n) = nth(STAT_REGS_UNREADABLE) {
        warn!(
            &(),
            "registers of tid {} unreadable at exit: record dropped ({} on this CPU so far)",
            tid(),
            n
        );
    }
}

#[inline(never)]
pub fn summary_full(nr: u32) {
    if let Some(n) = nth(STAT_SUMMARY_FULL) {
        warn!(
            &(),
            "summary map full: syscall {} not counted ({} on this CPU so far)", nr, n
        );
    }
}

#[inline(never)]
pub fn tasks_full(child: u32) {
    if let Some(n) = nth(STAT_TASKS_FULL) {
        warn!(
            &(),
            "followed-task set full: child {} not followed ({} on this CPU so far)", child, n
        );
    }
}

#[inline(never)]
pub fn stack_failed() {
    if let Some(n) = nth(STAT_STACK_FAILED) {
        warn!(
            &(),
            "user stack of tid {} could not be walked ({} on this CPU so far)",
            tid(),
            n
        );
    }
}

#[inline(never)]
pub fn read_failed(addr: u64, len: u32, err: i64) {
    if !level_enabled(Level::Debug) {
        return;
    }
    let Some(n) = READS_FAILED.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: per-CPU slot, programs do not nest on one CPU for these hooks.
    let n = unsafe {
        *n += 1;
        *n
    };
    if n.is_power_of_two() {
        debug!(
            &(),
            "capture: reading {} bytes at {:x} failed ({}; {} on this CPU so far)",
            len,
            addr,
            err,
            n
        );
    }
}
