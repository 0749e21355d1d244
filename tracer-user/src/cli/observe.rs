//! `tracer observe`: arguments, turned into `config::ObserveConfig`.
use std::{path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};

use crate::{
    bpf::Hook,
    config::{self, Format, ObserveConfig, SummaryConfig},
    decode::{escape::Hex, syscalls},
    error::Error,
    filter::{Status, StatusSet, signal::SignalSet},
    model::summary::SortBy,
    runtime::{PodSpec, TargetSpec},
    sink::text::Stamps,
};

#[derive(Debug, Args)]
// One target; --container, --pod and --selector narrow one another (a pod's container).
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true)))]
pub struct ObserveArgs {
    /// Container name or id, on Docker, podman, containerd or CRI (whichever has it; see
    /// --runtime). With --pod or --selector: the Kubernetes name of one of the pod's
    /// containers.
    #[arg(long, group = "target", value_name = "NAME|ID")]
    pub container: Option<String>,
    /// A Kubernetes pod by name, through CRI (containerd's or CRI-O's socket): its one
    /// container, or the one --container names.
    #[arg(long, group = "target", value_name = "NAME")]
    pub pod: Option<String>,
    /// With --pod or --selector: the pod's Kubernetes namespace. Default: every namespace.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Pods whose labels include LABEL=VALUE (commas or repeats: all of them), through CRI; the match
    /// must be one container (narrow it with --pod, --namespace or --container).
    #[arg(long, group = "target", value_name = "LABEL=VALUE")]
    pub selector: Vec<String>,
    /// The engine that runs --container: docker (DOCKER_HOST), podman (CONTAINER_HOST),
    /// containerd (CONTAINERD_ADDRESS; every namespace, or CONTAINERD_NAMESPACE) or cri
    /// (CONTAINER_RUNTIME_ENDPOINT; the only one for --pod and --selector). Default: every
    /// engine whose socket exists is asked, and the name must be on one only.
    #[arg(long, value_name = "ENGINE")]
    pub runtime: Option<crate::model::Runtime>,
    /// strace's -p: these processes (host pids; comma-separated or repeated), their threads
    /// and every process they create from now on, and nothing else of their container.
    /// `[pid N]` shows host pids.
    #[arg(
        short = 'p',
        long = "attach",
        group = "target",
        value_name = "PID",
        value_delimiter = ',',
        conflicts_with_all = ["container", "pod", "selector", "pid", "old_pid", "cgroup"]
    )]
    pub attach: Vec<u32>,
    /// Everything in the container (cgroup, or PID namespace) of process PID: what the
    /// container does, not only that process (for that, -p).
    #[arg(
        long = "container-of",
        group = "target",
        value_name = "PID",
        conflicts_with_all = ["container", "pod", "selector", "old_pid", "cgroup"]
    )]
    pub pid: Option<u32>,
    /// Renamed: --container-of PID (its whole container) or -p PID (that process).
    #[arg(
        long = "pid",
        group = "target",
        hide = true,
        value_name = "PID",
        conflicts_with_all = ["container", "pod", "selector", "cgroup"]
    )]
    pub old_pid: Option<String>,
    /// A cgroup v2 directory, e.g. /sys/fs/cgroup/unified/docker/ID.
    #[arg(
        long,
        group = "target",
        value_name = "PATH",
        conflicts_with_all = ["container", "pod", "selector"]
    )]
    pub cgroup: Option<PathBuf>,
    /// Only the syscalls in SET, strace's `-e trace=` syntax: names (openat,accept4),
    /// %classes (%file, %network, %process…), /regex, ! first to negate the set, ?name, all,
    /// none (docs/cli.md). Given again (or with -e trace=), the last one counts, as in strace.
    #[arg(long, visible_alias = "trace", value_name = "SET")]
    pub syscalls: Vec<String>,
    /// strace's -e: `-e trace=SET` or `-e SET` is --syscalls SET, `-e status=SET` is --status
    /// SET, `-e signal=SET` is --signals SET; strace's other qualifiers (read=, write=…) are not
    /// supported yet.
    #[arg(short = 'e', value_name = "EXPR")]
    pub expr: Vec<String>,
    /// Only calls whose status is in SET, strace's `-e status=`: successful, failed (an errno,
    /// restarts included), unfinished (never returned: exit_group, or still running at the
    /// end), unavailable, detached (tracer has neither), all, none; ! first negates. The last
    /// of --status, -e status=, -z and -Z counts. Not applied to --summary's counts.
    #[arg(long, value_name = "SET")]
    pub status: Vec<String>,
    /// Only the signals in SET, strace's `-e signal=`: their deliveries (`--- SIGUSR1 {...} ---`)
    /// and deaths by them (`+++ killed by SIGKILL +++`). Names with or without SIG, numbers,
    /// all, none; ! first negates. The last of --signals and -e signal= counts. Default: all.
    #[arg(long, value_name = "SET")]
    pub signals: Vec<String>,
    /// Only calls that returned without an error: --status successful (strace's -z).
    #[arg(short = 'z', long, action = clap::ArgAction::Count)]
    pub successful_only: u8,
    /// Only calls that returned an error: --status failed (strace's -Z).
    #[arg(short = 'Z', long, visible_alias = "failing-only", action = clap::ArgAction::Count)]
    pub failed_only: u8,
    /// Where each --syscalls, -e, --status, -z and -Z was on the command line
    /// (`Cli::parse_args`): the last syscall set, and the last status set, count. Empty when
    /// parsed without them: -e then counts as later, then -z, -Z.
    #[arg(skip)]
    pub positions: Positions,
    /// strace's -f, accepted: the children of what is traced are always followed. strace's
    /// -ff (a file per process) is not supported.
    #[arg(short = 'f', action = clap::ArgAction::Count)]
    pub follow_forks: u8,
    /// Text: the time spent in each call after it, strace's -T (`<0.000012>`).
    #[arg(short = 'T', long = "syscall-times")]
    pub syscall_times: bool,
    /// Quieter, strace's -q: -q leaves out the "tracing …" and closing lines on stderr
    /// (losses are still reported), -qq also the `+++ exited with N +++` lines.
    #[arg(short = 'q', action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// strace's -P: only the calls that touch PATH (a path argument that is PATH, or an fd
    /// argument that refers to it); given again, any of them. PATH as the traced process
    /// names it (inside a container: the container's path).
    #[arg(short = 'P', long = "trace-path", value_name = "PATH")]
    pub trace_path: Vec<PathBuf>,
    /// Leave out the calls of processes with these names (comm, as `ps -o comm` shows it;
    /// comma-separated or repeated), e.g. runc:[2:INIT] for the runtime's set-up in a
    /// `docker exec`.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub exclude_comm: Vec<String>,
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
    /// Also send every record as an OpenTelemetry log record over OTLP/gRPC to this receiver
    /// (http://HOST:PORT, e.g. http://127.0.0.1:4317; a bare port means 127.0.0.1); a receiver
    /// that is down or slow never holds up the output, the records it misses are counted
    /// (docs/otlp.md).
    #[arg(long, value_name = "ENDPOINT")]
    pub otlp: Option<String>,
    /// Count calls, errors and times per syscall in the kernel and print `strace -c` tables
    /// (or `summary` JSON records) instead of one record per syscall (strace's -c,
    /// --summary-only).
    #[arg(
        short = 'c',
        long,
        visible_alias = "summary-only",
        group = "summary_mode"
    )]
    pub summary: bool,
    /// --summary --stream: the table and every call, strace's -C.
    #[arg(short = 'C', long = "summary-and-stream", group = "summary_mode")]
    pub summary_and_stream: bool,
    /// With --summary: stream every syscall as well.
    #[arg(long, requires = "summary_mode")]
    pub stream: bool,
    /// With --summary: a table of what happened in each interval (e.g. 10s), then the totals.
    #[arg(long, value_name = "DUR", requires = "summary_mode")]
    pub interval: Option<humantime::Duration>,
    /// With --summary: row order (strace's -S; its names are accepted too).
    #[arg(
        short = 'S',
        long,
        value_enum,
        default_value_t = SortArg::Time,
        requires = "summary_mode"
    )]
    pub sort: SortArg,
    /// With --summary: the table's columns, strace's -U (time-percent, total-time, min-time,
    /// max-time, avg-time, calls, errors, name and strace's other spellings; name is always
    /// shown).
    #[arg(
        short = 'U',
        long = "summary-columns",
        value_name = "COLUMNS",
        requires = "summary_mode"
    )]
    pub summary_columns: Option<String>,
    /// With --summary: also print the latency histogram of this syscall (text).
    #[arg(long, value_name = "SYSCALL", requires = "summary_mode")]
    pub histogram: Option<String>,
    /// Benchmarks only: keep summary aggregates in the hash keyed by target and syscall (as the
    /// daemon's targets need) instead of the array by syscall number.
    #[arg(long, hide = true, requires = "summary_mode")]
    pub summary_by_key: bool,
    /// Show what each fd refers to (`3</etc/hosts>`), like strace's -y: from what the trace
    /// showed (opens, dups, closes, forks); /proc only where it cannot contradict the trace.
    /// Twice (-yy): sockets as strace -yy shows them (`TCP:[127.0.0.1:80->127.0.0.1:51234]`,
    /// `UNIX-STREAM:[ino->peer,"path"]`) and device files with their numbers.
    #[arg(short = 'y', long, action = clap::ArgAction::Count)]
    pub fd_paths: u8,
    /// Print the caller's user stack after each call, like strace's -k: the kernel walks the
    /// frame pointers (up to 32 frames); symbols from the process's binaries.
    #[arg(short = 'k', long)]
    pub stack: bool,
    /// Print every field of the structures strace abbreviates (`stat`, `statx`, `rusage`…):
    /// strace's -v.
    #[arg(long)]
    pub no_abbrev: bool,
    /// Strings in hex: -x those with a byte that is neither printable nor whitespace, -xx all
    /// of them (strace's -x and -xx).
    #[arg(short = 'x', action = clap::ArgAction::Count)]
    pub hex_strings: u8,
    /// Text: the time of each call's entry before it, strace's -t (`16:05:06`), -tt (with
    /// microseconds), -ttt (seconds since the epoch).
    #[arg(short = 't', action = clap::ArgAction::Count, conflicts_with = "relative_timestamps")]
    pub timestamps: u8,
    /// Text: the time since the previous call's entry before each call, strace's -r.
    #[arg(short = 'r', long = "relative-timestamps")]
    pub relative_timestamps: bool,
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
    /// Report each call from its exit alone: no program on sys_enter, so every syscall of the
    /// host runs one program instead of two, and a followed call writes one record. Calls
    /// have no duration, and the calls whose record needs their entry are left out (execve,
    /// accept4, recvfrom, select, poll, sendfile…: docs/design.md); -T, -t, -r and --summary
    /// need it too.
    #[arg(long)]
    pub exit_only: bool,
}

