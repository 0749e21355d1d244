//! What the kernel filter is told about a target: plain ids, resolved by `runtime`.

/// A PID namespace as `bpf_get_ns_current_pid_tgid()` names it: nsfs device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidNs {
    pub dev: u64,
    pub ino: u64,
}

/// include/linux/proc_ns.h: PROC_PID_INIT_INO, the initial PID namespace.
const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;

impl PidNs {
    pub fn is_initial(&self) -> bool {
        self.ino == PROC_PID_INIT_INO
    }
}

/// How the kernel decides that a task belongs to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelFilter {
    /// The task's cgroup v2 ancestor at `level` is the cgroup `id`.
    Cgroup { id: u64, level: u32 },
    /// The task lives in the target's PID namespace (no cgroup v2 for it on this host).
    PidNs,
    /// The task's cgroup v2 ancestor at `level` is in the kernel's target set, which user space
    /// changes while tracing (the daemon: containers come and go).
    /// `also`: a second level tried when the first misses (0: none).
    CgroupSet { level: u32, also: u32 },
    /// The task is one of the followed threads (`-p`): the given processes' threads, and every
    /// task they create while traced.
    Tasks,
}
