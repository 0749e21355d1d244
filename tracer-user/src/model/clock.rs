//! Kernel timestamps (CLOCK_MONOTONIC, `bpf_ktime_get_ns`) to wall-clock time.
use time::{OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description};

/// RFC 3339, UTC, nine fraction digits.
const RFC3339_NANOS: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// CLOCK_REALTIME - CLOCK_MONOTONIC, in ns, sampled once at start.
    offset_ns: i128,
}

/// CLOCK_MONOTONIC now, in ns: a kernel timestamp (`bpf_ktime_get_ns`) for what user space
/// sees happen (a container's lifecycle record).
pub fn monotonic_ns() -> u64 {
    now(libc::CLOCK_MONOTONIC).max(0) as u64
}

fn now(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid clock id and out pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

impl Clock {
    pub fn new() -> Self {
        // The narrowest of a few bracketing samples gives the offset to well under a microsecond.
        let mut best: Option<(i128, i128)> = None;
        for _ in 0..5 {
            let m0 = now(libc::CLOCK_MONOTONIC);
            let r = now(libc::CLOCK_REALTIME);
            let m1 = now(libc::CLOCK_MONOTONIC);
            let width = m1 - m0;
            if best.is_none_or(|(w, _)| width < w) {
                best = Some((width, r - (m0 + width / 2)));
            }
        }
        Clock {
            offset_ns: best.map_or(0, |(_, o)| o),
        }
    }

    /// A fixed offset (tests, fuzzing: output that does not depend on when it runs).
    pub fn with_offset(offset_ns: i128) -> Self {
        Clock { offset_ns }
    }

    /// CLOCK_REALTIME - CLOCK_MONOTONIC, ns.
    pub fn offset_ns(&self) -> i128 {
        self.offset_ns
    }

    pub fn wall_ns(&self, ktime_ns: u64) -> i128 {
        i128::from(ktime_ns) + self.offset_ns
    }

    /// The kernel time a wall-clock RFC 3339 timestamp written with this clock stands for.
    pub fn ktime_of(&self, ts: &str) -> Option<u64> {
        let t = OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).ok()?;
        u64::try_from(t.unix_timestamp_nanos() - self.offset_ns).ok()
    }

    /// The process's one clock: every stage that turns kernel times into wall-clock times, or
    /// back, uses the same offset.
    pub fn shared() -> Clock {
        static SHARED: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();
        *SHARED.get_or_init(Clock::new)
    }

    /// Appends the RFC 3339 form of `ktime_ns` to `out`.
    pub fn format_into(&self, ktime_ns: u64, out: &mut Vec<u8>) {
        let t = OffsetDateTime::from_unix_timestamp_nanos(self.wall_ns(ktime_ns))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        // Writing into a Vec cannot fail, and every field fits the description.
        let _ = t.format_into(out, RFC3339_NANOS);
    }
}

/// The formatted date and time of the last second seen, so consecutive records only format
/// their nanoseconds.
#[derive(Debug, Default)]
pub struct TsCache {
    sec: Option<i128>,
    /// `2026-11-27T22:41:50.`
    prefix: Vec<u8>,
}

impl Clock {
    /// As `format_into`, reusing the date and time of the previous call within the same second.
    pub fn format_cached(&self, ktime_ns: u64, out: &mut Vec<u8>, cache: &mut TsCache) {
        let wall = self.wall_ns(ktime_ns);
        let sec = wall.div_euclid(1_000_000_000);
        let nanos = wall.rem_euclid(1_000_000_000) as u32;
        if cache.sec != Some(sec) {
            let mut full = Vec::with_capacity(32);
            self.format_into(ktime_ns, &mut full);
            full.truncate(full.len().saturating_sub(10)); // drop "NNNNNNNNNZ"
            cache.prefix = full;
            cache.sec = Some(sec);
        }
        out.extend_from_slice(&cache.prefix);
        let mut digits = [b'0'; 9];
        let mut n = nanos;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b'Z');
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_nine_fraction_digits_in_utc() {
        let c = Clock::with_offset(1_700_000_000_000_000_000);
        let mut out = Vec::new();
        c.format_into(5, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "2023-11-14T22:13:20.000000005Z"
        );
    }

    #[test]
    fn parses_back_what_it_formats() {
        let c = Clock::with_offset(1_700_000_000_000_000_000);
        for k in [5u64, 999_999_999, 86_400_000_000_123] {
            let mut out = Vec::new();
            c.format_into(k, &mut out);
            assert_eq!(c.ktime_of(&String::from_utf8_lossy(&out)), Some(k));
        }
        assert_eq!(c.ktime_of("yesterday"), None);
    }

    #[test]
    fn cached_format_equals_full_format() {
        let c = Clock::with_offset(1_700_000_000_000_000_000);
        let mut cache = TsCache::default();
        for k in [
            5u64,
            999_999_999,
            1_000_000_000,
            1_000_000_001,
            86_400_000_000_123,
            7,
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            c.format_into(k, &mut a);
            c.format_cached(k, &mut b, &mut cache);
            assert_eq!(a, b, "{k}");
        }
    }

    #[test]
    fn live_offset_is_close_to_realtime() {
        let c = Clock::new();
        let mono = now(libc::CLOCK_MONOTONIC) as u64;
        let diff = (c.wall_ns(mono) - now(libc::CLOCK_REALTIME)).abs();
        assert!(diff < 10_000_000, "offset off by {diff} ns");
    }
}
