//! What happens to a followed container, as its stream tells it (docs/events.md, `"type":
//! "container"`): written by the daemon between the container's syscall records.
use std::sync::Arc;

use super::Container;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleKind {
    /// Running when the daemon first saw it: followed from then on.
    Followed,
    /// Started while the daemon ran (its first incarnation the daemon saw start).
    Started,
    /// A new incarnation after an earlier one was followed (a restart, a re-creation under the
    /// same name, a pod container's new instance).
    Restarted,
    /// Its process exited; its cgroup left the filter.
    Died,
    /// Removed from the engine.
    Destroyed,
    /// The engine now calls it by the name the daemon follows.
    Renamed,
    /// No longer wanted (a selected pod went away or stopped matching).
    Unfollowed,
}

impl LifecycleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleKind::Followed => "followed",
            LifecycleKind::Started => "started",
            LifecycleKind::Restarted => "restarted",
            LifecycleKind::Died => "died",
            LifecycleKind::Destroyed => "destroyed",
            LifecycleKind::Renamed => "renamed",
            LifecycleKind::Unfollowed => "unfollowed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Lifecycle {
    /// CLOCK_MONOTONIC, as the kernel's records are stamped.
    pub ktime_ns: u64,
    pub kind: LifecycleKind,
    pub container: Arc<Container>,
    /// The init process's host pid, when known.
    pub pid: Option<u32>,
    /// The cgroup v2 id that entered (or left) the filter.
    pub cgroup_id: Option<u64>,
    /// `died`: the exit code, when the engine says.
    pub exit_code: Option<i64>,
    /// `renamed`: the name before.
    pub old_name: Option<String>,
}
