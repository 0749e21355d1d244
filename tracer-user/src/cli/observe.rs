//! `tracer observe`: arguments and their checked form.
use std::{path::PathBuf, str::FromStr, time::Duration};

use clap::{Args, ValueEnum};

use crate::{decode::syscalls, error::Error, summary::SortBy, target::TargetSpec};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(false)))]
pub struct ObserveArgs {
    /// Docker container name or id.
    #[arg(long, group = "target", value_name = "NAME|ID")]
    pub container: Option<String>,
    /// A process: its cgroup (or PID namespace) is followed.
    #[arg(long, group = "target", value_name = "PID")]
    pub pid: Option<u32>,
    /// A cgroup v2 directory, e.g. /sys/fs/cgroup/unified/docker/ID.
    #[arg(long, group = "target", value_name = "PATH")]
    pub cgroup: Option<PathBuf>,
    /// Only these syscalls (comma-separated names, e.g. openat,accept4).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub syscalls: Vec<String>,
    /// Stop after this long (e.g. 10s, 2m, 1h30m).
    #[arg(long, value_name = "DUR")]
    pub duration: Option<humantime::Duration>,
    /// Stop after this many syscall records.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write records to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Count calls, errors and times per syscall in the kernel and print `strace -c` tables
    /// (or `summary` JSON records) instead of one record per syscall.
    #[arg(long)]
    pub summary: bool,
    /// With --summary: stream every syscall as well.
    #[arg(long, requires = "summary")]
    pub stream: bool,
    /// With --summary: a table of what happened in each interval (e.g. 10s), then the totals.
    #[arg(long, value_name = "DUR", requires = "summary")]
    pub interval: Option<humantime::Duration>,
    /// With --summary: row order.
    #[arg(long, value_enum, default_value_t = SortBy::Time, requires = "summary")]
    pub sort: SortBy,
    /// With --summary: also print the latency histogram of this syscall (text).
    #[arg(long, value_name = "SYSCALL", requires = "summary")]
    pub histogram: Option<String>,
    /// Show what each fd refers to (`3</etc/hosts>`), read from /proc when the record is
    /// decoded: best effort, like strace's -y.
    #[arg(short = 'y', long)]
    pub fd_paths: bool,
    /// Text: show host thread ids in `[pid N]` instead of the container's.
    #[arg(long)]
    pub host_pids: bool,
    /// Bytes of each buffer and argv string shown (strace's -s).
    #[arg(long, short = 's', value_name = "N", default_value_t = 32)]
    pub string_size: u32,
    /// Ring buffer size in bytes (K, M, G suffixes; a power of two, at least one page).
    #[arg(long, value_name = "BYTES", default_value = "8M")]
    pub ring_size: String,
    /// Kernel hook type (see docs/design.md for the measured costs).
    #[arg(long, value_enum, default_value_t = Hook::RawTracepoint)]
    pub hook: Hook,
    /// Benchmarks only: attach programs that follow nothing, to measure the hook's floor cost.
    #[arg(long, hide = true)]
    pub follow_nothing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// strace-like lines.
    Text,
    /// One JSON object per line (docs/events.md).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Hook {
    /// raw_tracepoint/sys_{enter,exit} (default: cheapest, has the registers).
    #[value(name = "raw")]
    RawTracepoint,
    /// tp_btf/sys_{enter,exit}.
    #[value(name = "btf")]
    BtfTracepoint,
    /// tracepoint/raw_syscalls/sys_{enter,exit} (needs tracefs).
    #[value(name = "tracepoint")]
    Tracepoint,
}

/// `observe`, checked: the rest of the code never validates again.
#[derive(Debug, Clone)]
pub struct ObserveConfig {
    pub target: TargetSpec,
    /// Syscall numbers to keep; empty means all.
    pub syscalls: Vec<u32>,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub ring_size: u32,
    pub hook: Hook,
    pub follow_nothing: bool,
    pub string_size: u32,
    pub host_pids: bool,
    pub fd_paths: bool,
    pub summary: Option<SummaryConfig>,
}

/// Summary mode, checked.
#[derive(Debug, Clone)]
pub struct SummaryConfig {
    pub stream: bool,
    pub interval: Option<Duration>,
    pub sort: SortBy,
    /// Syscall number whose histogram is printed.
    pub histogram: Option<u32>,
}

