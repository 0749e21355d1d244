//! Maps and read-only configuration shared by every program.
use aya_ebpf::{
    macros::map,
    maps::{Array, HashMap, LruHashMap, PerCpuArray, PerCpuHashMap, RingBuf},
};
use tracer_common::{
    capture::CaptureSpec,
    config::{
        DEFAULT_PENDING_ENTRIES, MAX_FOLLOWED_TASKS, MAX_SYSCALL_NR, MAX_TARGET_CGROUPS, Pending,
    },
    stats::STAT_COUNT,
    summary::{ErrnoKey, MAX_SUMMARY_ENTRIES, SummaryKey, SummaryValue},
};

/// `FILTER_CGROUP` or `FILTER_PIDNS` (tracer_common::config).
#[unsafe(no_mangle)]
pub static FILTER_MODE: u32 = 0;
/// cgroup v2 depth of the targets: the filter compares the caller's ancestor at this level, so
/// tasks in child cgroups of a target are followed too.
#[unsafe(no_mangle)]
pub static CGROUP_LEVEL: u32 = 0;
/// A second depth for `TARGET_CGROUPS`, tried when the first misses (0: none): the kubelet's
/// Guaranteed pods sit one level above its BestEffort and Burstable ones.
#[unsafe(no_mangle)]
pub static CGROUP_LEVEL_ALT: u32 = 0;
/// With one target, its cgroup id: compared directly, no map lookup. 0: use `TARGET_CGROUPS`.
#[unsafe(no_mangle)]
pub static SINGLE_CGROUP: u64 = 0;
/// Device and inode of the target's PID namespace (`stat /proc/PID/ns/pid`); 0 when unknown.
#[unsafe(no_mangle)]
pub static PIDNS_DEV: u64 = 0;
#[unsafe(no_mangle)]
pub static PIDNS_INO: u64 = 0;
/// The tracer's own tgid: never followed.
#[unsafe(no_mangle)]
pub static OWN_TGID: u32 = 0;
/// Which returns make a record (`STATUS_*` in tracer_common::config); 0: all. Set only when
/// nothing downstream needs the other calls (no `-y` fd tables, no `-P`).
#[unsafe(no_mangle)]
pub static STATUS_SHOWN: u32 = 0;
/// Non-zero when `SYSCALL_FILTER` selects a subset of syscalls.
#[unsafe(no_mangle)]
pub static SYSCALL_FILTER_ON: u32 = 0;

#[map]
pub static TARGET_CGROUPS: HashMap<u64, u8> = HashMap::with_max_entries(MAX_TARGET_CGROUPS, 0);

/// `FILTER_TASKS`: the followed threads, by host tid (`TASK_RUNNING` or `TASK_EXITED`). Filled
/// by user space with the threads of the `-p` processes, extended by the fork hook, marked by
/// the exit hook, emptied by the free hook.
#[map]
pub static FOLLOWED_TASKS: HashMap<u32, u8> = HashMap::with_max_entries(MAX_FOLLOWED_TASKS, 0);

/// Offset of `child_pid` in the `sched/sched_process_fork` tracepoint's record, from its
/// format file (it moved when the comm fields became `__data_loc` strings).
#[unsafe(no_mangle)]
pub static FORK_CHILD_PID_OFF: u32 = 0;
/// Offset of `pid` in `sched/sched_process_free`'s record, from its format file.
#[unsafe(no_mangle)]
pub static FREE_PID_OFF: u32 = 0;

#[map]
pub static SYSCALL_FILTER: Array<u8> = Array::with_max_entries(MAX_SYSCALL_NR, 0);

/// Non-zero (`-y`, `-yy`): the exits of the syscalls `WAKE_SYSCALLS` marks wake the reader at
/// once (see `syscall::wakeup_flags`).
#[unsafe(no_mangle)]
pub static WAKE_ON: u32 = 0;

/// By syscall number: non-zero for the calls whose exit wakes the reader when `WAKE_ON`.
#[map]
pub static WAKE_SYSCALLS: Array<u8> = Array::with_max_entries(MAX_SYSCALL_NR, 0);

