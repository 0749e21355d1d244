//! The fd tables on made-up event streams: what -y prints for each call, with a /proc that
//! answers what the test says it holds "now" (often something else than the trace showed).
use std::sync::{Arc, Mutex};

use super::*;
use crate::{
    decode::{self, SyscallEvent, args::Options},
    model::event::Capture,
};

#[derive(Default)]
struct Fake {
    /// (tgid, fd) → link now.
    links: HashMap<(u32, i32), Vec<u8>>,
    /// (tgid, fd, path) the fd refers to now.
    same: HashSet<(u32, i32, Vec<u8>)>,
    cwd: HashMap<u32, Vec<u8>>,
    reads: u32,
}

#[derive(Clone, Default)]
struct FakeProc(Arc<Mutex<Fake>>);

impl FakeProc {
    fn f(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.0.lock().expect("fake /proc")
    }
    fn link(&self, tgid: u32, fd: i32, l: &str) {
        self.f().links.insert((tgid, fd), l.as_bytes().to_vec());
    }
    fn unlink(&self, tgid: u32, fd: i32) {
        self.f().links.remove(&(tgid, fd));
    }
    fn reads(&self) -> u32 {
        self.f().reads
    }
}

impl ProcFs for FakeProc {
    fn link(&self, tgid: u32, fd: i32) -> Option<Vec<u8>> {
        let mut f = self.f();
        f.reads += 1;
        f.links.get(&(tgid, fd)).cloned()
    }
    fn cloexec(&self, _: u32, _: i32) -> Option<bool> {
        Some(false)
    }
    fn same_file(&self, tgid: u32, fd: i32, path: &[u8]) -> bool {
        let f = self.f();
        f.same.contains(&(tgid, fd, path.to_vec()))
    }
    fn cwd(&self, tgid: u32) -> Option<Vec<u8>> {
        self.f().cwd.get(&tgid).cloned()
    }
}

const PID: u32 = 100;

fn nr(name: &str) -> u32 {
    decode::syscalls::number(name).unwrap_or_else(|| panic!("{name}"))
}

fn call(tid: u32, name: &str, args: &[u64], ret: Option<i64>) -> SyscallEvent {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    SyscallEvent {
        ktime_ns: 1,
        enter_ns: Some(0),
        nr: nr(name),
        args: a,
        ret,
        tgid: tid,
        tid,
        ns_tgid: None,
        ns_tid: None,
        cgroup_id: 0,
        comm: [0; 16],
        enter: Enter::Seen,
        sigsys: false,
        captures: Vec::new(),
        stack: None,
    }
}

fn with_str(mut c: SyscallEvent, arg: u8, s: &str) -> SyscallEvent {
    c.captures.push(Capture {
        arg,
        kind: CAP_STR,
        flags: 0,
        index: 0,
        data: s.as_bytes().to_vec(),
    });
    c
}

const AT_FDCWD: u64 = libc::AT_FDCWD as u32 as u64;
const RDONLY_CLOEXEC: u64 = (libc::O_RDONLY | libc::O_CLOEXEC) as u64;

fn openat(tid: u32, path: &str, flags: u64, ret: i64) -> SyscallEvent {
    with_str(
        call(tid, "openat", &[AT_FDCWD, 0, flags], Some(ret)),
        1,
        path,
    )
}

struct T {
    fds: FdTables,
    proc: FakeProc,
}

impl T {
    fn new() -> Self {
        let proc = FakeProc::default();
        T {
            fds: FdTables::new(Box::new(proc.clone())),
            proc,
        }
    }

    /// The strace line of `c` (without pid, errno name or time) after the fd tables saw it.
    fn line(&mut self, c: SyscallEvent) -> String {
        let mut e = decode::event(c, Options::default());
        self.fds.enrich(&mut e);
        let name = decode::syscalls::display_name(e.call.nr);
        let shown: Vec<&str> = args::shown_in_order(&e.args)
            .iter()
            .map(|a| a.text.as_str())
            .collect();
        let mut l = format!("{name}({})", shown.join(", "));
        match e.call.ret {
            Some(r) if r < 0 => l.push_str(" = -1"),
            Some(r) => {
                l.push_str(&format!(" = {r}"));
                if let Some(p) = &e.ret_path {
                    fdpath::annotate(&mut l, p);
                }
            }
            None => l.push_str(" = ?"),
        }
        l
    }
}

