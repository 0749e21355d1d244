//! `-k`: what is at each address of a call's user stack, read from the calling process with
//! blazesym. The module and its file offset come from `/proc/PID/maps` (blazesym's
//! normalizer); the symbol from the binary itself, opened through `/proc/PID/map_files` (its
//! process source), so binaries in a container's mount namespace, or deleted since, are read
//! as the process mapped them. One [`Symbolizer`] for the run: it keeps each binary parsed.
//!
//! What a look-up found is remembered per (pid, address). When the trace shows every call
//! (no syscall subset), the memory is used first, as strace's unwinder caches its maps: a
//! process's `mmap`, `munmap`, `mremap` or `execve` clears it, as does its `exit_group`. With a
//! subset those calls may go unseen, so each stack is looked up again, and the memory only
//! serves a process that is gone by the time its records get here (a short-lived command); an
//! address never looked up while the process lived keeps no module and no symbol.
use std::{collections::HashMap, os::unix::ffi::OsStrExt as _, sync::mpsc};

use blazesym::{
    Pid,
    normalize::{Normalizer, UserMeta},
    symbolize::{
        Input, Symbolized, Symbolizer,
        source::{Process, Source},
    },
};

use crate::model::{Frame, SyscallEvent};

/// Frames remembered for processes that exit before their records are symbolised; the whole
/// memory is dropped when it reaches this size (pids and addresses are reused).
const KNOWN_FRAMES: usize = 1 << 16;

/// A stack to look up: the process and its frames.
struct Job {
    tgid: u32,
    frames: Vec<Frame>,
}

/// The frames filled in, and whether the process could be read at all.
struct Done {
    frames: Vec<Frame>,
    live: bool,
}

pub struct Stacks {
    /// To the look-up thread: blazesym's `Symbolizer` keeps its parsed binaries in `Rc`s and
    /// cannot move to the writer thread, so it lives on a thread of its own for the run.
    jobs: Option<mpsc::Sender<Job>>,
    done: mpsc::Receiver<Done>,
    worker: Option<std::thread::JoinHandle<()>>,
    /// What was found at (tgid, address) while the process was alive.
    known: HashMap<(u32, u64), Frame>,
    /// After a process's `exit_group` its pid may be reused.
    exit_group: Option<u32>,
    /// The trace shows every call of the process, its mapping changes included: `known` can
    /// be trusted until one of `remaps` clears it.
    sees_mappings: bool,
    /// Calls that change what a process has mapped.
    remaps: Vec<u32>,
}

impl Stacks {
    /// `sees_mappings`: the trace shows every call (no syscall subset), so the mapping changes
    /// that make remembered frames stale are seen.
    pub fn new(sees_mappings: bool) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (tx, done) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("tracer-stacks".into())
            .spawn(move || {
                let lookup = Lookup::default();
                for mut job in rx {
                    let live = lookup.resolve(job.tgid, &mut job.frames);
                    let done = Done {
                        frames: job.frames,
                        live,
                    };
                    if tx.send(done).is_err() {
                        break;
                    }
                }
            })
            .ok();
        Stacks {
            jobs: worker.is_some().then_some(jobs),
            done,
            worker,
            known: HashMap::new(),
            exit_group: crate::decode::syscalls::number("exit_group"),
            sees_mappings,
            remaps: ["mmap", "munmap", "mremap", "execve", "execveat"]
                .iter()
                .filter_map(|n| crate::decode::syscalls::number(n))
                .collect(),
        }
    }
}

impl Drop for Stacks {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Stacks {
    /// Fills in the frames of `call`'s stack, as far as the process (or the memory of it)
    /// tells.
    pub fn enrich(&mut self, call: &mut SyscallEvent) {
        if self.remaps.contains(&call.nr) && call.ret.is_some_and(|r| r >= 0) {
            self.forget(call.tgid);
        }
        self.symbolize(call);
        if Some(call.nr) == self.exit_group {
            self.forget(call.tgid);
        }
    }