/// Keyed by host tid. LRU: threads that die without `exit` (killed by `exit_group` of a sibling)
/// are evicted instead of filling the map.
#[map]
pub static PENDING: LruHashMap<u32, Pending> =
    LruHashMap::with_max_entries(DEFAULT_PENDING_ENTRIES, 0);

/// Bytes waiting in `EVENTS` before a record wakes the reader (see `syscall::wakeup_flags`).
#[unsafe(no_mangle)]
pub static WAKEUP_BYTES: u64 = 0;

/// Resized by the loader (`--ring-size`).
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(8 << 20, 0);

/// What to capture per syscall number, written by user space.
#[map]
pub static CAPTURE_SPEC: Array<CaptureSpec> = Array::with_max_entries(MAX_SYSCALL_NR, 0);

/// `--string-size`: bytes of buffers and argv strings captured.
#[unsafe(no_mangle)]
pub static STRING_SIZE: u32 = 32;

/// Bytes of the per-CPU scratch record (fixed part plus captures).
pub const SCRATCH_SIZE: usize = 16384;

#[map]
pub static SCRATCH: PerCpuArray<[u8; SCRATCH_SIZE]> = PerCpuArray::with_max_entries(1, 0);

/// The state of the loop over a call's arguments (`capture::all_args`).
#[map]
pub static ARGS_LOOP: PerCpuArray<crate::capture::ArgsLoop> = PerCpuArray::with_max_entries(1, 0);

/// Write offset into `SCRATCH` (see `capture::Cursor`).
#[map]
pub static SCRATCH_OFF: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

/// Non-zero: aggregate every followed syscall into `SUMMARY` and `ERRNOS`.
#[unsafe(no_mangle)]
pub static SUMMARY_ON: u32 = 0;
/// Non-zero (the daemon's metrics, beside streaming): count every followed syscall per target in
/// `COUNTS`, and failures in `ERRNOS`; lighter than `SUMMARY_ON`'s aggregates (no times, no
/// histogram), so it fits beside the stream's programs.
#[unsafe(no_mangle)]
pub static COUNTS_ON: u32 = 0;
/// Non-zero: emit records into `EVENTS` (off in summary-only runs).
#[unsafe(no_mangle)]
pub static STREAM_ON: u32 = 1;

/// Non-zero: each record carries the caller's user stack (`-k`, `capture::CAP_STACK`).
#[unsafe(no_mangle)]
pub static STACK_ON: u32 = 0;

/// Non-zero (summary mode with one target: observe): `SUMMARY_BY_NR` instead of `SUMMARY`.
#[unsafe(no_mangle)]
pub static SUMMARY_SINGLE: u32 = 0;

/// Summary mode with one target: the aggregates by syscall number, an array (an index, not a
/// hash of the key; no insertion).
#[map]
pub static SUMMARY_BY_NR: PerCpuArray<SummaryValue> =
    PerCpuArray::with_max_entries(MAX_SYSCALL_NR, 0);

#[map]
pub static SUMMARY: PerCpuHashMap<SummaryKey, SummaryValue> =
    PerCpuHashMap::with_max_entries(MAX_SUMMARY_ENTRIES, 0);

#[map]
pub static COUNTS: PerCpuHashMap<SummaryKey, u64> =
    PerCpuHashMap::with_max_entries(MAX_SUMMARY_ENTRIES, 0);

#[map]
pub static ERRNOS: PerCpuHashMap<ErrnoKey, u64> =
    PerCpuHashMap::with_max_entries(MAX_SUMMARY_ENTRIES, 0);

#[map]
pub static STATS: PerCpuArray<u64> = PerCpuArray::with_max_entries(STAT_COUNT, 0);

#[inline(always)]
pub fn count(stat: u32) {
    if let Some(counter) = STATS.get_ptr_mut(stat) {
        // SAFETY: per-CPU slot, programs do not nest on one CPU for these hooks.
        unsafe { *counter += 1 };
    }
}

#[inline(always)]
pub fn config_u32(global: &'static u32) -> u32 {
    // SAFETY: reading a global; volatile so the loader-written value is used, not the default.
    unsafe { core::ptr::read_volatile(global) }
}

#[inline(always)]
pub fn config_u64(global: &'static u64) -> u64 {
    // SAFETY: as above.
    unsafe { core::ptr::read_volatile(global) }
}
