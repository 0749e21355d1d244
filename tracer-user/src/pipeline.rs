//! Wires the stages: reader → decode → enrich → sink, with shutdown and drain.
//!
//! The reader runs on the tokio runtime; decoding and writing run on one blocking thread fed by
//! a bounded channel, so a slow sink backs up into the ring buffer, where the kernel counts
//! what it cannot store.
use std::{
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use tokio::sync::{mpsc, watch};

use crate::{
    bpf::{self, BpfConfig, reader::Message},
    cli::observe::{Format, ObserveConfig},
    clock::Clock,
    decode,
    error::Error,
    sink::{
        Enriched, Sink,
        jsonl::JsonLines,
        text::{SummaryText, Text},
    },
    summary::{self, Report, Snapshot},
    target::{self, Container, Filter, Target},
};

/// Batches in flight between the reader and the writer thread.
const CHANNEL_BATCHES: usize = 64;
const WRITE_BUFFER: usize = 256 << 10;

/// What a run did, for the closing line on stderr.
#[derive(Debug, Default)]
pub struct Summary {
    pub records: u64,
    pub lost: u64,
    pub decode_errors: u64,
    pub pending_full: u64,
}

/// Summary-mode state of the writer.
struct Summaries {
    per_interval: bool,
    start_ktime: u64,
    previous_ktime: u64,
    previous: Snapshot,
}

/// Why the writer stopped early.
enum WriterEnd {
    Drained,
    /// `--count` reached.
    CountReached,
    /// The reader of our stdout went away (`| head`): not an error.
    Closed,
}

struct Writer {
    sink: Box<dyn Sink + Send>,
    pairing: decode::pairing::Pairing,
    summaries: Summaries,
    container: Option<Container>,
    limit: Option<u64>,
    records: u64,
    decode_errors: u64,
}

impl Writer {
    fn run(
        &mut self,
        mut rx: mpsc::Receiver<Message>,
        stop: &watch::Sender<bool>,
    ) -> io::Result<WriterEnd> {
        let mut end = WriterEnd::Drained;
        while let Some(msg) = rx.blocking_recv() {
            if !matches!(end, WriterEnd::Drained) {
                continue; // keep draining so the reader never blocks on a full channel
            }
            let r = match msg {
                Message::Batch(batch) => self.batch(&batch),
                Message::Unfinished(calls) => self.unfinished(&calls).map(|()| true),
                Message::Lost(lost) => self
                    .sink
                    .lost(&lost)
                    .and_then(|()| self.sink.flush())
                    .map(|()| true),
                Message::Summary {
                    ktime_ns,
                    snapshot,
                    last,
                } => self.summary(ktime_ns, snapshot, last).map(|()| true),
            };
            match r {
                Ok(true) => {}
                Ok(false) => end = WriterEnd::CountReached,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => end = WriterEnd::Closed,
                Err(e) => {
                    let _ = stop.send(true);
                    return Err(e);
                }
            }
            if !matches!(end, WriterEnd::Drained) {
                let _ = stop.send(true);
            }
        }
        match self.sink.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(WriterEnd::Closed),
            Err(e) => Err(e),
            Ok(()) => Ok(end),
        }
    }

    /// Turns a snapshot of the kernel's aggregates into the interval table and, at the end,
    /// the totals.
    fn summary(&mut self, ktime: u64, snapshot: Snapshot, last: bool) -> io::Result<()> {
        let s = &mut self.summaries;
        if s.per_interval {
            let rows = summary::delta(&snapshot, &s.previous);
            if !last || !rows.is_empty() {
                let report = Report {
                    start_ktime: s.previous_ktime,
                    end_ktime: ktime,
                    total: false,
                    rows,
                };
                self.sink.summary(&report, self.container.as_ref())?;
            }
            s.previous_ktime = ktime;
        }
        if last {
            let report = Report {
                start_ktime: s.start_ktime,
                end_ktime: ktime,
                total: true,
                rows: snapshot.clone(),
            };
            self.sink.summary(&report, self.container.as_ref())?;
        }
        s.previous = snapshot;
        self.sink.flush()
    }

    /// Calls in progress at the end: written as they are (not counted against `--count`).
    fn unfinished(&mut self, calls: &[decode::SyscallEvent]) -> io::Result<()> {
        for event in calls {
            self.sink.syscall(&Enriched {
                event,
                container: self.container.as_ref(),
            })?;
        }
        self.sink.flush()
    }

    /// Writes one batch; false once `--count` records are out.
    fn batch(&mut self, batch: &[u8]) -> io::Result<bool> {
        for rec in bpf::reader::records(batch) {
            if self.limit.is_some_and(|l| self.records >= l) {
                break;
            }
            match decode::decode_record(rec) {
                Ok(record) => {
                    let Some(event) = self.pairing.push(record) else {
                        continue;
                    };
                    self.sink.syscall(&Enriched {
                        event: &event,
                        container: self.container.as_ref(),
                    })?;
                    self.records += 1;
                }
                Err(e) => {
                    if self.decode_errors == 0 {
                        tracing::warn!("undecodable record: {e}");
                    }
                    self.decode_errors += 1;
                }
            }
        }
        self.sink.flush()?;
        Ok(self.limit.is_none_or(|l| self.records < l))
    }
}