impl ObserveConfig {
    /// Every syscall of `target` as JSON lines to `output`, defaults otherwise (the seccomp
    /// commands' recording).
    pub fn json_to_file(target: TargetSpec, output: PathBuf, duration: Option<Duration>) -> Self {
        ObserveConfig {
            target,
            syscalls: Vec::new(),
            duration,
            count: None,
            format: Format::Json,
            output: Some(output),
            ring_size: 8 << 20,
            hook: Hook::RawTracepoint,
            follow_nothing: false,
            string_size: 32,
            host_pids: false,
            fd_paths: false,
            summary: None,
        }
    }
}

impl TryFrom<ObserveArgs> for ObserveConfig {
    type Error = Error;

    fn try_from(a: ObserveArgs) -> Result<Self, Error> {
        let target = match (a.container, a.pid, a.cgroup) {
            (Some(c), None, None) if !c.is_empty() => TargetSpec::Container(c),
            (None, Some(p), None) if p > 0 => TargetSpec::Pid(p),
            (None, None, Some(p)) => TargetSpec::Cgroup(p),
            _ => {
                return Err(Error::Usage(
                    "bad target: give exactly one of --container NAME, --pid PID (> 0), --cgroup PATH"
                        .into(),
                ));
            }
        };
        let mut syscalls = Vec::new();
        for name in a
            .syscalls
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            let nr = syscalls::number(name).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown syscall in --syscalls: {name:?}; use names as in `man 2 syscalls`, e.g. openat,accept4"
                ))
            })?;
            syscalls.push(nr);
        }
        syscalls.sort_unstable();
        syscalls.dedup();
        if a.count == Some(0) {
            return Err(Error::Usage(
                "bad --count 0: give a positive number of records".into(),
            ));
        }
        let duration = a.duration.map(Duration::from);
        if duration == Some(Duration::ZERO) {
            return Err(Error::Usage(
                "bad --duration 0: give a positive duration such as 10s".into(),
            ));
        }
        let ring_size = parse_ring_size(&a.ring_size)?;
        let summary = if a.summary {
            let interval = a.interval.map(Duration::from);
            if interval.is_some_and(|d| d < Duration::from_millis(10)) {
                return Err(Error::Usage(
                    "bad --interval: give at least 10ms, e.g. 1s or 10s".into(),
                ));
            }
            let histogram = match &a.histogram {
                Some(name) => Some(syscalls::number(name).ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown syscall in --histogram: {name:?}; use a name such as openat"
                    ))
                })?),
                None => None,
            };
            Some(SummaryConfig {
                stream: a.stream,
                interval,
                sort: a.sort,
                histogram,
            })
        } else {
            None
        };
        let max = tracer_common::capture::MAX_STRING_SIZE;
        if a.string_size > max {
            return Err(Error::Usage(format!(
                "bad --string-size {}: at most {max} bytes are captured; give a smaller size",
                a.string_size
            )));
        }
        Ok(ObserveConfig {
            target,
            syscalls,
            duration,
            count: a.count,
            format: a.format,
            output: a.output,
            ring_size,
            hook: a.hook,
            follow_nothing: a.follow_nothing,
            string_size: a.string_size,
            host_pids: a.host_pids,
            fd_paths: a.fd_paths,
            summary,
        })
    }
}

/// `--ring-size`: bytes with an optional K/M/G (binary) suffix; the kernel wants a power of two
/// multiple of the page size.
pub fn parse_ring_size(s: &str) -> Result<u32, Error> {
    let bad = |why: &str| {
        Error::Usage(format!(
            "bad --ring-size {s:?}: {why}; give a power of two such as 256K, 8M or 64M"
        ))
    };
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n = u64::from_str(digits).map_err(|_| bad("not a size"))?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(|| bad("too large"))?;
    let page = page_size();
    if bytes < page || !bytes.is_power_of_two() {
        return Err(bad(&format!("not a power of two of at least {page} bytes")));
    }
    u32::try_from(bytes).map_err(|_| bad("at most 2G"))
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(p).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_sizes() {
        assert_eq!(parse_ring_size("8M").ok(), Some(8 << 20));
        assert_eq!(parse_ring_size("256KiB").ok(), Some(256 << 10));
        assert_eq!(parse_ring_size("65536").ok(), Some(65536));
        assert_eq!(parse_ring_size("1G").ok(), Some(1 << 30));
        for bad in ["", "3M", "12", "x", "4G", "99999999999999G", "-1"] {
            let err = parse_ring_size(bad).expect_err(bad);
            assert_eq!(err.exit_code(), crate::error::exit::USAGE);
            assert!(err.to_string().contains("--ring-size"), "{err}");
        }
    }
}