    fn symbolize(&mut self, call: &mut SyscallEvent) {
        let tgid = call.tgid;
        let Some(frames) = call.stack.as_mut() else {
            return;
        };
        if frames.is_empty() {
            return;
        }
        if self.sees_mappings
            && frames
                .iter()
                .all(|f| self.known.contains_key(&(tgid, f.addr)))
        {
            for f in frames.iter_mut() {
                if let Some(k) = self.known.get(&(tgid, f.addr)) {
                    *f = k.clone();
                }
            }
            return;
        }
        let live = match self.lookup(tgid, std::mem::take(frames)) {
            Ok(done) => {
                *frames = done.frames;
                done.live
            }
            Err(back) => {
                *frames = back;
                false
            }
        };
        if live {
            if self.known.len() + frames.len() > KNOWN_FRAMES {
                self.known.clear();
            }
            // Addresses with nothing mapped are remembered too: nothing to look up again.
            for f in frames.iter() {
                self.known.insert((tgid, f.addr), f.clone());
            }
        } else {
            for f in frames.iter_mut() {
                if let Some(k) = self.known.get(&(tgid, f.addr)) {
                    *f = k.clone();
                }
            }
        }
    }

    /// One look-up on the thread; `Err` with the frames unchanged when it is gone.
    fn lookup(&mut self, tgid: u32, frames: Vec<Frame>) -> Result<Done, Vec<Frame>> {
        let Some(jobs) = &self.jobs else {
            return Err(frames);
        };
        let addrs: Vec<Frame> = frames
            .iter()
            .map(|f| Frame {
                addr: f.addr,
                ..Frame::default()
            })
            .collect();
        if let Err(mpsc::SendError(job)) = jobs.send(Job { tgid, frames }) {
            self.jobs = None;
            return Err(job.frames);
        }
        self.done.recv().map_err(|_| {
            self.jobs = None;
            addrs
        })
    }

