//! Summary mode (`--summary`): the kernel's aggregates printed as `strace -c` tables or JSON
//! records.
use std::{cmp::Reverse, fmt::Write as _};

use serde_json::{Value, json};
use tracer_common::summary::HIST_BUCKETS;

use crate::decode::{errno, syscalls};
pub use crate::model::summary::{Agg, Report, Snapshot, SortBy, delta};

fn sorted(rows: &Snapshot, by: SortBy) -> Vec<(u32, &Agg)> {
    let mut v: Vec<(u32, &Agg)> = rows.iter().map(|(n, a)| (*n, a)).collect();
    match by {
        SortBy::Time => v.sort_by_key(|(n, a)| (Reverse(a.counts.total_ns), *n)),
        SortBy::Calls => v.sort_by_key(|(n, a)| (Reverse(a.counts.calls), *n)),
        SortBy::Errors => v.sort_by_key(|(n, a)| (Reverse(a.counts.errors), *n)),
        SortBy::Name => v.sort_by_key(|(n, _)| syscalls::display_name(*n)),
    }
    v
}

const RULE: &str = "------ ----------- ----------- --------- --------- ----------------";

fn errors_col(n: u64) -> String {
    if n == 0 { String::new() } else { n.to_string() }
}

/// The columns of `strace -c`.
pub fn table(out: &mut String, r: &Report, by: SortBy) {
    let total_ns: u64 = r.rows.values().map(|a| a.counts.total_ns).sum();
    let calls: u64 = r.rows.values().map(|a| a.counts.calls).sum();
    let errors: u64 = r.rows.values().map(|a| a.counts.errors).sum();
    let _ = writeln!(
        out,
        "% time     seconds  usecs/call     calls    errors syscall"
    );
    let _ = writeln!(out, "{RULE}");
    for (nr, a) in sorted(&r.rows, by) {
        let pct = if total_ns == 0 {
            0.0
        } else {
            a.counts.total_ns as f64 * 100.0 / total_ns as f64
        };
        let per_call = a.counts.total_ns.checked_div(a.counts.timed).unwrap_or(0) / 1000;
        let _ = writeln!(
            out,
            "{pct:6.2} {:11.6} {per_call:11} {:9} {:>9} {}",
            a.counts.total_ns as f64 / 1e9,
            a.counts.calls,
            errors_col(a.counts.errors),
            syscalls::display_name(nr)
        );
    }
    let _ = writeln!(out, "{RULE}");
    let timed: u64 = r.rows.values().map(|a| a.counts.timed).sum();
    let per_call = total_ns.checked_div(timed).unwrap_or(0) / 1000;
    let _ = writeln!(
        out,
        "100.00 {:11.6} {per_call:11} {calls:9} {:>9} total",
        total_ns as f64 / 1e9,
        errors_col(errors)
    );
}

fn bucket_label(b: usize) -> String {
    let fmt = |v: u64| -> String {
        match v {
            v if v >= 1 << 30 => format!("{}G", v >> 30),
            v if v >= 1 << 20 => format!("{}M", v >> 20),
            v if v >= 1 << 10 => format!("{}K", v >> 10),
            v => v.to_string(),
        }
    };
    match b {
        0 => "[0]".into(),
        b if b == HIST_BUCKETS - 1 => format!("[{}, ...)", fmt(1u64 << (b - 1))),
        b => format!("[{}, {})", fmt(1u64 << (b - 1)), fmt(1u64 << b)),
    }
}

/// The log2 latency histogram of one syscall, in nanoseconds.
pub fn histogram(out: &mut String, name: &str, a: &Agg) {
    let _ = writeln!(out, "{name} latency (ns), {} timed calls:", a.counts.timed);
    let max = a.counts.hist.iter().copied().max().unwrap_or(0).max(1);
    let first = a.counts.hist.iter().position(|&n| n > 0);
    let last = a.counts.hist.iter().rposition(|&n| n > 0);
    if let (Some(first), Some(last)) = (first, last) {
        for b in first..=last {
            let n = a.counts.hist[b];
            let bar = "@".repeat((n * 40).div_ceil(max) as usize);
            let _ = writeln!(out, "{:<16} {n:>9} |{bar:<40}|", bucket_label(b));
        }
    }
}

/// The JSON `syscalls` array of a summary record.
pub fn json_rows(rows: &Snapshot) -> Value {
    Value::Array(
        rows.iter()
            .map(|(nr, a)| {
                let errnos: serde_json::Map<String, Value> = a
                    .errnos
                    .iter()
                    .map(|(e, n)| (errno::name(*e as i32), json!(n)))
                    .collect();
                json!({
                    "syscall": syscalls::display_name(*nr),
                    "nr": nr,
                    "calls": a.counts.calls,
                    "errors": a.counts.errors,
                    "errnos": errnos,
                    "total_ns": a.counts.total_ns,
                    "min_ns": (a.counts.timed > 0).then_some(a.counts.min_ns),
                    "max_ns": (a.counts.timed > 0).then_some(a.counts.max_ns),
                    "timed": a.counts.timed,
                    "hist": a.counts.hist.to_vec(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracer_common::summary::{SummaryValue, bucket};

    fn agg(calls: u64, errors: u64, total_ns: u64) -> Agg {
        let mut v = SummaryValue::EMPTY;
        v.calls = calls;
        v.errors = errors;
        v.total_ns = total_ns;
        v.timed = calls;
        v.min_ns = 10;
        v.max_ns = 1000;
        v.hist[bucket(100)] = calls;
        let mut a = Agg::default();
        a.add(&v);
        if errors > 0 {
            a.errnos.insert(2, errors);
        }
        a
    }

    #[test]
    fn deltas_add_up_to_totals() {
        let first: Snapshot = [(110, agg(5, 0, 500))].into();
        let second: Snapshot = [(110, agg(12, 0, 1300)), (257, agg(4, 4, 400))].into();
        let d = delta(&second, &first);
        assert_eq!(d[&110].counts.calls, 7);
        assert_eq!(d[&110].counts.total_ns, 800);
        assert_eq!(d[&110].counts.hist[bucket(100)], 7);
        assert_eq!(d[&257].errnos[&2], 4);
        assert_eq!(
            first[&110].counts.calls + d[&110].counts.calls,
            second[&110].counts.calls
        );
        assert!(delta(&second, &second).is_empty(), "no calls, no rows");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn strace_c_table() {
        let r = Report {
            start_ktime: 0,
            end_ktime: 1,
            total: true,
            rows: [(110, agg(1000, 0, 300_000)), (257, agg(500, 500, 700_000))].into(),
        };
        let mut s = String::new();
        table(&mut s, &r, SortBy::Time);
        assert_eq!(
            s,
            "% time     seconds  usecs/call     calls    errors syscall\n\
             ------ ----------- ----------- --------- --------- ----------------\n\
             \x2070.00    0.000700           1       500       500 openat\n\
             \x2030.00    0.000300           0      1000           getppid\n\
             ------ ----------- ----------- --------- --------- ----------------\n\
             100.00    0.001000           0      1500       500 total\n"
        );
        let mut by_name = String::new();
        table(&mut by_name, &r, SortBy::Name);
        assert!(by_name.find("getppid") < by_name.find("openat"));
        let mut h = String::new();
        histogram(&mut h, "getppid", &r.rows[&110]);
        assert!(
            h.contains("[64, 128)             1000 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"),
            "{h}"
        );
        let j = json_rows(&r.rows);
        assert_eq!(j[1]["errnos"]["ENOENT"], 500);
        assert_eq!(j[0]["hist"].as_array().map(Vec::len), Some(HIST_BUCKETS));
    }
}
