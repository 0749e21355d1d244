//! Symbolic names for flag and enum arguments, printed the way strace prints them. The values
//! come from the `libc` crate; only the grouping (which names belong to which argument) is ours.
use std::fmt::Write as _;

pub type Table = &'static [(u64, &'static str)];

/// A libc constant as the kernel's unsigned register value: a negative `int` constant
/// (EPOLLET, CLONE_IO are 0x80000000) is taken as 32 bits, not sign-extended.
macro_rules! table {
    ($($name:ident),* $(,)?) => {
        &[$(({
            let v = libc::$name as i64;
            if v < 0 && v >= i32::MIN as i64 { v as u32 as u64 } else { v as u64 }
        }, stringify!($name))),*]
    };
}
pub(crate) use table;

/// `A|B|0x40`: every known bit by name, the rest in hex; `zero` when nothing is set.
pub fn bits(out: &mut String, raw: u64, table: Table, zero: &str) {
    if raw == 0 {
        out.push_str(zero);
        return;
    }
    let mut rest = raw;
    let mut first = true;
    for &(v, name) in table {
        if v != 0 && rest & v == v {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            rest &= !v;
            first = false;
        }
    }
    if rest != 0 {
        if !first {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
}

/// What [`bits`] prints when that is one name of the table (or `zero`): no string to build.
pub fn bits_name(raw: u64, table: Table, zero: &'static str) -> Option<&'static str> {
    if raw == 0 {
        return Some(zero);
    }
    // `bits` takes the first entry whose bits are all set: one name when it is all of them.
    let &(v, name) = table.iter().find(|&&(v, _)| v != 0 && raw & v == v)?;
    (v == raw).then_some(name)
}

/// The name [`xval`] prints for a known value.
pub fn xval_name(raw: u64, table: Table) -> Option<&'static str> {
    table.iter().find(|(v, _)| *v == raw).map(|(_, name)| *name)
}

/// One name for an enum value, or the number (decimal) when unknown.
pub fn value(out: &mut String, raw: u64, table: Table) {
    match table.iter().find(|(v, _)| *v == raw) {
        Some((_, name)) => out.push_str(name),
        None => {
            let _ = write!(out, "{}", raw as i64);
        }
    }
}

/// strace's `printxval`: the name, or `0x4d2 /* F_??? */` when unknown.
pub fn xval(out: &mut String, raw: u64, table: Table, unknown: &str) {
    match table.iter().find(|(v, _)| *v == raw) {
        Some((_, name)) => out.push_str(name),
        None => {
            let _ = write!(out, "{raw:#x} /* {unknown} */");
        }
    }
}

pub fn xval_string(raw: u64, table: Table, unknown: &str) -> String {
    let mut s = String::new();
    xval(&mut s, raw, table, unknown);
    s
}

/// The kernel's first real-time signal (strace's ASM_SIGRTMIN; glibc's SIGRTMIN is a
/// function of the C library, not this number).
pub const SIGRTMIN: i64 = 32;
/// The kernel's last signal on x86_64 and aarch64 (`_NSIG`, include/uapi/asm-generic/signal.h).
pub const SIGRTMAX: i64 = 64;

/// A signal number as strace names it: `SIGTERM`, `SIGRTMIN`, `SIGRT_2`, or the number.
pub fn signal(out: &mut String, sig: i64) {
    match SIGNALS.iter().find(|(v, _)| *v as i64 == sig) {
        Some((_, name)) => out.push_str(name),
        None if sig == SIGRTMIN => out.push_str("SIGRTMIN"),
        None if sig > SIGRTMIN && sig <= SIGRTMAX => {
            let _ = write!(out, "SIGRT_{}", sig - SIGRTMIN);
        }
        None => {
            let _ = write!(out, "{sig}");
        }
    }
}

/// The name [`signal`] prints, when it is a fixed one.
pub fn signal_name(sig: i64) -> Option<&'static str> {
    match SIGNALS.iter().find(|(v, _)| *v as i64 == sig) {
        Some((_, name)) => Some(name),
        None => (sig == SIGRTMIN).then_some("SIGRTMIN"),
    }
}

pub fn signal_string(sig: i64) -> String {
    let mut s = String::new();
    signal(&mut s, sig);
    s
}

/// strace's `printflags`: like `bits`, but `0x10 /* PROT_??? */` when no bit has a name.
pub fn flags_string(raw: u64, table: Table, zero: &str, unknown: &str) -> String {
    if raw != 0 && !table.iter().any(|&(v, _)| v != 0 && raw & v == v) {
        return format!("{raw:#x} /* {unknown} */");
    }
    bits_string(raw, table, zero)
}

pub fn bits_string(raw: u64, table: Table, zero: &str) -> String {
    let mut s = String::new();
    bits(&mut s, raw, table, zero);
    s
}

pub fn value_string(raw: u64, table: Table) -> String {
    let mut s = String::new();
    value(&mut s, raw, table);
    s
}

/// Kernel O_LARGEFILE (glibc defines it as 0 on 64-bit, the kernel still sets and shows it).
#[cfg(target_arch = "x86_64")]
const O_LARGEFILE: u64 = 0o100000;
#[cfg(not(target_arch = "x86_64"))]
const O_LARGEFILE: u64 = 0o400000;

/// `O_RDONLY|O_CLOEXEC`: the access mode first, then the other bits.
pub fn open_flags(out: &mut String, raw: u64) {
    let acc = raw & libc::O_ACCMODE as u64;
    out.push_str(match acc as i32 {
        libc::O_RDONLY => "O_RDONLY",
        libc::O_WRONLY => "O_WRONLY",
        libc::O_RDWR => "O_RDWR",
        _ => "O_ACCMODE",
    });
    let rest = raw & !(libc::O_ACCMODE as u64);
    if rest != 0 {
        out.push('|');
        bits(out, rest, OPEN_FLAGS, "");
    }
}

/// `__O_TMPFILE` (include/uapi/asm-generic/fcntl.h): O_TMPFILE without O_DIRECTORY. The
/// kernel takes a mode when this bit or O_CREAT is set.
pub const O_TMPFILE_BIT: u64 = (libc::O_TMPFILE & !libc::O_DIRECTORY) as u64;
/// `__O_SYNC`: O_SYNC without O_DSYNC.
const O_SYNC_BIT: u64 = (libc::O_SYNC & !libc::O_DSYNC) as u64;

/// strace's order and names (xlat/open_mode_flags.in): O_SYNC and O_TMPFILE include other
/// bits, so they come before their parts; O_ASYNC is FASYNC.
pub const OPEN_FLAGS: Table = &[
    (libc::O_CREAT as u64, "O_CREAT"),
    (libc::O_EXCL as u64, "O_EXCL"),
    (libc::O_NOCTTY as u64, "O_NOCTTY"),
    (libc::O_TRUNC as u64, "O_TRUNC"),
    (libc::O_APPEND as u64, "O_APPEND"),
    (libc::O_NONBLOCK as u64, "O_NONBLOCK"),
    (libc::O_SYNC as u64, "O_SYNC"),
    (O_SYNC_BIT, "__O_SYNC"),
    (libc::O_DSYNC as u64, "O_DSYNC"),
    (libc::O_DIRECT as u64, "O_DIRECT"),
    (O_LARGEFILE, "O_LARGEFILE"),
    (libc::O_NOFOLLOW as u64, "O_NOFOLLOW"),
    (libc::O_NOATIME as u64, "O_NOATIME"),
    (libc::O_CLOEXEC as u64, "O_CLOEXEC"),
    (libc::O_PATH as u64, "O_PATH"),
    (libc::O_TMPFILE as u64, "O_TMPFILE"),
    (O_TMPFILE_BIT, "__O_TMPFILE"),
    (libc::O_DIRECTORY as u64, "O_DIRECTORY"),
    (libc::O_ASYNC as u64, "FASYNC"),
];

/// `_IOC(_IOC_READ, 0x54, 0x1, 0x4)` for an ioctl command without a name, as strace prints
/// it (include/uapi/asm-generic/ioctl.h layout: nr 8 bits, type 8, size 14, dir 2).
pub fn ioctl_string(cmd: u64) -> String {
    if let Some((_, name)) = IOCTL.iter().find(|(v, _)| *v == cmd) {
        return (*name).to_string();
    }
    let cmd = cmd as u32;
    let (nr, ty, size, dir) = (
        cmd & 0xff,
        (cmd >> 8) & 0xff,
        (cmd >> 16) & 0x3fff,
        cmd >> 30,
    );
    let dir = match dir {
        0 => "_IOC_NONE",
        1 => "_IOC_WRITE",
        2 => "_IOC_READ",
        _ => "_IOC_READ|_IOC_WRITE",
    };
    let x = |v: u32| {
        if v == 0 {
            "0".to_string()
        } else {
            format!("{v:#x}")
        }
    };
    format!("_IOC({dir}, {}, {}, {})", x(ty), x(nr), x(size))
}

/// `0644`, as strace prints file modes (C's `%#03o`: `000`, `007`, `0644`).
pub fn mode(out: &mut String, raw: u64) {
    // `0` and the octal digits, at least three characters: `000`, `001`, `0644`.
    let mut digits = [b'0'; 23];
    let mut at = digits.len();
    let mut n = raw;
    while n > 0 {
        at -= 1;
        digits[at] = b'0' + (n & 7) as u8;
        n >>= 3;
    }
    let start = at.saturating_sub(1).min(digits.len() - 3);
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// The name of a file type (`mode & S_IFMT`).
fn file_type(ty: u64) -> Option<&'static str> {
    [
        (libc::S_IFREG, "S_IFREG"),
        (libc::S_IFDIR, "S_IFDIR"),
        (libc::S_IFLNK, "S_IFLNK"),
        (libc::S_IFCHR, "S_IFCHR"),
        (libc::S_IFBLK, "S_IFBLK"),
        (libc::S_IFIFO, "S_IFIFO"),
        (libc::S_IFSOCK, "S_IFSOCK"),
    ]
    .iter()
    .find(|(v, _)| u64::from(*v) == ty)
    .map(|(_, n)| *n)
}

/// `S_IFREG|0644` for `st_mode`.
pub fn st_mode(out: &mut String, raw: u64) {
    let ty = raw & libc::S_IFMT as u64;
    match file_type(ty) {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "{ty:#o}");
        }
    }
    out.push('|');
    mode(out, raw & 0o7777);
}

