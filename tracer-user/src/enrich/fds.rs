//! strace's `-y` from the trace itself: what each fd refers to, per fd table, built from the
//! events flowing through the pipeline, so that a number reused since the call cannot name the
//! wrong file (issue 13).
//!
//! Tracked (docs/decoding.md has the user-facing summary):
//!
//! - `open`, `openat`, `openat2`, `creat`: the opened path. Its absolute form when the path is
//!   absolute, or relative to a cwd / dirfd the table knows; else the path as the call gave it.
//!   When /proc/PID/fd/N still refers to the very file the path names (same device and inode,
//!   the path resolved inside the process's root), /proc's canonical name is used, as strace
//!   prints it (symlinks resolved); otherwise the trace's name.
//! - `socket`, `accept`, `accept4`, `pipe`, `pipe2`, `pidfd_open` and other fd-returning calls
//!   the trace cannot name: /proc read when the event is enriched, kept only if it is of the
//!   kind the call creates (`socket:[…]`, both ends of a pipe on one `pipe:[…]`).
//! - `epoll_create*`, `eventfd*`, `timerfd_create`, `signalfd*`, `inotify_init*`,
//!   `memfd_create`: the name the kernel gives them.
//! - `dup`, `dup2`, `dup3`, `fcntl(F_DUPFD*)`: a copy; `close`, `close_range`: forgotten (and
//!   never read from /proc again); `execve` that succeeded: close-on-exec fds closed;
//!   `fcntl(F_SETFD)`, `ioctl(FIOCLEX/FIONCLEX)`: the close-on-exec flag.
//! - `clone`, `clone3`, `fork`, `vfork`: the child gets a copy, or the same table with
//!   `CLONE_FILES` (threads); `unshare(CLONE_FILES)`: a copy; `chdir`/`fchdir`: the cwd.
//! - `exit_group`, and `exit` of a process's last thread: its table is dropped.
//!
//! /proc is read only where it cannot contradict the trace: for an fd the table never saw
//! (opened before tracing began, or by a call the trace cannot follow, such as `socketpair`),
//! once, cached. Never for an fd the table saw closed, nor in a table whose history has a gap
//! (events lost, or the table outgrew its bounds).
use std::{
    collections::{HashMap, HashSet},
    ffi::CString,
    os::unix::ffi::OsStrExt,
    sync::Arc,
};

use tracer_common::capture::{CAP_STR, CAP_STRUCT_OUT};

use super::sockets;
use crate::{
    decode::{Enter, args, fdpath, syscalls},
    model::{Event, event::Capture},
};

/// Fd tables kept; beyond, the least recently used go (their threads are then never read from
/// /proc again, see `forgotten`).
const MAX_TABLES: usize = 4096;
/// Entries over all tables (an entry is ~50 bytes plus a shared path).
const MAX_ENTRIES: usize = 1 << 18;
/// Entries in one table before it forgets what it knows and stops reading /proc.
const MAX_TABLE_FDS: usize = 1 << 16;
/// Forks whose child has not been seen yet, and children seen before their parent's fork.
const MAX_PENDING: usize = 4096;
/// Threads whose table was evicted.
const MAX_FORGOTTEN: usize = 1 << 16;
/// `close_range` ranges kept per table.
const MAX_RANGES: usize = 8;

const CLONE_FILES: u64 = libc::CLONE_FILES as u64;
const CLOSE_RANGE_UNSHARE: u64 = 2;
const CLOSE_RANGE_CLOEXEC: u64 = 4;
const FIONCLEX: u64 = 0x5450;
const FIOCLEX: u64 = 0x5451;
/// `apply`'s answer for `pipe`: two fds, in the array argument.
const PIPE_FDS: i32 = -1;

/// The calls that change fd tables, beside those that create fds ([`CREATES`]). With `-y` and
/// `--syscalls`, the kernel reports both (the filter stage hides them), so that the tables see
/// every close and reuse: [`followed`].
pub const CHANGES: &[&str] = &[
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "ioctl",
    "close",
    "close_range",
    "execve",
    "execveat",
    "chdir",
    "fchdir",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "unshare",
    "exit",
    "exit_group",
];

/// Every call the fd tables follow: [`CREATES`] and [`CHANGES`].
pub fn followed() -> impl Iterator<Item = &'static str> {
    CREATES.iter().chain(CHANGES).copied()
}

/// The calls that create fds, whose exit wakes the reader at once with `-y` (the kernel's
/// `WAKE_SYSCALLS`): /proc is asked about the new fd when the event is read, and the sooner
/// the likelier the fd is still open.
pub const CREATES: &[&str] = &[
    "open",
    "openat",
    "openat2",
    "creat",
    "socket",
    "socketpair",
    "accept",
    "accept4",
    "pipe",
    "pipe2",
    "epoll_create",
    "epoll_create1",
    "eventfd",
    "eventfd2",
    "timerfd_create",
    "signalfd",
    "signalfd4",
    "inotify_init",
    "inotify_init1",
    "memfd_create",
    "pidfd_open",
    "userfaultfd",
    "perf_event_open",
    "io_uring_setup",
    "fanotify_init",
    "open_by_handle_at",
    "open_tree",
    "fsopen",
    "fsmount",
    "fspick",
    "pidfd_getfd",
];

