//! What the user asked to see, applied in user space after enrichment (what the kernel can
//! decide, such as the syscall set, it already did).
use crate::model::Event;

/// What to do with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Keep,
    /// Not wanted, nor anything after it: the run is complete (`--count`).
    Done,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Records to pass before the run is complete (`--count`).
    pub limit: Option<u64>,
    passed: u64,
}

impl Filter {
    pub fn new(limit: Option<u64>) -> Self {
        Filter { limit, passed: 0 }
    }

    pub fn pass(&mut self, _e: &Event) -> Pass {
        if self.complete() {
            return Pass::Done;
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
    }
}
