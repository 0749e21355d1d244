//! Arguments of one syscall, decoded: the raw register, strace's text for it, and a typed JSON
//! value. Names and C types come from the kernel's format files; captured contents (strings,
//! buffers, socket addresses, structs) from the kernel programs; meanings (which argument is a
//! set of flags, a signal, a directory fd) from the tables below.
use std::fmt::Write as _;

use serde_json::json;

pub use crate::model::event::{ArgJson, ArgValue};
use tracer_common::capture::{
    CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_FDSET, CAP_IOV_DATA, CAP_IOV_IN, CAP_IOV_OUT,
    CAP_MSG_NAME, CAP_MSG_NAMELEN_IN, CAP_MSGHDR_IN, CAP_MSGHDR_OUT, CAP_SOCKADDR_IN,
    CAP_SOCKADDR_OUT, CAP_SOCKLEN_OUT, CAP_STR, CAP_STR_SIZED, CAP_STRUCT_IN, CAP_STRUCT_INOUT,
    CAP_STRUCT_OUT,
};

use super::{
    Capture, SyscallEvent, ctype, escape, fcntl,
    flags::{self, Table},
    resource, select, signal, sockaddr, sockopt, structs,
    syscalls::{self, Arg},
    time, wait,
};

pub use crate::model::event::DecodedArg;

/// The arguments strace prints, in its order.
pub fn shown_in_order(args: &[DecodedArg]) -> Vec<&DecodedArg> {
    let mut v: Vec<&DecodedArg> = args.iter().filter(|a| a.shown).collect();
    v.sort_by_key(|a| a.text_pos);
    v
}