/// What /proc says about a process's fds now. A trait so the table can be tested on made-up
/// event streams.
pub trait ProcFs {
    /// `readlink /proc/TGID/fd/FD`.
    fn link(&self, tgid: u32, fd: i32) -> Option<Vec<u8>>;
    /// `O_CLOEXEC` of the fd, from /proc/TGID/fdinfo/FD.
    fn cloexec(&self, tgid: u32, fd: i32) -> Option<bool>;
    /// Whether fd `fd` refers to the file `path` names now (an absolute path, resolved in the
    /// process's root).
    fn same_file(&self, tgid: u32, fd: i32, path: &[u8]) -> bool;
    /// `readlink /proc/TGID/cwd`.
    fn cwd(&self, tgid: u32) -> Option<Vec<u8>>;
}

/// The real /proc.
pub struct Proc;

fn cpath(s: String) -> Option<CString> {
    CString::new(s).ok()
}

/// `(st_dev, st_ino)` of what `fd` refers to.
fn dev_ino(fd: libc::c_int) -> Option<(u64, u64)> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out pointer; a bad fd only fails.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_dev, st.st_ino))
}

/// An fd closed on drop.
struct Owned(libc::c_int);

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the fd is ours.
        unsafe { libc::close(self.0) };
    }
}

fn open_path(path: &CString, flags: libc::c_int) -> Option<Owned> {
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_PATH | libc::O_CLOEXEC) };
    (fd >= 0).then_some(Owned(fd))
}

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}
const RESOLVE_IN_ROOT: u64 = 0x10;

impl ProcFs for Proc {
    fn link(&self, tgid: u32, fd: i32) -> Option<Vec<u8>> {
        let link = std::fs::read_link(format!("/proc/{tgid}/fd/{fd}")).ok()?;
        Some(link.into_os_string().into_encoded_bytes())
    }

    fn cloexec(&self, tgid: u32, fd: i32) -> Option<bool> {
        let info = std::fs::read_to_string(format!("/proc/{tgid}/fdinfo/{fd}")).ok()?;
        let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?.trim();
        let flags = u64::from_str_radix(flags, 8).ok()?;
        Some(flags & libc::O_CLOEXEC as u64 != 0)
    }

    fn same_file(&self, tgid: u32, fd: i32, path: &[u8]) -> bool {
        let Some(fd_path) = cpath(format!("/proc/{tgid}/fd/{fd}")) else {
            return false;
        };
        let Some(root) = cpath(format!("/proc/{tgid}/root")) else {
            return false;
        };
        let (Some(target), Ok(path)) = (open_path(&fd_path, 0), CString::new(path)) else {
            return false;
        };
        let Some(root) = open_path(&root, libc::O_DIRECTORY) else {
            return false;
        };
        let how = OpenHow {
            flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
            mode: 0,
            resolve: RESOLVE_IN_ROOT,
        };
        // SAFETY: valid dirfd, NUL-terminated path, `how` of the size passed.
        let named = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.0,
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if named < 0 {
            return false;
        }
        let named = Owned(named as libc::c_int);
        matches!((dev_ino(target.0), dev_ino(named.0)), (Some(a), Some(b)) if a == b)
    }

    fn cwd(&self, tgid: u32) -> Option<Vec<u8>> {
        let link = std::fs::read_link(format!("/proc/{tgid}/cwd")).ok()?;
        Some(link.as_os_str().as_bytes().to_vec())
    }
}

/// What the trace says an fd is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum What {
    /// strace's name for it.
    Named(Arc<[u8]>),
    /// Open, but what it is cannot be told without contradicting the trace.
    Opaque,
    /// Closed: printed plain, never read from /proc.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    what: What,
    /// Close-on-exec; `None`: not known.
    cloexec: Option<bool>,
    /// Read from /proc for an fd the trace never saw opened (a child's inherited copy of it
    /// gives way to what its parent's table knows).
    from_proc: bool,
}

impl Entry {
    fn traced(what: What, cloexec: Option<bool>) -> Self {
        Entry {
            what,
            cloexec,
            from_proc: false,
        }
    }

