//! Time structures read from the traced process (64-bit layouts), printed as strace 6.1 prints
//! them: `struct timespec`, `struct timeval`, their pairs and interval timers, `struct timezone`
//! and `struct tms`. Every decoder returns None on a capture too short for its structure (the
//! caller then prints the address).
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{structs::Decoded, timefmt};

/// `sizeof(struct __kernel_timespec)` and `sizeof(struct __kernel_old_timeval)`.
pub const TIMESPEC_SIZE: usize = 16;
pub const TIMEVAL_SIZE: usize = 16;
/// `struct __kernel_itimerspec`, `struct __kernel_old_itimerval`: two of the above.
pub const ITIMER_SIZE: usize = 32;
/// `struct timezone`: two ints.
pub const TIMEZONE_SIZE: usize = 8;
/// `struct tms`: four `clock_t` (long).
pub const TMS_SIZE: usize = 32;

/// `tv_nsec` values utimensat gives a meaning (include/uapi/linux/stat.h).
const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

fn i64_at(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A (seconds, fraction) pair: the fraction printed unsigned, as strace prints it (a negative
/// `tv_nsec` shows as its 64-bit two's complement).
fn sec_frac(b: &[u8], frac_name: &str) -> Option<(i64, i64, Decoded)> {
    let sec = i64_at(b, 0)?;
    let frac = i64_at(b, 8)?;
    let u = frac as u64;
    Some((
        sec,
        frac,
        (
            format!("{{tv_sec={sec}, {frac_name}={u}}}"),
            json!({"tv_sec": sec, frac_name: u}),
        ),
    ))
}

/// `{tv_sec=1, tv_nsec=2}`.
pub fn timespec(b: &[u8]) -> Option<Decoded> {
    sec_frac(b, "tv_nsec").map(|(_, _, d)| d)
}

/// `{tv_sec=1, tv_usec=2}`.
pub fn timeval(b: &[u8]) -> Option<Decoded> {
    sec_frac(b, "tv_usec").map(|(_, _, d)| d)
}

/// utimes/futimesat: `[{tv_sec=…, tv_usec=…} /* 2017-04-16T16:03:27.345678+0000 */, …]`, the
/// comment only for a time the C library can show with a fraction in range.
pub fn timeval_utimes(b: &[u8]) -> Option<Decoded> {
    let mut text = String::from("[");
    let mut items = Vec::new();
    for k in 0..2 {
        let (sec, usec, (t, j)) = sec_frac(b.get(k * TIMEVAL_SIZE..)?, "tv_usec")?;
        if k > 0 {
            text.push_str(", ");
        }
        text.push_str(&t);
        timefmt::comment(&mut text, sec, usec as u64, 6);
        items.push(j);
    }
    text.push(']');
    Some((text, Value::Array(items)))
}

/// utimensat: `[UTIME_NOW, {tv_sec=…, tv_nsec=…} /* 2017-… */]`.
pub fn timespec_utimes(b: &[u8]) -> Option<Decoded> {
    let mut text = String::from("[");
    let mut items = Vec::new();
    for k in 0..2 {
        let (sec, nsec, (t, j)) = sec_frac(b.get(k * TIMESPEC_SIZE..)?, "tv_nsec")?;
        if k > 0 {
            text.push_str(", ");
        }
        match nsec {
            UTIME_NOW => {
                text.push_str("UTIME_NOW");
                items.push(json!({"tv_sec": sec, "tv_nsec": "UTIME_NOW"}));
            }
            UTIME_OMIT => {
                text.push_str("UTIME_OMIT");
                items.push(json!({"tv_sec": sec, "tv_nsec": "UTIME_OMIT"}));
            }
            _ => {
                text.push_str(&t);
                timefmt::comment(&mut text, sec, nsec as u64, 9);
                items.push(j);
            }
        }
    }
    text.push(']');
    Some((text, Value::Array(items)))
}

fn interval(b: &[u8], one: fn(&[u8]) -> Option<Decoded>) -> Option<Decoded> {
    let (i, ji) = one(b)?;
    let (v, jv) = one(b.get(16..)?)?;
    Some((
        format!("{{it_interval={i}, it_value={v}}}"),
        json!({"it_interval": ji, "it_value": jv}),
    ))
}

/// getitimer/setitimer: `{it_interval={tv_sec=…, tv_usec=…}, it_value={…}}`.
pub fn itimerval(b: &[u8]) -> Option<Decoded> {
    interval(b, timeval)
}

/// timerfd_*time, timer_*time: `{it_interval={tv_sec=…, tv_nsec=…}, it_value={…}}`.
pub fn itimerspec(b: &[u8]) -> Option<Decoded> {
    interval(b, timespec)
}

/// `{tz_minuteswest=0, tz_dsttime=0}`.
pub fn timezone(b: &[u8]) -> Option<Decoded> {
    let (west, dst) = (i32_at(b, 0)?, i32_at(b, 4)?);
    Some((
        format!("{{tz_minuteswest={west}, tz_dsttime={dst}}}"),
        json!({"tz_minuteswest": west, "tz_dsttime": dst}),
    ))
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), None when unknown.
fn clk_tck() -> Option<u64> {
    static TCK: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        // SAFETY: sysconf reads a constant of the C library.
        let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        u64::try_from(t).ok().filter(|&t| t > 0)
    })
}

