//! strace's `-y`: what an fd refers to, read from /proc/PID/fd at decode time. Best effort: by
//! the time a record is decoded the fd may be closed or reused (a `close` record never resolves).
use std::path::PathBuf;

use super::escape;

/// `/etc/hosts`, `socket:[123]`, `pipe:[456]` for fd `fd` of host process `tgid`.
pub fn resolve(tgid: u32, fd: i64) -> Option<Vec<u8>> {
    if fd < 0 {
        return None;
    }
    let link = std::fs::read_link(PathBuf::from(format!("/proc/{tgid}/fd/{fd}"))).ok()?;
    Some(link.into_os_string().into_encoded_bytes())
}

/// `3</etc/hosts>` as strace -y prints it (non-printable bytes escaped).
pub fn annotate(text: &mut String, path: &[u8]) {
    let q = escape::quoted(path, false);
    text.push('<');
    text.push_str(&q[1..q.len() - 1]);
    text.push('>');
}

/// Syscalls whose successful return value is a new fd.
pub fn returns_fd(syscall: &str) -> bool {
    matches!(
        syscall,
        "open"
            | "openat"
            | "openat2"
            | "creat"
            | "socket"
            | "accept"
            | "accept4"
            | "dup"
            | "dup2"
            | "dup3"
            | "epoll_create"
            | "epoll_create1"
            | "eventfd"
            | "eventfd2"
            | "memfd_create"
            | "timerfd_create"
            | "signalfd"
            | "signalfd4"
            | "inotify_init"
            | "inotify_init1"
            | "pidfd_open"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_own_fds() {
        let f = std::fs::File::open("/proc/self/status").expect("open");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
        let p = resolve(std::process::id(), i64::from(fd)).expect("resolves");
        assert!(p.ends_with(b"/status"), "{}", String::from_utf8_lossy(&p));
        assert_eq!(resolve(std::process::id(), -1), None);
        let mut s = "3".to_string();
        annotate(&mut s, b"/tmp/a\nb");
        assert_eq!(s, "3</tmp/a\\nb>");
    }
}
