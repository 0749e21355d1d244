//! `observe`: the pipeline with one fixed target and one sink (text, JSON lines or summary
//! tables).
use std::{
    io::{self, BufWriter, Write},
    path::Path,
    sync::Arc,
};

use super::{Run, Source, Stages, Summary, control};
use crate::{
    bpf::{self, BpfConfig},
    config::{Format, ObserveConfig},
    decode::{args, capture_spec, syscalls},
    enrich::{Attribution, Enricher, fds, sockets},
    error::Error,
    filter::Filter,
    model::{Gauges, clock::Clock},
    runtime::{self, Target},
    sink::{
        Sink,
        file::OutputFile,
        jsonl::JsonLines,
        text::{SummaryText, Text},
    },
};

const WRITE_BUFFER: usize = 256 << 10;

/// Standard output (a whole-line file when redirected to one), or `path` created afresh.
pub fn open_output(path: Option<&Path>) -> Result<Box<dyn Write + Send>, Error> {
    match path {
        None => Ok(match OutputFile::stdout() {
            Some(f) => Box::new(f),
            None => Box::new(io::stdout()),
        }),
        Some(p) => {
            let f = OutputFile::create(p.to_path_buf()).map_err(|e| Error::Output {
                path: p.to_path_buf(),
                reason: e.to_string(),
            })?;
            Ok(Box::new(f))
        }
    }
}

/// The configured sink over `out`; `clock` turns kernel times into wall-clock times (JSON
/// `ts`, text `-t`).
pub(super) fn make_sink(
    cfg: &ObserveConfig,
    out: Box<dyn Write + Send>,
    clock: Clock,
) -> Box<dyn Sink + Send> {
    let out = BufWriter::with_capacity(WRITE_BUFFER, out);
    let summary = cfg
        .summary
        .as_ref()
        .map_or_else(SummaryText::default, |s| SummaryText {
            sort: s.sort,
            columns: s.columns.clone(),
            histogram: s.histogram,
            interval: s.interval.is_some(),
        });
    match cfg.format {
        Format::Json => Box::new(JsonLines::new(out, clock)),
        Format::Text => Box::new(
            Text::new(out, cfg.host_pids)
                .with_style(cfg.syscall_times, cfg.quiet < 2)
                .with_summary(summary)
                .with_stamps(cfg.stamps, clock),
        ),
    }
}

/// With `-y` or `-P`, a syscall subset and no summary, the kernel also reports the calls the
/// fd tables follow (the filter stage hides them): else a close outside the subset would go
/// unseen and a reused number could name the wrong file.
fn widened(cfg: &ObserveConfig) -> bool {
    (cfg.fd_paths || !cfg.trace_paths.is_empty())
        && !cfg.syscalls.is_empty()
        && cfg.summary.is_none()
}

fn kernel_syscalls(cfg: &ObserveConfig) -> Vec<u32> {
    let mut set = cfg.syscalls.clone();
    if widened(cfg) {
        set.extend(fds::followed().filter_map(syscalls::number));
        if cfg.fd_details {
            set.extend(sockets::FOLLOWED.iter().filter_map(|n| syscalls::number(n)));
        }
        set.sort_unstable();
        set.dedup();
        if cfg.exit_only {
            set.retain(|&nr| !capture_spec::needs_enter(nr));
        }
    }
    set
}

/// With `-y`, the calls whose exit wakes the reader at once (`fds::CREATES`, and with `-yy`
/// `sockets::WAKE`).
fn wake_syscalls(cfg: &ObserveConfig) -> Vec<u32> {
    let mut names: Vec<&str> = Vec::new();
    if cfg.fd_paths {
        names.extend(fds::CREATES);
    }
    if cfg.fd_details {
        names.extend(sockets::WAKE);
    }
    names.iter().filter_map(|n| syscalls::number(n)).collect()
}

/// The status filter in the kernel, where nothing downstream needs the calls it drops: not
/// with `-y` or `-P` (their fd tables follow every open and close). The filter stage applies
/// it too (calls read back from the pending map at the end, `unfinished`).
fn kernel_status(cfg: &ObserveConfig) -> u32 {
    use crate::filter::Status;
    use tracer_common::config::{STATUS_FAILED, STATUS_FILTER_ON, STATUS_SUCCESSFUL};
    if cfg.status.is_all() || cfg.fd_paths || !cfg.trace_paths.is_empty() {
        return 0;
    }
    let mut shown = STATUS_FILTER_ON;
    if cfg.status.contains(Status::Successful) {
        shown |= STATUS_SUCCESSFUL;
    }
    if cfg.status.contains(Status::Failed) {
        shown |= STATUS_FAILED;
    }
    shown
}