/// strace's at_flags (xlat/at_flags.in); AT_EACCESS shares AT_REMOVEDIR's value and is
/// faccessat2's only (FACCESSAT_FLAGS).
pub const AT_FLAGS: Table = &[
    (libc::AT_SYMLINK_NOFOLLOW as u64, "AT_SYMLINK_NOFOLLOW"),
    (libc::AT_REMOVEDIR as u64, "AT_REMOVEDIR"),
    (libc::AT_SYMLINK_FOLLOW as u64, "AT_SYMLINK_FOLLOW"),
    (libc::AT_NO_AUTOMOUNT as u64, "AT_NO_AUTOMOUNT"),
    (libc::AT_EMPTY_PATH as u64, "AT_EMPTY_PATH"),
    (AT_RECURSIVE, "AT_RECURSIVE"),
];
/// include/uapi/linux/fcntl.h (not in libc).
const AT_RECURSIVE: u64 = 0x8000;
/// faccessat2's flags (strace's xlat/faccessat_flags.in).
pub const FACCESSAT_FLAGS: Table = &[
    (libc::AT_SYMLINK_NOFOLLOW as u64, "AT_SYMLINK_NOFOLLOW"),
    (libc::AT_EACCESS as u64, "AT_EACCESS"),
    (libc::AT_EMPTY_PATH as u64, "AT_EMPTY_PATH"),
];
/// statx's sync type, a 2-bit field (xlat/at_statx_sync_types.in, in its order: the value
/// 0x6000 prints as its two bits).
pub const AT_STATX_SYNC: Table = &[
    (0x0000, "AT_STATX_SYNC_AS_STAT"),
    (0x2000, "AT_STATX_FORCE_SYNC"),
    (0x4000, "AT_STATX_DONT_SYNC"),
    (0x6000, "AT_STATX_SYNC_TYPE"),
];
/// fcntl lock types and lease types (xlat/lockfcmds.in).
pub const LOCK_TYPES: Table = &[
    (0, "F_RDLCK"),
    (1, "F_WRLCK"),
    (2, "F_UNLCK"),
    (4, "F_EXLCK"),
    (8, "F_SHLCK"),
];
/// F_NOTIFY's directory notification flags (xlat/notifyflags.in).
pub const DN_FLAGS: Table = &[
    (0x1, "DN_ACCESS"),
    (0x2, "DN_MODIFY"),
    (0x4, "DN_CREATE"),
    (0x8, "DN_DELETE"),
    (0x10, "DN_RENAME"),
    (0x20, "DN_ATTRIB"),
    (0x8000_0000, "DN_MULTISHOT"),
];
/// struct f_owner_ex's types (xlat/f_owner_types.in).
pub const F_OWNER_TYPES: Table = &[(0, "F_OWNER_TID"), (1, "F_OWNER_PID"), (2, "F_OWNER_PGRP")];
/// File seals (xlat/f_seals.in).
pub const F_SEALS: Table = &[
    (0x1, "F_SEAL_SEAL"),
    (0x2, "F_SEAL_SHRINK"),
    (0x4, "F_SEAL_GROW"),
    (0x8, "F_SEAL_WRITE"),
    (0x10, "F_SEAL_FUTURE_WRITE"),
];
/// mmap's mapping types (the MAP_TYPE bits), MAP_FILE being none of them.
pub const MAP_TYPES: Table = &[
    (0, "MAP_FILE"),
    (0x1, "MAP_SHARED"),
    (0x2, "MAP_PRIVATE"),
    (0x3, "MAP_SHARED_VALIDATE"),
];
/// The MAP_TYPE bits, and MAP_HUGE_MASK << MAP_HUGE_SHIFT (include/uapi/linux/mman.h).
pub const MAP_TYPE: u64 = 0xf;
pub const MAP_HUGE_SHIFT: u32 = 26;
pub const MAP_HUGE_MASK: u64 = 0x3f;
pub const MREMAP: Table = &[
    (0x1, "MREMAP_MAYMOVE"),
    (0x2, "MREMAP_FIXED"),
    (0x4, "MREMAP_DONTUNMAP"),
];
/// mlockall's flags (include/uapi/asm-generic/mman-common.h).
pub const MCL: Table = &[(1, "MCL_CURRENT"), (2, "MCL_FUTURE"), (4, "MCL_ONFAULT")];
/// msync's flags in strace's order (xlat/mctl_sync.in).
pub const MS_SYNC_FLAGS: Table = table!(MS_SYNC, MS_ASYNC, MS_INVALIDATE);
pub const PROT: Table = table!(
    PROT_READ,
    PROT_WRITE,
    PROT_EXEC,
    PROT_GROWSDOWN,
    PROT_GROWSUP
);
pub const MAP_FLAGS: Table = table!(
    MAP_SHARED_VALIDATE,
    MAP_SHARED,
    MAP_PRIVATE,
    MAP_FIXED,
    MAP_ANONYMOUS,
    MAP_32BIT,
    MAP_GROWSDOWN,
    MAP_DENYWRITE,
    MAP_EXECUTABLE,
    MAP_LOCKED,
    MAP_NORESERVE,
    MAP_POPULATE,
    MAP_NONBLOCK,
    MAP_STACK,
    MAP_HUGETLB,
    MAP_SYNC,
    MAP_FIXED_NOREPLACE,
);
/// Address families libc lacks (include/linux/socket.h).
const AF_KCM: u64 = 41;
const AF_QIPCRTR: u64 = 42;
const AF_SMC: u64 = 43;
const AF_MCTP: u64 = 45;
/// strace's address families (xlat/addrfams.in).
pub const AF: Table = &[
    (libc::AF_UNSPEC as u64, "AF_UNSPEC"),
    (libc::AF_UNIX as u64, "AF_UNIX"),
    (libc::AF_INET as u64, "AF_INET"),
    (libc::AF_AX25 as u64, "AF_AX25"),
    (libc::AF_IPX as u64, "AF_IPX"),
    (libc::AF_APPLETALK as u64, "AF_APPLETALK"),
    (libc::AF_NETROM as u64, "AF_NETROM"),
    (libc::AF_BRIDGE as u64, "AF_BRIDGE"),
    (libc::AF_ATMPVC as u64, "AF_ATMPVC"),
    (libc::AF_X25 as u64, "AF_X25"),
    (libc::AF_INET6 as u64, "AF_INET6"),
    (libc::AF_ROSE as u64, "AF_ROSE"),
    (libc::AF_DECnet as u64, "AF_DECnet"),
    (libc::AF_NETBEUI as u64, "AF_NETBEUI"),
    (libc::AF_SECURITY as u64, "AF_SECURITY"),
    (libc::AF_KEY as u64, "AF_KEY"),
    (libc::AF_NETLINK as u64, "AF_NETLINK"),
    (libc::AF_PACKET as u64, "AF_PACKET"),
    (libc::AF_ASH as u64, "AF_ASH"),
    (libc::AF_ECONET as u64, "AF_ECONET"),
    (libc::AF_ATMSVC as u64, "AF_ATMSVC"),
    (libc::AF_RDS as u64, "AF_RDS"),
    (libc::AF_SNA as u64, "AF_SNA"),
    (libc::AF_IRDA as u64, "AF_IRDA"),
    (libc::AF_PPPOX as u64, "AF_PPPOX"),
    (libc::AF_WANPIPE as u64, "AF_WANPIPE"),
    (libc::AF_LLC as u64, "AF_LLC"),
    (libc::AF_IB as u64, "AF_IB"),
    (libc::AF_MPLS as u64, "AF_MPLS"),
    (libc::AF_CAN as u64, "AF_CAN"),
    (libc::AF_TIPC as u64, "AF_TIPC"),
    (libc::AF_BLUETOOTH as u64, "AF_BLUETOOTH"),
    (libc::AF_IUCV as u64, "AF_IUCV"),
    (libc::AF_RXRPC as u64, "AF_RXRPC"),
    (libc::AF_ISDN as u64, "AF_ISDN"),
    (libc::AF_PHONET as u64, "AF_PHONET"),
    (libc::AF_IEEE802154 as u64, "AF_IEEE802154"),
    (libc::AF_CAIF as u64, "AF_CAIF"),
    (libc::AF_ALG as u64, "AF_ALG"),
    (libc::AF_NFC as u64, "AF_NFC"),
    (libc::AF_VSOCK as u64, "AF_VSOCK"),
    (AF_KCM, "AF_KCM"),
    (AF_QIPCRTR, "AF_QIPCRTR"),
    (AF_SMC, "AF_SMC"),
    (libc::AF_XDP as u64, "AF_XDP"),
    (AF_MCTP, "AF_MCTP"),
];
pub const SOCK_TYPE: Table = table!(SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET);
pub const SOCK_FLAGS: Table = table!(SOCK_CLOEXEC, SOCK_NONBLOCK);
pub const IPPROTO: Table = table!(
    IPPROTO_IP,
    IPPROTO_ICMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPPROTO_IPV6,
    IPPROTO_ICMPV6,
    IPPROTO_RAW,
    IPPROTO_SCTP
);
pub const SOL: Table = table!(SOL_SOCKET, SOL_TCP, SOL_UDP, SOL_IP, SOL_IPV6);
/// SO_RCVTIMEO and SO_SNDTIMEO are the `_OLD` (timeval) options to strace.
pub const TCP_OPT: Table = table!(
    TCP_NODELAY,
    TCP_MAXSEG,
    TCP_CORK,
    TCP_KEEPIDLE,
    TCP_KEEPINTVL,
    TCP_KEEPCNT,
    TCP_DEFER_ACCEPT,
    TCP_QUICKACK,
    TCP_FASTOPEN
);
pub const CLONE: Table = table!(
    CLONE_VM,
    CLONE_FS,
    CLONE_FILES,
    CLONE_SIGHAND,
    CLONE_PIDFD,
    CLONE_PTRACE,
    CLONE_VFORK,
    CLONE_PARENT,
    CLONE_THREAD,
    CLONE_NEWNS,
    CLONE_SYSVSEM,
    CLONE_SETTLS,
    CLONE_PARENT_SETTID,
    CLONE_CHILD_CLEARTID,
    CLONE_DETACHED,
    CLONE_UNTRACED,
    CLONE_CHILD_SETTID,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
    CLONE_IO,
);
pub const SIGNALS: Table = table!(
    SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV,
    SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN,
    SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS,
);
pub const SIGPROCMASK_HOW: Table = table!(SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK);
/// fcntl commands libc does not define for x86_64/aarch64 glibc
/// (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h).
const F_SETSIG: u64 = 10;
const F_GETSIG: u64 = 11;
const F_SETOWN_EX: u64 = F_SETOWN_EX_CMD as u64;
const F_GETOWN_EX: u64 = F_GETOWN_EX_CMD as u64;
pub const F_SETOWN_EX_CMD: i32 = 15;
pub const F_GETOWN_EX_CMD: i32 = 16;
const F_GETOWNER_UIDS: u64 = 17;
const F_CANCELLK: u64 = 1029;

