//! `tracer observe`: arguments, turned into `config::ObserveConfig`.
use std::{path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};

use crate::{
    bpf::Hook,
    config::{self, Format, ObserveConfig, SummaryConfig},
    decode::{escape::Hex, syscalls},
    error::Error,
    model::summary::SortBy,
    runtime::TargetSpec,
};

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
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
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
    #[arg(long, value_enum, default_value_t = SortArg::Time, requires = "summary")]
    pub sort: SortArg,
    /// With --summary: also print the latency histogram of this syscall (text).
    #[arg(long, value_name = "SYSCALL", requires = "summary")]
    pub histogram: Option<String>,
    /// Show what each fd refers to (`3</etc/hosts>`), like strace's -y: from what the trace
    /// showed (opens, dups, closes, forks); /proc only where it cannot contradict the trace.
    #[arg(short = 'y', long)]
    pub fd_paths: bool,
    /// Print every field of the structures strace abbreviates (`stat`, `statx`, `rusage`…):
    /// strace's -v.
    #[arg(long)]
    pub no_abbrev: bool,
    /// Strings in hex: -x those with a byte that is neither printable nor whitespace, -xx all
    /// of them (strace's -x and -xx).
    #[arg(short = 'x', action = clap::ArgAction::Count)]
    pub hex_strings: u8,
    /// Text: show host thread ids in `[pid N]` instead of the container's.
    #[arg(long)]
    pub host_pids: bool,
    /// Bytes of each buffer and argv string shown (strace's -s).
    #[arg(long, short = 's', value_name = "N", default_value_t = config::DEFAULT_STRING_SIZE)]
    pub string_size: u32,
    /// Ring buffer size in bytes (K, M, G suffixes; a power of two, at least one page).
    #[arg(long, value_name = "BYTES", default_value = config::DEFAULT_RING_SIZE)]
    pub ring_size: String,
    /// Kernel hook type (see docs/design.md for the measured costs).
    #[arg(long, value_enum, default_value_t = HookArg::Raw)]
    pub hook: HookArg,
    /// Benchmarks only: attach programs that follow nothing, to measure the hook's floor cost.
    #[arg(long, hide = true)]
    pub follow_nothing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// strace-like lines.
    Text,
    /// One JSON object per line (docs/events.md).
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookArg {
    /// raw_tracepoint/sys_{enter,exit} (default: cheapest, has the registers).
    Raw,
    /// tp_btf/sys_{enter,exit}.
    Btf,
    /// tracepoint/raw_syscalls/sys_{enter,exit} (needs tracefs).
    Tracepoint,
}

impl From<HookArg> for Hook {
    fn from(h: HookArg) -> Hook {
        match h {
            HookArg::Raw => Hook::RawTracepoint,
            HookArg::Btf => Hook::BtfTracepoint,
            HookArg::Tracepoint => Hook::Tracepoint,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Total time, largest first (strace -c's default).
    Time,
    /// Calls, most first.
    Calls,
    /// Errors, most first.
    Errors,
    /// Syscall name.
    Name,
}

impl From<SortArg> for SortBy {
    fn from(s: SortArg) -> SortBy {
        match s {
            SortArg::Time => SortBy::Time,
            SortArg::Calls => SortBy::Calls,
            SortArg::Errors => SortBy::Errors,
            SortArg::Name => SortBy::Name,
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
        let syscalls = config::parse_syscalls("--syscalls", &a.syscalls)?;
        if a.count == Some(0) {
            return Err(Error::Usage(
                "bad --count 0: give a positive number of records".into(),
            ));
        }
        if a.count.is_some() && a.summary && !a.stream {
            return Err(Error::Usage(
                "--count counts streamed records, and --summary without --stream streams none; add --stream, or use --duration".into(),
            ));
        }
        let duration =
            config::check_duration("--duration", a.duration.map(Duration::from), Duration::ZERO)?;
        let ring_size = config::parse_ring_size(&a.ring_size)?;
        let summary = if a.summary {
            let interval = config::check_duration(
                "--interval",
                a.interval.map(Duration::from),
                Duration::from_millis(10),
            )?;
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
                sort: a.sort.into(),
                histogram,
            })
        } else {
            None
        };
        Ok(ObserveConfig {
            target,
            syscalls,
            duration,
            count: a.count,
            format: a.format.into(),
            output: a.output,
            ring_size,
            hook: a.hook.into(),
            follow_nothing: a.follow_nothing,
            string_size: config::check_string_size(a.string_size)?,
            host_pids: a.host_pids,
            fd_paths: a.fd_paths,
            no_abbrev: a.no_abbrev,
            hex: match a.hex_strings {
                0 => Hex::None,
                1 => Hex::NonAscii,
                _ => Hex::All,
            },
            summary,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Result<ObserveConfig, Error> {
        let cli =
            crate::cli::Cli::try_parse_from(["tracer", "observe"].iter().chain(args).copied())
                .map_err(|e| Error::Usage(e.to_string()))?;
        match cli.command {
            crate::cli::Command::Observe(a) => ObserveConfig::try_from(a),
            _ => unreachable!("observe"),
        }
    }

    #[test]
    fn summary_count_needs_stream() {
        let e = parse(&["--container", "web", "--summary", "--count", "5"]).expect_err("refused");
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        assert!(e.to_string().contains("add --stream"), "{e}");
        let c = parse(&[
            "--container",
            "web",
            "--summary",
            "--stream",
            "--count",
            "2",
        ])
        .expect("valid");
        assert_eq!(c.count, Some(2));
        assert!(c.summary.is_some_and(|s| s.stream));
    }

    #[test]
    fn defaults_come_from_config() {
        let c = parse(&["--pid", "7"]).expect("valid");
        assert_eq!(c.string_size, config::DEFAULT_STRING_SIZE);
        assert_eq!(c.ring_size, 8 << 20);
        assert_eq!(c.hook, Hook::RawTracepoint);
        assert_eq!(c.format, Format::Text);
    }
}
