//! The daemon's syscall programs, attached only while it follows a container.
//!
//! Any program on `raw_syscalls` puts every task of the host on the syscall slow path (issue
//! 12's floors: +85–170 ns per call, followed or not). A daemon waiting for a container that
//! does not exist yet, or between two of its incarnations, follows nothing: its programs stay
//! loaded (verified once) and detached. The first target attaches them before its cgroup enters
//! the filter; when the last one leaves, they are detached after `LINGER`, so that a restart
//! (stop, then a new cgroup within a second or two) neither pays an attach on its critical
//! path nor opens a gap.
//!
//! Attaching is `BPF_RAW_TRACEPOINT_OPEN` on the loaded programs' fds (aya's attach needs the
//! `Ebpf` object, which the ring buffer reader owns); closing the link fd detaches.
use std::{
    ffi::CStr,
    io,
    os::fd::{AsFd as _, AsRawFd as _, FromRawFd as _, OwnedFd},
    sync::{Arc, Mutex},
    time::Duration,
};

use aya::programs::ProgramFd;

/// How long the programs stay attached once nothing is followed.
pub const LINGER: Duration = Duration::from_secs(5);

/// `BPF_RAW_TRACEPOINT_OPEN` (include/uapi/linux/bpf.h, `enum bpf_cmd`).
const BPF_RAW_TRACEPOINT_OPEN: libc::c_long = 17;

/// `union bpf_attr`'s `raw_tracepoint` member.
#[repr(C)]
struct RawTracepointOpen {
    name: u64,
    prog_fd: u32,
    _pad: u32,
    cookie: u64,
}

/// Attaches `prog` to the raw tracepoint `tp`; the link lasts as long as the returned fd.
fn raw_tracepoint_open(prog: &ProgramFd, tp: &CStr) -> io::Result<OwnedFd> {
    let attr = RawTracepointOpen {
        name: tp.as_ptr() as u64,
        prog_fd: prog.as_fd().as_raw_fd() as u32,
        _pad: 0,
        cookie: 0,
    };
    // SAFETY: a valid attr of the size passed; `tp` outlives the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_RAW_TRACEPOINT_OPEN,
            &attr as *const RawTracepointOpen,
            size_of::<RawTracepointOpen>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

struct State {
    /// In attach order: sys_enter, then sys_exit.
    progs: Vec<(ProgramFd, &'static CStr)>,
    links: Vec<OwnedFd>,
    /// Bumped at each change of the followed set: a pending detach of an older one is void.
    generation: u64,
}

/// Shared between the target set and the timer that detaches after `LINGER`.
#[derive(Clone)]
pub struct Gate(Arc<Mutex<State>>);

impl Gate {
    pub fn new(progs: Vec<(ProgramFd, &'static CStr)>) -> Gate {
        Gate(Arc::new(Mutex::new(State {
            progs,
            links: Vec::new(),
            generation: 0,
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A target is followed: the programs are attached (at once if they were not).
    pub fn open(&self) -> io::Result<()> {
        let mut s = self.state();
        s.generation += 1;
        if !s.links.is_empty() {
            return Ok(());
        }
        let mut links = Vec::with_capacity(s.progs.len());
        for (prog, tp) in &s.progs {
            links.push(raw_tracepoint_open(prog, tp)?);
        }
        s.links = links;
        tracing::info!("a container is followed: syscall programs attached");
        Ok(())
    }

    /// Nothing is followed any more: the programs are detached after `LINGER` unless a target
    /// comes meanwhile (at once without a tokio runtime to wait on).
    pub fn close_later(&self) {
        let generation = {
            let mut s = self.state();
            s.generation += 1;
            s.generation
        };
        let gate = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    tokio::time::sleep(LINGER).await;
                    gate.close_if(generation);
                });
            }
            Err(_) => gate.close_if(generation),
        }
    }

    fn close_if(&self, generation: u64) {
        let mut s = self.state();
        if s.generation == generation && !s.links.is_empty() {
            s.links.clear();
            tracing::info!("no container followed: syscall programs detached");
        }
    }

    /// Whether the programs are attached now.
    pub fn is_open(&self) -> bool {
        !self.state().links.is_empty()
    }
}