/// In strace's order (the first name of a value wins).
pub const FCNTL_CMD: Table = &[
    (libc::F_DUPFD as u64, "F_DUPFD"),
    (libc::F_GETFD as u64, "F_GETFD"),
    (libc::F_SETFD as u64, "F_SETFD"),
    (libc::F_GETFL as u64, "F_GETFL"),
    (libc::F_SETFL as u64, "F_SETFL"),
    (libc::F_GETLK as u64, "F_GETLK"),
    (libc::F_SETLK as u64, "F_SETLK"),
    (libc::F_SETLKW as u64, "F_SETLKW"),
    (libc::F_SETOWN as u64, "F_SETOWN"),
    (libc::F_GETOWN as u64, "F_GETOWN"),
    (F_SETSIG, "F_SETSIG"),
    (F_GETSIG, "F_GETSIG"),
    (F_SETOWN_EX, "F_SETOWN_EX"),
    (F_GETOWN_EX, "F_GETOWN_EX"),
    (F_GETOWNER_UIDS, "F_GETOWNER_UIDS"),
    (libc::F_OFD_GETLK as u64, "F_OFD_GETLK"),
    (libc::F_OFD_SETLK as u64, "F_OFD_SETLK"),
    (libc::F_OFD_SETLKW as u64, "F_OFD_SETLKW"),
    (libc::F_SETLEASE as u64, "F_SETLEASE"),
    (libc::F_GETLEASE as u64, "F_GETLEASE"),
    (libc::F_NOTIFY as u64, "F_NOTIFY"),
    (F_CANCELLK, "F_CANCELLK"),
    (libc::F_DUPFD_CLOEXEC as u64, "F_DUPFD_CLOEXEC"),
    (libc::F_SETPIPE_SZ as u64, "F_SETPIPE_SZ"),
    (libc::F_GETPIPE_SZ as u64, "F_GETPIPE_SZ"),
    (libc::F_ADD_SEALS as u64, "F_ADD_SEALS"),
    (libc::F_GET_SEALS as u64, "F_GET_SEALS"),
];
pub const FD_FLAGS: Table = table!(FD_CLOEXEC);
pub const IOCTL: Table = table!(
    TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP, TIOCSPGRP, TIOCSCTTY,
    TIOCNOTTY, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC, TIOCOUTQ,
);
pub const EPOLL_OP: Table = table!(EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD);
pub const EPOLL_EVENTS: Table = table!(
    EPOLLIN,
    EPOLLPRI,
    EPOLLOUT,
    EPOLLERR,
    EPOLLHUP,
    EPOLLRDNORM,
    EPOLLRDBAND,
    EPOLLWRNORM,
    EPOLLWRBAND,
    EPOLLMSG,
    EPOLLRDHUP,
    EPOLLEXCLUSIVE,
    EPOLLWAKEUP,
    EPOLLONESHOT,
    EPOLLET,
);
pub const POLL_EVENTS: Table = table!(
    POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM,
    POLLWRBAND, POLLRDHUP
);
pub const ACCESS_MODE: Table = table!(R_OK, W_OK, X_OK);
/// strace's order: 2 is WSTOPPED (WUNTRACED is the same bit).
pub const WAIT_OPTIONS: Table = table!(
    WNOHANG,
    WEXITED,
    WSTOPPED,
    WCONTINUED,
    WNOWAIT,
    __WCLONE,
    __WALL,
    __WNOTHREAD,
);
pub const PRCTL: Table = table!(
    PR_SET_PDEATHSIG,
    PR_GET_PDEATHSIG,
    PR_GET_DUMPABLE,
    PR_SET_DUMPABLE,
    PR_SET_KEEPCAPS,
    PR_GET_KEEPCAPS,
    PR_SET_NAME,
    PR_GET_NAME,
    PR_GET_SECCOMP,
    PR_SET_SECCOMP,
    PR_CAPBSET_READ,
    PR_CAPBSET_DROP,
    PR_SET_NO_NEW_PRIVS,
    PR_GET_NO_NEW_PRIVS,
    PR_SET_CHILD_SUBREAPER,
    PR_GET_CHILD_SUBREAPER,
    PR_SET_MM,
    PR_SET_VMA,
    PR_CAP_AMBIENT,
    PR_SET_TIMERSLACK,
);
/// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h; not in libc), strace's names.
pub const ARCH_GET_FS: u64 = 0x1003;
pub const ARCH_GET_GS: u64 = 0x1004;
pub const ARCH_GET_CPUID: u64 = 0x1011;
pub const ARCH_PRCTL: Table = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (ARCH_GET_FS, "ARCH_GET_FS"),
    (ARCH_GET_GS, "ARCH_GET_GS"),
    (ARCH_GET_CPUID, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
    (0x1021, "ARCH_GET_XCOMP_SUPP"),
    (0x1022, "ARCH_GET_XCOMP_PERM"),
    (0x1023, "ARCH_REQ_XCOMP_PERM"),
    (0x1024, "ARCH_GET_XCOMP_GUEST_PERM"),
    (0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"),
    (0x2001, "ARCH_MAP_VDSO_X32"),
    (0x2002, "ARCH_MAP_VDSO_32"),
    (0x2003, "ARCH_MAP_VDSO_64"),
];
pub const GRND: Table = table!(GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE);
/// setns's namespace types, in strace's order (xlat/setns_types.in).
pub const SETNS: Table = table!(
    CLONE_NEWTIME,
    CLONE_NEWNS,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
);
pub const RLIMIT: Table = table!(
    RLIMIT_CPU,
    RLIMIT_FSIZE,
    RLIMIT_DATA,
    RLIMIT_STACK,
    RLIMIT_CORE,
    RLIMIT_RSS,
    RLIMIT_NPROC,
    RLIMIT_NOFILE,
    RLIMIT_MEMLOCK,
    RLIMIT_AS,
    RLIMIT_LOCKS,
    RLIMIT_SIGPENDING,
    RLIMIT_MSGQUEUE,
    RLIMIT_NICE,
    RLIMIT_RTPRIO,
    RLIMIT_RTTIME,
);
pub const CLOCK: Table = table!(
    CLOCK_REALTIME,
    CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_THREAD_CPUTIME_ID,
    CLOCK_MONOTONIC_RAW,
    CLOCK_REALTIME_COARSE,
    CLOCK_MONOTONIC_COARSE,
    CLOCK_BOOTTIME,
    CLOCK_REALTIME_ALARM,
    CLOCK_BOOTTIME_ALARM,
    CLOCK_TAI,
);
pub const TIMER_FLAGS: Table = table!(TIMER_ABSTIME);
pub const SEEK: Table = table!(SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE);
/// O_CLOEXEC/O_NONBLOCK style flags of pipe2, dup3, eventfd2, inotify_init1, …
pub const CLOEXEC_NONBLOCK: Table = table!(O_CLOEXEC, O_NONBLOCK, O_DIRECT);
pub const EPOLL_CREATE: Table = table!(EPOLL_CLOEXEC);
pub const MSG_FLAGS: Table = table!(
    MSG_OOB,
    MSG_PEEK,
    MSG_DONTROUTE,
    MSG_CTRUNC,
    MSG_TRUNC,
    MSG_DONTWAIT,
    MSG_EOR,
    MSG_WAITALL,
    MSG_NOSIGNAL,
    MSG_MORE,
    MSG_WAITFORONE,
    MSG_CMSG_CLOEXEC,
);
pub const SHUTDOWN_HOW: Table = table!(SHUT_RD, SHUT_WR, SHUT_RDWR);
pub const MADVISE: Table = table!(
    MADV_NORMAL,
    MADV_RANDOM,
    MADV_SEQUENTIAL,
    MADV_WILLNEED,
    MADV_DONTNEED,
    MADV_FREE,
    MADV_REMOVE,
    MADV_DONTFORK,
    MADV_DOFORK,
    MADV_MERGEABLE,
    MADV_UNMERGEABLE,
    MADV_HUGEPAGE,
    MADV_NOHUGEPAGE,
    MADV_DONTDUMP,
    MADV_DODUMP,
);
pub const FUTEX_OP: Table = table!(
    FUTEX_WAIT,
    FUTEX_WAKE,
    FUTEX_FD,
    FUTEX_REQUEUE,
    FUTEX_CMP_REQUEUE,
    FUTEX_WAKE_OP,
    FUTEX_LOCK_PI,
    FUTEX_UNLOCK_PI,
    FUTEX_TRYLOCK_PI,
    FUTEX_WAIT_BITSET,
    FUTEX_WAKE_BITSET,
);
pub const MEMFD: Table = table!(MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB);
/// include/uapi/linux/memfd.h: the huge page size is a 6-bit field at bit 26.
pub const MFD_HUGE_SHIFT: u32 = 26;
pub const MFD_HUGE_MASK: u64 = 0x3f;
/// strace's order (xlat/falloc_flags.in).
/// (libc lacks FALLOC_FL_NO_HIDE_STALE: include/uapi/linux/falloc.h, 0x04.)
pub const FALLOC: Table = &[
    (libc::FALLOC_FL_KEEP_SIZE as u64, "FALLOC_FL_KEEP_SIZE"),
    (libc::FALLOC_FL_PUNCH_HOLE as u64, "FALLOC_FL_PUNCH_HOLE"),
    (0x04, "FALLOC_FL_NO_HIDE_STALE"),
    (
        libc::FALLOC_FL_COLLAPSE_RANGE as u64,
        "FALLOC_FL_COLLAPSE_RANGE",
    ),
    (libc::FALLOC_FL_ZERO_RANGE as u64, "FALLOC_FL_ZERO_RANGE"),
    (
        libc::FALLOC_FL_INSERT_RANGE as u64,
        "FALLOC_FL_INSERT_RANGE",
    ),
    (
        libc::FALLOC_FL_UNSHARE_RANGE as u64,
        "FALLOC_FL_UNSHARE_RANGE",
    ),
];
pub const FLOCK: Table = table!(LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN);
pub const SPLICE: Table = table!(
    SPLICE_F_MOVE,
    SPLICE_F_NONBLOCK,
    SPLICE_F_MORE,
    SPLICE_F_GIFT
);
pub const MLOCK2: Table = table!(MLOCK_ONFAULT);
/// include/uapi/linux/close_range.h.
pub const CLOSE_RANGE: Table = &[
    (1 << 1, "CLOSE_RANGE_UNSHARE"),
    (1 << 2, "CLOSE_RANGE_CLOEXEC"),
];
/// include/uapi/linux/fs.h: preadv2/pwritev2 flags.
pub const RWF: Table = &[
    (0x01, "RWF_HIPRI"),
    (0x02, "RWF_DSYNC"),
    (0x04, "RWF_SYNC"),
    (0x08, "RWF_NOWAIT"),
    (0x10, "RWF_APPEND"),
];
pub const PRIO: Table = table!(PRIO_PROCESS, PRIO_PGRP, PRIO_USER);
pub const SCHED_POLICY: Table = table!(SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE,);

/// `S_IFCHR|024` or `S_IFBLK|S_ISUID|S_ISGID|S_ISVTX|0777` (strace's print_symbolic_mode_t):
/// a file type by name, the set-id and sticky bits by name, the permissions in octal. Without a
/// type, or with one that is no type, the whole mode in octal.
pub fn symbolic_mode(out: &mut String, raw: u64) {
    let raw = raw & 0xffff;
    let Some(name) = file_type(raw & libc::S_IFMT as u64) else {
        mode(out, raw);
        return;
    };
    out.push_str(name);
    for (bit, n) in [
        (libc::S_ISUID, "S_ISUID"),
        (libc::S_ISGID, "S_ISGID"),
        (libc::S_ISVTX, "S_ISVTX"),
    ] {
        if raw & u64::from(bit) != 0 {
            out.push('|');
            out.push_str(n);
        }
    }
    out.push('|');
    mode(out, raw & 0o777);
}
pub const RENAME: Table = table!(RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT);
pub const MOUNT_FLAGS: Table = table!(
    MS_RDONLY,
    MS_NOSUID,
    MS_NODEV,
    MS_NOEXEC,
    MS_SYNCHRONOUS,
    MS_REMOUNT,
    MS_MANDLOCK,
    MS_DIRSYNC,
    MS_NOATIME,
    MS_NODIRATIME,
    MS_BIND,
    MS_MOVE,
    MS_REC,
    MS_SILENT,
    MS_POSIXACL,
    MS_UNBINDABLE,
    MS_PRIVATE,
    MS_SLAVE,
    MS_SHARED,
    MS_RELATIME,
    MS_STRICTATIME,
    MS_LAZYTIME,
);
pub const UMOUNT: Table = table!(MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW);

/// strace's order (xlat/inotify_init_flags.in).
pub const IN_INIT: Table = table!(IN_NONBLOCK, IN_CLOEXEC);
pub const EFD: Table = table!(EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE);
pub const TFD: Table = table!(TFD_CLOEXEC, TFD_NONBLOCK);
pub const SFD: Table = table!(SFD_CLOEXEC, SFD_NONBLOCK);
pub const IN_MASK: Table = table!(
    IN_ACCESS,
    IN_MODIFY,
    IN_ATTRIB,
    IN_CLOSE_WRITE,
    IN_CLOSE_NOWRITE,
    IN_OPEN,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_MOVE_SELF,
    IN_UNMOUNT,
    IN_Q_OVERFLOW,
    IN_IGNORED,
    IN_ONLYDIR,
    IN_DONT_FOLLOW,
    IN_EXCL_UNLINK,
    IN_MASK_CREATE,
    IN_MASK_ADD,
    IN_ISDIR,
    IN_ONESHOT,
);
pub const XATTR: Table = table!(XATTR_CREATE, XATTR_REPLACE);
/// STATX_ALL and STATX_BASIC_STATS are unions of the bits after them: they come first.
pub const STATX_MASK: Table = table!(
    STATX_ALL,
    STATX_BASIC_STATS,
    STATX_TYPE,
    STATX_MODE,
    STATX_NLINK,
    STATX_UID,
    STATX_GID,
    STATX_ATIME,
    STATX_MTIME,
    STATX_CTIME,
    STATX_INO,
    STATX_SIZE,
    STATX_BLOCKS,
    STATX_BTIME,
    STATX_MNT_ID,
    STATX_DIOALIGN,
);
pub const STATX_ATTRS: Table = table!(
    STATX_ATTR_COMPRESSED,
    STATX_ATTR_IMMUTABLE,
    STATX_ATTR_APPEND,
    STATX_ATTR_NODUMP,
    STATX_ATTR_ENCRYPTED,
    STATX_ATTR_AUTOMOUNT,
    STATX_ATTR_MOUNT_ROOT,
    STATX_ATTR_VERITY,
    STATX_ATTR_DAX,
);
/// `statfs.f_flags` (include/linux/statfs.h; ST_VALID is kernel-only, not in libc).
pub const ST_FLAGS: Table = &[
    (1, "ST_RDONLY"),
    (2, "ST_NOSUID"),
    (4, "ST_NODEV"),
    (8, "ST_NOEXEC"),
    (16, "ST_SYNCHRONOUS"),
    (32, "ST_VALID"),
    (64, "ST_MANDLOCK"),
    (1024, "ST_NOATIME"),
    (2048, "ST_NODIRATIME"),
    (4096, "ST_RELATIME"),
    (8192, "ST_NOSYMFOLLOW"),
];
/// File system magic numbers (include/uapi/linux/magic.h), named as strace names them;
/// libc has only some of them.
pub const FS_MAGIC: Table = &[
    (0xef53, "EXT2_SUPER_MAGIC"),
    (0x0102_1994, "TMPFS_MAGIC"),
    (0x794c_7630, "OVERLAYFS_SUPER_MAGIC"),
    (0x9fa0, "PROC_SUPER_MAGIC"),
    (0x6265_6572, "SYSFS_MAGIC"),
    (0x6367_7270, "CGROUP2_SUPER_MAGIC"),
    (0x0027_e0eb, "CGROUP_SUPER_MAGIC"),
    (0x9123_683e, "BTRFS_SUPER_MAGIC"),
    (0x5846_5342, "XFS_SUPER_MAGIC"),
    (0x0904_1934, "ANON_INODE_FS_MAGIC"),
    (0x534f_434b, "SOCKFS_MAGIC"),
    (0x5049_5045, "PIPEFS_MAGIC"),
    (0x1cd1, "DEVPTS_SUPER_MAGIC"),
    (0x6969, "NFS_SUPER_MAGIC"),
    (0x7371_7368, "SQUASHFS_MAGIC"),
    (0x6462_6720, "DEBUGFS_MAGIC"),
    (0x7472_6163, "TRACEFS_MAGIC"),
    (0xcafe_4a11, "BPF_FS_MAGIC"),
    (0x8584_58f6, "RAMFS_MAGIC"),
    (0x6e73_6673, "NSFS_MAGIC"),
    (0x6573_5546, "FUSE_SUPER_MAGIC"),
    (0x9584_58f6, "HUGETLBFS_MAGIC"),
    (0x1980_0202, "MQUEUE_MAGIC"),
    (0x7363_6673, "SECURITYFS_MAGIC"),
    (0x4244, "HFS_SUPER_MAGIC"),
    (0x4d44, "MSDOS_SUPER_MAGIC"),
    (0x2fc1_2fc1, "ZFS_SUPER_MAGIC"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_like_printf() {
        // C's `%#03o`, as strace prints a mode.
        let printf = |raw: u64| {
            let s = if raw == 0 {
                "0".to_string()
            } else {
                format!("0{raw:o}")
            };
            format!("{s:0>3}")
        };
        for raw in (0..0o20000).chain([u64::MAX, 1 << 63, 0o7777_7777]) {
            let mut s = String::new();
            mode(&mut s, raw);
            assert_eq!(s, printf(raw), "{raw:o}");
        }
    }

    #[test]
    fn open_flags_like_strace() {
        let mut s = String::new();
        open_flags(&mut s, (libc::O_RDONLY | libc::O_CLOEXEC) as u64);
        assert_eq!(s, "O_RDONLY|O_CLOEXEC");
        s.clear();
        open_flags(
            &mut s,
            (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC) as u64,
        );
        assert_eq!(s, "O_WRONLY|O_CREAT|O_TRUNC");
        s.clear();
        open_flags(&mut s, (libc::O_RDWR | libc::O_SYNC) as u64 | 0x4000_0000);
        assert_eq!(s, "O_RDWR|O_SYNC|0x40000000");
        s.clear();
        open_flags(&mut s, 0o100000 | libc::O_DIRECTORY as u64);
        assert_eq!(s, "O_RDONLY|O_LARGEFILE|O_DIRECTORY");
    }

    #[test]
    fn bits_values_and_modes() {
        assert_eq!(bits_string(3, PROT, "PROT_NONE"), "PROT_READ|PROT_WRITE");
        assert_eq!(bits_string(0, PROT, "PROT_NONE"), "PROT_NONE");
        assert_eq!(
            bits_string(
                (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64,
                MAP_FLAGS,
                "0"
            ),
            "MAP_PRIVATE|MAP_ANONYMOUS"
        );
        assert_eq!(value_string(15, SIGNALS), "SIGTERM");
        assert_eq!(value_string(99, SIGNALS), "99");
        let mut s = String::new();
        mode(&mut s, 0o644);
        assert_eq!(s, "0644");
        s.clear();
        st_mode(&mut s, (libc::S_IFREG | 0o644) as u64);
        assert_eq!(s, "S_IFREG|0644");
    }
}