#[test]
fn reused_fd_names_what_the_trace_opened() {
    // The bug: /proc says fd 5 is a pipe by the time the openat is decoded.
    let mut t = T::new();
    t.proc.link(PID, 5, "pipe:[169685]");
    assert_eq!(
        t.line(openat(PID, "/proc/filesystems", RDONLY_CLOEXEC, 5)),
        "openat(AT_FDCWD, \"/proc/filesystems\", O_RDONLY|O_CLOEXEC) = 5</proc/filesystems>"
    );
    assert_eq!(
        t.line(call(PID, "read", &[5, 0, 0], Some(0))),
        "read(5</proc/filesystems>, NULL, 0) = 0"
    );
    assert_eq!(
        t.line(call(PID, "close", &[5], Some(0))),
        "close(5</proc/filesystems>) = 0"
    );
    // Closed, then reused by a pipe the trace shows.
    let mut pipe = call(PID, "pipe2", &[0x1000, 0], Some(0));
    pipe.captures.push(Capture {
        arg: 0,
        kind: CAP_STRUCT_OUT,
        flags: 0,
        index: 0,
        data: [5i32.to_ne_bytes(), 6i32.to_ne_bytes()].concat(),
    });
    t.proc.link(PID, 6, "pipe:[169685]");
    assert_eq!(
        t.line(pipe),
        "pipe2([5<pipe:[169685]>, 6<pipe:[169685]>], 0) = 0"
    );
    assert_eq!(
        t.line(call(PID, "write", &[6, 0, 0], Some(0))),
        "write(6<pipe:[169685]>, NULL, 0) = 0"
    );
    assert_eq!(
        t.line(call(PID, "read", &[5, 0, 0], Some(0))),
        "read(5<pipe:[169685]>, NULL, 0) = 0"
    );
}

#[test]
fn canonical_name_only_for_the_same_file() {
    let mut t = T::new();
    // fd 3 still refers to the file the path names: /proc's canonical name, as strace.
    t.proc.link(PID, 3, "/usr/share/zoneinfo/Etc/UTC");
    t.proc.f().same.insert((PID, 3, b"/etc/localtime".to_vec()));
    assert!(
        t.line(openat(PID, "/etc/localtime", RDONLY_CLOEXEC, 3))
            .ends_with(" = 3</usr/share/zoneinfo/Etc/UTC>")
    );
    // fd 4: /proc names another file now: the trace's path.
    t.proc.link(PID, 4, "/etc/passwd");
    assert!(
        t.line(openat(PID, "/etc/hosts", RDONLY_CLOEXEC, 4))
            .ends_with(" = 4</etc/hosts>")
    );
}

#[test]
fn closed_fds_are_never_read_from_proc() {
    let mut t = T::new();
    t.proc.link(PID, 7, "/etc/shadow");
    // Never seen: /proc, once.
    assert_eq!(
        t.line(call(PID, "fsync", &[7], Some(0))),
        "fsync(7</etc/shadow>) = 0"
    );
    let reads = t.proc.reads();
    t.proc.link(PID, 7, "/somewhere/else");
    assert_eq!(
        t.line(call(PID, "fsync", &[7], Some(0))),
        "fsync(7</etc/shadow>) = 0"
    );
    assert_eq!(t.proc.reads(), reads, "cached");
    t.line(call(PID, "close", &[7], Some(0)));
    // Closed in the trace, reopened (per /proc) by something the trace has not shown yet.
    assert_eq!(t.line(call(PID, "fsync", &[7], Some(-9))), "fsync(7) = -1");
    // close_range closes fds the trace never saw too.
    t.proc.link(PID, 20, "/x");
    t.line(call(PID, "close_range", &[10, u32::MAX as u64, 0], Some(0)));
    assert_eq!(t.line(call(PID, "fsync", &[20], Some(-9))).find('<'), None);
    assert_eq!(
        t.line(call(PID, "fsync", &[9], Some(0))),
        "fsync(9) = 0",
        "not open now, not open per the trace"
    );
}