/// What an argument means, beyond its C type.
#[derive(Clone, Copy)]
enum Sem {
    DirFd,
    Fd,
    OpenFlags,
    Mode,
    Bits(Table, &'static str),
    /// strace's `printflags`: `A|B|0x40`, `0x40 /* X_??? */` when no bit has a name.
    Flags(Table, &'static str, &'static str),
    /// One value of a table, `0x… /* X_??? */` when unknown (strace's `printxval`).
    Xval(Table, &'static str),
    Signal,
    Ioctl,
    ArchPrctlArg,
    /// C's `%#x`.
    CHex,
    SockType,
    Protocol,
    SockOptName,
    Hex,
    Offset,
    StatxFlags,
    FcntlArg,
    Futex,
    /// A mode with a file type (mknod).
    FileMode,
    /// mknod's device: `makedev(0x1, 0x7)`, shown for character and block devices only.
    Dev,
    MemfdFlags,
    /// An `unsigned int` strace prints unsigned although its name says fd (close_range).
    Unsigned,
    /// A 64-bit file offset split in two registers on 32-bit ABIs (`pos_l`): signed decimal.
    Loff,
    /// mmap's flags: the mapping type by name (`MAP_FILE` for none), the other bits, the huge
    /// page size (`21<<MAP_HUGE_SHIFT`).
    MmapFlags,
    /// An unsigned decimal whatever its name says (signalfd4's `sizemask`).
    Dec,
}

const ANY: &str = "*";

/// (syscall or `*`, argument name, meaning); the first match wins.
const SEMANTICS: &[(&str, &str, Sem)] = &[
    (ANY, "dfd", Sem::DirFd),
    (ANY, "olddfd", Sem::DirFd),
    (ANY, "newdfd", Sem::DirFd),
    ("execveat", "fd", Sem::DirFd),
    ("open", "flags", Sem::OpenFlags),
    ("openat", "flags", Sem::OpenFlags),
    ("open", "mode", Sem::Mode),
    ("openat", "mode", Sem::Mode),
    ("creat", "mode", Sem::Mode),
    ("mkdir", "mode", Sem::Mode),
    ("mkdirat", "mode", Sem::Mode),
    ("chmod", "mode", Sem::Mode),
    ("fchmod", "mode", Sem::Mode),
    ("fchmodat", "mode", Sem::Mode),
    ("umask", "mask", Sem::Mode),
    ("mmap", "prot", Sem::Bits(flags::PROT, "PROT_NONE")),
    ("mprotect", "prot", Sem::Bits(flags::PROT, "PROT_NONE")),
    ("mmap", "flags", Sem::MmapFlags),
    ("msync", "start", Sem::Hex),
    (
        "msync",
        "flags",
        Sem::Flags(flags::MS_SYNC_FLAGS, "0", "MS_???"),
    ),
    ("mremap", "addr", Sem::Hex),
    ("mremap", "new_addr", Sem::Hex),
    (
        "mremap",
        "flags",
        Sem::Flags(flags::MREMAP, "0", "MREMAP_???"),
    ),
    ("mlockall", "flags", Sem::Flags(flags::MCL, "0", "MCL_???")),
    ("signalfd4", "sizemask", Sem::Dec),
    ("signalfd", "sizemask", Sem::Dec),
    ("mmap", "off", Sem::Offset),
    ("mmap", "addr", Sem::Hex),
    ("socket", "family", Sem::Xval(flags::AF, "AF_???")),
    ("socketpair", "family", Sem::Xval(flags::AF, "AF_???")),
    ("socket", "type", Sem::SockType),
    ("socketpair", "type", Sem::SockType),
    ("socket", "protocol", Sem::Protocol),
    ("accept4", "flags", Sem::Bits(flags::SOCK_FLAGS, "0")),
    ("setsockopt", "level", Sem::Xval(flags::SOL, "SOL_??")),
    ("getsockopt", "level", Sem::Xval(flags::SOL, "SOL_??")),
    ("setsockopt", "optname", Sem::SockOptName),
    ("getsockopt", "optname", Sem::SockOptName),
    ("kill", "sig", Sem::Signal),
    ("tkill", "sig", Sem::Signal),
    ("tgkill", "sig", Sem::Signal),
    ("rt_sigaction", "sig", Sem::Signal),
    (
        "rt_sigprocmask",
        "how",
        Sem::Xval(flags::SIGPROCMASK_HOW, "SIG_???"),
    ),
    ("fcntl", "cmd", Sem::Xval(flags::FCNTL_CMD, "F_???")),
    ("fcntl", "arg", Sem::FcntlArg),
    ("ioctl", "cmd", Sem::Ioctl),
    ("ioctl", "arg", Sem::CHex),
    (
        "epoll_ctl",
        "op",
        Sem::Xval(flags::EPOLL_OP, "EPOLL_CTL_???"),
    ),
    (
        "epoll_create1",
        "flags",
        Sem::Bits(flags::EPOLL_CREATE, "0"),
    ),
    (
        "access",
        "mode",
        Sem::Flags(flags::ACCESS_MODE, "F_OK", "?_OK"),
    ),
    (
        "faccessat",
        "mode",
        Sem::Flags(flags::ACCESS_MODE, "F_OK", "?_OK"),
    ),
    (
        "faccessat2",
        "mode",
        Sem::Flags(flags::ACCESS_MODE, "F_OK", "?_OK"),
    ),
    ("wait4", "options", Sem::Bits(flags::WAIT_OPTIONS, "0")),
    ("waitid", "options", Sem::Bits(flags::WAIT_OPTIONS, "0")),
    ("prctl", "option", Sem::Xval(flags::PRCTL, "PR_???")),
    (
        "arch_prctl",
        "option",
        Sem::Xval(flags::ARCH_PRCTL, "ARCH_???"),
    ),
    ("arch_prctl", "arg2", Sem::ArchPrctlArg),
    (
        "getrandom",
        "flags",
        Sem::Flags(flags::GRND, "0", "GRND_???"),
    ),
    (
        "setns",
        "flags",
        Sem::Flags(flags::SETNS, "0", "CLONE_NEW???"),
    ),
    (
        "getrlimit",
        "resource",
        Sem::Xval(flags::RLIMIT, "RLIMIT_???"),
    ),
    (
        "setrlimit",
        "resource",
        Sem::Xval(flags::RLIMIT, "RLIMIT_???"),
    ),
    (
        "prlimit64",
        "resource",
        Sem::Xval(flags::RLIMIT, "RLIMIT_???"),
    ),
    (ANY, "which_clock", Sem::Xval(flags::CLOCK, "CLOCK_???")),
    (
        "clock_nanosleep",
        "flags",
        Sem::Bits(flags::TIMER_FLAGS, "0"),
    ),
    (
        "newfstatat",
        "flag",
        Sem::Flags(flags::AT_FLAGS, "0", "AT_???"),
    ),
    (
        "unlinkat",
        "flag",
        Sem::Flags(flags::AT_FLAGS, "0", "AT_???"),
    ),
    (
        "fchownat",
        "flag",
        Sem::Flags(flags::AT_FLAGS, "0", "AT_???"),
    ),
    (
        "linkat",
        "flags",
        Sem::Flags(flags::AT_FLAGS, "0", "AT_???"),
    ),
    (
        "utimensat",
        "flags",
        Sem::Flags(flags::AT_FLAGS, "0", "AT_???"),
    ),
    (
        "faccessat2",
        "flags",
        Sem::Flags(flags::FACCESSAT_FLAGS, "0", "AT_???"),
    ),
    (
        "execveat",
        "flags",
        Sem::Flags(flags::AT_FLAGS, "0", "AT_???"),
    ),
    ("pipe2", "flags", Sem::Bits(flags::CLOEXEC_NONBLOCK, "0")),
    // strace prints them with the open flags table.
    ("dup3", "flags", Sem::Flags(flags::OPEN_FLAGS, "0", "O_???")),
    ("eventfd2", "flags", Sem::Bits(flags::EFD, "0")),
    (
        "inotify_init1",
        "flags",
        Sem::Flags(flags::IN_INIT, "0", "IN_???"),
    ),
    ("signalfd4", "flags", Sem::Bits(flags::SFD, "0")),
    ("timerfd_create", "flags", Sem::Bits(flags::TFD, "0")),
    ("inotify_add_watch", "mask", Sem::Bits(flags::IN_MASK, "0")),
    ("setxattr", "flags", Sem::Bits(flags::XATTR, "0")),
    ("lsetxattr", "flags", Sem::Bits(flags::XATTR, "0")),
    ("fsetxattr", "flags", Sem::Bits(flags::XATTR, "0")),
    ("statx", "flags", Sem::StatxFlags),
    (
        "statx",
        "mask",
        Sem::Flags(flags::STATX_MASK, "0", "STATX_???"),
    ),
    ("sendto", "flags", Sem::Bits(flags::MSG_FLAGS, "0")),
    ("recvfrom", "flags", Sem::Bits(flags::MSG_FLAGS, "0")),
    ("sendmsg", "flags", Sem::Bits(flags::MSG_FLAGS, "0")),
    ("recvmsg", "flags", Sem::Bits(flags::MSG_FLAGS, "0")),
    (
        "shutdown",
        "how",
        Sem::Xval(flags::SHUTDOWN_HOW, "SHUT_???"),
    ),
    ("mknod", "mode", Sem::FileMode),
    ("mknodat", "mode", Sem::FileMode),
    ("mknod", "dev", Sem::Dev),
    ("mknodat", "dev", Sem::Dev),
    (
        "fallocate",
        "mode",
        Sem::Flags(flags::FALLOC, "0", "FALLOC_FL_???"),
    ),
    ("flock", "cmd", Sem::Flags(flags::FLOCK, "0", "LOCK_???")),
    (
        "splice",
        "flags",
        Sem::Flags(flags::SPLICE, "0", "SPLICE_F_???"),
    ),
    (
        "tee",
        "flags",
        Sem::Flags(flags::SPLICE, "0", "SPLICE_F_???"),
    ),
    (
        "vmsplice",
        "flags",
        Sem::Flags(flags::SPLICE, "0", "SPLICE_F_???"),
    ),
    ("mlock", "start", Sem::Hex),
    ("munlock", "start", Sem::Hex),
    ("mlock2", "start", Sem::Hex),
    ("mincore", "start", Sem::Hex),
    (
        "mlock2",
        "flags",
        Sem::Flags(flags::MLOCK2, "0", "MLOCK_???"),
    ),
    ("getpriority", "which", Sem::Xval(flags::PRIO, "PRIO_???")),
    ("setpriority", "which", Sem::Xval(flags::PRIO, "PRIO_???")),
    (
        "sched_get_priority_max",
        "policy",
        Sem::Xval(flags::SCHED_POLICY, "SCHED_???"),
    ),
    (
        "sched_get_priority_min",
        "policy",
        Sem::Xval(flags::SCHED_POLICY, "SCHED_???"),
    ),
    ("memfd_create", "flags", Sem::MemfdFlags),
    ("close_range", "fd", Sem::Unsigned),
    (
        "close_range",
        "flags",
        Sem::Flags(flags::CLOSE_RANGE, "0", "CLOSE_RANGE_???"),
    ),
    ("preadv", "pos_l", Sem::Loff),
    ("pwritev", "pos_l", Sem::Loff),
    ("preadv2", "pos_l", Sem::Loff),
    ("pwritev2", "pos_l", Sem::Loff),
    ("preadv2", "flags", Sem::Flags(flags::RWF, "0", "RWF_???")),
    ("pwritev2", "flags", Sem::Flags(flags::RWF, "0", "RWF_???")),
    ("lseek", "whence", Sem::Xval(flags::SEEK, "SEEK_???")),
    ("madvise", "behavior", Sem::Xval(flags::MADVISE, "MADV_???")),
    ("futex", "op", Sem::Futex),
    ("memfd_create", "flags", Sem::Bits(flags::MEMFD, "0")),
    ("renameat2", "flags", Sem::Bits(flags::RENAME, "0")),
    ("mount", "flags", Sem::Bits(flags::MOUNT_FLAGS, "0")),
    ("umount2", "flags", Sem::Bits(flags::UMOUNT, "0")),
    ("munmap", "addr", Sem::Hex),
    ("mprotect", "start", Sem::Hex),
    ("madvise", "start", Sem::Hex),
    ("brk", "brk", Sem::Hex),
    ("close_range", "fd", Sem::Unsigned),
    (
        "getitimer",
        "which",
        Sem::Xval(resource::ITIMER_WHICH, "ITIMER_???"),
    ),
    (
        "setitimer",
        "which",
        Sem::Xval(resource::ITIMER_WHICH, "ITIMER_???"),
    ),
    (
        "waitid",
        "which",
        Sem::Xval(resource::WAITID_TYPES, "P_???"),
    ),
    (
        "getrusage",
        "who",
        Sem::Xval(resource::USAGE_WHO, "RUSAGE_???"),
    ),
    (
        "timerfd_create",
        "clockid",
        Sem::Xval(flags::CLOCK, "CLOCK_???"),
    ),
    (
        "timerfd_settime",
        "flags",
        Sem::Flags(resource::TFD_SETTIME_FLAGS, "0", "TFD_???"),
    ),
    (
        "timer_settime",
        "flags",
        Sem::Flags(flags::TIMER_FLAGS, "0", "TIMER_???"),
    ),
    ("timerfd_settime", "ufd", Sem::Fd),
    ("timerfd_gettime", "ufd", Sem::Fd),
    (ANY, "fd", Sem::Fd),
    (ANY, "oldfd", Sem::Fd),
    (ANY, "newfd", Sem::Fd),
    (ANY, "epfd", Sem::Fd),
    ("dup", "fildes", Sem::Fd),
    (ANY, "fd_in", Sem::Fd),
    (ANY, "fd_out", Sem::Fd),
    (ANY, "in_fd", Sem::Fd),
    (ANY, "out_fd", Sem::Fd),
];

/// Whether argument `index` of syscall `nr` is a directory fd (`AT_FDCWD` allowed).
pub fn is_dirfd_arg(nr: u32, index: usize) -> bool {
    matches!(
        meta_of(nr).get(index),
        Some(Some(Meta {
            sem: Some(Sem::DirFd),
            ..
        }))
    )
}

/// Whether argument `index` of syscall `nr` is a file descriptor (`-y` annotates it); the
/// enrich stage's fd table says what it refers to.
pub fn is_fd_arg(nr: u32, index: usize) -> bool {
    matches!(
        meta_of(nr).get(index),
        Some(Some(Meta {
            sem: Some(Sem::Fd | Sem::DirFd),
            ..
        }))
    )
}

fn semantic(syscall: &str, arg: &str) -> Option<Sem> {
    SEMANTICS
        .iter()
        .find(|(s, a, _)| (*s == syscall || *s == ANY) && *a == arg)
        .map(|(_, _, sem)| *sem)
}

/// How an argument without a meaning is shown, from its C type and name ([`by_type`]).
#[derive(Clone, Copy)]
enum Class {
    /// `NULL` or hex.
    Ptr,
    /// `uid_t`, `gid_t`: `-1` for (uid_t) -1, as strace's printuid.
    Id,
    /// Flags or a mask without a table: C's `%#x` of the value.
    Hex(ctype::Width),
    Number(ctype::Width),
}

impl Class {
    fn of(ty: &str, name: &str) -> Class {
        let width = ctype::width(ty);
        if ty.contains('*') {
            Class::Ptr
        } else if ty == "uid_t" || ty == "gid_t" {
            Class::Id
        } else if ["flag", "mask"].iter().any(|k| name.contains(k)) {
            Class::Hex(width)
        } else {
            Class::Number(width)
        }
    }
}

/// What decides how an argument is decoded, besides the call's values: found once per
/// syscall number and argument ([`meta_of`]).
#[derive(Clone, Copy)]
struct Meta {
    sem: Option<Sem>,
    width: ctype::Width,
    class: Class,
    show: Show,
}

impl Meta {
    fn of(syscall: &str, arg: &Arg) -> Meta {
        Meta {
            sem: semantic(syscall, arg.name),
            width: ctype::width(arg.ty),
            class: Class::of(arg.ty, arg.name),
            show: Show::of(syscall, arg.name),
        }
    }
}

/// [`Meta`] of every argument of every syscall number, computed once.
fn meta_of(nr: u32) -> &'static [Option<Meta>; 6] {
    const NONE: [Option<Meta>; 6] = [None; 6];
    static BY_NR: std::sync::OnceLock<Vec<[Option<Meta>; 6]>> = std::sync::OnceLock::new();
    let table = BY_NR.get_or_init(|| {
        (0..tracer_common::config::MAX_SYSCALL_NR)
            .map(|nr| {
                let mut out = [None; 6];
                if let (Some(name), Some(args)) = (syscalls::name(nr), syscalls::args(nr)) {
                    for (o, a) in out.iter_mut().zip(args) {
                        *o = Some(Meta::of(name, a));
                    }
                }
                out
            })
            .collect()
    });
    // Past the table: no syscall of the host has such a number.
    table.get(nr as usize).unwrap_or(&NONE)
}

/// The syscall's arguments as the event carries them.
struct Ctx<'a> {
    syscall: &'a str,
    ev: &'a SyscallEvent,
    /// Render strace text too (off for JSON output: quoting buffers is not free).
    text: bool,
    /// strace's `-v`: every field of the structures strace abbreviates.
    no_abbrev: bool,
    /// strace's `-x` / `-xx`.
    hex: escape::Hex,
    /// strace's `-s`.
    string_size: u32,
}

