//! Syscall names and argument lists for the host architecture.
//!
//! Numbers and names come from the `syscalls` crate (tables generated from the kernel sources,
//! x86_64 and aarch64). Argument names and C types come from `syscall_args.rs`, which
//! `cargo xtask codegen` generates from this kernel's tracefs `events/syscalls/*/format` files.
//! strace's syscall classes (`%file`, `%desc`…) come from `syscall_classes.rs`, which
//! `cargo xtask codegen classes` generates from strace 6.1's own syscall tables.
use std::str::FromStr;

#[cfg(target_arch = "aarch64")]
use syscalls::aarch64::Sysno;
#[cfg(target_arch = "x86_64")]
use syscalls::x86_64::Sysno;

#[path = "syscall_args.rs"]
mod table;

/// strace's classes of both architectures, by tracer's names (generated).
#[path = "syscall_classes.rs"]
pub mod class_table;

/// strace's syscall classes, one bit each (strace's `TRACE_*` flags of src/sysent.h).
pub mod class {
    /// `%desc`: takes or returns a file descriptor.
    pub const DESC: u32 = 1 << 0;
    /// `%file`: takes a file name.
    pub const FILE: u32 = 1 << 1;
    /// `%ipc`: SysV IPC.
    pub const IPC: u32 = 1 << 2;
    /// `%network`.
    pub const NETWORK: u32 = 1 << 3;
    /// `%process`: process lifecycle (fork, exec, wait, exit…).
    pub const PROCESS: u32 = 1 << 4;
    /// `%signal`.
    pub const SIGNAL: u32 = 1 << 5;
    /// `%memory`: memory mapping.
    pub const MEMORY: u32 = 1 << 6;
    /// `%stat`: stat variants taking a name.
    pub const STAT: u32 = 1 << 7;
    /// `%lstat`.
    pub const LSTAT: u32 = 1 << 8;
    /// `%fstat`: fstat, fstatat, statx…
    pub const FSTAT: u32 = 1 << 9;
    /// `%%stat`: every stat-like call.
    pub const STAT_LIKE: u32 = 1 << 10;
    /// `%statfs`.
    pub const STATFS: u32 = 1 << 11;
    /// `%fstatfs`.
    pub const FSTATFS: u32 = 1 << 12;
    /// `%%statfs`: every statfs-like call and ustat.
    pub const STATFS_LIKE: u32 = 1 << 13;
    /// `%pure`: no arguments, always succeed.
    pub const PURE: u32 = 1 << 14;
    /// `%creds`: process credentials.
    pub const CREDS: u32 = 1 << 15;
    /// `%clock`: read or set system clocks.
    pub const CLOCK: u32 = 1 << 16;
}

#[cfg(target_arch = "aarch64")]
use class_table::AARCH64 as HOST_CLASSES;
#[cfg(target_arch = "x86_64")]
use class_table::X86_64 as HOST_CLASSES;

/// The strace classes (`class::*` bits) of syscall `nr`; 0 for calls in none, or unknown.
pub fn classes(nr: u32) -> u32 {
    let Some(name) = name(nr) else {
        return 0;
    };
    HOST_CLASSES
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .map_or(0, |i| HOST_CLASSES[i].1)
}

/// Every syscall of the host architecture: (number, name), by number.
pub fn all() -> impl Iterator<Item = (u32, &'static str)> {
    Sysno::iter().map(|s| (s.id() as u32, s.name()))
}

/// `openat` for 257 on x86_64; `None` for numbers the table does not know.
pub fn name(nr: u32) -> Option<&'static str> {
    Sysno::new(nr as usize).map(|s| s.name())
}

/// The name, or `syscall_NNN` for unknown numbers.
pub fn display_name(nr: u32) -> std::borrow::Cow<'static, str> {
    match name(nr) {
        Some(n) => n.into(),
        None => format!("syscall_{nr}").into(),
    }
}

/// The number of a syscall name (`syscall_NNN` accepted too).
pub fn number(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix("syscall_") {
        return n.parse().ok();
    }
    Sysno::from_str(name).ok().map(|s| s.id() as u32)
}

/// One argument: C type and name as the kernel's tracefs format gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    pub ty: &'static str,
    pub name: &'static str,
}

