//! Configuration the loader writes into the kernel programs before they are verified.
//!
//! Globals are read-only data (`.rodata`): the verifier sees their final values and prunes the
//! branches a given configuration never takes.

/// `FILTER_MODE`: follow the tasks whose cgroup v2 ancestor at `CGROUP_LEVEL` is in
/// `TARGET_CGROUPS`.
pub const FILTER_CGROUP: u32 = 1;
/// `FILTER_MODE`: follow the tasks whose active PID namespace is (`PIDNS_DEV`, `PIDNS_INO`).
pub const FILTER_PIDNS: u32 = 2;
/// `FILTER_MODE`: follow the threads in `FOLLOWED_TASKS` (host tids), which the fork hook
/// extends with every task a followed one creates (strace's `-f -p PID`).
pub const FILTER_TASKS: u32 = 3;

/// `STATUS_SHOWN` bits: which returns make a record (`-z`, `-Z`, `-e status=`). With the bit
/// `STATUS_FILTER_ON` clear, every return does.
pub const STATUS_SUCCESSFUL: u32 = 1 << 0;
pub const STATUS_FAILED: u32 = 1 << 1;
pub const STATUS_FILTER_ON: u32 = 1 << 31;

/// Capacity of the syscall-number filter (`SYSCALL_FILTER` array): numbers at or above it are
/// never selected when a filter is set.
pub const MAX_SYSCALL_NR: u32 = 1024;
/// Capacity of `TARGET_CGROUPS`.
pub const MAX_TARGET_CGROUPS: u32 = 1024;
/// `FOLLOWED_TASKS` values: the task runs; it has exited (`sched_process_exit`) and is followed
/// until freed (`sched_process_free`), for the notice of its death its parent gets.
pub const TASK_RUNNING: u8 = 1;
pub const TASK_EXITED: u8 = 2;

/// Capacity of `FOLLOWED_TASKS`: threads followed at once in `FILTER_TASKS` mode; a fork
/// past it is counted (`STAT_TASKS_FULL`) and its child not followed.
pub const MAX_FOLLOWED_TASKS: u32 = 32_768;
/// Default capacity of `PENDING` (threads with a syscall in flight), LRU evicted.
pub const DEFAULT_PENDING_ENTRIES: u32 = 32_768;

/// Per-thread state kept between enter and exit.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Pending {
    pub enter_ns: u64,
    pub args: [u64; 6],
    pub nr: u32,
    /// `PENDING_IN_FLIGHT`, `PENDING_DONE` or `PENDING_SIGSYS`.
    pub state: u32,
    /// The thread's ids in the target PID namespace, looked up once when the thread is first
    /// seen (the helper costs ~90 ns; a thread's PID namespace never changes).
    pub ns_tgid: u32,
    pub ns_tid: u32,
    /// Size of the socket address buffer passed in (`*addrlen`, recvmsg's `msg_namelen`),
    /// read at enter since the call overwrites it; `LEN_IN_UNKNOWN` otherwise. The exit side
    /// reads no more of the address than this.
    pub len_in: u32,
    /// Bit `i`: argument `i`'s string could not be read at enter (its page not faulted in
    /// yet); the exit reads it again (`CAPF_AT_EXIT`).
    pub retry: u32,
}
const _: () = assert!(core::mem::size_of::<Pending>() == 80);

/// The enter was seen, the exit not yet.
pub const PENDING_IN_FLIGHT: u32 = 1;
/// The thread is known (a syscall of it completed) and has nothing in flight.
pub const PENDING_DONE: u32 = 2;
/// seccomp just sent the thread SIGSYS for syscall `nr` (`SCMP_ACT_KILL*`, `SCMP_ACT_TRAP`): the
/// exit that follows, with no enter, is that rejected call.
pub const PENDING_SIGSYS: u32 = 3;