/// Command-line positions of the syscall-set options' values.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    pub syscalls: Vec<usize>,
    pub expr: Vec<usize>,
    pub status: Vec<usize>,
    pub signals: Vec<usize>,
    pub successful_only: Vec<usize>,
    pub failed_only: Vec<usize>,
}

impl Positions {
    /// From the `observe` subcommand's matches.
    pub fn of(m: &clap::ArgMatches) -> Positions {
        let at = |id: &str| m.indices_of(id).map(|i| i.collect()).unwrap_or_default();
        Positions {
            syscalls: at("syscalls"),
            expr: at("expr"),
            status: at("status"),
            signals: at("signals"),
            successful_only: at("successful_only"),
            failed_only: at("failed_only"),
        }
    }
}

/// The syscall set: every -e checked (an unsupported qualifier is an error even when a later
/// set replaces it), then the last set given, by --syscalls/--trace or -e, counts.
fn syscall_set(a: &ObserveArgs) -> Result<Vec<u32>, Error> {
    use config::syscall_set::{Qualifier, qualifier};
    // (position, option name, set)
    let mut sets: Vec<(usize, &str, &str)> = Vec::new();
    for (i, s) in a.syscalls.iter().enumerate() {
        sets.push((
            a.positions.syscalls.get(i).copied().unwrap_or(0),
            "--syscalls",
            s,
        ));
    }
    for (i, e) in a.expr.iter().enumerate() {
        let at = a
            .positions
            .expr
            .get(i)
            .copied()
            .unwrap_or(usize::MAX - a.expr.len() + i);
        match qualifier(e)? {
            Qualifier::Trace(set) => sets.push((at, "-e trace", set)),
            Qualifier::Status(_) | Qualifier::Signal(_) => {}
        }
    }
    match sets.iter().max_by_key(|(at, ..)| *at) {
        Some((_, what, set)) => config::syscall_set::parse_set(what, set),
        None => Ok(Vec::new()),
    }
}

