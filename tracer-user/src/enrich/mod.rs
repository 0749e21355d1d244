//! What the kernel record does not say about its origin: the container a call came from, and,
//! where the kernel could not tell (the daemon spans many PID namespaces), the process's ids
//! as its container sees them; with `-y`, what each fd refers to, from the trace's own fd
//! tables ([`fds`]); with `-k`, what is at each address of a call's user stack ([`stack`]).
pub mod fds;
pub mod nspid;
pub mod sockets;
pub mod stack;

use std::{collections::HashMap, sync::Arc};

use crate::{
    decode::Enter,
    model::{Container, Event, SignalEvent},
    runtime::{cgroup, registry::Registry},
};

/// Where the container of a call comes from.
pub enum Attribution {
    /// Nothing to attribute (a cgroup or process target).
    None,
    /// One target, one container (observe).
    Fixed(Arc<Container>),
    /// The daemon's followed containers, by cgroup id.
    Registry(Arc<Registry>),
}

pub struct Enricher {
    attribution: Attribution,
    /// Fill `ns_tgid`/`ns_tid` from /proc where the kernel left them out.
    ns_ids: Option<nspid::NsIds>,
    /// cgroup id → container, valid for `cache_generation` of the registry.
    cache: HashMap<u64, Option<Arc<Container>>>,
    cache_generation: u64,
    /// The last lookup: consecutive records mostly come from the same cgroup.
    last: Option<(u64, Option<Arc<Container>>)>,
    /// strace's `-y`: the fd tables the trace has shown.
    fds: Option<fds::FdTables>,
    /// strace's `-k`: what is at each address of a call's user stack.
    stacks: Option<stack::Stacks>,
    /// The daemon's per-container string sizes below the kernel's (by label), and the decode
    /// options to decode their events again with.
    string_sizes: Option<(HashMap<String, u32>, crate::decode::args::Options)>,
}

impl Enricher {
    pub fn new(attribution: Attribution, ns_ids: bool) -> Self {
        Enricher {
            attribution,
            ns_ids: ns_ids.then(nspid::NsIds::default),
            cache: HashMap::new(),
            cache_generation: u64::MAX,
            last: None,
            fds: None,
            stacks: None,
            string_sizes: None,
        }
    }

    /// The daemon's `[container.NAME]` string sizes: the kernel captures the largest asked
    /// for, the events of containers that asked for less are cut and decoded again (with
    /// `opts`, the decode stage's, which used the kernel's size).
    pub fn with_string_sizes(
        mut self,
        sizes: HashMap<String, u32>,
        opts: crate::decode::args::Options,
    ) -> Self {
        let sizes: HashMap<String, u32> = sizes
            .into_iter()
            .filter(|&(_, n)| n < opts.string_size)
            .collect();
        if !sizes.is_empty() {
            self.string_sizes = Some((sizes, opts));
        }
        self
    }

    /// strace's `-y`: fd arguments and returned fds carry what they refer to, from the fd
    /// tables built from the events (`fds`), with `proc` where the trace cannot tell.
    pub fn with_fd_paths(mut self, proc: Box<dyn fds::ProcFs + Send>) -> Self {
        self.fds = Some(fds::FdTables::new(proc));
        self
    }

    /// strace's `-yy`: [`Self::with_fd_paths`], with sockets' protocols and addresses and
    /// devices' numbers from `source`.
    pub fn with_fd_details(
        mut self,
        proc: Box<dyn fds::ProcFs + Send>,
        source: Box<dyn sockets::SocketSource + Send>,
    ) -> Self {
        self.fds = Some(fds::FdTables::new(proc).with_details(source));
        self
    }

    /// The fd tables of [`Self::with_fd_paths`] without their annotations: each fd argument's
    /// `fd_path` only (`-P` without `-y`).
    pub fn with_fd_tables(mut self, proc: Box<dyn fds::ProcFs + Send>) -> Self {
        self.fds = Some(fds::FdTables::new(proc).without_annotations());
        self
    }

    /// strace's `-k`: symbols and modules for the stacks the kernel sent.
    /// `sees_mappings`: every call is traced (no syscall subset), so remembered frames can be
    /// trusted until the process maps or unmaps something.
    pub fn with_stacks(mut self, sees_mappings: bool) -> Self {
        self.stacks = Some(stack::Stacks::new(sees_mappings));
        self
    }