impl Ctx<'_> {
    fn captures(&self, arg: usize) -> impl Iterator<Item = &Capture> {
        self.ev
            .captures
            .iter()
            .filter(move |c| c.arg as usize == arg)
    }

    /// Argument `name` as the kernel sees it (converted to its C type).
    fn raw(&self, name: &str, args: &[Arg]) -> Option<u64> {
        let i = args.iter().position(|a| a.name == name)?;
        Some(ctype::narrow(args[i].ty, *self.ev.args.get(i)?))
    }

    /// strace's text made by `f`, or nothing for JSON output.
    fn text(&self, f: impl FnOnce() -> String) -> String {
        if self.text { f() } else { String::new() }
    }

    fn num(&self, v: i64) -> (String, ArgValue) {
        (self.text(|| v.to_string()), ArgValue::Int(v))
    }

    fn unum(&self, v: u64) -> (String, ArgValue) {
        (self.text(|| v.to_string()), ArgValue::UInt(v))
    }

    /// A pointer: `NULL` or hex.
    fn ptr(&self, v: u64) -> (String, ArgValue) {
        if v == 0 {
            self.name("NULL", 0u64)
        } else {
            (self.text(|| format!("{v:#x}")), ArgValue::UInt(v))
        }
    }

    /// C's `%#x`: `0` for zero.
    fn chex(&self, v: u64) -> (String, ArgValue) {
        if v == 0 {
            self.name("0", 0u64)
        } else {
            (self.text(|| format!("{v:#x}")), ArgValue::UInt(v))
        }
    }

    /// A fixed text for `value`.
    fn name(&self, text: &'static str, value: impl Into<ArgValue>) -> (String, ArgValue) {
        (self.text(|| text.to_owned()), value.into())
    }

    /// A symbolic value: the text is the value.
    fn sym(&self, s: String) -> (String, ArgValue) {
        (self.text(|| s.clone()), ArgValue::Str(s))
    }

    /// A name from a table when it is one (no allocation for JSON), else the string `f` makes.
    fn sym_or(&self, name: Option<&'static str>, f: impl FnOnce() -> String) -> (String, ArgValue) {
        match name {
            Some(n) => self.name(n, n),
            None => self.sym(f()),
        }
    }
}

/// By C type alone (its [`Class`]); `raw` is the register.
fn by_type(ctx: &Ctx<'_>, class: Class, raw: u64) -> (String, ArgValue) {
    match class {
        Class::Ptr => ctx.ptr(raw),
        Class::Id => match raw as u32 {
            u32::MAX => ctx.name("-1", -1i64),
            id => ctx.unum(u64::from(id)),
        },
        Class::Hex(width) => ctx.chex(width.narrow(raw)),
        Class::Number(width) => match width.number(raw) {
            ctype::Number::Signed(n) => ctx.num(n),
            ctype::Number::Unsigned(n) => ctx.unum(n),
        },
    }
}

