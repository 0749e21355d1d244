//! A signal as a followed task received it, or the signal a followed process died of: what the
//! kernel's `KIND_SIGNAL` record says, decoded once. Plain data.
use std::sync::Arc;

use super::event::Container;

/// What happens to a delivered signal: its action when the task dequeued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// `SIG_DFL`: the default action (terminate, dump core, stop, continue or ignore).
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// A handler at this address in the task.
    At(u64),
}

/// What the record reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalKind {
    /// The task was delivered the signal (strace's `--- SIGUSR1 {...} ---`).
    Delivered {
        /// The action, when the kernel gave it.
        handler: Option<Handler>,
        /// `sa_flags` of the action (0 without one).
        sa_flags: u64,
        /// The siginfo in strace's text, `{si_signo=SIGUSR1, si_code=SI_TKILL, ...}`, and as
        /// JSON; `None` when the kernel could not read it.
        info: Option<(String, serde_json::Value)>,
    },
    /// The process died of the signal (strace's `+++ killed by SIGKILL +++`).
    Killed {
        /// It dumped core (`(core dumped)`).
        core: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignalEvent {
    /// CLOCK_MONOTONIC when the signal was delivered (or the process died).
    pub ktime_ns: u64,
    pub sig: u32,
    pub tgid: u32,
    pub tid: u32,
    pub ns_tgid: Option<u32>,
    pub ns_tid: Option<u32>,
    pub cgroup_id: u64,
    pub comm: [u8; 16],
    pub kind: SignalKind,
    /// The followed container the task belongs to (enrich).
    pub container: Option<Arc<Container>>,
}

impl SignalEvent {
    /// The comm up to its first NUL.
    pub fn comm_bytes(&self) -> &[u8] {
        let end = self
            .comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.comm.len());
        &self.comm[..end]
    }
}