    fn name(&self) -> Option<Arc<[u8]>> {
        match &self.what {
            What::Named(p) => Some(p.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Table {
    fds: HashMap<i32, Entry>,
    /// Closed by `close_range` (where `fds` has no entry): `(first, last)`.
    closed: Vec<(u32, u32)>,
    /// Marked close-on-exec by `close_range(CLOSE_RANGE_CLOEXEC)`, for fds `fds` lacks.
    cloexec_ranges: Vec<(u32, u32)>,
    /// The cwd, from the trace (`chdir`, `fchdir`) or /proc (`cwd_read`).
    cwd: Option<Arc<[u8]>>,
    /// /proc's cwd was read (once: the trace's `chdir`s take over from there).
    cwd_read: bool,
    /// `cwd` is /proc's: a path joined to it is used only where /proc vouches for the file.
    cwd_from_proc: bool,
    /// The history has a gap (events lost, bounds hit): fds the table does not know are not
    /// read from /proc.
    no_proc: bool,
    /// Threads using it, plus forks not yet matched with their child.
    users: u32,
    last_used: u64,
}

impl Table {
    fn in_closed_range(&self, fd: i32) -> bool {
        let fd = fd as u32;
        self.closed.iter().any(|&(a, b)| a <= fd && fd <= b)
    }

    /// Forgets what it knows and stops reading /proc: its history has a gap. The entries
    /// dropped.
    fn gap(&mut self) -> usize {
        let n = self.fds.len();
        self.fds.clear();
        self.closed.clear();
        self.cloexec_ranges.clear();
        self.cwd = None;
        self.no_proc = true;
        n
    }

    fn push_range(ranges: &mut Vec<(u32, u32)>, r: (u32, u32)) -> bool {
        if ranges.len() >= MAX_RANGES {
            return false;
        }
        ranges.push(r);
        true
    }

    /// A copy for a forked child: the same fds, close-on-exec flags and cwd.
    fn fork(&self) -> Table {
        Table {
            users: 0,
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Thread {
    tgid: u32,
    table: u64,
    /// Its id as its parent's `fork` returns it (in the target PID namespace).
    key: u32,
}

/// A fork whose child has not been seen yet.
#[derive(Debug, Clone, Copy)]
struct PendingFork {
    table: u64,
    /// The clone flags; `None` for `clone3` (its struct is not captured): shared when the child
    /// is a thread of the parent's process.
    flags: Option<u64>,
    parent_tgid: u32,
}

/// Every fd table the trace has shown, by thread.
pub struct FdTables {
    proc: Box<dyn ProcFs + Send>,
    /// Write what fds refer to into the rendering (`-y`); off, only `DecodedArg::fd_path`
    /// is set (`-P` alone).
    annotate: bool,
    threads: HashMap<u32, Thread>,
    /// tgid → its threads.
    procs: HashMap<u32, Vec<u32>>,
    tables: HashMap<u64, Table>,
    next_table: u64,
    /// Child id (as the parent's fork returned it) → the fork.
    pending: HashMap<u32, PendingFork>,
    /// Threads seen before their parent's fork returned: key → tid.
    orphans: HashMap<u32, u32>,
    /// Threads whose table was evicted: they never read /proc again.
    forgotten: HashSet<u32>,
    entries: usize,
    tick: u64,
    /// strace's `-yy`: sockets' protocols and addresses, device numbers.
    details: Option<sockets::Sockets>,
}

/// The fds a syscall's successful return creates, and what they are.
enum Created {
    None,
    One(i32, Entry),
    Two([(i32, Entry); 2]),
}

fn capture(e: &Event, arg: u8, kind: u8) -> Option<&Capture> {
    e.call
        .captures
        .iter()
        .find(|c| c.arg == arg && c.kind == kind && !c.fault())
}

/// `dir` + `/` + `rel`.
fn join(dir: &[u8], rel: &[u8]) -> Arc<[u8]> {
    let mut p = dir.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(rel.strip_prefix(b"./").unwrap_or(rel));
    p.into()
}

impl FdTables {
    pub fn new(proc: Box<dyn ProcFs + Send>) -> Self {
        FdTables {
            proc,
            annotate: true,
            threads: HashMap::new(),
            procs: HashMap::new(),
            tables: HashMap::new(),
            next_table: 0,
            pending: HashMap::new(),
            orphans: HashMap::new(),
            forgotten: HashSet::new(),
            entries: 0,
            tick: 0,
            details: None,
        }
    }

    /// strace's `-yy`: sockets and devices shown with what `source` says of them.
    pub fn with_details(mut self, source: Box<dyn sockets::SocketSource + Send>) -> Self {
        self.details = Some(sockets::Sockets::new(source));
        self
    }

    /// Tables kept, renderings left alone: `DecodedArg::fd_path` only (`-P` without `-y`).
    pub fn without_annotations(mut self) -> Self {
        self.annotate = false;
        self
    }

    /// Events were lost: every table's history has a gap.
    pub fn lost(&mut self) {
        for t in self.tables.values_mut() {
            let _ = t.gap();
        }
        self.entries = 0;
        // A fork whose child's first events were lost cannot be matched safely any more.
        self.clear_pending();
    }

    /// Annotates `e`'s fd arguments and returned fd, then applies what the call did to its
    /// table.
    pub fn enrich(&mut self, e: &mut Event) {
        self.tick += 1;
        let nr = e.call.nr;
        let name = syscalls::name(nr).unwrap_or("");
        let (tid, tgid) = (e.call.tid, e.call.tgid);
        let ret = e.call.ret;
        let is_clone = matches!(name, "clone" | "clone3" | "fork" | "vfork");
        if is_clone && e.call.enter == Enter::Missing && ret == Some(0) {
            // A new task's first return: anything known under its tid is a previous task's.
            self.drop_thread(tid);
        }
        let table = self.table_of(tid, tgid, e.call.ns_tid.unwrap_or(tid));
        let mut arg0: Option<Arc<[u8]>> = None;
        for (i, a) in e.args.iter_mut().enumerate() {
            if !args::is_fd_arg(nr, i) {
                continue;
            }
            let fd = a.raw as u32 as i32;
            let path = if fd == libc::AT_FDCWD && args::is_dirfd_arg(nr, i) {
                // strace -y: `AT_FDCWD</srv>`.
                self.cwd(table, tgid)
            } else if fd < 0 {
                None
            } else {
                self.name_of(table, tgid, fd)
            };
            let Some(path) = path else {
                continue;
            };
            if self.annotate {
                match self.details.as_mut().and_then(|d| d.show(tgid, fd, &path)) {
                    Some(shown) => {
                        fdpath::annotate_shown(&mut a.text, &shown);
                        a.json.path = Some(shown);
                    }
                    None => {
                        fdpath::annotate(&mut a.text, &path);
                        a.json.path = Some(String::from_utf8_lossy(&path).into_owned());
                    }
                }
            }
            if i == 0 && self.details.is_some() {
                arg0 = Some(path.clone());
            }
            if fd >= 0 {
                a.fd_path = Some(path);
            }
        }
        if e.call.enter == Enter::Unfinished {
            return;
        }
        if let Some(ret_fd) = self.apply(table, e, name)
            && self.annotate
        {
            if ret_fd == PIPE_FDS {
                self.annotate_pipe(table, e);
                return self.bound(table);
            }
            e.ret_path = self
                .tables
                .get(&table)
                .and_then(|t| t.fds.get(&ret_fd))
                .and_then(Entry::name)
                .map(|p| p.to_vec());
        }
        if let Some(d) = &mut self.details {
            let c = &e.call;
            d.after(
                name,
                (tgid, &c.args, ret),
                arg0.as_deref(),
                e.ret_path.as_deref(),
            );
            if let (Some(p), Some(fd)) = (&e.ret_path, ret.and_then(|r| i32::try_from(r).ok())) {
                e.ret_shown = d.show(tgid, fd, p);
            }
        }
        match (name, ret) {
            ("exit_group", None) => self.drop_process(tgid),
            ("exit", None) => self.drop_thread(tid),
            _ => {}
        }
        self.bound(table);
    }

    /// The table of thread `tid`: known, its fork's, its process's, or a new one.
    fn table_of(&mut self, tid: u32, tgid: u32, key: u32) -> u64 {
        if let Some(t) = self.threads.get(&tid) {
            let id = t.table;
            if let Some(t) = self.tables.get_mut(&id) {
                t.last_used = self.tick;
                return id;
            }
        }
        let (id, orphan) = if let Some(f) = self.pending.remove(&key) {
            let share = f
                .flags
                .map_or(f.parent_tgid == tgid, |fl| fl & CLONE_FILES != 0);
            (self.table_from_fork(f, share), false)
        } else if let Some(id) = self
            .procs
            .get(&tgid)
            .and_then(|tids| tids.first())
            .and_then(|t| self.threads.get(t))
            .map(|t| t.table)
        {
            // A thread whose clone has not returned yet: threads share their fd table.
            if let Some(t) = self.tables.get_mut(&id) {
                t.users += 1;
            }
            (id, true)
        } else {
            let no_proc = self.forgotten.remove(&tid);
            let id = self.new_table(Table {
                no_proc,
                ..Table::default()
            });
            (id, true)
        };
        if orphan && tid != 0 {
            if self.orphans.len() >= MAX_PENDING {
                self.orphans.clear();
            }
            self.orphans.insert(key, tid);
        }
        self.add_thread(tid, tgid, key, id);
        id
    }

    fn new_table(&mut self, mut t: Table) -> u64 {
        let id = self.next_table;
        self.next_table += 1;
        t.users += 1;
        t.last_used = self.tick;
        self.entries += t.fds.len();
        self.tables.insert(id, t);
        id
    }

    /// The child's table from its parent's fork (the fork's reference handed over).
    fn table_from_fork(&mut self, f: PendingFork, share: bool) -> u64 {
        if share && self.tables.contains_key(&f.table) {
            return f.table;
        }
        let copy = self.tables.get(&f.table).map(Table::fork);
        self.release(f.table);
        self.new_table(copy.unwrap_or_default())
    }

    fn add_thread(&mut self, tid: u32, tgid: u32, key: u32, table: u64) {
        self.threads.insert(tid, Thread { tgid, table, key });
        let tids = self.procs.entry(tgid).or_default();
        if !tids.contains(&tid) {
            tids.push(tid);
        }
    }

    /// One user less; the table goes with its last.
    fn release(&mut self, id: u64) {
        if let Some(t) = self.tables.get_mut(&id) {
            t.users = t.users.saturating_sub(1);
            if t.users == 0 {
                self.entries = self.entries.saturating_sub(t.fds.len());
                self.tables.remove(&id);
            }
        }
    }

    fn drop_thread(&mut self, tid: u32) {
        let Some(t) = self.threads.remove(&tid) else {
            return;
        };
        if self.orphans.get(&t.key) == Some(&tid) {
            self.orphans.remove(&t.key);
        }
        if let Some(tids) = self.procs.get_mut(&t.tgid) {
            tids.retain(|&x| x != tid);
            if tids.is_empty() {
                self.procs.remove(&t.tgid);
            }
        }
        self.release(t.table);
    }

    fn drop_process(&mut self, tgid: u32) {
        for tid in self.procs.get(&tgid).cloned().unwrap_or_default() {
            self.drop_thread(tid);
        }
    }

    fn clear_pending(&mut self) {
        for (_, f) in std::mem::take(&mut self.pending) {
            self.release(f.table);
        }
    }

    /// What `fd` refers to before this call; an fd the table never saw is read from /proc
    /// (once) where that cannot contradict the trace.
    fn entry(&mut self, table: u64, tgid: u32, fd: i32) -> Option<Entry> {
        let t = self.tables.get_mut(&table)?;
        if let Some(e) = t.fds.get(&fd) {
            return Some(e.clone());
        }
        if t.no_proc || t.in_closed_range(fd) {
            return None;
        }
        let e = match self.proc.link(tgid, fd) {
            Some(link) => Entry {
                what: What::Named(link.into()),
                cloexec: self.proc.cloexec(tgid, fd),
                from_proc: true,
            },
            // Not open now: whatever comes at this number later is in the trace.
            None => Entry {
                what: What::Opaque,
                cloexec: None,
                from_proc: true,
            },
        };
        t.fds.insert(fd, e.clone());
        self.entries += 1;
        Some(e)
    }

    /// The cwd: the trace's (`chdir`, `fchdir`), else /proc's, read once per table where
    /// the table's history has no gap.
    fn cwd(&mut self, table: u64, tgid: u32) -> Option<Arc<[u8]>> {
        let t = self.tables.get_mut(&table)?;
        if t.cwd.is_none() && !t.no_proc && !t.cwd_read {
            t.cwd_read = true;
            t.cwd = self
                .proc
                .cwd(tgid)
                .filter(|d| d.starts_with(b"/"))
                .map(Into::into);
            t.cwd_from_proc = t.cwd.is_some();
        }
        t.cwd.clone()
    }

    fn name_of(&mut self, table: u64, tgid: u32, fd: i32) -> Option<Arc<[u8]>> {
        self.entry(table, tgid, fd)?.name()
    }

    fn set(&mut self, table: u64, fd: i32, e: Entry) {
        if fd < 0 {
            return;
        }
        if let Some(t) = self.tables.get_mut(&table)
            && t.fds.insert(fd, e).is_none()
        {
            self.entries += 1;
        }
    }

    /// Applies the call's effect to `table`; the fd it returned, if it created one.
    fn apply(&mut self, table: u64, e: &Event, name: &str) -> Option<i32> {
        let c = &e.call;
        let (tid, tgid) = (c.tid, c.tgid);
        let a = c.args;
        let arg_fd = |i: usize| a[i] as u32 as i32;
        let ret = c.ret?;
        if name == "close" {
            self.set(table, arg_fd(0), Entry::traced(What::Closed, None));
            return None;
        }
        if ret < 0 {
            return None;
        }
        let ret_fd = i32::try_from(ret).ok();
        let cloexec_if = |bits: u64| Some(bits & libc::O_CLOEXEC as u64 != 0);
        let created = match name {
            "open" => self.opened(table, e, libc::AT_FDCWD, 0, Some(a[1])),
            "creat" => self.opened(table, e, libc::AT_FDCWD, 0, Some(0)),
            "openat" => self.opened(table, e, arg_fd(0), 1, Some(a[2])),
            "openat2" => self.opened(table, e, arg_fd(0), 1, None),
            "socket" => self.kind(e, &[b"socket:["], cloexec_if(a[1])),
            "accept" => self.kind(e, &[b"socket:["], Some(false)),
            "accept4" => self.kind(e, &[b"socket:["], cloexec_if(a[3])),
            "pipe" | "pipe2" => {
                let flags = if name == "pipe2" { a[1] } else { 0 };
                self.pipe(e, cloexec_if(flags))
            }
            "epoll_create" => Self::named(ret_fd, b"anon_inode:[eventpoll]", Some(false)),
            "epoll_create1" => Self::named(ret_fd, b"anon_inode:[eventpoll]", cloexec_if(a[0])),
            "eventfd" => Self::named(ret_fd, b"anon_inode:[eventfd]", Some(false)),
            "eventfd2" => Self::named(ret_fd, b"anon_inode:[eventfd]", cloexec_if(a[1])),
            "timerfd_create" => Self::named(ret_fd, b"anon_inode:[timerfd]", cloexec_if(a[1])),
            "signalfd" | "signalfd4" if arg_fd(0) == -1 => {
                let flags = if name == "signalfd4" { a[3] } else { 0 };
                Self::named(ret_fd, b"anon_inode:[signalfd]", cloexec_if(flags))
            }
            "inotify_init" => Self::named(ret_fd, b"anon_inode:inotify", Some(false)),
            "inotify_init1" => Self::named(ret_fd, b"anon_inode:inotify", cloexec_if(a[0])),
            "memfd_create" => match (ret_fd, capture(e, 0, CAP_STR)) {
                (Some(fd), Some(n)) if !n.truncated() => {
                    let mut p = b"/memfd:".to_vec();
                    p.extend_from_slice(&n.data);
                    p.extend_from_slice(b" (deleted)");
                    let cloexec = Some(a[1] & libc::MFD_CLOEXEC as u64 != 0);
                    Created::One(fd, Entry::traced(What::Named(p.into()), cloexec))
                }
                (Some(fd), _) => Created::One(fd, Entry::traced(What::Opaque, None)),
                _ => Created::None,
            },
            "pidfd_open" => self.kind(e, &[b"anon_inode:[pidfd]", b"pidfd:"], Some(true)),
            "userfaultfd" | "perf_event_open" | "io_uring_setup" | "fanotify_init" | "fsopen"
            | "fspick" => self.kind(e, &[b"anon_inode:"], None),
            // Any file: the trace cannot say which.
            "open_by_handle_at" | "open_tree" | "fsmount" | "pidfd_getfd" => {
                self.kind(e, &[b""], None)
            }
            "dup" => self.dup(table, tgid, arg_fd(0), ret_fd, Some(false)),
            // Nothing changes; the fd returned is the one passed (strace -y names it).
            "dup2" if arg_fd(0) == arg_fd(1) => return ret_fd,
            "dup2" => self.dup(table, tgid, arg_fd(0), ret_fd, Some(false)),
            "dup3" => self.dup(table, tgid, arg_fd(0), ret_fd, cloexec_if(a[2])),
            "fcntl" => match a[1] as u32 as i32 {
                libc::F_DUPFD => self.dup(table, tgid, arg_fd(0), ret_fd, Some(false)),
                libc::F_DUPFD_CLOEXEC => self.dup(table, tgid, arg_fd(0), ret_fd, Some(true)),
                libc::F_SETFD => {
                    self.set_cloexec(table, tgid, arg_fd(0), a[2] & libc::FD_CLOEXEC as u64 != 0);
                    Created::None
                }
                _ => Created::None,
            },
            "ioctl" if a[1] as u32 as u64 == FIOCLEX || a[1] as u32 as u64 == FIONCLEX => {
                self.set_cloexec(table, tgid, arg_fd(0), a[1] as u32 as u64 == FIOCLEX);
                Created::None
            }
            "close_range" => {
                self.close_range(table, tid, a[0] as u32, a[1] as u32, a[2]);
                Created::None
            }
            "execve" | "execveat" => {
                self.exec(table, tid, tgid);
                Created::None
            }
            "chdir" => {
                let cwd = capture(e, 0, CAP_STR)
                    .filter(|p| !p.truncated())
                    .and_then(|p| self.absolute(table, libc::AT_FDCWD, &p.data));
                if let Some(t) = self.tables.get_mut(&table) {
                    // The trace's from now on; never /proc's again (it may be later's).
                    t.cwd = cwd;
                    t.cwd_read = true;
                    t.cwd_from_proc = false;
                }
                Created::None
            }
            "fchdir" => {
                let cwd = self.tables.get(&table).and_then(|t| t.fds.get(&arg_fd(0)));
                let cwd = cwd.and_then(Entry::name);
                if let Some(t) = self.tables.get_mut(&table) {
                    // The trace's from now on; never /proc's again (it may be later's).
                    t.cwd = cwd;
                    t.cwd_read = true;
                    t.cwd_from_proc = false;
                }
                Created::None
            }
            "clone" | "clone3" | "fork" | "vfork" if ret > 0 && ret <= i64::from(u32::MAX) => {
                let flags = match name {
                    "clone" => Some(a[0]),
                    "clone3" => None,
                    _ => Some(0),
                };
                self.forked(table, tgid, ret as u32, flags);
                Created::None
            }
            "unshare" if a[0] & CLONE_FILES != 0 => {
                self.unshare(tid);
                Created::None
            }
            _ => Created::None,
        };
        match created {
            Created::None => None,
            Created::One(fd, entry) => {
                self.set(table, fd, entry);
                Some(fd)
            }
            Created::Two([(r, re), (w, we)]) => {
                self.set(table, r, re);
                self.set(table, w, we);
                Some(PIPE_FDS)
            }
        }
    }

    /// strace -y's `pipe2([3<pipe:[7]>, 4<pipe:[7]>], 0)`: the array's fds annotated too.
    fn annotate_pipe(&mut self, table: u64, e: &mut Event) {
        let Some(c) = capture(e, 0, CAP_STRUCT_OUT).filter(|c| c.data.len() >= 8) else {
            return;
        };
        let r = i32::from_ne_bytes(c.data[0..4].try_into().unwrap_or_default());
        let w = i32::from_ne_bytes(c.data[4..8].try_into().unwrap_or_default());
        let Some(t) = self.tables.get(&table) else {
            return;
        };
        let (Some(rp), Some(wp)) = (
            t.fds.get(&r).and_then(Entry::name),
            t.fds.get(&w).and_then(Entry::name),
        ) else {
            return;
        };
        let Some(a) = e.args.first_mut() else {
            return;
        };
        if a.text != format!("[{r}, {w}]") {
            return;
        }
        let mut text = format!("[{r}");
        fdpath::annotate(&mut text, &rp);
        text.push_str(&format!(", {w}"));
        fdpath::annotate(&mut text, &wp);
        text.push(']');
        a.text = text;
    }

    fn named(fd: Option<i32>, name: &[u8], cloexec: Option<bool>) -> Created {
        match fd {
            Some(fd) => Created::One(fd, Entry::traced(What::Named(name.into()), cloexec)),
            None => Created::None,
        }
    }

    /// An fd the trace cannot name: /proc, if it shows the kind the call creates (a link
    /// starting with one of `prefixes`).
    fn kind(&self, e: &Event, prefixes: &[&[u8]], cloexec: Option<bool>) -> Created {
        let Some(fd) = e.call.ret.and_then(|r| i32::try_from(r).ok()) else {
            return Created::None;
        };
        let what = match self.proc.link(e.call.tgid, fd) {
            Some(l) if !l.is_empty() && prefixes.iter().any(|p| l.starts_with(p)) => {
                What::Named(l.into())
            }
            _ => What::Opaque,
        };
        Created::One(fd, Entry::traced(what, cloexec))
    }

    /// `pipe`'s two fds, from the captured array; named when /proc shows both ends on one pipe.
    fn pipe(&self, e: &Event, cloexec: Option<bool>) -> Created {
        let Some(c) = capture(e, 0, CAP_STRUCT_OUT).filter(|c| c.data.len() >= 8) else {
            return Created::None;
        };
        let r = i32::from_ne_bytes(c.data[0..4].try_into().unwrap_or_default());
        let w = i32::from_ne_bytes(c.data[4..8].try_into().unwrap_or_default());
        let (lr, lw) = (
            self.proc.link(e.call.tgid, r),
            self.proc.link(e.call.tgid, w),
        );
        let what = match (lr, lw) {
            (Some(lr), Some(lw)) if lr == lw && lr.starts_with(b"pipe:[") => What::Named(lr.into()),
            _ => What::Opaque,
        };
        Created::Two([
            (r, Entry::traced(what.clone(), cloexec)),
            (w, Entry::traced(what, cloexec)),
        ])
    }

    /// `path` (relative to `dirfd`) made absolute from what the table knows.
    fn absolute(&self, table: u64, dirfd: i32, path: &[u8]) -> Option<Arc<[u8]>> {
        if path.starts_with(b"/") {
            return Some(path.into());
        }
        let t = self.tables.get(&table)?;
        let dir = if dirfd == libc::AT_FDCWD {
            t.cwd.clone()?
        } else {
            t.fds.get(&dirfd)?.name()?
        };
        if !dir.starts_with(b"/") {
            return None;
        }
        Some(join(&dir, path))
    }

    /// An fd `open*` returned: the path it opened, in /proc's canonical form when /proc's fd
    /// still refers to that very file.
    fn opened(
        &mut self,
        table: u64,
        e: &Event,
        dirfd: i32,
        path_arg: u8,
        flags: Option<u64>,
    ) -> Created {
        let c = &e.call;
        let Some(fd) = c.ret.and_then(|r| i32::try_from(r).ok()) else {
            return Created::None;
        };
        let cloexec = flags.map(|f| f & libc::O_CLOEXEC as u64 != 0);
        let Some(path) = capture(e, path_arg, CAP_STR).filter(|p| !p.truncated()) else {
            return Created::One(fd, Entry::traced(What::Opaque, cloexec));
        };
        let tmpfile = flags.is_some_and(|f| f & libc::O_TMPFILE as u64 == libc::O_TMPFILE as u64);
        if tmpfile {
            // An unnamed file in that directory: only the kernel knows its name.
            let what = match self.proc.link(c.tgid, fd) {
                Some(l) if l.ends_with(b" (deleted)") && l.windows(2).any(|w| w == b"/#") => {
                    What::Named(l.into())
                }
                _ => What::Opaque,
            };
            return Created::One(fd, Entry::traced(what, cloexec));
        }
        if dirfd == libc::AT_FDCWD && !path.data.starts_with(b"/") {
            // Fills the cwd from /proc when the trace never showed it (checked below, like
            // any /proc answer).
            let _ = self.cwd(table, c.tgid);
        }
        let absolute = self.absolute(table, dirfd, &path.data);
        let relative_to_proc_cwd = dirfd == libc::AT_FDCWD
            && !path.data.starts_with(b"/")
            && self.tables.get(&table).is_some_and(|t| t.cwd_from_proc);
        let canonical = absolute.as_deref().and_then(|abs| {
            let before = self.proc.link(c.tgid, fd)?;
            let same = self.proc.same_file(c.tgid, fd, abs);
            // Unchanged across the check, and the very file the path names.
            (same && before.starts_with(b"/") && self.proc.link(c.tgid, fd)? == before)
                .then_some(before)
        });
        let name: Arc<[u8]> = match (canonical, absolute) {
            (Some(l), _) => l.into(),
            (None, Some(abs)) if !relative_to_proc_cwd => abs,
            // Relative to a directory the trace cannot name: the path as given.
            (None, _) => path.data.as_slice().into(),
        };
        Created::One(fd, Entry::traced(What::Named(name), cloexec))
    }

    fn dup(
        &mut self,
        table: u64,
        tgid: u32,
        old: i32,
        new: Option<i32>,
        cloexec: Option<bool>,
    ) -> Created {
        let Some(new) = new else {
            return Created::None;
        };
        let what = match self.entry(table, tgid, old).map(|e| e.what) {
            Some(What::Named(p)) => What::Named(p),
            // Closed yet duplicated: the trace has a gap.
            _ => What::Opaque,
        };
        Created::One(new, Entry::traced(what, cloexec))
    }

    fn set_cloexec(&mut self, table: u64, tgid: u32, fd: i32, on: bool) {
        if fd < 0 {
            return;
        }
        let e = self.entry(table, tgid, fd).unwrap_or(Entry {
            what: What::Opaque,
            cloexec: None,
            from_proc: false,
        });
        self.set(
            table,
            fd,
            Entry {
                cloexec: Some(on),
                ..e
            },
        );
    }

    fn close_range(&mut self, table: u64, tid: u32, first: u32, last: u32, flags: u64) {
        if first > last {
            return;
        }
        let table = if flags & CLOSE_RANGE_UNSHARE != 0 {
            self.unshare(tid).unwrap_or(table)
        } else {
            table
        };
        let Some(t) = self.tables.get_mut(&table) else {
            return;
        };
        let in_range = |fd: i32| fd >= 0 && (first..=last).contains(&(fd as u32));
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            for (_, e) in t.fds.iter_mut().filter(|(fd, _)| in_range(**fd)) {
                e.cloexec = Some(true);
            }
            if !Table::push_range(&mut t.cloexec_ranges, (first, last)) {
                self.entries = self.entries.saturating_sub(t.gap());
            }
        } else {
            let before = t.fds.len();
            t.fds.retain(|fd, _| !in_range(*fd));
            self.entries = self.entries.saturating_sub(before - t.fds.len());
            if !Table::push_range(&mut t.closed, (first, last)) {
                self.entries = self.entries.saturating_sub(t.gap());
            }
        }
    }

    /// A successful `execve`: close-on-exec fds are closed; a table shared with another
    /// process is unshared first.
    fn exec(&mut self, table: u64, tid: u32, tgid: u32) {
        // The other threads are gone; the exec'ing thread has the process's id now.
        for other in self.procs.get(&tgid).cloned().unwrap_or_default() {
            if other != tid {
                self.drop_thread(other);
            }
        }
        let shared = self
            .threads
            .iter()
            .any(|(&t, th)| th.table == table && t != tid);
        let table = if shared {
            self.unshare(tid).unwrap_or(table)
        } else {
            table
        };
        let Some(t) = self.tables.get_mut(&table) else {
            return;
        };
        for e in t.fds.values_mut() {
            match e.cloexec {
                Some(true) => *e = Entry::traced(What::Closed, None),
                Some(false) => {}
                None => *e = Entry::traced(What::Opaque, None),
            }
        }
        let ranges = std::mem::take(&mut t.cloexec_ranges);
        for r in ranges {
            if !Table::push_range(&mut t.closed, r) {
                self.entries = self.entries.saturating_sub(t.gap());
                break;
            }
        }
    }

    /// Thread `tid` gets its own copy of its table; the copy's id.
    fn unshare(&mut self, tid: u32) -> Option<u64> {
        let th = *self.threads.get(&tid)?;
        let copy = self.tables.get(&th.table)?.fork();
        let id = self.new_table(copy);
        self.release(th.table);
        if let Some(t) = self.threads.get_mut(&tid) {
            t.table = id;
        }
        Some(id)
    }

    /// The parent side of a fork that returned `child` (the child's id in the parent's PID
    /// namespace).
    fn forked(&mut self, table: u64, parent_tgid: u32, child: u32, flags: Option<u64>) {
        if let Some(child_tid) = self.orphans.remove(&child)
            && let Some(th) = self.threads.get(&child_tid).copied()
        {
            // The child ran first: what its table learned from the trace stays; the rest is
            // its parent's, which the trace knows better than /proc.
            let share = flags.map_or(th.tgid == parent_tgid, |f| f & CLONE_FILES != 0);
            if th.table == table {
                return;
            }
            let mut base = match self.tables.get(&table) {
                Some(t) => t.fork(),
                None => return,
            };
            if let Some(own) = self.tables.get(&th.table) {
                for (fd, e) in &own.fds {
                    if !e.from_proc || !base.fds.contains_key(fd) {
                        base.fds.insert(*fd, e.clone());
                    }
                }
                base.closed.extend(&own.closed);
                if own.cwd.is_some() {
                    base.cwd = own.cwd.clone();
                }
            }
            let id = if share {
                let n = base.fds.len();
                if let Some(t) = self.tables.get_mut(&table) {
                    let before = t.fds.len();
                    *t = Table {
                        users: t.users + 1,
                        last_used: self.tick,
                        ..base
                    };
                    self.entries = (self.entries + n).saturating_sub(before);
                }
                table
            } else {
                self.new_table(base)
            };
            self.release(th.table);
            if let Some(t) = self.threads.get_mut(&child_tid) {
                t.table = id;
            }
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            self.clear_pending();
        }
        if let Some(t) = self.tables.get_mut(&table) {
            t.users += 1;
        }
        if let Some(old) = self.pending.insert(
            child,
            PendingFork {
                table,
                flags,
                parent_tgid,
            },
        ) {
            self.release(old.table);
        }
    }

    /// Keeps memory bounded: a table that outgrew its cap forgets; beyond the table or entry
    /// caps, the least recently used tables go.
    fn bound(&mut self, current: u64) {
        if let Some(t) = self.tables.get_mut(&current)
            && t.fds.len() > MAX_TABLE_FDS
        {
            self.entries = self.entries.saturating_sub(t.gap());
        }
        if self.entries > MAX_ENTRIES {
            self.entries = self.tables.values().map(|t| t.fds.len()).sum();
        }
        if self.tables.len() <= MAX_TABLES && self.entries <= MAX_ENTRIES {
            return;
        }
        let mut by_age: Vec<(u64, u64)> = self
            .tables
            .iter()
            .filter(|(id, _)| **id != current)
            .map(|(id, t)| (t.last_used, *id))
            .collect();
        by_age.sort_unstable();
        let evict: HashSet<u64> = by_age
            .iter()
            .take(by_age.len() / 8 + 1)
            .map(|(_, id)| *id)
            .collect();
        let gone: Vec<u32> = self
            .threads
            .iter()
            .filter(|(_, th)| evict.contains(&th.table))
            .map(|(tid, _)| *tid)
            .collect();
        for tid in gone {
            self.drop_thread(tid);
            if self.forgotten.len() >= MAX_FORGOTTEN {
                self.forgotten.clear();
            }
            self.forgotten.insert(tid);
        }
        self.pending.retain(|_, f| !evict.contains(&f.table));
        for id in evict {
            if let Some(t) = self.tables.remove(&id) {
                self.entries = self.entries.saturating_sub(t.fds.len());
            }
        }
    }

    #[cfg(test)]
    fn counts(&self) -> (usize, usize, usize) {
        (self.tables.len(), self.threads.len(), self.entries)
    }
}

#[cfg(test)]
#[path = "fds_tests.rs"]
mod tests;