fn open_output(path: Option<&Path>) -> Result<Box<dyn Write + Send>, Error> {
    match path {
        None => Ok(match crate::sink::file::OutputFile::stdout() {
            Some(f) => Box::new(f),
            None => Box::new(io::stdout()),
        }),
        Some(p) => {
            let f = crate::sink::file::OutputFile::create(p.to_path_buf()).map_err(|e| {
                Error::Output {
                    path: p.to_path_buf(),
                    reason: e.to_string(),
                }
            })?;
            Ok(Box::new(f))
        }
    }
}

fn make_sink(cfg: &ObserveConfig, out: Box<dyn Write + Send>) -> Box<dyn Sink + Send> {
    let out = BufWriter::with_capacity(WRITE_BUFFER, out);
    let opts = decode::args::Options {
        fd_paths: cfg.fd_paths,
        json_only: false,
    };
    let summary = cfg
        .summary
        .as_ref()
        .map_or_else(SummaryText::default, |s| SummaryText {
            sort: s.sort,
            histogram: s.histogram,
            interval: s.interval.is_some(),
        });
    match cfg.format {
        Format::Json => Box::new(JsonLines::new(out, Clock::new()).with_options(opts)),
        Format::Text => Box::new(
            Text::new(out, cfg.host_pids)
                .with_options(opts)
                .with_summary(summary),
        ),
    }
}

async fn wait_for_end(
    duration: Option<Duration>,
    stop: &mut watch::Receiver<bool>,
    target: &Target,
) {
    let sleep = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
        _ = sleep => {}
        _ = stop.wait_for(|s| *s) => {}
        why = target::end::ended(target) => {
            eprintln!("tracer: {} is gone: {why}; stopping", target.label);
        }
    }
}

fn describe(target: &Target) -> String {
    match &target.filter {
        Filter::Cgroup(cg) => format!("{}, cgroup {}", target.label, cg.path.display()),
        Filter::PidNs => format!("{}, PID namespace filter", target.label),
        Filter::CgroupSet { .. } => target.label.clone(),
    }
}

pub async fn observe(cfg: ObserveConfig) -> Result<Summary, Error> {
    let target = target::resolve(&cfg.target).await?;
    let out = open_output(cfg.output.as_deref())?;
    let loaded = bpf::load_and_attach(&BpfConfig {
        hook: cfg.hook,
        ring_size: cfg.ring_size,
        syscalls: cfg.syscalls.clone(),
        filter: target.filter.clone(),
        pidns: target.pidns,
        follow_nothing: cfg.follow_nothing,
        string_size: cfg.string_size,
        summary: cfg.summary.is_some(),
        stream: cfg.summary.as_ref().is_none_or(|s| s.stream),
    })?;
    let start_ktime = bpf::reader::monotonic_ns();
    eprintln!("tracer: tracing {}; Ctrl-C to stop", describe(&target));

    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let interval = cfg.summary.as_ref().and_then(|s| s.interval);
    let reader = tokio::spawn(bpf::reader::run(
        loaded,
        tx,
        stop_tx.subscribe(),
        interval,
        std::sync::Arc::default(),
    ));
    let mut writer = Writer {
        sink: make_sink(&cfg, out),
        pairing: decode::pairing::Pairing::default(),
        summaries: Summaries {
            per_interval: interval.is_some(),
            start_ktime,
            previous_ktime: start_ktime,
            previous: Snapshot::new(),
        },
        container: target.container.clone(),
        limit: cfg.count,
        records: 0,
        decode_errors: 0,
    };
    let writer_stop = stop_tx.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let end = writer.run(rx, &writer_stop);
        (writer.records, writer.decode_errors, end)
    });

    wait_for_end(cfg.duration, &mut stop_rx, &target).await;
    let _ = stop_tx.send(true);
    let path = cfg.output.unwrap_or_else(|| "<stdout>".into());
    finish(reader, writer, path).await
}

/// Joins the ring reader and the writer once told to stop: the run's summary, or what failed
/// (a write to `output` first of all).
pub(crate) async fn finish<T>(
    reader: tokio::task::JoinHandle<io::Result<bpf::reader::KernelStats>>,
    writer: tokio::task::JoinHandle<(u64, u64, io::Result<T>)>,
    output: PathBuf,
) -> Result<Summary, Error> {
    let kernel = reader
        .await
        .map_err(|e| Error::Internal(format!("reader task: {e}")))?
        .map_err(|e| Error::Internal(format!("ring buffer: {e}")))?;
    let (records, decode_errors, end) = writer
        .await
        .map_err(|e| Error::Internal(format!("writer thread: {e}")))?;
    end.map_err(|e| Error::write_failed(output, &e))?;
    Ok(Summary {
        records,
        lost: kernel.lost,
        decode_errors,
        pending_full: kernel.pending_full,
    })
}