    /// The process exited: its addresses mean nothing once its pid is reused.
    pub fn forget(&mut self, tgid: u32) {
        self.known.retain(|&(t, _), _| t != tgid);
    }
}

/// blazesym's side, on the look-up thread.
struct Lookup {
    symbolizer: Symbolizer,
    normalizer: Normalizer,
}

impl Default for Lookup {
    fn default() -> Self {
        Lookup {
            // No file and line: ELF symbol tables only (DWARF is not built in).
            symbolizer: Symbolizer::builder()
                .enable_code_info(false)
                .enable_inlined_fns(false)
                .build(),
            // Build ids are not shown: skip reading them.
            normalizer: Normalizer::builder().enable_build_ids(false).build(),
        }
    }
}

impl Lookup {
    /// Fills in module, file offset and symbol; false when the process's maps cannot be read
    /// (it is gone).
    fn resolve(&self, tgid: u32, frames: &mut [Frame]) -> bool {
        let pid = Pid::from(tgid);
        if tgid == 0 || !self.modules(pid, frames) {
            return false;
        }
        // A return address is just past its call, which may be the last instruction of a
        // function (a call that does not return): look up the byte before it. The first frame
        // is where the syscall instruction is.
        let lookup: Vec<u64> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 0 {
                    f.addr
                } else {
                    f.addr.saturating_sub(1)
                }
            })
            .collect();
        let src = Source::Process(Process::new(pid));
        if let Ok(syms) = self.symbolizer.symbolize(&src, Input::AbsAddr(&lookup)) {
            for (i, (f, s)) in frames.iter_mut().zip(syms).enumerate() {
                if let Symbolized::Sym(sym) = s {
                    f.symbol = Some(sym.name.into_owned());
                    f.offset = sym.offset as u64 + u64::from(i != 0);
                    if f.module.is_none() {
                        f.module = sym.module.map(|m| m.as_bytes().to_vec());
                    }
                }
            }
        }
        true
    }

    /// Module paths and file offsets from the process's maps; false when they cannot be read.
    fn modules(&self, pid: Pid, frames: &mut [Frame]) -> bool {
        let addrs: Vec<u64> = frames.iter().map(|f| f.addr).collect();
        let Ok(out) = self.normalizer.normalize_user_addrs(pid, &addrs) else {
            return false;
        };
        for (f, &(offset, meta)) in frames.iter_mut().zip(&out.outputs) {
            if let Some(UserMeta::Elf(elf)) = out.meta.get(meta) {
                f.module = Some(elf.path.as_os_str().as_bytes().to_vec());
                f.file_offset = Some(offset);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn here() -> u64 {
        here as fn() -> u64 as usize as u64
    }

    fn call_with(addrs: &[u64], tgid: u32) -> SyscallEvent {
        let mut call = crate::decode::unfinished(tgid, &tracer_common::config::Pending::default());
        call.tgid = tgid;
        call.stack = Some(
            addrs
                .iter()
                .map(|&addr| Frame {
                    addr,
                    ..Frame::default()
                })
                .collect(),
        );
        call
    }

    /// This test's own process: a real binary, real maps.
    #[test]
    fn finds_the_function_and_module_of_a_live_process_and_remembers_them() {
        let me = std::process::id();
        let addr = here() + 1;
        let mut s = Stacks::new(false);
        let mut call = call_with(&[addr, 0x10], me);
        s.enrich(&mut call);
        let frames = call.stack.expect("stack");
        let f = &frames[0];
        // A return address (not the first frame) is looked up at the byte before it.
        let mut caller = call_with(&[0x10, here() + 1], me);
        s.enrich(&mut caller);
        let caller = caller.stack.expect("stack");
        assert_eq!((&caller[1].symbol, caller[1].offset), (&f.symbol, 1));
        assert!(
            f.symbol.as_deref().is_some_and(|s| s.contains("here")),
            "{f:?}"
        );
        assert_eq!(f.offset, 1);
        let exe = std::fs::read_link("/proc/self/exe").expect("exe");
        assert_eq!(
            f.module.as_deref(),
            Some(exe.as_os_str().as_bytes()),
            "{f:?}"
        );
        assert!(f.file_offset.is_some());
        // Nothing is mapped at 0x10.
        assert_eq!((&frames[1].module, &frames[1].symbol), (&None, &None));
        // A process that is gone: what was found is remembered; other addresses stay bare.
        let gone = u32::MAX - 1;
        s.known.insert((gone, addr), f.clone());
        let mut late = call_with(&[addr, addr + 1], gone);
        s.enrich(&mut late);
        let late = late.stack.expect("stack");
        assert_eq!(late[0], *f);
        assert_eq!(late[1].symbol, None);
        s.forget(gone);
        let mut later = call_with(&[addr], gone);
        s.enrich(&mut later);
        assert_eq!(later.stack.expect("stack")[0].symbol, None);
    }

    /// With every call traced, remembered frames are used first, until the process maps
    /// something; with a subset, a live process is always looked up again.
    #[test]
    fn remembered_frames_serve_until_the_process_maps_something() {
        let me = std::process::id();
        let addr = here() + 1;
        let fake = Frame {
            addr,
            symbol: Some("remembered".into()),
            ..Frame::default()
        };
        let symbol = |s: &mut Stacks, nr: &str, ret: Option<i64>| {
            let mut call = call_with(&[addr], me);
            call.nr = crate::decode::syscalls::number(nr).expect("nr");
            call.ret = ret;
            s.enrich(&mut call);
            call.stack.expect("stack")[0]
                .symbol
                .clone()
                .unwrap_or_default()
        };
        let mut trusted = Stacks::new(true);
        trusted.known.insert((me, addr), fake.clone());
        assert_eq!(symbol(&mut trusted, "getppid", Some(1)), "remembered");
        // A failed mmap changed nothing; a successful one may have.
        assert_eq!(symbol(&mut trusted, "mmap", Some(-12)), "remembered");
        assert!(symbol(&mut trusted, "mmap", Some(0x7f00_0000_0000)).contains("here"));
        let mut subset = Stacks::new(false);
        subset.known.insert((me, addr), fake);
        assert!(symbol(&mut subset, "getppid", Some(1)).contains("here"));
    }
}