#[test]
fn dup_copies_and_cloexec_closes_at_exec() {
    let mut t = T::new();
    t.line(openat(PID, "/a", RDONLY_CLOEXEC, 3));
    assert_eq!(
        t.line(call(PID, "dup", &[3], Some(4))),
        "dup(3</a>) = 4</a>"
    );
    t.line(openat(PID, "/b", libc::O_RDONLY as u64, 5));
    assert_eq!(
        t.line(call(PID, "dup2", &[5, 4], Some(4))),
        "dup2(5</b>, 4</a>) = 4</b>"
    );
    // strace 6.1, tests/dup2.c: `dup2(9</dev/full>, 9</dev/full>) = 9</dev/full>`.
    assert_eq!(
        t.line(call(PID, "dup2", &[5, 5], Some(5))),
        "dup2(5</b>, 5</b>) = 5</b>"
    );
    assert_eq!(
        t.line(call(
            PID,
            "fcntl",
            &[3, libc::F_DUPFD_CLOEXEC as u64, 10],
            Some(10)
        )),
        "fcntl(3</a>, F_DUPFD_CLOEXEC, 10) = 10</a>"
    );
    assert_eq!(
        t.line(call(
            PID,
            "dup3",
            &[3, 11, libc::O_CLOEXEC as u64],
            Some(11)
        )),
        "dup3(3</a>, 11, O_CLOEXEC) = 11</a>"
    );
    // fd 5 loses its cloexec flag... and fd 4 gains one.
    t.line(call(PID, "fcntl", &[4, libc::F_SETFD as u64, 1], Some(0)));
    t.line(call(PID, "execve", &[0, 0, 0], Some(0)));
    for (fd, want) in [
        (3, None),
        (4, None),
        (5, Some("/b")),
        (10, None),
        (11, None),
    ] {
        let l = t.line(call(PID, "fsync", &[fd], Some(0)));
        match want {
            Some(p) => assert_eq!(l, format!("fsync({fd}<{p}>) = 0")),
            None => assert_eq!(l, format!("fsync({fd}) = 0")),
        }
    }
}

#[test]
fn children_inherit_and_threads_share() {
    let mut t = T::new();
    t.line(openat(PID, "/a", RDONLY_CLOEXEC, 3));
    // fork: the child gets a copy.
    t.line(call(PID, "clone", &[libc::SIGCHLD as u64], Some(200)));
    let mut child = call(200, "clone", &[libc::SIGCHLD as u64], Some(0));
    child.enter = Enter::Missing;
    t.line(child);
    t.line(call(200, "close", &[3], Some(0)));
    assert_eq!(
        t.line(call(PID, "fsync", &[3], Some(0))),
        "fsync(3</a>) = 0"
    );
    t.line(openat(200, "/c", RDONLY_CLOEXEC, 3));
    assert_eq!(
        t.line(call(200, "fsync", &[3], Some(0))),
        "fsync(3</c>) = 0"
    );
    // A thread: the same table.
    let flags =
        (libc::CLONE_VM | libc::CLONE_FILES | libc::CLONE_THREAD | libc::CLONE_SIGHAND) as u64;
    t.line(call(PID, "clone", &[flags], Some(101)));
    let mut thread = call(101, "fsync", &[3], Some(0));
    thread.tgid = PID;
    assert_eq!(t.line(thread.clone()), "fsync(3</a>) = 0");
    let mut close = call(101, "close", &[3], Some(0));
    close.tgid = PID;
    t.line(close);
    assert_eq!(t.line(call(PID, "fsync", &[3], Some(-9))).find('<'), None);
    // The child seen before its parent's fork returned: it gets its parent's table then.
    t.line(openat(PID, "/d", RDONLY_CLOEXEC, 4));
    t.proc.link(300, 4, "/somewhere/else");
    let mut early = call(300, "clone", &[libc::SIGCHLD as u64], Some(0));
    early.enter = Enter::Missing;
    t.line(early);
    t.line(call(PID, "clone", &[libc::SIGCHLD as u64], Some(300)));
    assert_eq!(
        t.line(call(300, "fsync", &[4], Some(0))),
        "fsync(4</d>) = 0"
    );
    // Exits drop the tables.
    t.line(call(300, "exit_group", &[0], None));
    t.line(call(200, "exit_group", &[0], None));
    t.line(call(PID, "exit_group", &[0], None));
    assert_eq!(t.fds.counts().0, 0, "no table left");
}

