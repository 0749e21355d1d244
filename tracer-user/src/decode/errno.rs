//! errno names and messages. Names come from nix, messages from the C library's `strerror_r`
//! (what strace prints); the kernel-internal restart codes (include/linux/errno.h, never seen
//! by user space but visible at `sys_exit`) are in neither, so they are listed here with
//! strace's wording.

/// The range the kernel uses for error returns (include/linux/err.h, MAX_ERRNO).
pub const MAX_ERRNO: i64 = 4095;

/// The errno of a syscall return value, if it is an error.
pub fn of_ret(ret: i64) -> Option<i32> {
    (-MAX_ERRNO..0).contains(&ret).then(|| (-ret) as i32)
}

const KERNEL_INTERNAL: [(i32, &str, &str); 7] = [
    (512, "ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    (513, "ERESTARTNOINTR", "To be restarted"),
    (514, "ERESTARTNOHAND", "To be restarted if no handler"),
    (515, "ENOIOCTLCMD", "No ioctl command"),
    (516, "ERESTART_RESTARTBLOCK", "Interrupted by signal"),
    (517, "EPROBE_DEFER", "Driver requests probe retry"),
    (518, "EOPENSTALE", "Open found a stale dentry"),
];

/// The restart codes (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK): a
/// call interrupted by a signal, which the process never sees fail (the kernel restarts it, or
/// turns the code into EINTR). strace prints `= ? ERESTARTSYS (To be restarted if SA_RESTART
/// is set)` for them, not `= -1`.
pub fn is_restart(errno: i32) -> bool {
    matches!(errno, 512..=514 | 516)
}

/// `ENOENT` for 2; `E1234` style for unknown numbers.
pub fn name(errno: i32) -> String {
    match name_static(errno) {
        Some(n) => n.to_owned(),
        None => spell(errno),
    }
}

/// [`name`] without an allocation, for the numbers below 1024 (every errno there is; written
/// once, on the first call).
pub fn name_static(errno: i32) -> Option<&'static str> {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| (0..1024).map(spell).collect());
    names.get(usize::try_from(errno).ok()?).map(String::as_str)
}

fn spell(errno: i32) -> String {
    if let Some((_, n, _)) = KERNEL_INTERNAL.iter().find(|(e, _, _)| *e == errno) {
        return (*n).to_string();
    }
    match nix::errno::Errno::from_raw(errno) {
        nix::errno::Errno::UnknownErrno => format!("E{errno}"),
        e => format!("{e:?}"),
    }
}

/// "No such file or directory" for 2.
pub fn message(errno: i32) -> String {
    if let Some((_, _, m)) = KERNEL_INTERNAL.iter().find(|(e, _, _)| *e == errno) {
        return (*m).to_string();
    }
    let mut buf = [0u8; 128];
    // SAFETY: the buffer and its length are valid; the XSI variant (what libc links on
    // Linux) writes a NUL-terminated message, or returns an error and leaves it empty.
    unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages() {
        assert_eq!(of_ret(-2), Some(2));
        assert_eq!(of_ret(0), None);
        assert_eq!(of_ret(-4096), None);
        assert_eq!(of_ret(5), None);
        assert_eq!(name(2), "ENOENT");
        assert_eq!(name(1), "EPERM");
        assert_eq!(message(2), "No such file or directory");
        assert_eq!(message(9), "Bad file descriptor");
        assert_eq!(message(11), "Resource temporarily unavailable");
        assert_eq!(name(512), "ERESTARTSYS");
        assert_eq!(name(4000), "E4000");
        assert_eq!(
            (name_static(2), name_static(512), name_static(700)),
            (Some("ENOENT"), Some("ERESTARTSYS"), Some("E700"))
        );
        assert_eq!((name_static(4000), name_static(-1)), (None, None));
        assert!(is_restart(512) && is_restart(513) && is_restart(514) && is_restart(516));
        assert!(!is_restart(515) && !is_restart(4));
    }
}
