//! strace's time comments: `1492358706 /* 2017-04-16T16:05:06.123456789+0000 */`, in the local
//! time zone of the machine tracer runs on, as strace shows them in its own.
use std::fmt::Write as _;

/// `2017-04-16T16:05:06.123456789+0000` for `sec` and a fraction of `width` digits (9 for
/// nanoseconds, 6 for microseconds). None where strace prints no comment: the epoch itself
/// with no fraction, a fraction out of range, or a time the C library cannot convert.
pub fn iso(sec: i64, frac: u64, width: usize) -> Option<String> {
    let max = 10u64.pow(width as u32) - 1;
    if (sec == 0 && frac == 0) || frac > max {
        return None;
    }
    let t: libc::time_t = sec;
    // SAFETY: `tm` is plain data that localtime_r fills; both pointers are valid for the call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return None;
        }
        tm
    };
    let mut s = String::with_capacity(40);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        i64::from(tm.tm_year) + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    );
    if frac > 0 {
        let _ = write!(s, ".{frac:0width$}");
    }
    let off = tm.tm_gmtoff / 60;
    let sign = if off < 0 { '-' } else { '+' };
    let _ = write!(s, "{sign}{:02}{:02}", off.abs() / 60, off.abs() % 60);
    Some(s)
}

/// `16:05:06`: the local time of day of `sec` (strace's `-t`), None where the C library
/// cannot convert it.
pub fn time_of_day(sec: i64) -> Option<String> {
    let t: libc::time_t = sec;
    // SAFETY: as in `iso`.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return None;
        }
        tm
    };
    Some(format!(
        "{:02}:{:02}:{:02}",
        tm.tm_hour, tm.tm_min, tm.tm_sec
    ))
}

/// ` /* 2017-04-16T16:05:06.123456789+0000 */` appended to `out` when there is one.
pub fn comment(out: &mut String, sec: i64, frac: u64, width: usize) {
    if let Some(t) = iso(sec, frac, width) {
        let _ = write!(out, " /* {t} */");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_strace_in_the_local_zone() {
        // The zone is the process's: compare with the C library's own offset for that time.
        let t: libc::time_t = 1_492_358_706;
        // SAFETY: as above.
        let off = unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            libc::localtime_r(&t, &mut tm);
            tm.tm_gmtoff
        };
        let s = iso(1_492_358_706 - off, 123_456_789, 9).expect("a time");
        assert!(s.starts_with("2017-04-16T16:05:06.123456789"), "{s}");
        assert_eq!(iso(0, 0, 9), None);
        assert_eq!(iso(1, 1_000_000_000, 9), None);
        assert!(iso(0, 5, 6).is_some_and(|s| s.contains(".000005")));
        let mut c = String::from("x");
        comment(&mut c, 0, 0, 9);
        assert_eq!(c, "x");
    }
}
