//! Joins the enter-side captures (their own record, emitted at enter) to the syscall record of
//! the same thread that follows in the ring buffer.
use std::collections::HashMap;

use super::{Enter, EnterEvent, Record, SyscallEvent};

/// Threads with enter captures waiting for their exit. Bounded: a thread that dies inside a
/// syscall never sends its exit, so past this many entries the oldest are dropped.
const MAX_WAITING: usize = 65_536;

#[derive(Default)]
pub struct Pairing {
    waiting: HashMap<u32, EnterEvent>,
}

impl Pairing {
    /// Feeds one record; returns a complete syscall event when there is one.
    pub fn push(&mut self, rec: Record) -> Option<SyscallEvent> {
        match rec {
            Record::Enter(e) => {
                if self.waiting.len() >= MAX_WAITING {
                    self.waiting.clear();
                }
                self.waiting.insert(e.tid, e);
                None
            }
            Record::Syscall(mut ev) => {
                // Most syscalls have no enter captures: skip the hash lookup when none wait.
                if !self.waiting.is_empty()
                    && let Some(e) = self.waiting.remove(&ev.tid)
                    && e.nr == ev.nr
                    && ev.enter == Enter::Seen
                {
                    let mut caps = e.captures;
                    caps.append(&mut ev.captures);
                    ev.captures = caps;
                }
                Some(ev)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Capture, decode, tests as fixtures};

    fn cap(arg: u8, data: &[u8]) -> Capture {
        Capture {
            arg,
            kind: 1,
            flags: 0,
            index: 0,
            data: data.to_vec(),
        }
    }

    #[test]
    fn enter_captures_join_the_matching_exit() {
        let mut p = Pairing::default();
        let ev = decode(&fixtures::bytes(&fixtures::record(0, 257, 3))).expect("decodes");
        assert!(
            p.push(Record::Enter(EnterEvent {
                tid: ev.tid,
                nr: 257,
                captures: vec![cap(1, b"/etc/hosts")],
            }))
            .is_none()
        );
        let out = p.push(Record::Syscall(ev.clone())).expect("event");
        assert_eq!(out.captures, vec![cap(1, b"/etc/hosts")]);
        // Another syscall on the same thread does not pick up stale captures.
        p.push(Record::Enter(EnterEvent {
            tid: ev.tid,
            nr: 2,
            captures: vec![cap(0, b"x")],
        }));
        let out = p.push(Record::Syscall(ev)).expect("event");
        assert!(out.captures.is_empty());
    }
}