/// The status set: every one checked (a bad value is an error even when a later one
/// replaces it, as strace parses each at once), then the last of --status, -e status=, -z,
/// -Z counts (strace clears the set at each); none: all.
fn status_set(a: &ObserveArgs) -> Result<StatusSet, Error> {
    use config::syscall_set::{Qualifier, qualifier};
    let mut last: Option<(usize, StatusSet)> = None;
    let mut note = |at: usize, set: StatusSet| {
        if last.is_none_or(|(l, _)| at >= l) {
            last = Some((at, set));
        }
    };
    for (i, s) in a.status.iter().enumerate() {
        let at = a.positions.status.get(i).copied().unwrap_or(0);
        note(at, config::status::parse("--status", s)?);
    }
    for (i, e) in a.expr.iter().enumerate() {
        if let Qualifier::Status(s) = qualifier(e)? {
            let at = a.positions.expr.get(i).copied().unwrap_or(usize::MAX - 2);
            note(at, config::status::parse("-e status", s)?);
        }
    }
    let only = |s: Status| StatusSet::NONE.with(s);
    for (at, n, s) in [
        (
            &a.positions.successful_only,
            a.successful_only,
            Status::Successful,
        ),
        (&a.positions.failed_only, a.failed_only, Status::Failed),
    ] {
        if n > 0 {
            let fallback = usize::MAX - 1 + usize::from(s == Status::Failed);
            note(at.last().copied().unwrap_or(fallback), only(s));
        }
    }
    Ok(last.map_or(StatusSet::ALL, |(_, s)| s))
}

/// The signal set: every one checked, then the last of --signals and -e signal= counts (strace
/// clears the set at each); none: all.
fn signal_set(a: &ObserveArgs) -> Result<SignalSet, Error> {
    use config::syscall_set::{Qualifier, qualifier};
    let mut last: Option<(usize, SignalSet)> = None;
    let mut note = |at: usize, set: SignalSet| {
        if last.is_none_or(|(l, _)| at >= l) {
            last = Some((at, set));
        }
    };
    for (i, s) in a.signals.iter().enumerate() {
        let at = a.positions.signals.get(i).copied().unwrap_or(0);
        note(at, config::signal_set::parse("--signals", s)?);
    }
    for (i, e) in a.expr.iter().enumerate() {
        if let Qualifier::Signal(s) = qualifier(e)? {
            let at = a.positions.expr.get(i).copied().unwrap_or(usize::MAX);
            note(at, config::signal_set::parse("-e signal", s)?);
        }
    }
    Ok(last.map_or(SignalSet::ALL, |(_, s)| s))
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
    #[value(aliases = ["total_time", "total-time", "time_total", "time-total", "time_percent", "time-percent"])]
    Time,
    /// Calls, most first.
    #[value(alias = "count")]
    Calls,
    /// Errors, most first.
    #[value(alias = "error")]
    Errors,
    /// Syscall name.
    #[value(aliases = ["syscall", "syscall_name", "syscall-name"])]
    Name,
    /// Shortest call, longest first.
    #[value(aliases = ["min_time", "shortest", "time_min", "time-min"])]
    MinTime,
    /// Longest call, longest first.
    #[value(aliases = ["max_time", "longest", "time_max", "time-max"])]
    MaxTime,
    /// Average time per call, largest first.
    #[value(aliases = ["avg_time", "time_avg", "time-avg"])]
    AvgTime,
    /// Syscall number order.
    #[value(alias = "none")]
    Nothing,
}