/// The arguments of syscall `nr`, `None` when the kernel's format files did not list it.
pub fn args(nr: u32) -> Option<&'static [Arg]> {
    static BY_NR: std::sync::OnceLock<Vec<Option<&'static [Arg]>>> = std::sync::OnceLock::new();
    let table = BY_NR.get_or_init(|| {
        (0..tracer_common::config::MAX_SYSCALL_NR)
            .map(lookup_args)
            .collect()
    });
    match table.get(nr as usize) {
        Some(a) => *a,
        None => lookup_args(nr),
    }
}

fn lookup_args(nr: u32) -> Option<&'static [Arg]> {
    let name = name(nr)?;
    // The kernel names a few entry points differently from the syscall (SYSCALL_DEFINE name).
    let name = match name {
        "umount2" => "umount",
        "sendfile" => "sendfile64",
        n => n,
    };
    let i = table::SYSCALL_ARGS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()?;
    Some(table::SYSCALL_ARGS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_names() {
        assert_eq!(name(0), Some("read"));
        assert_eq!(name(110), Some("getppid"));
        assert_eq!(name(257), Some("openat"));
        assert_eq!(name(288), Some("accept4"));
        assert_eq!(name(231), Some("exit_group"));
        assert_eq!(display_name(999), "syscall_999");
        assert_eq!(number("getppid"), Some(110));
        assert_eq!(number("syscall_999"), Some(999));
        assert_eq!(number("nosuch"), None);
    }

    /// Facts read in strace 6.1's src/linux/x86_64/syscallent.h.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_classes_are_strace_s() {
        use class::*;
        let of = |n: &str| classes(number(n).expect(n));
        assert_eq!(of("openat"), DESC | FILE);
        assert_eq!(of("open"), DESC | FILE);
        assert_eq!(of("read"), DESC);
        assert_eq!(of("getppid"), PURE);
        assert_eq!(of("getuid"), PURE | CREDS);
        assert_eq!(of("execve"), FILE | PROCESS);
        assert_eq!(of("kill"), PROCESS | SIGNAL);
        assert_eq!(of("mmap"), DESC | MEMORY);
        assert_eq!(of("socket"), NETWORK);
        assert_eq!(of("shmget"), IPC);
        assert_eq!(of("clock_gettime"), CLOCK);
        assert_eq!(of("lstat"), FILE | LSTAT | STAT_LIKE);
        assert_eq!(of("newfstatat"), DESC | FILE | FSTAT | STAT_LIKE);
        assert_eq!(of("statfs"), FILE | STATFS | STATFS_LIKE);
        assert_eq!(of("fstatfs"), DESC | FSTATFS | STATFS_LIKE);
        assert_eq!(of("io_submit"), 0);
        assert_eq!(classes(999), 0);
    }

    #[test]
    fn class_tables_are_sorted_and_use_tracer_s_names() {
        use syscalls::{aarch64, x86_64};
        let sorted = |t: &[(&str, u32)]| t.windows(2).all(|w| w[0].0 < w[1].0);
        assert!(sorted(class_table::X86_64) && sorted(class_table::AARCH64));
        assert!(
            class_table::X86_64
                .iter()
                .all(|(n, c)| x86_64::Sysno::from_str(n).is_ok() && *c != 0)
        );
        assert!(
            class_table::AARCH64
                .iter()
                .all(|(n, c)| aarch64::Sysno::from_str(n).is_ok() && *c != 0)
        );
        // The generic table's 79: strace's newfstatat, the kernel's (and tracer's) fstatat.
        let i = class_table::AARCH64.binary_search_by(|(n, _)| (*n).cmp("fstatat"));
        assert_eq!(
            i.map(|i| class_table::AARCH64[i].1),
            Ok(class::DESC | class::FILE | class::FSTAT | class::STAT_LIKE)
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn argument_lists_come_from_the_kernel_formats() {
        let a = args(288).expect("accept4 listed");
        let names: Vec<_> = a.iter().map(|a| a.name).collect();
        assert_eq!(names, ["fd", "upeer_sockaddr", "upeer_addrlen", "flags"]);
        assert_eq!(a[1].ty, "struct sockaddr *");
        assert_eq!(args(110).map(<[Arg]>::len), Some(0));
        // `fstat` is `newfstat` in tracefs.
        assert_eq!(args(5).map(<[Arg]>::len), Some(2));
        let table = table::SYSCALL_ARGS;
        assert!(
            table.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted for binary search"
        );
    }
}
