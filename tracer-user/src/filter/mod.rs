//! What the user asked to see, applied in user space after enrichment (what the kernel can
//! decide, such as the syscall set, it already did, unless a stage before needed more).
use std::collections::HashSet;

use crate::model::Event;

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
    passed: u64,
}

impl Filter {
    pub fn new(limit: Option<u64>) -> Self {
        Filter {
            limit,
            syscalls: None,
            passed: 0,
        }
    }

    /// Shows only these syscalls (the kernel reports more).
    pub fn only(mut self, syscalls: &[u32]) -> Self {
        self.syscalls = Some(syscalls.iter().copied().collect());
        self
    }

    pub fn pass(&mut self, e: &Event) -> Pass {
        if self.complete() {
            return Pass::Done;
        }
        if let Some(s) = &self.syscalls
            && !s.contains(&e.call.nr)
        {
            return Pass::Skip;
        }
        self.passed += 1;
        Pass::Keep
    }

    /// The limit is reached: nothing more passes.
    pub fn complete(&self) -> bool {
        self.limit.is_some_and(|l| self.passed >= l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_up_to_the_limit() {
        let e = Event {
            call: crate::decode::unfinished(1, &tracer_common::config::Pending::default()),
            args: Vec::new(),
            ret_path: None,
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