impl From<SortArg> for SortBy {
    fn from(s: SortArg) -> SortBy {
        match s {
            SortArg::Time => SortBy::Time,
            SortArg::Calls => SortBy::Calls,
            SortArg::Errors => SortBy::Errors,
            SortArg::Name => SortBy::Name,
            SortArg::MinTime => SortBy::MinTime,
            SortArg::MaxTime => SortBy::MaxTime,
            SortArg::AvgTime => SortBy::AvgTime,
            SortArg::Nothing => SortBy::Nothing,
        }
    }
}

/// The target of `observe` and `record`: exactly one of --container, -p, --container-of,
/// --cgroup.
pub fn target_spec(a: &ObserveArgs) -> Result<TargetSpec, Error> {
    if let Some(p) = &a.old_pid {
        return Err(Error::Usage(format!(
            "--pid was renamed: --container-of {p} traces everything in that process's container, -p {p} only that process and its children"
        )));
    }
    if a.pod.is_some() || !a.selector.is_empty() {
        return pod_spec(a);
    }
    if a.namespace.is_some() {
        return Err(Error::Usage(
            "--namespace is a pod's Kubernetes namespace: give it with --pod NAME or --selector LABEL=VALUE (containerd's namespaces: CONTAINERD_NAMESPACE)".into(),
        ));
    }
    if a.runtime.is_some() && a.container.is_none() {
        return Err(Error::Usage(
            "--runtime chooses the engine of --container NAME: give --container too".into(),
        ));
    }
    Ok(match (&a.container, a.pid, &a.cgroup) {
        _ if !a.attach.is_empty() => {
            if a.attach.contains(&0) {
                return Err(Error::Usage(
                    "bad -p 0: give the pid of a running process (pgrep, docker top)".into(),
                ));
            }
            let mut pids = a.attach.clone();
            pids.sort_unstable();
            pids.dedup();
            TargetSpec::Processes(pids)
        }
        (Some(c), None, None) if !c.is_empty() => TargetSpec::Container {
            name: c.clone(),
            runtime: a.runtime,
        },
        (None, Some(p), None) if p > 0 => TargetSpec::Pid(p),
        (None, None, Some(p)) => TargetSpec::Cgroup(p.clone()),
        _ => {
            return Err(Error::Usage(
                "bad target: give exactly one of --container NAME, -p PID, --container-of PID (> 0), --cgroup PATH"
                    .into(),
            ));
        }
    })
}

/// `--pod`/`--selector`: a pod's container, through CRI.
fn pod_spec(a: &ObserveArgs) -> Result<TargetSpec, Error> {
    if let Some(r) = a.runtime.filter(|r| *r != crate::model::Runtime::Cri) {
        return Err(Error::Usage(format!(
            "--runtime {r} has no pods: --pod and --selector are found through CRI (--runtime cri, or no --runtime)"
        )));
    }
    let mut selector = Vec::new();
    for s in &a.selector {
        selector.extend(crate::config::parse_selector("--selector", s)?);
    }
    if a.pod.as_deref() == Some("") {
        return Err(Error::Usage("bad --pod \"\": give a pod's name".into()));
    }
    Ok(TargetSpec::Pod(PodSpec {
        pod: a.pod.clone(),
        namespace: a.namespace.clone(),
        selector,
        container: a.container.clone(),
    }))
}

/// Whether any target option was given (`show` takes its target from the recording).
pub fn has_target(a: &ObserveArgs) -> bool {
    a.container.is_some()
        || a.pod.is_some()
        || !a.selector.is_empty()
        || !a.attach.is_empty()
        || a.pid.is_some()
        || a.old_pid.is_some()
        || a.cgroup.is_some()
}

impl TryFrom<ObserveArgs> for ObserveConfig {
    type Error = Error;

    fn try_from(a: ObserveArgs) -> Result<Self, Error> {
        let target = target_spec(&a)?;
        config_for(a, target)
    }
}

