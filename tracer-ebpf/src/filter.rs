//! Which tasks and syscalls are followed. Runs first in every program: a syscall of an unrelated
//! process costs one helper call and one map lookup.
use aya_ebpf::{
    bindings::bpf_pidns_info,
    helpers::{
        bpf_get_current_ancestor_cgroup_id, bpf_get_current_pid_tgid, bpf_get_ns_current_pid_tgid,
    },
};
use tracer_common::{
    config::{
        FILTER_CGROUP, FILTER_PIDNS, FILTER_TASKS, STATUS_FAILED, STATUS_FILTER_ON,
        STATUS_SUCCESSFUL, TASK_EXITED, TASK_RUNNING,
    },
    stats::STAT_TASKS_FULL,
};

use crate::maps::{
    CGROUP_LEVEL, CGROUP_LEVEL_ALT, FILTER_MODE, FOLLOWED_TASKS, OWN_TGID, PIDNS_DEV, PIDNS_INO,
    SINGLE_CGROUP, STATUS_SHOWN, SYSCALL_FILTER, SYSCALL_FILTER_ON, TARGET_CGROUPS, config_u32,
    config_u64, count,
};

/// A followed task: `bpf_get_current_pid_tgid()`, and the target it belongs to (its cgroup v2
/// id at the target's level; 0 in PID namespace mode).
pub struct Followed {
    pub pid_tgid: u64,
    pub target: u64,
}

/// The current task when it belongs to the target, else `None`. The cheapest rejection comes
/// first: one helper call and one compare (or hash lookup).
#[inline(always)]
pub fn task_followed() -> Option<Followed> {
    let mode = config_u32(&FILTER_MODE);
    let mut target = 0;
    if mode == FILTER_CGROUP {
        // include/linux/cgroup.h: the ancestor at `level` of the task's default-hierarchy
        // (cgroup v2) cgroup, 0 when the task sits higher up.
        let level = config_u32(&CGROUP_LEVEL) as i32;
        // SAFETY: helper without pointer arguments.
        let mut id = unsafe { bpf_get_current_ancestor_cgroup_id(level) };
        let single = config_u64(&SINGLE_CGROUP);
        if single != 0 {
            if id != single {
                return None;
            }
        } else if id != 0 {
            TARGET_CGROUPS.get_ptr(id)?;
        } else {
            // The task sits above `level` (most of the host): no target there, unless at the
            // second depth (a Guaranteed pod's container, one level up), when there is one.
            let alt = config_u32(&CGROUP_LEVEL_ALT);
            if alt == 0 {
                return None;
            }
            // SAFETY: helper without pointer arguments.
            id = unsafe { bpf_get_current_ancestor_cgroup_id(alt as i32) };
            if id == 0 {
                return None;
            }
            TARGET_CGROUPS.get_ptr(id)?;
        }
        target = id;
    } else if mode == FILTER_PIDNS {
        ns_ids()?;
    } else if mode == FILTER_TASKS {
        // One helper call and one lookup; the tracer's own threads are never in the set.
        let pid_tgid = bpf_get_current_pid_tgid();
        FOLLOWED_TASKS.get_ptr(pid_tgid as u32)?;
        return Some(Followed {
            pid_tgid,
            target: 0,
        });
    } else {
        // No filter configured (the benchmarks' floor): nothing is followed.
        return None;
    }
    let pid_tgid = bpf_get_current_pid_tgid();
    ((pid_tgid >> 32) as u32 != config_u32(&OWN_TGID)).then_some(Followed { pid_tgid, target })
}

/// (tgid, tid) of the current task in the target PID namespace, when it lives there.
#[inline(always)]
pub fn ns_ids() -> Option<(u32, u32)> {
    let dev = config_u64(&PIDNS_DEV);
    let ino = config_u64(&PIDNS_INO);
    if ino == 0 {
        return None;
    }
    let mut info = bpf_pidns_info { pid: 0, tgid: 0 };
    // SAFETY: `info` is a valid, writable bpf_pidns_info of the size passed.
    let ret = unsafe {
        bpf_get_ns_current_pid_tgid(
            dev,
            ino,
            &mut info,
            core::mem::size_of::<bpf_pidns_info>() as u32,
        )
    };
    (ret == 0).then_some((info.tgid, info.pid))
}

/// Does a call that returned `ret` make a record (`-z`, `-Z`, `-e status=`)? Failed as strace's
/// `syserror()`: a return in -4095..-1 (include/linux/err.h MAX_ERRNO), restarts included.
#[inline(always)]
pub fn status_shown(ret: i64) -> bool {
    let shown = config_u32(&STATUS_SHOWN);
    if shown & STATUS_FILTER_ON == 0 {
        return true;
    }
    let bit = if (-4095..0).contains(&ret) {
        STATUS_FAILED
    } else {
        STATUS_SUCCESSFUL
    };
    shown & bit != 0
}

/// Is syscall `nr` selected by `--syscalls`?
#[inline(always)]
pub fn syscall_selected(nr: u32) -> bool {
    if config_u32(&SYSCALL_FILTER_ON) == 0 {
        return true;
    }
    matches!(SYSCALL_FILTER.get(nr), Some(&v) if v != 0)
}

/// `sched_process_fork`, in the parent's context (kernel/fork.c `kernel_clone`, before the
/// child is woken): a task created by a followed one is followed from its first instruction,
/// threads and processes alike.
#[inline(always)]
pub fn on_fork(child_tid: impl FnOnce() -> Option<u32>) {
    if config_u32(&FILTER_MODE) != FILTER_TASKS {
        return;
    }
    let tid = bpf_get_current_pid_tgid() as u32;
    if FOLLOWED_TASKS.get_ptr(tid).is_none() {
        return;
    }
    if let Some(child) = child_tid()
        && FOLLOWED_TASKS.insert(child, TASK_RUNNING, 0).is_err()
    {
        count(STAT_TASKS_FULL);
        crate::diag::tasks_full(child);
    }
}

/// `sched_process_exit`, in the exiting task's context (kernel/exit.c `do_exit`, before
/// `exit_notify` tells the parent): the task is marked exited, still followed for the death
/// notice (`signal_generate` of SIGCHLD, from this task) that comes next.
#[inline(always)]
pub fn on_task_exit() {
    if config_u32(&FILTER_MODE) != FILTER_TASKS {
        return;
    }
    if let Some(v) = FOLLOWED_TASKS.get_ptr_mut(bpf_get_current_pid_tgid() as u32) {
        // SAFETY: value pointer of the entry keyed by this task; the exiting task writes it.
        unsafe { *v = TASK_EXITED };
    }
}

/// `sched_process_free` (kernel/exit.c `delayed_put_task_struct`, any context): the task is
/// gone and its tid leaves the set, unless a followed task's new child already reuses it.
#[inline(always)]
pub fn on_task_free(tid: impl FnOnce() -> Option<u32>) {
    if config_u32(&FILTER_MODE) != FILTER_TASKS {
        return;
    }
    if let Some(tid) = tid()
        // SAFETY: the value is read at once, not kept.
        && FOLLOWED_TASKS
            .get_ptr(tid)
            .is_some_and(|v| unsafe { *v } == TASK_EXITED)
    {
        let _ = FOLLOWED_TASKS.remove(tid);
    }
}
