//! What a seccomp profile would have done with one observed call (`tracer seccomp watch`, the
//! daemon's `--seccomp-watch`): rendered beside the call by the sinks (docs/events.md,
//! `"type": "seccomp"`), counted by the metrics. Nothing is enforced.
use std::sync::Arc;

/// The profile's answer to the call, named after what would have happened to it. Calls the
/// profile allows have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// `SCMP_ACT_ERRNO`: the call would have failed with the profile's errno.
    WouldDeny,
    /// `SCMP_ACT_KILL_PROCESS`, `SCMP_ACT_KILL_THREAD`, `SCMP_ACT_KILL`: killed by SIGSYS.
    WouldKill,
    /// `SCMP_ACT_TRAP`: SIGSYS sent to the thread (it dies unless it handles SIGSYS).
    WouldTrap,
    /// `SCMP_ACT_LOG`: allowed, and logged by the kernel (audit).
    WouldLog,
    /// `SCMP_ACT_TRACE`: handed to a ptracer using `PTRACE_O_TRACESECCOMP`; without one (as
    /// under Docker) the call fails with ENOSYS.
    WouldTrace,
    /// `SCMP_ACT_NOTIFY`: handed to the user-space supervisor holding the filter's listener.
    WouldNotify,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::WouldDeny,
        Verdict::WouldKill,
        Verdict::WouldTrap,
        Verdict::WouldLog,
        Verdict::WouldTrace,
        Verdict::WouldNotify,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::WouldDeny => "would_deny",
            Verdict::WouldKill => "would_kill",
            Verdict::WouldTrap => "would_trap",
            Verdict::WouldLog => "would_log",
            Verdict::WouldTrace => "would_trace",
            Verdict::WouldNotify => "would_notify",
        }
    }
}

/// One call the profile would not simply have allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub verdict: Verdict,
    /// The action as profiles spell it (`SCMP_ACT_ERRNO`).
    pub action: &'static str,
    /// `would_deny`: the errno the call would have failed with.
    pub errno: Option<u32>,
    /// The rule that decided: its index in the profile's `syscalls`; `None` for
    /// `defaultAction`.
    pub rule: Option<usize>,
    /// The profile, as it was named on the command line or in the config.
    pub profile: Arc<str>,
}