/// By meaning; `raw` is the argument converted to its C type (`ctype::narrow`).
fn by_sem(sem: Sem, ctx: &Ctx<'_>, args: &[Arg], raw: u64) -> (String, ArgValue) {
    match sem {
        Sem::DirFd if raw as u32 as i32 == libc::AT_FDCWD => ctx.name("AT_FDCWD", "AT_FDCWD"),
        Sem::DirFd | Sem::Fd => ctx.num(i64::from(raw as u32 as i32)),
        Sem::OpenFlags => {
            let mut s = String::with_capacity(32);
            flags::open_flags(&mut s, raw);
            ctx.sym(s)
        }
        Sem::Mode => {
            // strace prints every mode argument as an `unsigned short` (umask's is an int).
            let m = raw & 0xffff;
            let text = ctx.text(|| {
                let mut s = String::new();
                flags::mode(&mut s, m);
                s
            });
            (text, ArgValue::UInt(m))
        }
        Sem::Bits(table, zero) => ctx.sym_or(flags::bits_name(raw, table, zero), || {
            flags::bits_string(raw, table, zero)
        }),
        Sem::Xval(table, unknown) => ctx.sym_or(flags::xval_name(raw, table), || {
            flags::xval_string(raw, table, unknown)
        }),
        Sem::Flags(table, zero, unknown) => ctx.sym_or(flags::bits_name(raw, table, zero), || {
            flags::flags_string(raw, table, zero, unknown)
        }),
        // GET_FS/GET_GS write to a pointer; strace prints `[value]` after a success, which is
        // not captured: the pointer.
        Sem::ArchPrctlArg => match ctx.raw("option", args) {
            // and the GET_XCOMP ones (strace prints the features after a success).
            Some(flags::ARCH_GET_FS | flags::ARCH_GET_GS | 0x1021 | 0x1022 | 0x1024) => {
                ctx.ptr(raw)
            }
            _ => ctx.chex(raw),
        },
        Sem::Signal => {
            let sig = i64::from(raw as u32 as i32);
            ctx.sym_or(flags::signal_name(sig), || flags::signal_string(sig))
        }
        Sem::Ioctl => ctx.sym(flags::ioctl_string(raw)),
        Sem::CHex => ctx.chex(raw),
        Sem::SockType => {
            let name = flags::xval_name(raw, flags::SOCK_TYPE).filter(|_| raw & !0xf == 0);
            ctx.sym_or(name, || {
                let mut s = flags::xval_string(raw & 0xf, flags::SOCK_TYPE, "SOCK_???");
                if raw & !0xf != 0 {
                    s.push('|');
                    flags::bits(&mut s, raw & !0xf, flags::SOCK_FLAGS, "");
                }
                s
            })
        }
        Sem::Protocol => {
            let family = ctx.raw("family", args).unwrap_or(0) as i32;
            if family == libc::AF_INET || family == libc::AF_INET6 {
                ctx.sym_or(flags::xval_name(raw, flags::IPPROTO), || {
                    flags::xval_string(raw, flags::IPPROTO, "IPPROTO_???")
                })
            } else {
                ctx.num(raw as i64)
            }
        }
        Sem::SockOptName => {
            let level = ctx.raw("level", args).unwrap_or(0) as i32;
            ctx.sym(sockopt::optname(level, raw, ctx.syscall == "getsockopt"))
        }
        Sem::Hex => ctx.ptr(raw),
        Sem::StatxFlags => {
            // The sync type is a 2-bit field whose zero value has a name; the rest AT_ flags.
            let raw = raw & 0xffff_ffff;
            let mut s =
                flags::bits_string(raw & 0x6000, flags::AT_STATX_SYNC, "AT_STATX_SYNC_AS_STAT");
            if raw & !0x6000 != 0 {
                s.push('|');
                flags::bits(&mut s, raw & !0x6000, flags::AT_FLAGS, "");
            }
            ctx.sym(s)
        }
        Sem::Offset => ctx.chex(raw),
        Sem::FcntlArg => match ctx.raw("cmd", args).map(|c| c as u32) {
            // Pointers to a struct flock / f_owner_ex (decoded from their capture).
            Some(cmd) if fcntl::takes_pointer(cmd) => ctx.ptr(raw),
            Some(cmd) => {
                let (t, v) = fcntl::arg_text(cmd, raw);
                (t, v.into())
            }
            None => ctx.num(raw as i64),
        },
        Sem::Unsigned => ctx.unum(raw & 0xffff_ffff),
        Sem::Dec => ctx.unum(raw),
        Sem::MmapFlags => {
            let mut s = flags::xval_string(raw & flags::MAP_TYPE, flags::MAP_TYPES, "MAP_???");
            let huge = (raw >> flags::MAP_HUGE_SHIFT) & flags::MAP_HUGE_MASK;
            let rest = raw & !flags::MAP_TYPE & !(flags::MAP_HUGE_MASK << flags::MAP_HUGE_SHIFT);
            if rest != 0 {
                s.push('|');
                flags::bits(&mut s, rest, flags::MAP_FLAGS, "");
            }
            if huge != 0 {
                let _ = write!(s, "|{huge}<<MAP_HUGE_SHIFT");
            }
            ctx.sym(s)
        }
        // On 64-bit ABIs `pos_l` holds the whole offset and `pos_h` is unused (fs/read_write.c
        // pos_from_hilo); strace prints one signed offset.
        Sem::Loff => ctx.num(raw as i64),
        Sem::FileMode => {
            let text = ctx.text(|| {
                let mut s = String::new();
                flags::symbolic_mode(&mut s, raw);
                s
            });
            (text, ArgValue::UInt(raw & 0xffff))
        }
        Sem::Dev => {
            // include/linux/kdev_t.h new_decode_dev: 12 bits of major, 20 of minor.
            let major = ((raw >> 8) & 0xfff) | ((raw >> 32) & !0xfff);
            let minor = (raw & 0xff) | ((raw >> 12) & !0xff);
            (
                ctx.text(|| format!("makedev({major:#x}, {minor:#x})")),
                ArgValue::UInt(raw),
            )
        }
        Sem::MemfdFlags => {
            let huge = (raw >> flags::MFD_HUGE_SHIFT) & flags::MFD_HUGE_MASK;
            let rest = raw & !(flags::MFD_HUGE_MASK << flags::MFD_HUGE_SHIFT);
            let mut s = if rest != 0 || huge == 0 {
                flags::bits_string(rest, flags::MEMFD, "0")
            } else {
                String::new()
            };
            if huge != 0 {
                if !s.is_empty() {
                    s.push('|');
                }
                let _ = write!(s, "{huge}<<MFD_HUGE_SHIFT");
            }
            ctx.sym(s)
        }
        Sem::Futex => {
            let private = raw & libc::FUTEX_PRIVATE_FLAG as u64 != 0;
            let realtime = raw & libc::FUTEX_CLOCK_REALTIME as u64 != 0;
            let mut s = flags::value_string(raw & 0x7f, flags::FUTEX_OP);
            if private {
                s.push_str("_PRIVATE");
            }
            if realtime {
                s.push_str("|FUTEX_CLOCK_REALTIME");
            }
            ctx.sym(s)
        }
    }
}

/// Text and JSON of a captured buffer: quoted, `...` when cut short of `full` bytes.
fn buffer(ctx: &Ctx<'_>, c: &Capture, full: Option<u64>) -> (String, ArgJson) {
    let cut = c.truncated() || full.is_some_and(|f| f > c.data.len() as u64);
    let text = if ctx.text {
        escape::quoted_with(&c.data, cut, ctx.hex)
    } else {
        String::new()
    };
    (text, escape::json_bytes(&c.data, cut))
}

/// `XATTR_SIZE_MAX` (include/uapi/linux/limits.h).
const XATTR_SIZE_MAX: u64 = 65536;

fn is_xattr_value(syscall: &str) -> bool {
    matches!(
        syscall,
        "setxattr" | "lsetxattr" | "fsetxattr" | "getxattr" | "lgetxattr" | "fgetxattr"
    )
}

fn obj(v: impl Into<ArgValue>) -> ArgJson {
    ArgJson::of(v)
}