/// Everything but the target, checked: `observe`'s, `record`'s and `show`'s options.
pub fn config_for(a: ObserveArgs, target: TargetSpec) -> Result<ObserveConfig, Error> {
    let syscalls = syscall_set(&a)?;
    let status = status_set(&a)?;
    let signals = signal_set(&a)?;
    if a.fd_paths > 2 {
        return Err(Error::Usage(
            "-yyy is not an option: -y shows what each fd refers to, -yy adds sockets' addresses and devices' numbers".into(),
        ));
    }
    if a.follow_forks > 1 {
        return Err(Error::Usage(
            "-ff (one output file per process) is not supported; use -f (children are always followed) and --format json, whose records carry tid and tgid".into(),
        ));
    }
    if a.count == Some(0) {
        return Err(Error::Usage(
            "bad --count 0: give a positive number of records".into(),
        ));
    }
    if !a.trace_path.is_empty() && (a.summary || a.summary_and_stream) {
        return Err(Error::Usage(
            "-P with --summary: the summary is counted in the kernel, which knows no paths; leave out -P, or stream with -P and no --summary".into(),
        ));
    }
    if a.count.is_some() && a.summary && !a.stream && !a.summary_and_stream {
        return Err(Error::Usage(
            "--count counts streamed records, and --summary without --stream streams none; add --stream, or use --duration".into(),
        ));
    }
    if a.otlp.is_some() && a.summary && !a.stream {
        return Err(Error::Usage(
            "--otlp exports records, and --summary without --stream writes none; add --stream (or use -C), or leave out --otlp".into(),
        ));
    }
    let otlp = match &a.otlp {
        Some(e) => Some(config::parse_otlp(e)?),
        None => None,
    };
    let (syscalls, left_out) = if a.exit_only {
        exit_only(&a, syscalls)?
    } else {
        (syscalls, Vec::new())
    };
    let duration =
        config::check_duration("--duration", a.duration.map(Duration::from), Duration::ZERO)?;
    let ring_size = config::parse_ring_size(&a.ring_size)?;
    let summary = if a.summary || a.summary_and_stream {
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
            columns: match &a.summary_columns {
                Some(c) => config::parse_columns(c)?,
                None => crate::model::summary::Column::DEFAULT.to_vec(),
            },
            stream: a.stream || a.summary_and_stream,
            interval,
            sort: a.sort.into(),
            histogram,
            by_key: a.summary_by_key,
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
        fd_paths: a.fd_paths > 0,
        fd_details: a.fd_paths > 1,
        stack: a.stack,
        no_abbrev: a.no_abbrev,
        hex: match a.hex_strings {
            0 => Hex::None,
            1 => Hex::NonAscii,
            _ => Hex::All,
        },
        stamps: match (a.timestamps, a.relative_timestamps) {
            (_, true) => Stamps::Relative,
            (0, false) => Stamps::None,
            (1, false) => Stamps::Seconds,
            (2, false) => Stamps::Micros,
            _ => Stamps::Epoch,
        },
        status,
        signals,
        summary,
        syscall_times: a.syscall_times,
        quiet: a.quiet,
        exclude_comm: a.exclude_comm,
        trace_paths: a.trace_path,
        otlp,
        exit_only: a.exit_only,
        left_out,
    })
}