/// A `clock_t` as strace prints it: unsigned, then ` /* 0.25 s */` for a positive count of
/// ticks (the seconds with as many decimals as the tick rate has digits after the first).
pub fn clock_t(out: &mut String, val: u64) {
    clock_t_with(out, val, clk_tck());
}

fn clock_t_with(out: &mut String, val: u64, tck: Option<u64>) {
    let _ = write!(out, "{val}");
    let Some(tck) = tck else { return };
    if val == 0 {
        return;
    }
    let width = (tck.ilog10() as usize).min(9);
    let scale = 10u128.pow(width as u32);
    let rest = u128::from(val % tck);
    let t = u128::from(tck);
    // Rounded to `width` decimals, as printf's `%.*f` does.
    let frac = ((rest * scale * 2 + t) / (2 * t)).min(scale - 1);
    if width == 0 {
        let _ = write!(out, " /* {}. s */", val / tck);
    } else {
        let _ = write!(out, " /* {}.{frac:0width$} s */", val / tck);
    }
}

/// times: `{tms_utime=25 /* 0.25 s */, tms_stime=…, tms_cutime=…, tms_cstime=…}`.
pub fn tms(b: &[u8]) -> Option<Decoded> {
    const NAMES: [&str; 4] = ["tms_utime", "tms_stime", "tms_cutime", "tms_cstime"];
    let mut text = String::from("{");
    let mut o = serde_json::Map::new();
    for (k, name) in NAMES.iter().enumerate() {
        let v = i64_at(b, k * 8)? as u64;
        if k > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "{name}=");
        clock_t(&mut text, v);
        o.insert((*name).into(), json!(v));
    }
    text.push('}');
    Some((text, Value::Object(o)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: i64, b: i64) -> Vec<u8> {
        let mut v = a.to_ne_bytes().to_vec();
        v.extend_from_slice(&b.to_ne_bytes());
        v
    }

    /// The seconds that show as `2017-04-16T16:05:06` in this process's time zone, and the
    /// zone's `+0000` suffix for them.
    fn local(utc: i64) -> (i64, String) {
        let t: libc::time_t = utc;
        // SAFETY: plain data filled by localtime_r.
        let off = unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            libc::localtime_r(&t, &mut tm);
            tm.tm_gmtoff
        };
        let m = off / 60;
        let sign = if m < 0 { '-' } else { '+' };
        (
            utc - off,
            format!("{sign}{:02}{:02}", m.abs() / 60, m.abs() % 60),
        )
    }

    #[test]
    fn timespecs_and_timevals_like_strace() {
        assert_eq!(
            timespec(&pair(1, 2)).map(|d| d.0).as_deref(),
            Some("{tv_sec=1, tv_nsec=2}")
        );
        // A negative fraction prints as unsigned.
        assert_eq!(
            timespec(&pair(-1, -1)).map(|d| d.0).as_deref(),
            Some("{tv_sec=-1, tv_nsec=18446744073709551615}")
        );
        assert_eq!(
            timeval(&pair(-3819351491602432273, 0xbadc_0ded_face_feedu64 as i64))
                .map(|d| d.0)
                .as_deref(),
            Some("{tv_sec=-3819351491602432273, tv_usec=13464652301697220333}")
        );
        assert_eq!(timespec(&[0; 15]), None, "short");
        let (j, jv) = timeval(&pair(5, 6)).unwrap_or_default();
        assert_eq!(j, "{tv_sec=5, tv_usec=6}");
        assert_eq!(jv, json!({"tv_sec": 5, "tv_usec": 6}));
    }

    #[test]
    fn utimes_pairs_with_dates() {
        let (s1, z) = local(1_492_358_607);
        let (s2, _) = local(1_492_356_078);
        let mut b = pair(s1, 345_678);
        b.extend_from_slice(&pair(s2, 456_789));
        let want = format!(
            "[{{tv_sec={s1}, tv_usec=345678}} /* 2017-04-16T16:03:27.345678{z} */, \
             {{tv_sec={s2}, tv_usec=456789}} /* 2017-04-16T15:21:18.456789{z} */]"
        );
        assert_eq!(timeval_utimes(&b).map(|d| d.0), Some(want));
        // Out of range: no comment.
        let mut b = pair(1_492_358_607, 1_000_000);
        b.extend_from_slice(&pair(1_492_356_078, 1_000_001));
        assert_eq!(
            timeval_utimes(&b).map(|d| d.0).as_deref(),
            Some("[{tv_sec=1492358607, tv_usec=1000000}, {tv_sec=1492356078, tv_usec=1000001}]")
        );
        assert_eq!(timeval_utimes(&b[..31]), None);

        let mut b = pair(0, UTIME_NOW);
        b.extend_from_slice(&pair(0, UTIME_OMIT));
        assert_eq!(
            timespec_utimes(&b).map(|d| d.0).as_deref(),
            Some("[UTIME_NOW, UTIME_OMIT]")
        );
        let (s, z) = local(1_492_358_706);
        let mut b = pair(s, 123_456_789);
        b.extend_from_slice(&pair(0, 0));
        assert_eq!(
            timespec_utimes(&b).map(|d| d.0),
            Some(format!(
                "[{{tv_sec={s}, tv_nsec=123456789}} /* 2017-04-16T16:05:06.123456789{z} */, \
                 {{tv_sec=0, tv_nsec=0}}]"
            ))
        );
    }

    #[test]
    fn timers_zones_and_ticks() {
        let mut b = pair(789_985, 789_986);
        b.extend_from_slice(&pair(789_987, 789_988));
        assert_eq!(
            itimerval(&b).map(|d| d.0).as_deref(),
            Some(
                "{it_interval={tv_sec=789985, tv_usec=789986}, \
                 it_value={tv_sec=789987, tv_usec=789988}}"
            )
        );
        assert_eq!(
            itimerspec(&b).map(|d| d.0).as_deref(),
            Some(
                "{it_interval={tv_sec=789985, tv_nsec=789986}, \
                 it_value={tv_sec=789987, tv_nsec=789988}}"
            )
        );
        assert_eq!(itimerval(&b[..24]), None);
        let mut tz = 0i32.to_ne_bytes().to_vec();
        tz.extend_from_slice(&(-60i32).to_ne_bytes());
        assert_eq!(
            timezone(&tz).map(|d| d.0).as_deref(),
            Some("{tz_minuteswest=0, tz_dsttime=-60}")
        );
        let mut s = String::new();
        clock_t_with(&mut s, 25, Some(100));
        assert_eq!(s, "25 /* 0.25 s */");
        s.clear();
        clock_t_with(&mut s, 12345, Some(100));
        assert_eq!(s, "12345 /* 123.45 s */");
        s.clear();
        clock_t_with(&mut s, 0, Some(100));
        assert_eq!(s, "0");
        s.clear();
        clock_t_with(&mut s, 7, None);
        assert_eq!(s, "7");
        let mut t = Vec::new();
        for v in [25i64, 65, 58, 0] {
            t.extend_from_slice(&v.to_ne_bytes());
        }
        if clk_tck() == Some(100) {
            assert_eq!(
                tms(&t).map(|d| d.0).as_deref(),
                Some(
                    "{tms_utime=25 /* 0.25 s */, tms_stime=65 /* 0.65 s */, \
                     tms_cutime=58 /* 0.58 s */, tms_cstime=0}"
                )
            );
        }
        assert_eq!(tms(&t[..31]), None);
    }
}
