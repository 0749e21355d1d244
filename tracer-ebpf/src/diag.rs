//! Diagnostics of the rare paths, through aya-log: shown with `-v` (warnings) and `-vv`
//! (failed reads of user memory). Off by default: the loader sets aya-log's read-only
//! `AYA_LOG_LEVEL` to 0, the verifier then knows every `level_enabled` test is false and
//! removes the log statements, so the programs it runs are those without them
//! (`cargo xtask bench hooks` prints both sizes and costs).
//!
//! Each is a function of its own (a BPF subprogram): the statement's code is not copied into
//! every caller, and it is reached only on the path that failed. The first argument of the
//! macros is a context they do not use.
use aya_ebpf::helpers::bpf_get_current_pid_tgid;
use aya_log_ebpf::{debug, warn};

#[inline(always)]
fn tid() -> u32 {
    bpf_get_current_pid_tgid() as u32
}

#[inline(never)]
pub fn ring_full() {
    warn!(&(), "ring buffer full: a record of tid {} dropped", tid());
}

#[inline(never)]
pub fn pending_full(tid: u32) {
    warn!(&(), "pending map full: tid {}'s enter not kept", tid);
}

#[inline(never)]
pub fn regs_unreadable() {
    warn!(
        &(),
        "registers of tid {} unreadable at exit: record dropped",
        tid()
    );
}

#[inline(never)]
pub fn summary_full(nr: u32) {
    warn!(&(), "summary map full: syscall {} not counted", nr);
}

#[inline(never)]
pub fn tasks_full(child: u32) {
    warn!(&(), "followed-task set full: child {} not followed", child);
}

#[inline(never)]
pub fn stack_failed() {
    warn!(&(), "user stack of tid {} could not be walked", tid());
}

#[inline(never)]
pub fn read_failed(addr: u64, len: u32, err: i64) {
    debug!(
        &(),
        "capture: reading {} bytes at {:x} failed ({})", len, addr, err
    );
}