/// `--exit-only`: the options that need each call's entry are refused, and the calls whose
/// record needs it leave the syscall set (all calls when none was given). Returns the set and
/// the calls left out of it.
fn exit_only(a: &ObserveArgs, asked: Vec<u32>) -> Result<(Vec<u32>, Vec<u32>), Error> {
    let needs = |what: &str| {
        Err(Error::Usage(format!(
            "{what} with --exit-only: it needs each call's entry, which --exit-only does not trace; leave out one of them"
        )))
    };
    if a.syscall_times {
        return needs("-T (each call's time)");
    }
    if a.timestamps > 0 || a.relative_timestamps {
        return needs("-t/-r (each call's entry time)");
    }
    if a.summary || a.summary_and_stream {
        return needs("--summary (it times each call)");
    }
    if a.hook == HookArg::Tracepoint {
        return Err(Error::Usage(
            "--exit-only with --hook tracepoint: the classic tracepoint's exit has no registers to read the arguments from; use --hook raw or btf".into(),
        ));
    }
    config::exit_only_set(asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ObserveConfig, Error> {
        let cli = crate::cli::Cli::parse_args(["tracer", "observe"].iter().chain(args).copied())
            .map_err(|e| Error::Usage(crate::cli::one_line(&e)))?;
        match cli.command {
            crate::cli::Command::Observe(a) => ObserveConfig::try_from(*a),
            _ => unreachable!("observe"),
        }
    }

    #[test]
    fn exit_only_keeps_the_calls_that_read_the_same_at_exit() {
        let names = |v: &[u32]| -> Vec<String> {
            let mut n: Vec<String> = v
                .iter()
                .map(|&x| syscalls::display_name(x).into())
                .collect();
            n.sort();
            n
        };
        let c =
            parse(&["-p", "1", "--exit-only", "-e", "trace=openat,accept4,write"]).expect("valid");
        assert!(c.exit_only);
        assert_eq!(names(&c.syscalls), ["openat", "write"]);
        assert_eq!(names(&c.left_out), ["accept4"]);
        // No set given: every number but the calls that need the entry.
        let all = parse(&["-p", "1", "--exit-only"]).expect("valid");
        let needing = (0..tracer_common::config::MAX_SYSCALL_NR)
            .filter(|&nr| crate::decode::capture_spec::needs_enter(nr))
            .count();
        assert_eq!(all.left_out.len(), needing);
        assert_eq!(
            all.syscalls.len() + needing,
            tracer_common::config::MAX_SYSCALL_NR as usize
        );
        assert!(!all.syscalls.contains(&59) && all.syscalls.contains(&257));
        let plain = parse(&["-p", "1"]).expect("valid");
        assert!(!plain.exit_only && plain.syscalls.is_empty() && plain.left_out.is_empty());
    }

    #[test]
    fn exit_only_refuses_what_needs_the_entry() {
        let err = |args: &[&str]| {
            let mut a = vec!["-p", "1", "--exit-only"];
            a.extend_from_slice(args);
            match parse(&a) {
                Err(Error::Usage(m)) => m,
                other => panic!("{args:?}: {other:?}"),
            }
        };
        assert!(err(&["-T"]).starts_with("-T (each call's time) with --exit-only"));
        assert!(err(&["-tt"]).starts_with("-t/-r"));
        assert!(err(&["-r"]).starts_with("-t/-r"));
        assert!(err(&["-c"]).starts_with("--summary"));
        assert!(err(&["--hook", "tracepoint"]).contains("use --hook raw or btf"));
        assert_eq!(
            err(&["-e", "trace=execve,execveat"]),
            "--exit-only cannot show execve, execveat: a record of them needs the call's entry (sys_enter); leave out --exit-only"
        );
        // exit_group has no exit: it is read as the task ends.
        let c = parse(&["-p", "1", "--exit-only", "-e", "trace=execve,exit_group"]);
        assert_eq!(c.expect("valid").syscalls, [231]);
    }

    #[test]
    fn pods_are_targets_that_container_narrows() {
        let target = |args: &[&str]| parse(args).map(|c| c.target);
        assert_eq!(
            target(&["--pod", "web", "--namespace", "shop", "--container", "app"]).ok(),
            Some(TargetSpec::Pod(PodSpec {
                pod: Some("web".into()),
                namespace: Some("shop".into()),
                selector: vec![],
                container: Some("app".into()),
            }))
        );
        assert_eq!(
            target(&[
                "--selector",
                "app=web",
                "--selector",
                "tier=",
                "--runtime",
                "cri"
            ])
            .ok(),
            Some(TargetSpec::Pod(PodSpec {
                selector: vec![("app".into(), "web".into()), ("tier".into(), String::new())],
                ..Default::default()
            }))
        );
        for (args, needle) in [
            (
                &["--selector", "app"][..],
                "bad --selector \"app\": give LABEL=VALUE",
            ),
            (
                &["--pod", "web", "--runtime", "docker"],
                "--runtime docker has no pods",
            ),
            (
                &["--container", "web", "--namespace", "x"],
                "--namespace is a pod's",
            ),
            (
                &["--cgroup", "/x", "--runtime", "podman"],
                "--runtime chooses the engine",
            ),
            (&["--pod", "web", "-p", "1"], "cannot be used with"),
            (
                &["--cgroup", "/x", "--selector", "a=b"],
                "cannot be used with",
            ),
        ] {
            let e = target(args).expect_err(needle).to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn strace_timestamp_options() {
        let stamps = |extra: &[&str]| {
            let mut a = vec!["--container-of", "1"];
            a.extend_from_slice(extra);
            parse(&a).map(|c| c.stamps)
        };
        assert_eq!(stamps(&[]).ok(), Some(Stamps::None));
        assert_eq!(stamps(&["-t"]).ok(), Some(Stamps::Seconds));
        assert_eq!(stamps(&["-tt"]).ok(), Some(Stamps::Micros));
        assert_eq!(stamps(&["-ttt"]).ok(), Some(Stamps::Epoch));
        assert_eq!(stamps(&["-t", "-t", "-t", "-t"]).ok(), Some(Stamps::Epoch));
        assert_eq!(stamps(&["-r"]).ok(), Some(Stamps::Relative));
        assert!(stamps(&["-r", "-tt"]).is_err());
    }

    #[test]
    fn strace_p_is_processes_and_pid_was_renamed() {
        let c = parse(&["-p", "7,9", "-p", "8", "-f"]).expect("valid");
        assert_eq!(c.target, TargetSpec::Processes(vec![7, 8, 9]));
        let c = parse(&["--attach", "7"]).expect("valid");
        assert_eq!(c.target, TargetSpec::Processes(vec![7]));
        let c = parse(&["--container-of", "7"]).expect("valid");
        assert_eq!(c.target, TargetSpec::Pid(7));
        let e = parse(&["--pid", "7"]).expect_err("renamed");
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        let e = e.to_string();
        assert!(e.contains("--container-of 7") && e.contains("-p 7"), "{e}");
        assert!(
            parse(&["-p", "7", "--container", "web"]).is_err(),
            "one target"
        );
        assert!(parse(&["-p", "0"]).is_err());
        assert!(parse(&["-p", "7", "-ff"]).is_err());
        let yy = parse(&["-p", "7", "-yy"]).expect("-yy");
        assert!(yy.fd_paths && yy.fd_details);
        let e = parse(&["-p", "7", "-yyy"]).expect_err("-yyy");
        assert!(e.to_string().starts_with("-yyy "), "{e}");
        assert!(parse(&["-p", "7", "-y"]).expect("valid").fd_paths);
    }

    #[test]
    fn strace_summary_options() {
        let c = parse(&["-p", "7", "-c"]).expect("valid");
        assert!(c.summary.is_some_and(|s| !s.stream));
        let c = parse(&["-p", "7", "--summary-only"]).expect("valid");
        assert!(c.summary.is_some_and(|s| !s.stream));
        let c = parse(&["-p", "7", "-C", "-S", "calls"]).expect("valid");
        let s = c.summary.expect("summary");
        assert!(s.stream);
        assert_eq!(s.sort, SortBy::Calls);
        for (name, want) in [
            ("total_time", SortBy::Time),
            ("count", SortBy::Calls),
            ("error", SortBy::Errors),
            ("syscall", SortBy::Name),
        ] {
            let c = parse(&["-p", "7", "-c", "-S", name]).expect(name);
            assert_eq!(c.summary.expect("summary").sort, want, "{name}");
        }
        assert!(parse(&["-p", "7", "-S", "calls"]).is_err(), "-S needs -c");
        for (name, want) in [
            ("shortest", SortBy::MinTime),
            ("max_time", SortBy::MaxTime),
            ("avg-time", SortBy::AvgTime),
            ("nothing", SortBy::Nothing),
        ] {
            let c = parse(&["-p", "7", "-c", "-S", name]).expect(name);
            assert_eq!(c.summary.expect("summary").sort, want, "{name}");
        }
        use crate::model::summary::Column;
        let c = parse(&["-p", "7", "-c", "-U", "calls,max-time,shortest"]).expect("valid");
        assert_eq!(
            c.summary.expect("summary").columns,
            [
                Column::Calls,
                Column::MaxTime,
                Column::MinTime,
                Column::Name
            ]
        );
        let c = parse(&["-p", "7", "-c", "-U", "name,calls"]).expect("valid");
        assert_eq!(
            c.summary.expect("summary").columns,
            [Column::Name, Column::Calls]
        );
        for bad in ["calls,calls", "calls,bogus", "none"] {
            let e = parse(&["-p", "7", "-c", "-U", bad]).expect_err(bad);
            assert_eq!(e.exit_code(), crate::error::exit::USAGE);
            assert!(!e.to_string().contains('\n'));
        }
        let c = parse(&["-p", "7", "-T", "-qq"]).expect("valid");
        assert!(c.syscall_times);
        assert_eq!(c.quiet, 2);
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
        let c = parse(&["--container-of", "7"]).expect("valid");
        assert_eq!(c.string_size, config::DEFAULT_STRING_SIZE);
        assert_eq!(c.ring_size, 8 << 20);
        assert_eq!(c.hook, Hook::RawTracepoint);
        assert_eq!(c.format, Format::Text);
    }

    fn nrs(names: &[&str]) -> Vec<u32> {
        let mut v: Vec<u32> = names
            .iter()
            .map(|n| syscalls::number(n).expect(n))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn strace_s_trace_options() {
        let only = |args: &[&str]| {
            let mut a = vec!["--container-of", "7"];
            a.extend_from_slice(args);
            parse(&a)
                .unwrap_or_else(|e| panic!("{args:?}: {e}"))
                .syscalls
        };
        let want = nrs(&["getppid", "openat"]);
        assert_eq!(only(&["-e", "trace=openat,getppid"]), want);
        assert_eq!(only(&["-e", "openat,getppid"]), want);
        assert_eq!(only(&["-etrace=openat,getppid"]), want);
        assert_eq!(only(&["--trace=openat,getppid"]), want);
        assert_eq!(only(&["--trace", "openat,getppid"]), want);
        assert_eq!(only(&["--syscalls", "openat,getppid"]), want);
        assert_eq!(only(&["-e", "t=openat,getppid"]), want);
        assert_eq!(only(&[]), Vec::<u32>::new(), "all");
        let file = only(&["-e", "trace=%file"]);
        assert!(file.contains(&nrs(&["openat"])[0]) && !file.contains(&nrs(&["read"])[0]));
        let not = only(&["-e", "trace=!getppid"]);
        assert!(!not.contains(&nrs(&["getppid"])[0]) && not.contains(&nrs(&["read"])[0]));
        // The last set counts, whichever option gave it (strace: each -e trace= replaces).
        assert_eq!(
            only(&["-e", "trace=%file", "-e", "trace=getppid"]),
            nrs(&["getppid"])
        );
        assert_eq!(
            only(&["--syscalls", "%file", "-e", "getppid"]),
            nrs(&["getppid"])
        );
        assert_eq!(
            only(&["-e", "%file", "--trace", "getppid"]),
            nrs(&["getppid"])
        );
    }

    #[test]
    fn other_qualifiers_are_not_supported_yet() {
        for (expr, name) in [("write=3", "write"), ("read=3", "read")] {
            let e =
                parse(&["--container-of", "7", "-e", expr, "-e", "trace=openat"]).expect_err(expr);
            assert_eq!(e.exit_code(), crate::error::exit::USAGE);
            let e = e.to_string();
            assert!(e.contains("not supported yet") && e.contains(name), "{e}");
        }
        let e = parse(&["--container-of", "7", "-e", "trace=%fiel"]).expect_err("class");
        assert!(
            e.to_string()
                .starts_with("unknown syscall class %fiel in -e trace"),
            "{e}"
        );
        let e = parse(&["--container-of", "7", "--syscalls", "openat,nosuch"]).expect_err("name");
        assert!(
            e.to_string()
                .starts_with("unknown syscall in --syscalls: \"nosuch\""),
            "{e}"
        );
    }

    #[test]
    fn strace_s_signal_options() {
        let signals = |args: &[&str]| {
            let mut a = vec!["--container-of", "7"];
            a.extend_from_slice(args);
            parse(&a)
                .unwrap_or_else(|e| panic!("{args:?}: {e}"))
                .signals
        };
        let only = |n: u32| SignalSet::NONE.with(n);
        assert_eq!(signals(&[]), SignalSet::ALL);
        assert_eq!(signals(&["-e", "signal=none"]), SignalSet::NONE);
        assert_eq!(signals(&["-e", "signal=SIGUSR1"]), only(10));
        assert_eq!(signals(&["-esignals=usr1"]), only(10));
        assert_eq!(signals(&["-e", "s=!SIGUSR1"]), only(10).invert());
        assert_eq!(signals(&["--signals", "10"]), only(10));
        // The last one counts; other qualifiers do not replace it.
        assert_eq!(
            signals(&[
                "-e",
                "signal=none",
                "--signals",
                "TERM",
                "-e",
                "status=failed"
            ]),
            only(15)
        );
        assert_eq!(
            signals(&["--signals", "TERM", "-e", "signal=all"]),
            SignalSet::ALL
        );
        let c = parse(&[
            "--container-of",
            "7",
            "-e",
            "signal=none",
            "-e",
            "trace=openat",
        ])
        .expect("valid");
        assert_eq!(c.syscalls, nrs(&["openat"]));
        assert_eq!(c.signals, SignalSet::NONE);
        // A bad set is an error even when a later one replaces it.
        let e = parse(&[
            "--container-of",
            "7",
            "-e",
            "signal=SIGFOO",
            "-e",
            "signal=all",
        ])
        .expect_err("bad signal");
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        assert!(
            e.to_string()
                .starts_with("bad signal \"SIGFOO\" in -e signal: use signal names"),
            "{e}"
        );
    }

    #[test]
    fn strace_s_status_options() {
        let status = |args: &[&str]| {
            let mut a = vec!["--container-of", "7"];
            a.extend_from_slice(args);
            parse(&a).unwrap_or_else(|e| panic!("{args:?}: {e}")).status
        };
        let only = |s: Status| StatusSet::NONE.with(s);
        assert_eq!(status(&[]), StatusSet::ALL);
        assert_eq!(status(&["-e", "status=failed"]), only(Status::Failed));
        assert_eq!(status(&["-estatus=failed"]), only(Status::Failed));
        assert_eq!(status(&["--status", "failed"]), only(Status::Failed));
        assert_eq!(
            status(&["-e", "status=!successful"]),
            only(Status::Successful).invert()
        );
        assert_eq!(status(&["-z"]), only(Status::Successful));
        assert_eq!(status(&["--successful-only"]), only(Status::Successful));
        assert_eq!(status(&["-Z"]), only(Status::Failed));
        assert_eq!(status(&["--failed-only"]), only(Status::Failed));
        assert_eq!(status(&["--failing-only"]), only(Status::Failed));
        // The last one counts, as strace clears the set each time.
        assert_eq!(status(&["-z", "-Z"]), only(Status::Failed));
        assert_eq!(status(&["-Z", "-z"]), only(Status::Successful));
        assert_eq!(status(&["-Z", "-e", "status=all"]), StatusSet::ALL);
        assert_eq!(
            status(&["-e", "status=all", "-Z", "-e", "trace=openat"]),
            only(Status::Failed)
        );
        // Status and syscall sets do not replace each other.
        let c = parse(&["--container-of", "7", "-e", "trace=openat", "-Z"]).expect("valid");
        assert_eq!(c.syscalls, nrs(&["openat"]));
        assert_eq!(c.status, only(Status::Failed));
        let c = parse(&[
            "--container-of",
            "7",
            "-e",
            "trace=openat",
            "-e",
            "status=failed",
        ])
        .expect("valid");
        assert_eq!(c.syscalls, nrs(&["openat"]));
        assert_eq!(c.status, only(Status::Failed));
        // A bad value is refused even when a later set replaces it.
        for args in [
            &["-e", "status=failure", "-z"][..],
            &["--status", "failure"][..],
        ] {
            let mut a = vec!["--container-of", "7"];
            a.extend_from_slice(args);
            let e = parse(&a).expect_err("bad status");
            assert_eq!(e.exit_code(), crate::error::exit::USAGE);
            let e = e.to_string();
            assert!(e.starts_with("bad status \"failure\" in "), "{e}");
            assert!(
                e.contains("successful, failed, unfinished, unavailable, detached"),
                "{e}"
            );
            assert!(!e.contains('\n'));
        }
    }
}