/// The captured form of argument `i`, if there is one.
fn captured(ctx: &Ctx<'_>, args: &[Arg], i: usize) -> Option<(String, ArgJson)> {
    let arg = &args[i];
    let mut c = ctx.captures(i).next()?;
    if c.kind == CAP_BUF_IN && ctx.syscall == "setsockopt" {
        // Before the fault test: a value needs only its own size of the bytes read.
        return setsockopt_value(ctx, args, c);
    }
    if c.fault() && matches!(c.kind, CAP_STR | CAP_STR_SIZED) {
        // Unreadable at enter (its page not faulted in yet): read again at exit
        // (`CAPF_AT_EXIT`), when there is such a read.
        c = ctx
            .captures(i)
            .find(|r| r.kind == c.kind && !r.fault())
            .unwrap_or(c);
    }
    // An iovec array cut at an unreadable page still shows the entries before it.
    // An iovec or pollfd array cut at an unreadable page still shows the entries before it.
    let short_array = c.short()
        && (matches!(c.kind, CAP_IOV_IN | CAP_IOV_OUT) || matches!(ctx.syscall, "poll" | "ppoll"));
    if c.fault() && !short_array {
        return None;
    }
    let ret = ctx.ev.ret.unwrap_or(-1);
    match c.kind {
        CAP_STR => Some((
            ctx.text(|| escape::quoted_with(&c.data, c.truncated(), ctx.hex)),
            escape::json_bytes(&c.data, c.truncated()),
        )),
        CAP_STR_SIZED => {
            // A cut string holds size + 1 bytes (the kernel reads one more, to tell a string
            // of exactly the size from a longer one): strace prints size, then `...`.
            let cut = c.truncated();
            let data = if cut {
                &c.data[..c.data.len().saturating_sub(1)]
            } else {
                &c.data[..]
            };
            Some((
                ctx.text(|| escape::quoted_with(data, cut, ctx.hex)),
                escape::json_bytes(data, cut),
            ))
        }
        CAP_BUF_IN | CAP_BUF_OUT if is_xattr_value(ctx.syscall) => {
            // strace's print_xattr_val: the address past XATTR_SIZE_MAX; a NUL as the last
            // byte shown is left out (QUOTE_OMIT_TRAILING_0).
            let size = ctx.raw("size", args)?;
            if size > XATTR_SIZE_MAX {
                return None;
            }
            let full = if c.kind == CAP_BUF_IN {
                size
            } else {
                u64::try_from(ret).ok()?
            };
            let mut shown = c.clone();
            if shown.data.last() == Some(&0) {
                shown.data.pop();
                return Some(buffer(ctx, &shown, Some(full.saturating_sub(1))));
            }
            Some(buffer(ctx, &shown, Some(full)))
        }
        // strace's print_xattr_list: the address for a zero-sized list.
        CAP_BUF_OUT if ctx.syscall.ends_with("listxattr") && ctx.raw("size", args) == Some(0) => {
            None
        }
        CAP_BUF_IN => {
            let full = spec_len(ctx, args, i);
            Some(buffer(ctx, c, full))
        }
        CAP_BUF_OUT => {
            let full = u64::try_from(ret).ok();
            if ctx.syscall == "getrandom" {
                // strace: QUOTE_FORCE_HEX, random bytes are not text.
                let cut = c.truncated() || full.is_some_and(|f| f > c.data.len() as u64);
                let text = ctx.text(|| escape::quoted_with(&c.data, cut, escape::Hex::All));
                return Some((text, escape::json_bytes(&c.data, cut)));
            }
            Some(buffer(ctx, c, full))
        }
        CAP_SOCKADDR_IN => {
            // connect, bind, sendto: the length argument (an int) says how much is an address.
            let len = ctx
                .raw(sockaddr_len_arg(ctx.syscall), args)
                .map_or(0, |l| l as u32 as i32);
            let (t, j) = sockaddr::decode(&c.data, usize::try_from(len).ok()?, ctx.text)?;
            Some((t, obj(j)))
        }
        CAP_SOCKADDR_OUT if ctx.syscall == "getsockopt" => getsockopt_value(ctx, args, c),
        CAP_SOCKADDR_OUT => {
            // accept, getsockname, recvfrom: the kernel wrote min(buffer, returned length)
            // bytes; the capture holds the returned length's worth.
            let len = match socklen_in(ctx) {
                Some(before) => c.data.len().min(before as usize),
                None => c.data.len(),
            };
            let (t, j) = sockaddr::decode(&c.data, len, ctx.text)?;
            Some((t, obj(j)))
        }
        CAP_IOV_IN | CAP_IOV_OUT => Some(iovec(ctx, i, c)),
        CAP_MSGHDR_IN | CAP_MSGHDR_OUT => Some(msghdr(ctx, i, c)),
        // recvmsg: the msghdr read at exit follows, unless the call failed (strace then
        // prints only the length passed in: `{msg_namelen=128}`).
        CAP_MSG_NAMELEN_IN => match ctx.captures(i).find(|c| c.kind == CAP_MSGHDR_OUT) {
            Some(m) if !m.fault() => Some(msghdr(ctx, i, m)),
            Some(_) => None,
            None if ret < 0 => {
                let n = i32::from_ne_bytes(c.data.get(..4)?.try_into().ok()?);
                Some((
                    format!("{{msg_namelen={n}}}"),
                    obj(json!({"msg_namelen": n})),
                ))
            }
            None => None,
        },
        CAP_ARGV => Some(argv(ctx, i)),
        // A path the call wrote, `ret` bytes with its NUL: whole, as strace prints a path.
        CAP_STRUCT_OUT if ctx.syscall == "getcwd" => {
            let path = c.data.strip_suffix(&[0]).unwrap_or(&c.data);
            Some((
                ctx.text(|| escape::quoted_with(path, c.truncated(), ctx.hex)),
                escape::json_bytes(path, c.truncated()),
            ))
        }
        CAP_STRUCT_IN | CAP_STRUCT_OUT => structure(ctx, arg, c).map(|(t, j)| (t, obj(j))),
        CAP_STRUCT_INOUT => {
            let (mut t, j) = structure(ctx, arg, c)?;
            // sendfile: the offset the call moved to, after ` => `, when it copied bytes.
            if ctx.syscall == "sendfile" && ret > 0 {
                let after = ctx.captures(i).find(|c| c.at_exit() && !c.fault());
                if let Some((a, ja)) = after.and_then(|c| structs::loff(&c.data, true)) {
                    let _ = write!(t, " => {a}");
                    let both = structs::object! {"before" => j, "after" => ja};
                    return Some((t, obj(both)));
                }
            }
            Some((t, obj(j)))
        }
        CAP_FDSET => {
            // strace reads no set when there are no descriptors: the pointer is shown.
            let n = select::nfds(ctx.ev.args[0]);
            if n == 0 {
                return None;
            }
            let (t, j) = select::fd_set(&c.data, n);
            Some((t, obj(j)))
        }
        _ => None,
    }
}

/// setsockopt's value (`sockopt::shape`) from the bytes read at enter: an `int` or a
/// `struct linger` from its own size of them, which a read cut short by a fault further on
/// (`optlen` past the value's size) still holds; the bytes only when all were read.
fn setsockopt_value(ctx: &Ctx<'_>, args: &[Arg], c: &Capture) -> Option<(String, ArgJson)> {
    let val = |n: &str| ctx.raw(n, args).map_or(0, |v| v as u32 as i32);
    let optlen = val("optlen");
    let decoded = match sockopt::shape(val("level"), val("optname"), optlen) {
        sockopt::Shape::Address => None,
        sockopt::Shape::Int => sockopt::int(&c.data),
        sockopt::Shape::Linger => sockopt::linger(&c.data),
        sockopt::Shape::TxRehash => sockopt::txrehash(&c.data),
        sockopt::Shape::Bytes => {
            // The kernel reads optlen bytes (the register: a negative int is a large
            // length), at most the string size.
            let full = ctx.raw("optlen", args).unwrap_or(0);
            let read = full.min(u64::from(ctx.string_size));
            if c.fault() || (c.data.len() as u64) < read {
                return None;
            }
            return Some(buffer(
                ctx,
                c,
                Some(u64::try_from(optlen).unwrap_or(u64::MAX)),
            ));
        }
    };
    decoded.map(|(t, j)| (t, obj(j)))
}

/// getsockopt's value after a successful call (`sockopt::get`): the buffer size passed in
/// (captured at enter) and the length returned are both needed, as strace reads both; without
/// them, the pointer.
fn getsockopt_value(ctx: &Ctx<'_>, args: &[Arg], c: &Capture) -> Option<(String, ArgJson)> {
    let len_arg = args.iter().position(|a| a.name == "optlen")?;
    let int_of = |kind: u8| {
        let c = ctx
            .captures(len_arg)
            .find(|c| c.kind == kind && !c.fault())?;
        Some(i32::from_ne_bytes(c.data.get(..4)?.try_into().ok()?))
    };
    let (ulen, rlen) = (int_of(CAP_STRUCT_IN)?, int_of(CAP_SOCKLEN_OUT)?);
    let val = |n: &str| ctx.raw(n, args).map_or(0, |v| v as u32 as i32);
    let q = sockopt::get::Quoting {
        hex: ctx.hex,
        string_size: ctx.string_size as usize,
    };
    sockopt::get::value(val("level"), val("optname"), ulen, rlen, &c.data, q)
}

/// The argument holding the length of an input socket address.
fn sockaddr_len_arg(syscall: &str) -> &'static str {
    match syscall {
        "sendto" => "addr_len",
        _ => "addrlen",
    }
}

/// The address buffer's length passed in (the `int *` length captured at enter).
fn socklen_in(ctx: &Ctx<'_>) -> Option<u32> {
    let c = ctx.ev.captures.iter().find(|c| {
        c.kind == CAP_STRUCT_IN
            && syscalls::args(ctx.ev.nr)
                .and_then(|a| a.get(c.arg as usize))
                .is_some_and(|a| matches!(a.name, "upeer_addrlen" | "usockaddr_len" | "addr_len"))
    })?;
    Some(u32::from_ne_bytes(c.data.get(..4)?.try_into().ok()?))
}