/// The kernel side for one resolved target.
pub fn bpf_config(cfg: &ObserveConfig, target: &Target) -> BpfConfig {
    BpfConfig {
        hook: cfg.hook,
        ring_size: cfg.ring_size,
        syscalls: kernel_syscalls(cfg),
        filter: target.filter.kernel(),
        pidns: target.pidns,
        status_shown: kernel_status(cfg),
        tasks: match &target.filter {
            runtime::Filter::Tasks(pids) => pids.clone(),
            _ => Vec::new(),
        },
        follow_nothing: cfg.follow_nothing,
        string_size: cfg.string_size,
        summary: cfg.summary.is_some(),
        summary_by_nr: cfg.summary.as_ref().is_some_and(|s| !s.by_key),
        counts: false,
        stream: cfg.summary.as_ref().is_none_or(|s| s.stream),
        capture_specs: capture_spec::table(),
        stack: cfg.stack,
        wake_syscalls: wake_syscalls(cfg),
        gate: false,
        exit_only: cfg.exit_only,
    }
}

/// The stages after the source, as `observe` configures them (and `show` replays them):
/// `proc` answers the fd tables' questions about fds the trace did not show, `sockets` `-yy`'s; `shown`, when
/// given, is the syscall set the filter stage applies (the kernel applied it otherwise).
pub(super) fn stages(
    cfg: &ObserveConfig,
    container: Option<Arc<crate::model::Container>>,
    proc: Box<dyn fds::ProcFs + Send>,
    sockets: Box<dyn sockets::SocketSource + Send>,
    shown: Option<Vec<u32>>,
    sink: Box<dyn Sink + Send>,
    clock: Clock,
) -> Stages {
    let attribution = match &container {
        Some(c) => Attribution::Fixed(c.clone()),
        None => Attribution::None,
    };
    let stream = cfg.summary.as_ref().is_none_or(|s| s.stream);
    let mut enrich = Enricher::new(attribution, false);
    if cfg.fd_details {
        enrich = enrich.with_fd_details(proc, sockets);
    } else if cfg.fd_paths {
        enrich = enrich.with_fd_paths(proc);
    } else if !cfg.trace_paths.is_empty() {
        enrich = enrich.with_fd_tables(proc);
    }
    if cfg.stack {
        enrich = enrich.with_stacks(cfg.syscalls.is_empty());
    }
    let filter = match &shown {
        Some(set) => Filter::new(cfg.count).only(set),
        None => Filter::new(cfg.count),
    };
    Stages {
        decode: args::Options {
            json_only: cfg.format == Format::Json,
            no_abbrev: cfg.no_abbrev,
            hex: cfg.hex,
            string_size: cfg.string_size,
        },
        enrich,
        // Status is decided here, not in the kernel: `-y`'s tables need the successful opens
        // and closes `-Z` hides, and the summary counts every call (as strace's `-c`).
        filter: filter
            .status(cfg.status)
            .exclude_comms(&cfg.exclude_comm)
            .paths(crate::filter::path::Paths::new(&cfg.trace_paths))
            .signals(cfg.signals),
        sink,
        summary: cfg.summary.as_ref().map(|s| s.interval.is_some()),
        container,
        unfinished: stream,
        clock,
        lifecycle: None,
        recordings: None,
    }
}

/// Runs `observe` with `sink` (the configured one when `None`); `ready` hears the "tracing …"
/// line once the programs are attached.
pub async fn observe(
    cfg: ObserveConfig,
    sink: Option<Box<dyn Sink + Send>>,
    ready: &dyn Fn(String),
) -> Result<Summary, Error> {
    let target = runtime::resolve(&cfg.target).await?;
    let clock = Clock::shared();
    let sink = match sink {
        Some(s) => s,
        None => make_sink(&cfg, open_output(cfg.output.as_deref())?, clock),
    };
    let (sink, otlp) = super::with_otlp(sink, cfg.otlp.as_ref(), clock)?;
    let mut loaded = bpf::load_and_attach(&bpf_config(&cfg, &target))?;
    let tasks = loaded.tasks.take();
    ready(format!(
        "tracing {}{}; Ctrl-C to stop",
        target.describe(),
        super::exit_only_note(cfg.exit_only, &cfg.left_out)
    ));
    let container = target.container.clone().map(Arc::new);
    let shown = widened(&cfg).then(|| cfg.syscalls.clone());
    let stages = stages(
        &cfg,
        container,
        Box::new(fds::Proc),
        Box::new(sockets::Kernel::default()),
        shown,
        sink,
        clock,
    );
    let interval = cfg.summary.as_ref().and_then(|s| s.interval);
    let summary = super::run(Run {
        source: Source::Kernel {
            loaded: Box::new(loaded),
            interval,
            gauges: Arc::new(Gauges::default()),
        },
        stages,
        ends: control::Ends {
            duration: cfg.duration,
            target: Some(target),
            tasks,
        },
        control: Arc::default(),
        output: cfg.output.unwrap_or_else(|| "<stdout>".into()),
    })
    .await?;
    Ok(Summary {
        otlp: otlp.map(|c| c.report()),
        ..summary
    })
}
