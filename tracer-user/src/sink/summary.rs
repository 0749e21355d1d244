//! Summary mode (`--summary`): the kernel's aggregates printed as `strace -c` tables or JSON
//! records.
use std::{cmp::Reverse, fmt::Write as _};

use serde_json::{Value, json};
use tracer_common::summary::HIST_BUCKETS;

use crate::decode::{errno, syscalls};
pub use crate::model::summary::{Agg, Column, Report, Snapshot, SortBy, delta};

fn sorted(rows: &Snapshot, by: SortBy) -> Vec<(u32, &Agg)> {
    let mut v: Vec<(u32, &Agg)> = rows.iter().map(|(n, a)| (*n, a)).collect();
    match by {
        SortBy::Time => v.sort_by_key(|(n, a)| (Reverse(a.counts.total_ns), *n)),
        SortBy::Calls => v.sort_by_key(|(n, a)| (Reverse(a.counts.calls), *n)),
        SortBy::Errors => v.sort_by_key(|(n, a)| (Reverse(a.counts.errors), *n)),
        SortBy::Name => v.sort_by_key(|(n, _)| syscalls::display_name(*n)),
        SortBy::MinTime => v.sort_by_key(|(n, a)| (Reverse(min_ns(a)), *n)),
        SortBy::MaxTime => v.sort_by_key(|(n, a)| (Reverse(a.counts.max_ns), *n)),
        SortBy::AvgTime => v.sort_by_key(|(n, a)| (Reverse(avg_ns(a)), *n)),
        SortBy::Nothing => {}
    }
    v
}

/// The shortest timed call (0 when none was timed).
fn min_ns(a: &Agg) -> u64 {
    if a.counts.min_ns == u64::MAX {
        0
    } else {
        a.counts.min_ns
    }
}

fn avg_ns(a: &Agg) -> u64 {
    a.counts.total_ns.checked_div(a.counts.timed).unwrap_or(0)
}

fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

fn errors_col(n: u64) -> String {
    if n == 0 { String::new() } else { n.to_string() }
}

/// The columns of `strace -c`.
pub fn table(out: &mut String, r: &Report, by: SortBy) {
    table_with(out, r, by, &Column::DEFAULT);
}

/// strace 6.1's table (its `count.c` `call_summary_pers`) with `columns` (`-U`): each column
/// as wide as its header or its widest value, names left-aligned, the last column unpadded.
pub fn table_with(out: &mut String, r: &Report, by: SortBy, columns: &[Column]) {
    let rows = sorted(&r.rows, by);
    let total_ns: u64 = r.rows.values().map(|a| a.counts.total_ns).sum();
    let calls: u64 = r.rows.values().map(|a| a.counts.calls).sum();
    let errors: u64 = r.rows.values().map(|a| a.counts.errors).sum();
    let timed: u64 = r.rows.values().map(|a| a.counts.timed).sum();
    let min_all = r.rows.values().map(min_ns).min().unwrap_or(0);
    let min_max = r.rows.values().map(min_ns).max().unwrap_or(0);
    let max_all = r.rows.values().map(|a| a.counts.max_ns).max().unwrap_or(0);
    let avg_max = r.rows.values().map(avg_ns).max().unwrap_or(0);
    let name_max = rows
        .iter()
        .map(|(n, _)| syscalls::display_name(*n).len())
        .max()
        .unwrap_or(0);
    let width = |c: Column| match c {
        Column::TimePercent => 6,
        Column::TotalTime => secs(total_ns).len().max(11),
        Column::MinTime => format!("{}.000000", min_max / 1_000_000_000).len().max(8),
        Column::MaxTime => format!("{}.000000", max_all / 1_000_000_000).len().max(7),
        Column::AvgTime => (avg_max / 1000).to_string().len().max(11),
        Column::Calls => calls.to_string().len().max(9),
        Column::Errors => errors.to_string().len().max(9),
        Column::Name => (name_max + 1).max(16),
    };
    let header = |c: Column| match c {
        Column::TimePercent => "% time",
        Column::TotalTime => "seconds",
        Column::MinTime => "shortest",
        Column::MaxTime => "longest",
        Column::AvgTime => "usecs/call",
        Column::Calls => "calls",
        Column::Errors => "errors",
        Column::Name => "syscall",
    };
    let last = columns.len().saturating_sub(1);
    let line = |out: &mut String, cell: &dyn Fn(Column) -> String| {
        for (i, &c) in columns.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let text = cell(c);
            let w = width(c);
            let _ = match (c, i == last) {
                (Column::Name, true) => write!(out, "{text}"),
                (Column::Name, false) => write!(out, "{text:<w$}"),
                _ => write!(out, "{text:>w$}"),
            };
        }
        out.push('\n');
    };
    let rule = |out: &mut String| {
        let dashes: Vec<String> = columns.iter().map(|&c| "-".repeat(width(c))).collect();
        let _ = writeln!(out, "{}", dashes.join(" "));
    };
    line(out, &|c| header(c).to_string());
    rule(out);
    for (nr, a) in &rows {
        let pct = if total_ns == 0 {
            0.0
        } else {
            a.counts.total_ns as f64 * 100.0 / total_ns as f64
        };
        line(out, &|c| match c {
            Column::TimePercent => format!("{pct:.2}"),
            Column::TotalTime => secs(a.counts.total_ns),
            Column::MinTime => secs(min_ns(a)),
            Column::MaxTime => secs(a.counts.max_ns),
            Column::AvgTime => (avg_ns(a) / 1000).to_string(),
            Column::Calls => a.counts.calls.to_string(),
            Column::Errors => errors_col(a.counts.errors),
            Column::Name => syscalls::display_name(*nr).to_string(),
        });
    }
    rule(out);
    line(out, &|c| match c {
        Column::TimePercent => "100.00".into(),
        Column::TotalTime => secs(total_ns),
        Column::MinTime => secs(min_all),
        Column::MaxTime => secs(max_all),
        Column::AvgTime => (total_ns.checked_div(timed).unwrap_or(0) / 1000).to_string(),
        Column::Calls => calls.to_string(),
        Column::Errors => errors_col(errors),
        Column::Name => "total".into(),
    });
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
        let mut cols = String::new();
        table_with(
            &mut cols,
            &r,
            SortBy::MaxTime,
            &[
                Column::Calls,
                Column::MaxTime,
                Column::MinTime,
                Column::Name,
            ],
        );
        assert_eq!(
            cols,
            "    calls  longest shortest syscall\n\
             --------- -------- -------- ----------------\n\
             \x20    1000 0.000001 0.000000 getppid\n\
             \x20     500 0.000001 0.000000 openat\n\
             --------- -------- -------- ----------------\n\
             \x20    1500 0.000001 0.000000 total\n",
            "{cols}"
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