    /// Events were lost before the next one: what the trace showed has a gap.
    pub fn lost(&mut self) {
        if let Some(f) = &mut self.fds {
            f.lost();
        }
    }

    pub fn enrich(&mut self, e: &mut Event) {
        let call = &mut e.call;
        if call.enter == Enter::Unfinished && call.cgroup_id == 0 {
            // Read from /proc: the thread is alive, it is inside the call.
            call.cgroup_id = cgroup::of_pid(call.tid)
                .ok()
                .flatten()
                .map_or(0, |cg| cg.id);
        }
        if e.container.is_none() {
            e.container = self.container_of(e.call.cgroup_id, e.call.tgid);
        }
        if let Some((sizes, opts)) = &self.string_sizes
            && let Some(c) = &e.container
            && let Some(&n) = sizes.get(c.label().as_ref())
            && crate::decode::event::cut_strings(&mut e.call, n)
        {
            let opts = crate::decode::args::Options {
                string_size: n,
                ..*opts
            };
            crate::decode::event::redecode(e, opts);
        }
        if let Some(ns) = &mut self.ns_ids
            && e.call.ns_tid.is_none()
            && e.container.is_some()
            && let Some((tgid, tid)) = ns.of(e.call.tid)
        {
            e.call.ns_tgid = Some(tgid);
            e.call.ns_tid = Some(tid);
        }
        if let Some(f) = &mut self.fds {
            f.enrich(e);
        }
        if let Some(s) = &mut self.stacks {
            s.enrich(&mut e.call);
        }
    }

    /// A thread's ids in its container's PID namespace (from /proc), when this enricher adds
    /// them: for records copied undecoded into the daemon's recordings.
    pub fn ns_ids_of(&mut self, tid: u32) -> Option<(u32, u32)> {
        self.ns_ids.as_mut()?.of(tid)
    }

    /// A signal's container and, where the kernel left them out, its ids in the container.
    pub fn signal(&mut self, s: &mut SignalEvent) {
        if s.container.is_none() {
            s.container = self.container_of(s.cgroup_id, s.tgid);
        }
        if let Some(ns) = &mut self.ns_ids
            && s.ns_tid.is_none()
            && s.container.is_some()
            && let Some((tgid, tid)) = ns.of(s.tid)
        {
            s.ns_tgid = Some(tgid);
            s.ns_tid = Some(tid);
        }
    }

    /// The containers of the targets whose counts the kernel kept (the daemon's metrics).
    pub fn counts(&mut self, counts: &mut [crate::model::summary::TargetCount]) {
        for c in counts {
            // A target is a followed cgroup itself: no nested lookup (no process to ask).
            c.container = self.container_of(c.target, 0);
        }
    }

    /// The container of a record's cgroup: the registry, else (a nested cgroup) the
    /// followed cgroup that contains the process's. Also asked before decoding, to split the
    /// daemon's binary recordings by container.
    pub fn container_of(&mut self, cgroup_id: u64, tgid: u32) -> Option<Arc<Container>> {
        let registry = match &self.attribution {
            Attribution::None => return None,
            Attribution::Fixed(c) => return Some(c.clone()),
            Attribution::Registry(r) => r,
        };
        let generation = registry.generation();
        if generation != self.cache_generation {
            self.cache.clear();
            self.last = None;
            self.cache_generation = generation;
            // Containers came or went: pids may have been reused since.
            if let Some(ns) = &mut self.ns_ids {
                ns.clear();
            }
        }
        if let Some((id, c)) = &self.last
            && *id == cgroup_id
        {
            return c.clone();
        }
        if let Some(c) = self.cache.get(&cgroup_id) {
            self.last = Some((cgroup_id, c.clone()));
            return c.clone();
        }
        let found = registry
            .get(cgroup_id)
            .or_else(|| {
                let cg = cgroup::of_pid(tgid).ok()??;
                registry.containing(&cg.path)
            })
            .map(|e| e.container);
        self.cache.insert(cgroup_id, found.clone());
        self.last = Some((cgroup_id, found.clone()));
        found
    }
}