/// The length argument's value for a buffer captured at enter.
fn spec_len(ctx: &Ctx<'_>, args: &[Arg], i: usize) -> Option<u64> {
    let name = match (ctx.syscall, args[i].name) {
        ("write" | "pwrite64", _) => "count",
        ("setxattr" | "lsetxattr" | "fsetxattr", _) => "size",
        ("sendto", _) => "len",
        ("mq_timedsend", _) => "msg_len",
        _ => return None,
    };
    ctx.raw(name, args)
}

/// Array elements strace prints before `...` without -v (its default string size, `-s`).
const ARRAY_MAX: usize = 32;

/// The structures on the hot path (typed), then the others.
fn structure(ctx: &Ctx<'_>, arg: &Arg, c: &Capture) -> Option<structs::Typed> {
    let b = &c.data;
    match (ctx.syscall, arg.name) {
        (_, "upeer_addrlen" | "usockaddr_len" | "addr_len") | ("getsockopt", "optlen") => {
            socklen(ctx, b)
        }
        (_, "statbuf") => structs::stat(b, ctx.no_abbrev, ctx.text),
        ("sendfile", _) => structs::loff(b, true),
        (_, "off_in" | "off_out") => structs::loff(b, false),
        // The event is ignored for EPOLL_CTL_DEL: strace shows the pointer.
        ("epoll_ctl", _) if ctx.ev.args[1] as u32 as i32 == libc::EPOLL_CTL_DEL => None,
        ("epoll_ctl", _) => structs::epoll_event(b, ctx.text),
        ("epoll_wait" | "epoll_pwait" | "epoll_pwait2", _) => {
            Some(structs::epoll_events(b, c.truncated(), ctx.text))
        }
        _ => other_structure(ctx, arg, c).map(structs::typed),
    }
}

fn other_structure(ctx: &Ctx<'_>, arg: &Arg, c: &Capture) -> Option<structs::Decoded> {
    let b = &c.data;
    match (ctx.syscall, arg.name) {
        ("nanosleep" | "clock_nanosleep", "rqtp")
        | ("clock_gettime" | "clock_getres" | "clock_settime", "tp") => time::timespec(b),
        ("utimensat", _) => time::timespec_utimes(b),
        ("utimes" | "futimesat", _) => time::timeval_utimes(b),
        ("gettimeofday" | "settimeofday", "tv") => time::timeval(b),
        ("gettimeofday" | "settimeofday", "tz") => time::timezone(b),
        ("getitimer" | "setitimer", _) => time::itimerval(b),
        ("timerfd_settime" | "timerfd_gettime" | "timer_settime" | "timer_gettime", _) => {
            time::itimerspec(b)
        }
        ("times", _) => time::tms(b),
        // wait4 printed the usage only when it returned a pid (WNOHANG returns 0).
        ("wait4", "ru") if ctx.ev.ret.is_some_and(|r| r > 0) => resource::rusage(b, ctx.no_abbrev),
        ("wait4", "ru") => None,
        ("getrusage" | "waitid", "ru") => resource::rusage(b, ctx.no_abbrev),
        ("waitid", "infop") => resource::siginfo(b),
        ("sysinfo", _) => resource::sysinfo(b),
        ("getcpu", _) => resource::uint(b),
        ("getresuid" | "getresgid", _) => resource::id(b),
        ("sched_getaffinity", _) => resource::cpu_mask(b, u64::try_from(ctx.ev.ret?).ok()?),
        ("sched_setaffinity", _) => {
            let len = syscalls::args(ctx.ev.nr).and_then(|a| ctx.raw("len", a))?;
            resource::cpu_mask(b, len & 0xffff_ffff)
        }
        ("getgroups" | "setgroups", _) => {
            let n = match ctx.syscall {
                "getgroups" => u64::try_from(ctx.ev.ret?).ok()?,
                _ => syscalls::args(ctx.ev.nr).and_then(|a| ctx.raw("gidsetsize", a))?,
            };
            let max = (!ctx.no_abbrev).then_some(ARRAY_MAX);
            resource::groups(b, n & 0xffff_ffff, max)
        }
        ("select", "tvp") => time::timeval(b),
        ("pselect6", "tsp") => time::timespec(b),
        ("poll" | "ppoll", "ufds") => {
            // The first entry that could not be read, when the array runs into a bad page.
            let unreadable = c.short().then(|| ctx.ev.args[0] + (b.len() / 8 * 8) as u64);
            Some(structs::pollfds(
                b,
                c.truncated(),
                ctx.string_size as usize,
                unreadable,
            ))
        }
        ("ppoll", "tsp") => time::timespec(b),
        ("mincore", "vec") => Some(structs::mincore_vec(
            b,
            c.truncated(),
            ctx.string_size as usize,
        )),
        ("ppoll", "sigmask") => signal::sigset(b, ctx.ev.args[4], 8),
        (_, "rlim" | "new_rlim" | "old_rlim") => structs::rlimit(b),
        ("uname", _) => structs::utsname(b, ctx.no_abbrev),
        ("fcntl", "arg") => fcntl::structure(ctx.ev.args[1] as u32, b),
        // The set passed in (read at enter) and the one returned (read after a success);
        // rt_sigpending allows sets shorter than a word.
        ("rt_sigprocmask", "nset" | "oset") => signal::sigset(b, ctx.ev.args[3], 8),
        ("rt_sigpending", "uset") => signal::sigset(b, ctx.ev.args[1], 1),
        ("signalfd4" | "signalfd", "user_mask") => signal::sigset(b, ctx.ev.args[2], 8),
        ("statfs" | "fstatfs", _) => structs::statfs(b),
        ("statx", _) => structs::statx(b, ctx.no_abbrev),
        ("pipe" | "pipe2", _) => structs::fd_pair(b),
        // The kernel wrote a status only when the call returned a pid (WNOHANG returns 0).
        ("wait4", "stat_addr") if ctx.ev.ret.is_some_and(|r| r > 0) => wait::status(b),
        _ => None,
    }
}

/// `{msg_name=NULL, msg_namelen=0, msg_iov=[…], msg_iovlen=1, msg_controllen=0, msg_flags=0}`
/// from a captured `struct user_msghdr` (64-bit layout), its name and its iovecs.
fn msghdr(ctx: &Ctx<'_>, i: usize, c: &Capture) -> (String, ArgJson) {
    let word = |k: usize| {
        c.data
            .get(k * 8..k * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_ne_bytes)
    };
    let (name_ptr, namelen, iovlen) = (word(0), word(1) as u32 as i32, word(3));
    // recvmsg: the name buffer's size passed in, when it differs from the length returned.
    let namelen_in = ctx
        .captures(i)
        .find(|c| c.kind == CAP_MSG_NAMELEN_IN)
        .and_then(|c| Some(i32::from_ne_bytes(c.data.get(..4)?.try_into().ok()?)))
        .filter(|&n| n != namelen);
    // The kernel wrote no more of the name than the buffer held.
    let name_len = match namelen_in {
        Some(n) if n < namelen => n,
        _ => namelen,
    };
    let (control, controllen, msg_flags) = (word(4), word(5), word(6) as u32);
    let mut text = String::from("{msg_name=");
    let mut o = Vec::with_capacity(8);
    let name = ctx
        .captures(i)
        .find(|c| c.kind == CAP_MSG_NAME)
        .map(|n| sockaddr::decode(&n.data, usize::try_from(name_len).unwrap_or(0), ctx.text));
    match name {
        Some(Some((t, j))) => {
            text.push_str(&t);
            o.push(("msg_name", j));
        }
        None if name_ptr == 0 => {
            text.push_str("NULL");
            o.push(("msg_name", ArgValue::Null));
        }
        _ => {
            let _ = write!(text, "{name_ptr:#x}");
            o.push(("msg_name", name_ptr.into()));
        }
    }
    text.push_str(", msg_namelen=");
    if let Some(n) = namelen_in {
        let _ = write!(text, "{n} => ");
        o.push(("msg_namelen_in", n.into()));
    }
    let _ = write!(text, "{namelen}, msg_iov=");
    o.push(("msg_namelen", namelen.into()));
    let array = ctx
        .captures(i)
        .find(|c| c.kind == CAP_IOV_IN || c.kind == CAP_IOV_OUT);
    match array {
        Some(a) => {
            let (t, j) = iovec(ctx, i, a);
            text.push_str(&t);
            o.push(("msg_iov", j.value));
        }
        None => text.push_str("NULL"),
    }
    let _ = write!(text, ", msg_iovlen={iovlen}");
    o.push(("msg_iovlen", iovlen.into()));
    if controllen != 0 {
        let _ = write!(text, ", msg_control={control:#x}");
        o.push(("msg_control", control.into()));
    }
    let flags = flags::bits_string(u64::from(msg_flags), flags::MSG_FLAGS, "0");
    let _ = write!(text, ", msg_controllen={controllen}, msg_flags={flags}}}");
    o.push(("msg_controllen", controllen.into()));
    o.push(("msg_flags", flags.into()));
    if !ctx.text {
        text.clear();
    }
    (text, obj(ArgValue::Object(o)))
}

