//! A thread's ids in its own PID namespace, from the last fields of `NStgid` and `NSpid` in
//! /proc/TID/status (Documentation/filesystems/proc.rst), cached per thread.
use std::collections::HashMap;

/// Threads kept before the cache starts over (one entry is a few bytes).
const MAX_THREADS: usize = 1 << 16;

#[derive(Debug, Default)]
pub struct NsIds {
    /// tid → (ns tgid, ns tid); `None`: the thread was gone when asked.
    cache: HashMap<u32, Option<(u32, u32)>>,
}

/// The last number of a `NSpid:`-style line: the id in the innermost namespace.
fn innermost(status: &str, key: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// `(ns tgid, ns tid)` from the text of /proc/TID/status.
pub fn parse(status: &str) -> Option<(u32, u32)> {
    Some((innermost(status, "NStgid:")?, innermost(status, "NSpid:")?))
}

impl NsIds {
    pub fn of(&mut self, tid: u32) -> Option<(u32, u32)> {
        if let Some(ids) = self.cache.get(&tid) {
            return *ids;
        }
        if self.cache.len() >= MAX_THREADS {
            self.cache.clear();
        }
        let ids = std::fs::read_to_string(format!("/proc/{tid}/status"))
            .ok()
            .and_then(|s| parse(&s));
        // A thread that is gone stays unknown only until the ids are asked for again after a
        // clear: it cannot come back, but its tid can be reused.
        self.cache.insert(tid, ids);
        ids
    }

    pub fn clear(&mut self) {
        self.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn innermost_ids() {
        let status = "Name:\tnginx\nTgid:\t12001\nNgid:\t0\nPid:\t12005\nPPid:\t11999\n\
                      NStgid:\t12001\t7\nNSpid:\t12005\t9\nNSpgid:\t11999\t1\n";
        assert_eq!(parse(status), Some((7, 9)));
        assert_eq!(parse("NStgid:\t5\nNSpid:\t5\n"), Some((5, 5)));
        assert_eq!(parse("Name:\tx\n"), None);
    }

    #[test]
    fn own_ids_on_the_host() {
        let mut ns = NsIds::default();
        let me = std::process::id();
        let got = ns.of(me).expect("own status readable");
        // This test runs in some PID namespace; its innermost ids are its own there.
        assert!(got.0 > 0 && got.1 > 0);
        assert_eq!(ns.of(me), Some(got), "cached");
        assert_eq!(ns.of(u32::MAX), None);
    }
}