#[test]
fn relative_paths_sockets_and_losses() {
    let mut t = T::new();
    // /proc's cwd joined to a relative path, used only if /proc vouches for the file.
    t.proc.f().cwd.insert(PID + 1, b"/home".to_vec());
    assert!(
        t.line(openat(PID + 1, "f", RDONLY_CLOEXEC, 3))
            .ends_with(" = 3<f>")
    );
    t.proc.link(PID + 1, 4, "/home/g");
    t.proc.f().same.insert((PID + 1, 4, b"/home/g".to_vec()));
    assert_eq!(
        t.line(openat(PID + 1, "g", RDONLY_CLOEXEC, 4)),
        "openat(AT_FDCWD</home>, \"g\", O_RDONLY|O_CLOEXEC) = 4</home/g>"
    );
    // A cwd the trace never showed and /proc cannot tell: the path as given.
    assert!(
        t.line(openat(PID, "rel", RDONLY_CLOEXEC, 3))
            .ends_with(" = 3<rel>")
    );
    t.line(with_str(call(PID, "chdir", &[0], Some(0)), 0, "/srv"));
    assert_eq!(
        t.line(openat(PID, "x/y", RDONLY_CLOEXEC, 4)),
        "openat(AT_FDCWD</srv>, \"x/y\", O_RDONLY|O_CLOEXEC) = 4</srv/x/y>"
    );
    // openat relative to a directory fd the trace knows.
    let mut at = openat(PID, "z", RDONLY_CLOEXEC, 5);
    at.args[0] = 4;
    assert!(t.line(at).ends_with(" = 5</srv/x/y/z>"));
    // A socket: /proc's inode, if /proc shows a socket there.
    t.proc.link(PID, 6, "socket:[42]");
    assert!(
        t.line(call(PID, "socket", &[2, 1, 0], Some(6)))
            .ends_with(" = 6<socket:[42]>")
    );
    t.proc.link(PID, 7, "/not/a/socket");
    assert!(
        t.line(call(PID, "socket", &[2, 1, 0], Some(7)))
            .ends_with(" = 7")
    );
    // Events lost: nothing known, nothing read from /proc for this process any more.
    t.fds.lost();
    t.proc.link(PID, 3, "/now");
    assert_eq!(t.line(call(PID, "fsync", &[3], Some(0))), "fsync(3) = 0");
    t.proc.unlink(PID, 3);
    // What the trace opens afterwards is known again.
    assert!(
        t.line(openat(PID, "/e", RDONLY_CLOEXEC, 3))
            .ends_with(" = 3</e>")
    );
}

#[test]
fn memory_is_bounded() {
    let mut t = T::new();
    // Many short processes that never exit in the trace, each with fds.
    for pid in 1..(MAX_TABLES as u32 * 2) {
        t.line(openat(pid, "/a", RDONLY_CLOEXEC, 3));
    }
    let (tables, threads, _) = t.fds.counts();
    assert!(
        tables <= MAX_TABLES + 1 && threads <= MAX_TABLES + 1,
        "{tables} {threads}"
    );
    // One process with ever more fds.
    for fd in 0..(MAX_TABLE_FDS as i64 + 10) {
        t.line(openat(1, "/a", RDONLY_CLOEXEC, fd + 3));
    }
    let (_, _, entries) = t.fds.counts();
    assert!(entries <= MAX_ENTRIES, "{entries}");
    // Hostile values never panic.
    for name in [
        "dup2",
        "dup3",
        "close_range",
        "fcntl",
        "pipe2",
        "clone",
        "execve",
        "openat",
    ] {
        for ret in [Some(-1), Some(0), Some(i64::MAX), Some(i64::MIN), None] {
            t.line(call(1, name, &[u64::MAX, u64::MAX, u64::MAX], ret));
        }
    }
}

#[test]
fn real_proc_checks_the_file_itself() {
    let f = std::fs::File::open("/proc/self/status").expect("open");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
    let me = std::process::id();
    let link = Proc.link(me, fd).expect("readlink");
    assert!(
        link.ends_with(b"/status"),
        "{}",
        String::from_utf8_lossy(&link)
    );
    assert_eq!(Proc.cloexec(me, fd), Some(true), "std opens with O_CLOEXEC");
    assert!(Proc.same_file(me, fd, &link));
    assert!(!Proc.same_file(me, fd, b"/proc/self/stat"));
    assert!(!Proc.same_file(me, fd, b"/no/such/file"));
    assert!(!Proc.same_file(me, -1, b"/proc/self/status"));
    assert_eq!(Proc.link(me, -1), None);
}
