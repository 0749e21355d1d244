//! What the user asked to see, applied in user space after enrichment (what the kernel can
//! decide, such as the syscall set, it already did, unless a stage before needed more).
use std::collections::{HashMap, HashSet};

pub mod path;
pub mod signal;

use crate::{
    decode::errno,
    model::{Event, event::Enter},
};

/// What became of a call, as strace 6.1's `-e status=` sorts them (its `STATUS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Returned a value that is not an error (`= 3`, `= 0x7f…`).
    Successful,
    /// Returned an errno, restarts included (`= -1 ENOENT`, `= ? ERESTARTSYS`): strace's
    /// `syserror()` is any non-zero error.
    Failed,
    /// Never returned while traced: `exit_group(0) = ?`, a call killed by seccomp's SIGSYS,
    /// or still in progress when tracing stopped (`<unfinished ...>` at the end).
    Unfinished,
    /// Returned, but the return value could not be read: strace's `= ? <unavailable>` after a
    /// failed ptrace request. The kernel always has the return register: tracer has none.
    Unavailable,
    /// strace detached before the call returned: tracer never detaches, so none either.
    Detached,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Successful,
        Status::Failed,
        Status::Unfinished,
        Status::Unavailable,
        Status::Detached,
    ];

    /// strace's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Successful => "successful",
            Status::Failed => "failed",
            Status::Unfinished => "unfinished",
            Status::Unavailable => "unavailable",
            Status::Detached => "detached",
        }
    }

    pub fn of(e: &Event) -> Status {
        match (e.call.enter, e.call.ret) {
            (Enter::Unfinished, _) | (_, None) => Status::Unfinished,
            (_, Some(r)) if errno::of_ret(r).is_some() => Status::Failed,
            (_, Some(_)) => Status::Successful,
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The statuses shown (`-e status=SET`, `-z`, `-Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSet(u8);

impl StatusSet {
    pub const NONE: StatusSet = StatusSet(0);
    pub const ALL: StatusSet = StatusSet((1 << Status::ALL.len()) - 1);

    pub fn with(self, s: Status) -> StatusSet {
        StatusSet(self.0 | s.bit())
    }

    pub fn invert(self) -> StatusSet {
        StatusSet(!self.0 & Self::ALL.0)
    }

    pub fn contains(self, s: Status) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn is_all(self) -> bool {
        self == Self::ALL
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        Self::ALL
    }
}

/// What to do with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Keep,
    /// Not asked for (the kernel reported it for an earlier stage: `-y`'s fd tables).
    Skip,
    /// Not wanted, nor anything after it: the run is complete (`--count`).
    Done,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Records to pass before the run is complete (`--count`).
    pub limit: Option<u64>,
    /// Syscall numbers to show, where the kernel reports more; `None`: all it reports.
    syscalls: Option<HashSet<u32>>,
    /// Statuses to show; `None`: all.
    status: Option<StatusSet>,
    /// Process names (`comm`) whose calls are left out (`--exclude-comm`).
    excluded_comms: Vec<Vec<u8>>,
    /// `-P`: only the calls that touch these paths.
    paths: path::Paths,
    /// Signals to show (`-e signal=`, filter/signal.rs).
    signals: signal::SignalSet,
    /// The daemon's per-container policies: the filter of a container named here (its label:
    /// name, or `NS/POD/NAME`) replaces this one for its events.
    by_container: HashMap<String, Filter>,
    passed: u64,
}

/// The kernel keeps `TASK_COMM_LEN - 1` bytes of a name (include/linux/sched.h).
const COMM_MAX: usize = 15;

impl Filter {
    pub fn new(limit: Option<u64>) -> Self {
        Filter {
            limit,
            syscalls: None,
            status: None,
            excluded_comms: Vec::new(),
            paths: path::Paths::default(),
            signals: signal::SignalSet::ALL,
            by_container: HashMap::new(),
            passed: 0,
        }
    }

    /// Containers with filters of their own (the daemon's `[container.NAME]` tables), by label.
    pub fn per_container(mut self, filters: HashMap<String, Filter>) -> Self {
        self.by_container = filters;
        self
    }

    /// The filter for an event of `container`.
    fn of(&self, container: Option<&crate::model::Container>) -> &Filter {
        if self.by_container.is_empty() {
            return self;
        }
        container
            .and_then(|c| self.by_container.get(c.label().as_ref()))
            .unwrap_or(self)
    }

    /// Shows only the calls that touch one of `paths` (none: no filter).
    pub fn paths(mut self, paths: path::Paths) -> Self {
        self.paths = paths;
        self
    }

    /// Leaves out the calls of tasks named one of `names` (as the kernel keeps a name: its
    /// first 15 bytes). Empty names are ignored.
    pub fn exclude_comms(mut self, names: &[String]) -> Self {
        self.excluded_comms = names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.as_bytes()[..n.len().min(COMM_MAX)].to_vec())
            .collect();
        self
    }

    /// Shows only these syscalls (the kernel reports more).
    pub fn only(mut self, syscalls: &[u32]) -> Self {
        self.syscalls = Some(syscalls.iter().copied().collect());
        self
    }

    /// Shows only calls whose status is in `set` (all: no filter).
    pub fn status(mut self, set: StatusSet) -> Self {
        self.status = (!set.is_all()).then_some(set);
        self
    }

    pub fn pass(&mut self, e: &Event) -> Pass {
        if self.complete() {
            return Pass::Done;
        }
        if !self.shown(e) {
            return Pass::Skip;
        }
        self.passed += 1;
        Pass::Keep
    }

    /// Asked for (syscall set and status), without counting it against the limit: for the
    /// calls still in progress at the end, which `--count` does not count.
    pub fn shown(&self, e: &Event) -> bool {
        self.of(e.container.as_deref()).shown_here(e)
    }

    fn shown_here(&self, e: &Event) -> bool {
        self.syscalls
            .as_ref()
            .is_none_or(|s| s.contains(&e.call.nr))
            && self.status.is_none_or(|s| s.contains(Status::of(e)))
            && (self.excluded_comms.is_empty()
                || !self
                    .excluded_comms
                    .iter()
                    .any(|c| c.as_slice() == e.call.comm_bytes()))
            && (self.paths.is_empty() || self.paths.matches(e))
    }

    /// The limit is reached: nothing more passes.
    pub fn complete(&self) -> bool {
        self.limit.is_some_and(|l| self.passed >= l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn returning(ret: Option<i64>) -> Event {
        let mut call = crate::decode::unfinished(1, &tracer_common::config::Pending::default());
        call.enter = Enter::Seen;
        call.ret = ret;
        Event {
            call,
            args: Vec::new(),
            ret_path: None,
            ret_shown: None,
            ret_note: None,
            container: None,
        }
    }

    #[test]
    fn statuses_as_strace_sorts_them() {
        assert_eq!(Status::of(&returning(Some(3))), Status::Successful);
        assert_eq!(Status::of(&returning(Some(0))), Status::Successful);
        assert_eq!(
            Status::of(&returning(Some(0x7f00_0000_0000))),
            Status::Successful
        );
        assert_eq!(Status::of(&returning(Some(-2))), Status::Failed);
        assert_eq!(
            Status::of(&returning(Some(-512))),
            Status::Failed,
            "ERESTARTSYS"
        );
        assert_eq!(
            Status::of(&returning(None)),
            Status::Unfinished,
            "exit_group"
        );
        let mut missing = returning(Some(-4));
        missing.call.enter = Enter::Missing;
        assert_eq!(
            Status::of(&missing),
            Status::Failed,
            "resumed: by its return"
        );
        let mut pending = returning(None);
        pending.call.enter = Enter::Unfinished;
        assert_eq!(Status::of(&pending), Status::Unfinished);
    }

    #[test]
    fn excluded_names_are_left_out_as_the_kernel_cuts_them() {
        let named = |comm: &[u8]| {
            let mut e = returning(Some(0));
            e.call.comm = [0; 16];
            e.call.comm[..comm.len()].copy_from_slice(comm);
            e
        };
        let mut f = Filter::new(None).exclude_comms(&[
            "runc:[2:INIT]".into(),
            String::new(),
            "a-name-longer-than-15".into(),
        ]);
        assert_eq!(f.pass(&named(b"runc:[2:INIT]")), Pass::Skip);
        assert_eq!(f.pass(&named(b"a-name-longer-t")), Pass::Skip, "cut at 15");
        assert_eq!(f.pass(&named(b"runc:[1:CHILD]")), Pass::Keep);
        assert_eq!(f.pass(&named(b"nginx")), Pass::Keep);
        assert_eq!(
            f.pass(&named(b"")),
            Pass::Keep,
            "an empty name excludes nothing"
        );
    }

    #[test]
    fn filters_by_status() {
        let ok = returning(Some(0));
        let failed = returning(Some(-2));
        let gone = returning(None);
        let mut z = Filter::new(Some(1)).status(StatusSet::NONE.with(Status::Successful));
        assert_eq!(z.pass(&failed), Pass::Skip);
        assert_eq!(z.pass(&gone), Pass::Skip);
        assert!(!z.complete(), "a skipped event does not count");
        assert_eq!(z.pass(&ok), Pass::Keep);
        assert_eq!(z.pass(&failed), Pass::Done);
        let mut zz = Filter::new(None).status(StatusSet::NONE.with(Status::Failed));
        assert_eq!(zz.pass(&ok), Pass::Skip);
        assert_eq!(zz.pass(&failed), Pass::Keep);
        let not_ok = StatusSet::NONE.with(Status::Successful).invert();
        let f = Filter::new(None).status(not_ok);
        assert!(!f.shown(&ok) && f.shown(&failed) && f.shown(&gone));
        let all = Filter::new(None).status(StatusSet::ALL);
        assert!(all.shown(&ok) && all.shown(&failed) && all.shown(&gone));
        let none = Filter::new(None).status(StatusSet::NONE);
        assert!(!none.shown(&ok) && !none.shown(&failed) && !none.shown(&gone));
        // Both filters apply.
        let only = Filter::new(None)
            .only(&[ok.call.nr + 1])
            .status(StatusSet::ALL.invert().with(Status::Failed));
        assert!(!only.shown(&failed));
    }

    #[test]
    fn passes_up_to_the_limit() {
        let e = Event {
            call: crate::decode::unfinished(1, &tracer_common::config::Pending::default()),
            args: Vec::new(),
            ret_path: None,
            ret_shown: None,
            ret_note: None,
            container: None,
        };
        let mut f = Filter::new(Some(2));
        assert_eq!(f.pass(&e), Pass::Keep);
        assert!(!f.complete());
        assert_eq!(f.pass(&e), Pass::Keep);
        assert!(f.complete());
        assert_eq!(f.pass(&e), Pass::Done);
        let mut all = Filter::new(None);
        assert!((0..1000).all(|_| all.pass(&e) == Pass::Keep));
        let mut only = Filter::new(Some(1)).only(&[e.call.nr + 1]);
        assert_eq!(only.pass(&e), Pass::Skip);
        assert!(!only.complete(), "a skipped event does not count");
    }
}
