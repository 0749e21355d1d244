//! What the kernel captures for each syscall. Argument names and types come from the kernel's
//! format files (`syscalls::args`); which way the data flows and which argument holds its
//! length is not in those files, so it is stated here, per syscall, for the ones strace decodes.
//! Every other `const char *` argument is a NUL-terminated string read at enter: a path
//! ([`CAP_STR`], up to PATH_MAX, never cut by `-s`) when strace prints it as one (`printpath`),
//! else a string cut at the string size ([`CAP_STR_SIZED`], strace's `printstr`).
use tracer_common::capture::{
    CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_FDSET, CAP_IOV_IN, CAP_IOV_OUT, CAP_MSGHDR_IN,
    CAP_MSGHDR_OUT, CAP_NONE, CAP_SOCKADDR_IN, CAP_SOCKADDR_OUT, CAP_STR, CAP_STR_SIZED,
    CAP_STRUCT_IN, CAP_STRUCT_INOUT, CAP_STRUCT_OUT, CaptureSpec, LEN_NONE, LEN_PAGES, LEN_RET,
};

use super::{resource, structs, syscalls, time};

/// Where the length of a capture comes from.
#[derive(Clone, Copy)]
enum Len {
    None,
    Arg(&'static str),
    /// A byte length argument, counted in pages (rounded up).
    Pages(&'static str),
    Ret,
}

/// (syscall, argument, kind, length, element size).
type Rule = (&'static str, &'static str, u8, Len, u16);

const STAT: u16 = structs::STAT_SIZE as u16;
const TIMESPEC: u16 = 16;
const LOFF: u16 = 8;
const RLIMIT: u16 = 16;
const EPOLL_EVENT: u16 = 12;
const POLLFD: u16 = 8;
const UTSNAME: u16 = structs::UTSNAME_SIZE as u16;
const TIMEVAL: u16 = time::TIMEVAL_SIZE as u16;
const TIMEZONE: u16 = time::TIMEZONE_SIZE as u16;
const ITIMER: u16 = time::ITIMER_SIZE as u16;
const TMS: u16 = time::TMS_SIZE as u16;
const RUSAGE: u16 = resource::RUSAGE_SIZE as u16;
const SIGINFO: u16 = resource::SIGINFO_SIZE as u16;
const SYSINFO: u16 = resource::SYSINFO_SIZE as u16;

const RULES: &[Rule] = &[
    ("read", "buf", CAP_BUF_OUT, Len::Arg("count"), 0),
    ("pread64", "buf", CAP_BUF_OUT, Len::Arg("count"), 0),
    ("write", "buf", CAP_BUF_IN, Len::Arg("count"), 0),
    ("pwrite64", "buf", CAP_BUF_IN, Len::Arg("count"), 0),
    ("readv", "vec", CAP_IOV_OUT, Len::Arg("vlen"), 0),
    ("preadv", "vec", CAP_IOV_OUT, Len::Arg("vlen"), 0),
    ("writev", "vec", CAP_IOV_IN, Len::Arg("vlen"), 0),
    ("pwritev", "vec", CAP_IOV_IN, Len::Arg("vlen"), 0),
    ("preadv2", "vec", CAP_IOV_OUT, Len::Arg("vlen"), 0),
    ("pwritev2", "vec", CAP_IOV_IN, Len::Arg("vlen"), 0),
    // fd sets in, and as the call left them; the timeout in and what is left of it.
    ("select", "inp", CAP_FDSET, Len::Arg("n"), 0),
    ("select", "outp", CAP_FDSET, Len::Arg("n"), 0),
    ("select", "exp", CAP_FDSET, Len::Arg("n"), 0),
    ("select", "tvp", CAP_STRUCT_INOUT, Len::None, TIMEVAL),
    ("pselect6", "inp", CAP_FDSET, Len::Arg("n"), 0),
    ("pselect6", "outp", CAP_FDSET, Len::Arg("n"), 0),
    ("pselect6", "exp", CAP_FDSET, Len::Arg("n"), 0),
    ("pselect6", "tsp", CAP_STRUCT_INOUT, Len::None, TIMESPEC),
    // `loff_t *` offsets: read at enter; sendfile's is updated by the call.
    ("copy_file_range", "off_in", CAP_STRUCT_IN, Len::None, LOFF),
    ("copy_file_range", "off_out", CAP_STRUCT_IN, Len::None, LOFF),
    ("splice", "off_in", CAP_STRUCT_IN, Len::None, LOFF),
    ("splice", "off_out", CAP_STRUCT_IN, Len::None, LOFF),
    ("sendfile", "offset", CAP_STRUCT_INOUT, Len::None, LOFF),
    ("sendto", "buff", CAP_BUF_IN, Len::Arg("len"), 0),
    ("sendto", "addr", CAP_SOCKADDR_IN, Len::Arg("addr_len"), 0),
    ("recvfrom", "ubuf", CAP_BUF_OUT, Len::Arg("size"), 0),
    (
        "recvfrom",
        "addr",
        CAP_SOCKADDR_OUT,
        Len::Arg("addr_len"),
        0,
    ),
    (
        "connect",
        "uservaddr",
        CAP_SOCKADDR_IN,
        Len::Arg("addrlen"),
        0,
    ),
    ("bind", "umyaddr", CAP_SOCKADDR_IN, Len::Arg("addrlen"), 0),
    (
        "accept",
        "upeer_sockaddr",
        CAP_SOCKADDR_OUT,
        Len::Arg("upeer_addrlen"),
        0,
    ),
    ("accept", "upeer_addrlen", CAP_STRUCT_IN, Len::None, 4),
    ("accept4", "upeer_addrlen", CAP_STRUCT_IN, Len::None, 4),
    ("getsockname", "usockaddr_len", CAP_STRUCT_IN, Len::None, 4),
    ("getpeername", "usockaddr_len", CAP_STRUCT_IN, Len::None, 4),
    ("recvfrom", "addr_len", CAP_STRUCT_IN, Len::None, 4),
    (
        "accept4",
        "upeer_sockaddr",
        CAP_SOCKADDR_OUT,
        Len::Arg("upeer_addrlen"),
        0,
    ),
    (
        "getsockname",
        "usockaddr",
        CAP_SOCKADDR_OUT,
        Len::Arg("usockaddr_len"),
        0,
    ),
    (
        "getpeername",
        "usockaddr",
        CAP_SOCKADDR_OUT,
        Len::Arg("usockaddr_len"),
        0,
    ),
    ("setsockopt", "optval", CAP_BUF_IN, Len::Arg("optlen"), 0),
    // The buffer size in, the value's length out, and min(in, out) bytes of the value: what
    // the kernel wrote (sk_getsockopt, net/core/sock.c, copies no more than both).
    ("getsockopt", "optlen", CAP_STRUCT_IN, Len::None, 4),
    (
        "getsockopt",
        "optval",
        CAP_SOCKADDR_OUT,
        Len::Arg("optlen"),
        0,
    ),
    ("sendmsg", "msg", CAP_MSGHDR_IN, Len::None, 0),
    ("recvmsg", "msg", CAP_MSGHDR_OUT, Len::None, 0),
    ("execve", "argv", CAP_ARGV, Len::None, 0),
    ("execveat", "argv", CAP_ARGV, Len::None, 0),
    ("readlink", "buf", CAP_BUF_OUT, Len::Arg("bufsiz"), 0),
    ("readlinkat", "buf", CAP_BUF_OUT, Len::Arg("bufsiz"), 0),
    // A path, whole (up to MAX_STRUCT_BYTES): `ret` bytes, its NUL included.
    ("getcwd", "buf", CAP_STRUCT_OUT, Len::Ret, 1),
    ("stat", "statbuf", CAP_STRUCT_OUT, Len::None, STAT),
    ("lstat", "statbuf", CAP_STRUCT_OUT, Len::None, STAT),
    ("fstat", "statbuf", CAP_STRUCT_OUT, Len::None, STAT),
    ("newfstatat", "statbuf", CAP_STRUCT_OUT, Len::None, STAT),
    ("nanosleep", "rqtp", CAP_STRUCT_IN, Len::None, TIMESPEC),
    (
        "clock_nanosleep",
        "rqtp",
        CAP_STRUCT_IN,
        Len::None,
        TIMESPEC,
    ),
    ("clock_gettime", "tp", CAP_STRUCT_OUT, Len::None, TIMESPEC),
    ("clock_getres", "tp", CAP_STRUCT_OUT, Len::None, TIMESPEC),
    (
        "utimensat",
        "utimes",
        CAP_STRUCT_IN,
        Len::None,
        2 * TIMESPEC,
    ),
    // The array in, and again at exit for the `revents` the call wrote.
    ("poll", "ufds", CAP_STRUCT_INOUT, Len::Arg("nfds"), POLLFD),
    ("ppoll", "ufds", CAP_STRUCT_INOUT, Len::Arg("nfds"), POLLFD),
    ("ppoll", "tsp", CAP_STRUCT_INOUT, Len::None, TIMESPEC),
    ("ppoll", "sigmask", CAP_STRUCT_IN, Len::Arg("sigsetsize"), 1),
    ("epoll_ctl", "event", CAP_STRUCT_IN, Len::None, EPOLL_EVENT),
    (
        "epoll_wait",
        "events",
        CAP_STRUCT_OUT,
        Len::Ret,
        EPOLL_EVENT,
    ),
    (
        "epoll_pwait",
        "events",
        CAP_STRUCT_OUT,
        Len::Ret,
        EPOLL_EVENT,
    ),
    (
        "epoll_pwait2",
        "events",
        CAP_STRUCT_OUT,
        Len::Ret,
        EPOLL_EVENT,
    ),
    ("getrlimit", "rlim", CAP_STRUCT_OUT, Len::None, RLIMIT),
    ("setrlimit", "rlim", CAP_STRUCT_IN, Len::None, RLIMIT),
    ("prlimit64", "new_rlim", CAP_STRUCT_IN, Len::None, RLIMIT),
    ("prlimit64", "old_rlim", CAP_STRUCT_OUT, Len::None, RLIMIT),
    ("uname", "name", CAP_STRUCT_OUT, Len::None, UTSNAME),
    ("pipe", "fildes", CAP_STRUCT_OUT, Len::None, 8),
    ("pipe2", "fildes", CAP_STRUCT_OUT, Len::None, 8),
    ("wait4", "stat_addr", CAP_STRUCT_OUT, Len::None, 4),
    ("setxattr", "value", CAP_BUF_IN, Len::Arg("size"), 0),
    ("lsetxattr", "value", CAP_BUF_IN, Len::Arg("size"), 0),
    ("fsetxattr", "value", CAP_BUF_IN, Len::Arg("size"), 0),
    ("getxattr", "value", CAP_BUF_OUT, Len::Arg("size"), 0),
    ("lgetxattr", "value", CAP_BUF_OUT, Len::Arg("size"), 0),
    ("fgetxattr", "value", CAP_BUF_OUT, Len::Arg("size"), 0),
    ("listxattr", "list", CAP_BUF_OUT, Len::Arg("size"), 0),
    ("llistxattr", "list", CAP_BUF_OUT, Len::Arg("size"), 0),
    ("flistxattr", "list", CAP_BUF_OUT, Len::Arg("size"), 0),
    (
        "statfs",
        "buf",
        CAP_STRUCT_OUT,
        Len::None,
        structs::STATFS_SIZE as u16,
    ),
    (
        "fstatfs",
        "buf",
        CAP_STRUCT_OUT,
        Len::None,
        structs::STATFS_SIZE as u16,
    ),
    (
        "statx",
        "buffer",
        CAP_STRUCT_OUT,
        Len::None,
        structs::STATX_SIZE as u16,
    ),
    // fcntl's third argument, read as a struct flock whatever the command: decoded only for
    // the commands whose argument is a pointer to one (or to a struct f_owner_ex, its first 8
    // bytes); for the others the read faults or is ignored.
    (
        "fcntl",
        "arg",
        CAP_STRUCT_IN,
        Len::None,
        super::fcntl::FLOCK_SIZE as u16,
    ),
    // Signal sets: sigsetsize bytes (the decoder prints them only for sizes strace accepts).
    (
        "rt_sigprocmask",
        "nset",
        CAP_STRUCT_IN,
        Len::Arg("sigsetsize"),
        1,
    ),
    (
        "rt_sigprocmask",
        "oset",
        CAP_STRUCT_OUT,
        Len::Arg("sigsetsize"),
        1,
    ),
    (
        "rt_sigpending",
        "uset",
        CAP_STRUCT_OUT,
        Len::Arg("sigsetsize"),
        1,
    ),
    (
        "signalfd4",
        "user_mask",
        CAP_STRUCT_IN,
        Len::Arg("sizemask"),
        1,
    ),
    (
        "signalfd",
        "user_mask",
        CAP_STRUCT_IN,
        Len::Arg("sizemask"),
        1,
    ),
    ("getrandom", "ubuf", CAP_BUF_OUT, Len::Arg("len"), 0),
    // One byte per page of `len`.
    ("mincore", "vec", CAP_STRUCT_OUT, Len::Pages("len"), 1),
    // Time and resource structures (decode/time.rs, decode/resource.rs).
    ("utimes", "utimes", CAP_STRUCT_IN, Len::None, 2 * TIMEVAL),
    ("futimesat", "utimes", CAP_STRUCT_IN, Len::None, 2 * TIMEVAL),
    ("clock_settime", "tp", CAP_STRUCT_IN, Len::None, TIMESPEC),
    ("gettimeofday", "tv", CAP_STRUCT_OUT, Len::None, TIMEVAL),
    ("gettimeofday", "tz", CAP_STRUCT_OUT, Len::None, TIMEZONE),
    ("settimeofday", "tv", CAP_STRUCT_IN, Len::None, TIMEVAL),
    ("settimeofday", "tz", CAP_STRUCT_IN, Len::None, TIMEZONE),
    ("getitimer", "value", CAP_STRUCT_OUT, Len::None, ITIMER),
    ("setitimer", "value", CAP_STRUCT_IN, Len::None, ITIMER),
    ("setitimer", "ovalue", CAP_STRUCT_OUT, Len::None, ITIMER),
    ("timerfd_settime", "utmr", CAP_STRUCT_IN, Len::None, ITIMER),
    ("timerfd_settime", "otmr", CAP_STRUCT_OUT, Len::None, ITIMER),
    ("timerfd_gettime", "otmr", CAP_STRUCT_OUT, Len::None, ITIMER),
    (
        "timer_settime",
        "new_setting",
        CAP_STRUCT_IN,
        Len::None,
        ITIMER,
    ),
    (
        "timer_settime",
        "old_setting",
        CAP_STRUCT_OUT,
        Len::None,
        ITIMER,
    ),
    (
        "timer_gettime",
        "setting",
        CAP_STRUCT_OUT,
        Len::None,
        ITIMER,
    ),
    ("times", "tbuf", CAP_STRUCT_OUT, Len::None, TMS),
    ("getrusage", "ru", CAP_STRUCT_OUT, Len::None, RUSAGE),
    ("wait4", "ru", CAP_STRUCT_OUT, Len::None, RUSAGE),
    ("waitid", "ru", CAP_STRUCT_OUT, Len::None, RUSAGE),
    ("waitid", "infop", CAP_STRUCT_OUT, Len::None, SIGINFO),
    ("sysinfo", "info", CAP_STRUCT_OUT, Len::None, SYSINFO),
    ("getcpu", "cpup", CAP_STRUCT_OUT, Len::None, 4),
    ("getcpu", "nodep", CAP_STRUCT_OUT, Len::None, 4),
    (
        "sched_getaffinity",
        "user_mask_ptr",
        CAP_STRUCT_OUT,
        Len::Ret,
        1,
    ),
    (
        "sched_setaffinity",
        "user_mask_ptr",
        CAP_STRUCT_IN,
        Len::Arg("len"),
        1,
    ),
    ("getgroups", "grouplist", CAP_STRUCT_OUT, Len::Ret, 4),
    (
        "setgroups",
        "grouplist",
        CAP_STRUCT_IN,
        Len::Arg("gidsetsize"),
        4,
    ),
    ("getresuid", "ruidp", CAP_STRUCT_OUT, Len::None, 4),
    ("getresuid", "euidp", CAP_STRUCT_OUT, Len::None, 4),
    ("getresuid", "suidp", CAP_STRUCT_OUT, Len::None, 4),
    ("getresgid", "rgidp", CAP_STRUCT_OUT, Len::None, 4),
    ("getresgid", "egidp", CAP_STRUCT_OUT, Len::None, 4),
    ("getresgid", "sgidp", CAP_STRUCT_OUT, Len::None, 4),
    // `char *` without const, but input strings all the same.
    ("utimes", "filename", CAP_STR, Len::None, 0),
    ("utime", "filename", CAP_STR, Len::None, 0),
    ("mount", "dev_name", CAP_STR, Len::None, 0),
    ("mount", "dir_name", CAP_STR, Len::None, 0),
    ("mount", "type", CAP_STR_SIZED, Len::None, 0),
    ("umount2", "name", CAP_STR, Len::None, 0),
    // `const char *` with a length: a message, not a string (strace: `printstrn`).
    (
        "mq_timedsend",
        "u_msg_ptr",
        CAP_BUF_IN,
        Len::Arg("msg_len"),
        0,
    ),
];

/// Whether a `const char *` argument is a path (strace 6.1 prints it with `printpath`, which
/// `-s` does not cut) rather than a string (`printstr`, cut at `-s`: xattr names, key types
/// and descriptions, `memfd_create`'s and `fsopen`'s names, `fsconfig`'s key). By the kernel's
/// argument name, which is a path's name in every syscall that takes one; `name` is a path
/// only where the syscall says so.
fn is_path(syscall: &str, arg: &str) -> bool {
    match arg {
        "filename" | "pathname" | "oldname" | "newname" | "path" | "from_pathname"
        | "to_pathname" | "new_root" | "put_old" | "special" | "specialfile" | "dev_name"
        | "dir_name" => true,
        // acct(2), umount(2), name_to_handle_at(2); POSIX message queue names (strace:
        // `printpath` in mq.c).
        "name" => matches!(syscall, "acct" | "umount" | "umount2" | "name_to_handle_at"),
        "u_name" => matches!(syscall, "mq_open" | "mq_unlink"),
        _ => false,
    }
}

/// Arguments whose `const char *` is not a NUL-terminated string.
fn not_a_string(syscall: &str, arg: &str) -> bool {
    matches!(
        (syscall, arg),
        (
            "write" | "pwrite64" | "sendto" | "setxattr" | "lsetxattr" | "fsetxattr",
            _
        )
    ) && matches!(arg, "buf" | "buff" | "value")
        || (syscall, arg) == ("mq_timedsend", "u_msg_ptr")
}

/// The capture spec of one syscall, from its argument list.
pub fn spec_for(syscall: &str, args: &[syscalls::Arg]) -> CaptureSpec {
    let mut spec = CaptureSpec {
        len_arg: [LEN_NONE; 6],
        ..CaptureSpec::default()
    };
    let index = |name: &str| args.iter().position(|a| a.name == name);
    for (i, a) in args.iter().enumerate().take(6) {
        if a.ty == "const char *" && !not_a_string(syscall, a.name) {
            spec.kind[i] = if is_path(syscall, a.name) {
                CAP_STR
            } else {
                CAP_STR_SIZED
            };
        }
    }
    for &(sys, arg, kind, len, size) in RULES.iter().filter(|r| r.0 == syscall) {
        let Some(i) = index(arg).filter(|&i| i < 6) else {
            continue;
        };
        spec.kind[i] = kind;
        spec.size[i] = size;
        spec.len_arg[i] = match len {
            Len::None => LEN_NONE,
            Len::Ret => LEN_RET,
            Len::Arg(n) | Len::Pages(n) => match index(n) {
                Some(j) if matches!(len, Len::Pages(_)) => j as u8 | LEN_PAGES,
                Some(j) => j as u8,
                None => {
                    tracing::debug!("capture rule {sys}.{arg}: no argument {n}");
                    spec.kind[i] = CAP_NONE;
                    LEN_NONE
                }
            },
        };
    }
    spec
}

/// Whether a record of syscall `nr` needs `sys_enter` (`--exit-only` leaves these calls out,
/// docs/design.md): `execve` and `execveat` (a successful exec replaces the registers and the
/// memory the arguments were in), and the calls that overwrite an input they are shown with
/// (an address buffer's size, select's fd sets, poll's array, a timeout or an offset the call
/// updates). Every other call leaves its argument registers and its inputs as they were, so
/// they read the same at exit; `exit` and `exit_group`, which have no exit, are read as the
/// task ends (`sched_process_exit`).
pub fn needs_enter(nr: u32) -> bool {
    let (Some(name), Some(args)) = (syscalls::name(nr), syscalls::args(nr)) else {
        return false;
    };
    spec_for(name, args)
        .kind
        .iter()
        .any(|&k| k == CAP_ARGV || (CaptureSpec::reads_at_enter(k) && CaptureSpec::is_exit_kind(k)))
}

/// Every syscall number of the host architecture with something to capture.
pub fn table() -> Vec<(u32, CaptureSpec)> {
    (0..tracer_common::config::MAX_SYSCALL_NR)
        .filter_map(|nr| {
            let name = syscalls::name(nr)?;
            let args = syscalls::args(nr)?;
            let spec = spec_for(name, args);
            spec.kind
                .iter()
                .any(|&k| k != CAP_NONE)
                .then_some((nr, spec))
        })
        .collect()
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn the_calls_that_need_sys_enter() {
        let mut needing: Vec<&str> = (0..tracer_common::config::MAX_SYSCALL_NR)
            .filter(|&nr| needs_enter(nr))
            .filter_map(syscalls::name)
            .collect();
        needing.sort_unstable();
        assert_eq!(
            needing,
            [
                "accept",
                "accept4",
                "execve",
                "execveat",
                "getpeername",
                "getsockname",
                "getsockopt",
                "poll",
                "ppoll",
                "pselect6",
                "recvfrom",
                "recvmsg",
                "select",
                "sendfile",
            ]
        );
    }

    fn spec(name: &str) -> CaptureSpec {
        let nr = syscalls::number(name).expect("known");
        table()
            .into_iter()
            .find(|(n, _)| *n == nr)
            .map(|(_, s)| s)
            .unwrap_or_default()
    }

    #[test]
    fn specs_follow_the_kernel_argument_lists() {
        let openat = spec("openat");
        assert_eq!(openat.kind, [0, CAP_STR, 0, 0, 0, 0]);
        let read = spec("read");
        assert_eq!((read.kind[1], read.len_arg[1]), (CAP_BUF_OUT, 2));
        let write = spec("write");
        assert_eq!((write.kind[1], write.len_arg[1]), (CAP_BUF_IN, 2));
        let accept4 = spec("accept4");
        assert_eq!((accept4.kind[1], accept4.len_arg[1]), (CAP_SOCKADDR_OUT, 2));
        let gso = spec("getsockopt");
        assert_eq!(
            (gso.kind[3], gso.len_arg[3], gso.kind[4], gso.size[4]),
            (CAP_SOCKADDR_OUT, 4, CAP_STRUCT_IN, 4)
        );
        let execve = spec("execve");
        assert_eq!(execve.kind[..3], [CAP_STR, CAP_ARGV, 0]);
        let rename = spec("renameat2");
        assert_eq!(rename.kind[..4], [0, CAP_STR, 0, CAP_STR]);
        // Paths are not cut by -s; other strings are.
        assert_eq!(spec("setxattr").kind[..2], [CAP_STR, CAP_STR_SIZED]);
        assert_eq!(spec("fgetxattr").kind[1], CAP_STR_SIZED);
        assert_eq!(spec("add_key").kind[..2], [CAP_STR_SIZED, CAP_STR_SIZED]);
        assert_eq!(spec("memfd_create").kind[0], CAP_STR_SIZED);
        assert_eq!(spec("mount").kind[..3], [CAP_STR, CAP_STR, CAP_STR_SIZED]);
        assert_eq!(spec("acct").kind[0], CAP_STR);
        assert_eq!(spec("mq_open").kind[0], CAP_STR);
        assert_eq!(spec("truncate").kind[0], CAP_STR);
        assert_eq!(spec("symlinkat").kind[..3], [CAP_STR, 0, CAP_STR]);
        let mq = spec("mq_timedsend");
        assert_eq!((mq.kind[1], mq.len_arg[1]), (CAP_BUF_IN, 2));
        let fstat = spec("fstat");
        assert_eq!((fstat.kind[1], fstat.size[1]), (CAP_STRUCT_OUT, STAT));
        let ew = spec("epoll_wait");
        assert_eq!((ew.kind[1], ew.len_arg[1]), (CAP_STRUCT_OUT, LEN_RET));
        assert_eq!(spec("utimes").kind[..2], [CAP_STR, CAP_STRUCT_IN]);
        let ga = spec("sched_getaffinity");
        assert_eq!(
            (ga.kind[2], ga.len_arg[2], ga.size[2]),
            (CAP_STRUCT_OUT, LEN_RET, 1)
        );
        let sa = spec("sched_setaffinity");
        assert_eq!((sa.kind[2], sa.len_arg[2]), (CAP_STRUCT_IN, 1));
        let wi = spec("waitid");
        assert_eq!(
            (wi.kind[2], wi.size[2], wi.kind[4]),
            (CAP_STRUCT_OUT, 128, CAP_STRUCT_OUT)
        );
        assert_eq!(spec("getppid"), CaptureSpec::default());
        assert!(table().len() > 80, "{}", table().len());
    }
}