/// `[112 => 16]`: the socket address length passed in, and the one the kernel wrote back
/// (captured at exit as itself: the address may be longer than its buffer, or unreadable),
/// as strace prints it: `int`s (a negative one is the caller's).
fn socklen(ctx: &Ctx<'_>, b: &[u8]) -> Option<structs::Typed> {
    let before = i32::from_ne_bytes(b.get(..4)?.try_into().ok()?);
    let after = ctx
        .ev
        .captures
        .iter()
        .find(|c| c.kind == CAP_SOCKLEN_OUT && !c.fault())
        .and_then(|c| Some(i32::from_ne_bytes(c.data.get(..4)?.try_into().ok()?)));
    Some(match after {
        Some(a) if a != before => (
            ctx.text(|| format!("[{before} => {a}]")),
            structs::object! {"in" => before, "out" => a},
        ),
        Some(a) => (
            ctx.text(|| format!("[{a}]")),
            structs::object! {"in" => before, "out" => a},
        ),
        None => (
            ctx.text(|| format!("[{before}]")),
            structs::object! {"in" => before},
        ),
    })
}

/// `[{iov_base="…"..., iov_len=180}, …]`.
fn iovec(ctx: &Ctx<'_>, i: usize, array: &Capture) -> (String, ArgJson) {
    let mut text = String::new();
    let mut t = |s: &str| {
        if ctx.text {
            text.push_str(s);
        }
    };
    t("[");
    let mut items = Vec::new();
    // Output iovecs hold only what the call returned, spread over the entries in order.
    let mut returned = match array.kind {
        CAP_IOV_OUT => u64::try_from(ctx.ev.ret.unwrap_or(0)).unwrap_or(0),
        _ => u64::MAX,
    };
    let mut more = array.truncated();
    for (k, pair) in array.data.chunks_exact(16).enumerate() {
        // strace's print_array: at most `-s` elements.
        if k >= ctx.string_size as usize {
            more = true;
            break;
        }
        let len = u64::from_ne_bytes(pair[8..16].try_into().unwrap_or_default());
        let filled = len.min(returned);
        returned -= filled;
        let data = ctx
            .captures(i)
            .find(|c| c.kind == CAP_IOV_DATA && c.index as usize == k);
        if k > 0 {
            t(", ");
        }
        t("{iov_base=");
        let base = match data.filter(|d| !d.fault()) {
            Some(d) => {
                let (b, j) = buffer(ctx, d, Some(filled));
                t(&b);
                j.into_object()
            }
            // What the call returned was used up before this entry: nothing was read into it.
            None if array.kind == CAP_IOV_OUT
                && filled == 0
                && ctx.ev.ret.is_some_and(|r| r >= 0) =>
            {
                t("\"\"");
                ArgValue::Object(vec![("value", ArgValue::Name(""))])
            }
            None => {
                let base = u64::from_ne_bytes(pair[..8].try_into().unwrap_or_default());
                t(&ctx.text(|| format!("{base:#x}")));
                base.into()
            }
        };
        t(&ctx.text(|| format!(", iov_len={len}}}")));
        items.push(ArgValue::Object(vec![
            ("iov_base", base),
            ("iov_len", len.into()),
        ]));
    }
    if array.short() {
        // The rest of the array is on a page that could not be read: strace names where.
        let entries = (array.data.len() / 16) as u64;
        let at = ctx.ev.args[i].wrapping_add(entries * 16);
        if entries > 0 {
            t(", ");
        }
        t(&ctx.text(|| format!("... /* {at:#x} */")));
    } else if more {
        t(", ...");
    }
    t("]");
    let mut m = obj(ArgValue::Array(items));
    m.truncated = more || array.short();
    (text, m)
}

/// `["nginx", "-g", "daemon off;"]`. When an element is not UTF-8, `hex` holds every element's
/// bytes, each followed by a NUL (as in the process's argument area), so nothing is lost.
fn argv(ctx: &Ctx<'_>, i: usize) -> (String, ArgJson) {
    let mut text = String::from("[");
    let mut items = Vec::new();
    let mut more = false;
    let mut not_utf8 = false;
    let elements = || {
        ctx.captures(i)
            .filter(|c| c.kind == CAP_ARGV && !(c.data.is_empty() && c.truncated()))
    };
    // The kernel reads one byte more than the string size, to tell a string of exactly that
    // size from a longer one: a cut string holds size + 1 bytes, strace prints size.
    fn shown(c: &Capture) -> &[u8] {
        if c.truncated() {
            &c.data[..c.data.len().saturating_sub(1)]
        } else {
            &c.data[..]
        }
    }
    for c in ctx.captures(i).filter(|c| c.kind == CAP_ARGV) {
        if c.data.is_empty() && c.truncated() {
            more = true;
            continue;
        }
        if !items.is_empty() && ctx.text {
            text.push_str(", ");
        }
        let (data, cut) = (shown(c), c.truncated());
        if ctx.text {
            escape::quote_with(&mut text, data, cut, ctx.hex);
        }
        let j = escape::json_bytes(data, cut);
        items.push(j.value);
        not_utf8 |= j.hex.is_some();
    }
    if more {
        text.push_str(if items.is_empty() { "..." } else { ", ..." });
    }
    text.push(']');
    let hex = not_utf8.then(|| {
        let mut hex = String::new();
        for c in elements() {
            escape::hex_into(&mut hex, shown(c));
            hex.push_str("00");
        }
        hex
    });
    let mut m = obj(ArgValue::Array(items));
    m.truncated = more;
    m.hex = hex;
    if !ctx.text {
        text.clear();
    }
    (text, m)
}

/// Whether strace shows an argument: openat's mode only with O_CREAT or O_TMPFILE, fcntl's
/// third argument only for the commands that take one…
#[derive(Clone, Copy)]
enum Show {
    Always,
    Never,
    /// As strace and the kernel decide it: O_CREAT, or the O_TMPFILE bit that is not
    /// O_DIRECTORY (`ls` opens directories with O_DIRECTORY and no mode).
    OpenMode,
    /// The device number only for device files (strace's decode_mknod).
    MknodDev,
    /// ARCH_GET_CPUID takes no argument.
    ArchPrctlArg,
    FcntlArg,
    /// The new address only when the mapping moves to it.
    MremapNewAddr,
}

impl Show {
    fn of(syscall: &str, name: &str) -> Show {
        match (syscall, name) {
            ("open" | "openat", "mode") => Show::OpenMode,
            ("mknod" | "mknodat", "dev") => Show::MknodDev,
            // One offset argument, as strace prints it (see Sem::Loff).
            ("preadv" | "pwritev" | "preadv2" | "pwritev2", "pos_h") => Show::Never,
            ("arch_prctl", "arg2") => Show::ArchPrctlArg,
            ("fcntl", "arg") => Show::FcntlArg,
            ("mremap", "new_addr") => Show::MremapNewAddr,
            _ => Show::Always,
        }
    }

