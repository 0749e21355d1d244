//! Joins the enter-side captures (their own record, emitted at enter) to the syscall record of
//! the same thread that follows in the ring buffer.
use std::{
    collections::HashMap,
    hash::{BuildHasherDefault, Hasher},
};

use super::{Enter, EnterEvent, Record, SyscallEvent};

/// Threads with enter captures waiting for their exit. Bounded in count and in bytes: a thread
/// that dies inside a syscall never sends its exit, and thousands of threads blocked in calls
/// with long paths must not grow memory without end. Past either bound the waiting captures
/// are dropped (their exits then come without them) and counted.
const MAX_WAITING: usize = 65_536;
const MAX_WAITING_BYTES: usize = 16 << 20;

/// Hashes a thread id with one multiplication (Fibonacci hashing) instead of SipHash: the ids
/// are the kernel's host thread ids, which a traced process does not choose.
#[derive(Default)]
struct TidHasher(u64);

impl Hasher for TidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 << 8 | u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[derive(Default)]
pub struct Pairing {
    waiting: HashMap<u32, EnterEvent, BuildHasherDefault<TidHasher>>,
    /// Captured bytes held in `waiting`.
    bytes: usize,
    /// Enter records whose captures were dropped at a bound.
    pub dropped: u64,
}

fn size(e: &EnterEvent) -> usize {
    e.captures.iter().map(|c| c.data.len() + 32).sum::<usize>() + 64
}

impl Pairing {
    /// Feeds one record; returns a complete syscall event when there is one.
    pub fn push(&mut self, rec: Record) -> Option<SyscallEvent> {
        match rec {
            Record::Enter(e) => {
                let n = size(&e);
                if self.waiting.len() >= MAX_WAITING || self.bytes + n > MAX_WAITING_BYTES {
                    if self.dropped == 0 {
                        tracing::warn!(
                            threads = self.waiting.len(),
                            "too many calls waiting for their exit: their enter-side contents are dropped (the calls are kept)"
                        );
                    }
                    self.dropped += self.waiting.len() as u64;
                    self.waiting.clear();
                    self.bytes = 0;
                }
                self.bytes += n;
                if let Some(old) = self.waiting.insert(e.tid, e) {
                    self.bytes -= size(&old);
                }
                None
            }
            Record::Syscall(mut ev) => {
                // Most syscalls have no enter captures: skip the hash lookup when none wait.
                let waited = if self.waiting.is_empty() {
                    None
                } else {
                    self.waiting.remove(&ev.tid)
                };
                if let Some(e) = &waited {
                    self.bytes -= size(e);
                }
                if let Some(e) = waited
                    && e.nr == ev.nr
                    && ev.enter == Enter::Seen
                {
                    let mut caps = e.captures;
                    caps.append(&mut ev.captures);
                    ev.captures = caps;
                }
                Some(ev)
            }
            // Not a call's part: the pipeline passes signals on without pairing.
            Record::Signal(_) => None,
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

    #[test]
    fn waiting_captures_are_bounded_in_bytes() {
        let mut p = Pairing::default();
        let path = vec![b'a'; 4096];
        // 10,000 threads blocked in a call with a 4 KiB path: 40 MiB if nothing bounded it.
        for tid in 0..10_000 {
            p.push(Record::Enter(EnterEvent {
                tid,
                nr: 257,
                captures: vec![cap(1, &path)],
            }));
            assert!(p.bytes <= MAX_WAITING_BYTES);
        }
        assert!(p.dropped > 0);
        let held: usize = p.waiting.values().map(size).sum();
        assert_eq!(held, p.bytes);
    }
}
