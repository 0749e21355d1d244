//! Syscall names and argument lists for the host architecture.
//!
//! Numbers and names come from the `syscalls` crate (tables generated from the kernel sources,
//! x86_64 and aarch64). Argument names and C types come from `syscall_args.rs`, which
//! `cargo xtask codegen` generates from this kernel's tracefs `events/syscalls/*/format` files.
use std::str::FromStr;

#[cfg(target_arch = "aarch64")]
use syscalls::aarch64::Sysno;
#[cfg(target_arch = "x86_64")]
use syscalls::x86_64::Sysno;

#[path = "syscall_args.rs"]
mod table;

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
