//! Records written by the kernel programs into the ring buffer.

/// Length of `task_struct::comm` (`TASK_COMM_LEN` in `include/linux/sched.h`).
pub const COMM_LEN: usize = 16;

/// `RecordHeader::kind` of a [`SyscallRecord`] (possibly followed by exit-side captures).
pub const KIND_SYSCALL: u16 = 1;
/// `RecordHeader::kind` of an [`EnterRecord`](crate::capture::EnterRecord).
pub const KIND_ENTER: u16 = 2;
/// `RecordHeader::kind` of a [`SignalRecord`]: a signal delivered to a followed task, or (with
/// [`FLAG_SIGNAL_KILLED`]) a followed process's death by a signal.
pub const KIND_SIGNAL: u16 = 3;

/// The syscall never returns (`exit`, `exit_group`): the record is emitted at enter and `ret` is
/// meaningless.
pub const FLAG_NO_RETURN: u16 = 1 << 0;
/// An exit arrived with no pending enter on this thread: `enter_ns` is 0, and `args` were read
/// from the registers at exit (zero where the hook has no register access).
pub const FLAG_ENTER_MISSING: u16 = 1 << 1;
/// With [`FLAG_ENTER_MISSING`]: the thread had already completed a followed syscall, so the
/// enter was skipped by the kernel rather than missed by us (seccomp rejects a syscall before
/// the `sys_enter` tracepoint runs).
pub const FLAG_THREAD_KNOWN: u16 = 1 << 2;
/// With [`FLAG_ENTER_MISSING`]: seccomp answered this call with SIGSYS (`SCMP_ACT_KILL*`,
/// `SCMP_ACT_TRAP`); it never ran, and `ret` is meaningless (the registers were rolled back).
pub const FLAG_SECCOMP_SIGSYS: u16 = 1 << 3;
/// Exit-only mode (`--exit-only`, no `sys_enter` program): the call was seen at its exit only,
/// its arguments read from the registers there and its enter-side captures read at exit from
/// the same memory (only calls that leave their inputs as they were are selected). `enter_ns`
/// is 0: the call has no duration.
pub const FLAG_EXIT_ONLY: u16 = 1 << 4;

/// Every record starts with this header.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordHeader {
    /// One of the `KIND_*` constants.
    pub kind: u16,
    /// `FLAG_*` bits, meaning depends on `kind`.
    pub flags: u16,
    /// Total length of the record in bytes, header included.
    pub len: u32,
    /// `bpf_ktime_get_ns()` (CLOCK_MONOTONIC) when the record was made.
    pub ktime_ns: u64,
    /// Host thread-group id (the pid user space sees).
    pub tgid: u32,
    /// Host thread id.
    pub tid: u32,
}
const _: () = assert!(core::mem::size_of::<RecordHeader>() == 24);

/// One syscall, enter and exit paired in the kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallRecord {
    pub header: RecordHeader,
    /// Syscall number of the host architecture.
    pub nr: u32,
    /// tgid in the target's PID namespace, 0 when unknown.
    pub ns_tgid: u32,
    /// tid in the target's PID namespace, 0 when unknown.
    pub ns_tid: u32,
    pub _pad: u32,
    /// Return value as the kernel left it in the return register (negative errno on failure).
    pub ret: i64,
    /// `bpf_ktime_get_ns()` at enter, 0 when the enter was not seen.
    pub enter_ns: u64,
    /// cgroup v2 id of the calling task.
    pub cgroup_id: u64,
    /// The six raw argument registers.
    pub args: [u64; 6],
    /// `task_struct::comm`, NUL padded (not always NUL terminated).
    pub comm: [u8; COMM_LEN],
}
const _: () = assert!(core::mem::size_of::<SyscallRecord>() == 128);

/// [`KIND_SIGNAL`]: not a delivery but the process's death: `sig` killed it (`info` is the
/// SIGCHLD siginfo its parent was sent).
pub const FLAG_SIGNAL_KILLED: u16 = 1 << 0;
/// With [`FLAG_SIGNAL_KILLED`]: the process dumped core (`CLD_DUMPED`).
pub const FLAG_SIGNAL_CORE: u16 = 1 << 1;
/// The siginfo could not be read: `info` is zero.
pub const FLAG_SIGNAL_NO_INFO: u16 = 1 << 2;
/// The handler could not be read (no `k_sigaction`): `handler` and `sa_flags` are zero.
pub const FLAG_SIGNAL_NO_ACTION: u16 = 1 << 3;

/// `sizeof(struct kernel_siginfo)` on 64-bit kernels (`include/linux/signal_types.h`: the
/// `__SIGINFO` fields, without user space's padding to 128 bytes).
pub const KERNEL_SIGINFO_LEN: usize = 48;

/// A signal as a followed task received it, or the signal a followed process died of.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalRecord {
    pub header: RecordHeader,
    /// The signal number.
    pub sig: u32,
    /// tgid in the target's PID namespace, 0 when unknown.
    pub ns_tgid: u32,
    /// tid in the target's PID namespace, 0 when unknown.
    pub ns_tid: u32,
    pub _pad: u32,
    /// cgroup v2 id of the task.
    pub cgroup_id: u64,
    /// `sa_handler` of the signal's action when delivered (0: SIG_DFL, 1: SIG_IGN).
    pub handler: u64,
    /// `sa_flags` of that action.
    pub sa_flags: u64,
    /// `task_struct::comm`, NUL padded (not always NUL terminated).
    pub comm: [u8; COMM_LEN],
    /// The `struct kernel_siginfo` as the kernel holds it (its bytes, in 8-byte words).
    pub info: [u64; KERNEL_SIGINFO_LEN / 8],
}
const _: () = assert!(core::mem::size_of::<SignalRecord>() == 128);