    fn shown(self, ev: &SyscallEvent, args: &[Arg]) -> bool {
        let raw = |n: &str| {
            args.iter()
                .position(|a| a.name == n)
                .and_then(|i| Some(ctype::narrow(args[i].ty, *ev.args.get(i)?)))
                .unwrap_or(0)
        };
        match self {
            Show::Always => true,
            Show::Never => false,
            Show::OpenMode => raw("flags") & (libc::O_CREAT as u64 | flags::O_TMPFILE_BIT) != 0,
            Show::MknodDev => {
                let ty = raw("mode") & libc::S_IFMT as u64;
                ty == u64::from(libc::S_IFCHR) || ty == u64::from(libc::S_IFBLK)
            }
            Show::ArchPrctlArg => raw("option") != flags::ARCH_GET_CPUID,
            Show::FcntlArg => fcntl::has_arg(raw("cmd") as u32),
            Show::MremapNewAddr => raw("flags") & 3 == 3,
        }
    }
}

/// strace's text after a successful return value, in parentheses: select's `Timeout` or the
/// sets it left ready. None for every other call.
pub fn ret_note(ev: &SyscallEvent, opts: Options) -> Option<String> {
    let ret = ev.ret?;
    if ret < 0 {
        return None;
    }
    let syscall = syscalls::name(ev.nr)?;
    match syscall {
        "select" | "pselect6" => {
            let n = select::nfds(ev.args[0]);
            let after = |i: usize| {
                ev.captures
                    .iter()
                    .find(|c| c.arg as usize == i && c.at_exit() && !c.fault())
            };
            let sets: [Option<&[u8]>; 3] =
                std::array::from_fn(|k| after(k + 1).map(|c| &c.data[..]));
            let left = (ev.args[4] != 0).then(|| {
                let t = after(4).and_then(|c| {
                    if syscall == "select" {
                        time::timeval(&c.data)
                    } else {
                        time::timespec(&c.data)
                    }
                });
                t.map_or_else(|| format!("{:#x}", ev.args[4]), |t| t.0)
            });
            Some(select::note(ret, n, sets, left.as_deref()))
        }
        "poll" | "ppoll" => {
            if ret == 0 {
                return Some("Timeout".into());
            }
            let after = ev.captures.iter().find(|c| c.arg == 0 && c.at_exit());
            let mut out = String::new();
            if ev.args[0] != 0 && ev.args[1] as u32 != 0 {
                let max = if opts.no_abbrev {
                    usize::MAX
                } else {
                    opts.string_size as usize
                };
                match after {
                    Some(c) if !c.fault() => structs::revents(&mut out, &c.data, max, None),
                    // strace names the first entry it could not read.
                    Some(c) => {
                        let whole = c.readable_len() / 8 * 8;
                        let at = ev.args[0] + whole as u64;
                        structs::revents(&mut out, &c.data[..whole], max, Some(at));
                    }
                    None => {
                        let _ = write!(out, "[{:#x}]", ev.args[0]);
                    }
                }
            }
            if syscall == "ppoll" && ev.args[2] != 0 {
                let left = ev
                    .captures
                    .iter()
                    .find(|c| c.arg == 2 && c.at_exit() && !c.fault())
                    .and_then(|c| time::timespec(&c.data))
                    .map_or_else(|| format!("{:#x}", ev.args[2]), |t| t.0);
                out.push_str(if out.is_empty() { "left " } else { ", left " });
                out.push_str(&left);
            }
            (!out.is_empty()).then_some(out)
        }
        _ => None,
    }
}

/// strace's default `-s`: bytes of a string shown, and elements of an array.
pub const DEFAULT_STRING_SIZE: u32 = 32;

/// Choices that change how arguments are decoded.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Leave `DecodedArg::text` empty where it costs work (captured strings and buffers): for
    /// JSON output.
    pub json_only: bool,
    /// strace's `-v` (`--no-abbrev`): print every field of `stat`, `statx`, `rusage`…
    pub no_abbrev: bool,
    /// strace's `-x` / `-xx`: strings in hex.
    pub hex: escape::Hex,
    /// strace's `-s`: the most bytes of a string printed. The kernel cuts most captures at it
    /// already; values read whole (getsockopt's) are cut here.
    pub string_size: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            json_only: false,
            no_abbrev: false,
            hex: escape::Hex::None,
            string_size: DEFAULT_STRING_SIZE,
        }
    }
}

/// All arguments of `ev`, decoded.
pub fn decode(ev: &SyscallEvent) -> Vec<DecodedArg> {
    decode_with(ev, Options::default())
}

/// All arguments of `ev`, decoded with `opts`. What an fd refers to (`-y`) is the enrich
/// stage's: it needs the stream of events (`enrich::fds`).
pub fn decode_with(ev: &SyscallEvent, opts: Options) -> Vec<DecodedArg> {
    decode_plain(ev, opts)
}

fn decode_plain(ev: &SyscallEvent, opts: Options) -> Vec<DecodedArg> {
    let syscall = syscalls::name(ev.nr).unwrap_or("");
    let ctx = Ctx {
        syscall,
        ev,
        text: !opts.json_only,
        no_abbrev: opts.no_abbrev,
        hex: opts.hex,
        string_size: opts.string_size,
    };
    let Some(args) = syscalls::args(ev.nr) else {
        return ev
            .args
            .iter()
            .zip(["arg0", "arg1", "arg2", "arg3", "arg4", "arg5"])
            .map(|(&raw, name)| DecodedArg {
                name,
                ty: "unsigned long",
                raw,
                text: ctx.text(|| format!("{raw:#x}")),
                json: obj(raw),
                shown: true,
                text_pos: 0,
                fd_path: None,
            })
            .collect();
    };
    if syscall == "clone" {
        return clone_args(&ctx, args);
    }
    let metas = meta_of(ev.nr);
    args.iter()
        .enumerate()
        .take(6)
        .map(|(i, arg)| {
            let raw = ev.args[i];
            let meta = metas[i].unwrap_or_else(|| Meta::of(syscall, arg));
            let (text, json) = match captured(&ctx, args, i) {
                Some(c) => c,
                None => {
                    let (t, v) = match meta.sem {
                        Some(sem) => by_sem(sem, &ctx, args, meta.width.narrow(raw)),
                        None => by_type(&ctx, meta.class, raw),
                    };
                    (t, obj(v))
                }
            };
            DecodedArg {
                name: arg.name,
                ty: arg.ty,
                raw,
                text,
                json,
                shown: meta.show.shown(ev, args),
                text_pos: i as u8,
                fd_path: None,
            }
        })
        .collect()
}

/// clone(2) as strace prints it: named arguments, the exit signal folded into the flags, and
/// only the pointers the flags make meaningful.
fn clone_args(ctx: &Ctx<'_>, args: &[Arg]) -> Vec<DecodedArg> {
    let ev = ctx.ev;
    let flags_raw = ev.args[0];
    let signal = flags_raw & 0xff;
    let mut f = flags::bits_string(flags_raw & !0xff, flags::CLONE, "");
    if signal != 0 {
        if !f.is_empty() {
            f.push('|');
        }
        f.push_str(&flags::signal_string(signal as i64));
    }
    if f.is_empty() {
        f.push('0');
    }
    let has = |flag: i32| flags_raw & flag as u64 != 0;
    args.iter()
        .enumerate()
        .take(6)
        .map(|(i, arg)| {
            let raw = ev.args[i];
            let (t, v) = ctx.ptr(raw);
            let (label, text, value, shown, pos) = match arg.name {
                "clone_flags" => ("flags", f.clone(), ArgValue::Str(f.clone()), true, 1),
                "newsp" => ("child_stack", t, v, true, 0),
                "parent_tidptr" => ("parent_tid", t, v, has(libc::CLONE_PARENT_SETTID), 2),
                "child_tidptr" => (
                    "child_tidptr",
                    t,
                    v,
                    has(libc::CLONE_CHILD_SETTID) || has(libc::CLONE_CHILD_CLEARTID),
                    3,
                ),
                "tls" => ("tls", t, v, has(libc::CLONE_SETTLS), 4),
                _ => {
                    let (t, v) = by_type(ctx, Class::of(arg.ty, arg.name), raw);
                    ("", t, v, false, 5)
                }
            };
            DecodedArg {
                name: arg.name,
                ty: arg.ty,
                raw,
                text: ctx.text(|| format!("{label}={text}")),
                json: obj(value),
                shown,
                text_pos: pos,
                fd_path: None,
            }
        })
        .collect()
}

#[cfg(all(test, target_arch = "x86_64"))]
#[path = "args_tests.rs"]
mod tests;
