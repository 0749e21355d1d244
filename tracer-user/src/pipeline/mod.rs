//! The one path every command takes:
//!
//! ```text
//! source (ring buffer | JSON lines) → decode → enrich → filter → sink
//! ```
//!
//! `observe`, `daemon` and the seccomp commands only choose the source, the target set and the
//! sink ([`observe`], [`daemon`], [`seccomp`]); [`run`] is the one writer loop and
//! [`control`] the one shutdown policy.
//!
//! The source runs on the tokio runtime; decoding and writing run on one blocking thread fed by
//! a bounded channel, so a slow sink backs up into the ring buffer, where the kernel counts
//! what it cannot store. Control (stop, reopen) travels beside the data, never in it.
pub mod control;
pub mod daemon;
pub mod observe;
pub mod record;
pub mod seccomp;
pub mod show;

use std::{
    fs::File,
    io::{self, BufReader},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use tokio::sync::{mpsc, watch};

use crate::{
    bpf::{self, Loaded, reader::Message},
    decode::{self, args, jsonl, pairing::Pairing},
    enrich::Enricher,
    error::Error,
    filter::{Filter, Pass},
    model::{
        Container, ExportCounts, ExportReport, Gauges, KernelStats, Lifecycle, SignalEvent,
        SyscallEvent,
        clock::Clock,
        event::Record,
        summary::{Report, Snapshot, delta},
    },
    sink::{Sink, recording::Recordings},
};

/// Batches in flight between the source and the writer thread.
pub(crate) const CHANNEL_BATCHES: usize = 64;
/// Events per batch read back from JSON lines.
const FILE_BATCH: usize = 1024;

/// What a run did, for the closing line on stderr.
#[derive(Debug, Default)]
pub struct Summary {
    pub records: u64,
    pub lost: u64,
    pub decode_errors: u64,
    pub pending_full: u64,
    /// `-p`: children not followed (the kernel's task set was full).
    pub tasks_full: u64,
    /// Records without their user stack (`-k`): the kernel's walk failed.
    pub stack_failed: u64,
    /// `--otlp`: what the export delivered and dropped.
    pub otlp: Option<ExportReport>,
}

/// Where events come from.
pub enum Source {
    /// The loaded kernel programs' ring buffer.
    Kernel {
        loaded: Box<Loaded>,
        /// Summary mode's interval tables.
        interval: Option<Duration>,
        gauges: Arc<Gauges>,
    },
    /// JSON lines tracer wrote earlier, opened and checked by the caller.
    Files(Vec<(PathBuf, File)>),
    /// A recording (`tracer record`), its header read and checked by the caller.
    Recording(show::Opened),
}

/// The stages between the source and the sink, configured once.
pub struct Stages {
    pub decode: args::Options,
    pub enrich: Enricher,
    pub filter: Filter,
    pub sink: Box<dyn Sink + Send>,
    /// Summary mode: `Some(per_interval)`.
    pub summary: Option<bool>,
    /// The container summary records are about (observe of a container).
    pub container: Option<Arc<Container>>,
    /// Write the calls in flight at the end (not in summary-only mode: the kernel keeps no
    /// arguments there).
    pub unfinished: bool,
    pub clock: Clock,
    /// The daemon's follower: what happens to the followed containers, written between their
    /// records.
    pub lifecycle: Option<mpsc::Receiver<Lifecycle>>,
    /// The daemon's binary recordings: the records of the containers recorded are taken here,
    /// before decoding, and copied into their recordings.
    pub recordings: Option<Recordings>,
}

/// One run: a source, the stages, and when to stop.
pub struct Run {
    pub source: Source,
    pub stages: Stages,
    pub ends: control::Ends,
    pub control: Arc<control::Control>,
    /// Named in write errors: the output file, or `<stdout>`.
    pub output: PathBuf,
}

/// Summary mode's state in the writer.
struct Summaries {
    per_interval: bool,
    start_ktime: u64,
    previous_ktime: u64,
    previous: Snapshot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    /// `--count` reached: no more events, but losses and the totals still go out.
    Complete,
    /// The reader of our stdout went away (`| head`): nothing more is written; not an error.
    Closed,
}

/// What the writer woke for.
enum Next {
    Wake,
    Message(Option<Message>),
    Lifecycle(Option<Lifecycle>),
}

struct Writer {
    stages: Stages,
    /// A lifecycle record's write failed: the run's output error.
    lifecycle_written: io::Result<()>,
    pairing: Pairing,
    summaries: Option<Summaries>,
    control: Arc<control::Control>,
    state: State,
    records: u64,
    decode_errors: u64,
}

/// How the writer ended.
struct WriterEnd {
    records: u64,
    decode_errors: u64,
    written: io::Result<()>,
    verdict: Result<(), Error>,
}

impl Writer {
    /// Waits for the next message, or for control (SIGHUP) while none comes; a container's
    /// lifecycle record is written here and waited past.
    fn next(
        &mut self,
        rt: &tokio::runtime::Handle,
        rx: &mut mpsc::Receiver<Message>,
    ) -> Option<Option<Message>> {
        loop {
            let (control, life) = (&self.control, self.stages.lifecycle.as_mut());
            let got = rt.block_on(async {
                tokio::select! {
                    biased;
                    () = control.wake.notified() => Next::Wake,
                    m = rx.recv() => Next::Message(m),
                    l = async {
                        match life {
                            Some(r) => r.recv().await,
                            None => std::future::pending().await,
                        }
                    } => Next::Lifecycle(l),
                }
            });
            match got {
                Next::Wake => return None,
                Next::Message(m) => return Some(m),
                Next::Lifecycle(None) => self.stages.lifecycle = None,
                Next::Lifecycle(Some(l)) => {
                    if self.state == State::Running {
                        self.lifecycle_written =
                            self.stages.sink.lifecycle(&l).and_then(|()| self.flush());
                    }
                    if self.lifecycle_written.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    fn run(
        mut self,
        rt: &tokio::runtime::Handle,
        mut rx: mpsc::Receiver<Message>,
        stop: &watch::Sender<bool>,
    ) -> WriterEnd {
        let mut written = Ok(());
        loop {
            let Some(next) = self.next(rt, &mut rx) else {
                if written.is_ok()
                    && let Err(e) = std::mem::replace(&mut self.lifecycle_written, Ok(()))
                {
                    match e.kind() {
                        io::ErrorKind::BrokenPipe => self.state = State::Closed,
                        _ => written = Err(e),
                    }
                    let _ = stop.send(true);
                    continue;
                }
                if self.state != State::Closed
                    && written.is_ok()
                    && let Err(e) = self.reopen_if_asked().and_then(|()| self.flush())
                {
                    written = Err(e);
                    let _ = stop.send(true);
                }
                continue;
            };
            let Some(msg) = next else { break };
            if self.state == State::Closed || written.is_err() {
                continue; // keep draining so the source never blocks on a full channel
            }
            let before = self.state;
            let r = self
                .reopen_if_asked()
                .and_then(|()| self.message(msg))
                .and_then(|()| self.flush());
            match r {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => self.state = State::Closed,
                Err(e) => written = Err(e),
            }
            if self.state != before || written.is_err() {
                let _ = stop.send(true);
            }
        }
        if self.control.has_source_failed() {
            // The run fails with the source's error; nothing is concluded from part of it.
            return WriterEnd {
                records: self.records,
                decode_errors: self.decode_errors,
                written,
                verdict: Ok(()),
            };
        }
        if self.state != State::Closed && written.is_ok() {
            written = match self.finish() {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            };
        }
        let verdict = match &written {
            Ok(()) => self.stages.sink.verdict(),
            Err(_) => Ok(()),
        };
        WriterEnd {
            records: self.records,
            decode_errors: self.decode_errors,
            written,
            verdict,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(r) = &mut self.stages.recordings {
            r.flush()?;
        }
        self.stages.sink.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(r) = &mut self.stages.recordings {
            r.finish()?;
        }
        self.stages.sink.finish()
    }

    fn reopen_if_asked(&mut self) -> io::Result<()> {
        if self.control.take_reopen() {
            if let Some(r) = &mut self.stages.recordings {
                r.reopen()?;
            }
            self.stages.sink.reopen()?;
        }
        Ok(())
    }

    fn message(&mut self, msg: Message) -> io::Result<()> {
        match msg {
            Message::Batch(batch) => {
                for rec in bpf::reader::records(&batch) {
                    if self.state != State::Running {
                        break;
                    }
                    if self.recorded(rec) {
                        continue;
                    }
                    self.record(rec)?;
                }
                match &mut self.stages.recordings {
                    Some(r) => r.end_batch(),
                    None => Ok(()),
                }
            }
            Message::Events(events) => {
                for e in events {
                    if self.state != State::Running {
                        break;
                    }
                    self.emit(e)?;
                }
                Ok(())
            }
            Message::Unfinished(calls)
                if self.stages.unfinished && self.state == State::Running =>
            {
                let calls = self.recorded_in_flight(calls)?;
                for (tid, p) in calls {
                    self.unfinished(decode::unfinished(tid, &p))?;
                }
                Ok(())
            }
            Message::Unfinished(_) => Ok(()),
            Message::InFlight(calls) if self.stages.unfinished && self.state == State::Running => {
                for c in calls {
                    let mut call = decode::unfinished(c.tid, &c.pending);
                    (call.tgid, call.comm, call.cgroup_id) = (c.tgid, c.comm, c.cgroup_id);
                    self.unfinished(call)?;
                }
                Ok(())
            }
            Message::InFlight(_) => Ok(()),
            Message::Lost(lost) => {
                self.stages.enrich.lost();
                if let Some(r) = &mut self.stages.recordings {
                    r.lost(&lost)?;
                }
                self.stages.sink.lost(&lost)
            }
            Message::Summary {
                ktime_ns,
                snapshot,
                last,
            } => self.summary(ktime_ns, snapshot, last),
            Message::Counts(mut counts) => {
                self.stages.enrich.counts(&mut counts);
                self.stages.sink.counts(&counts)
            }
        }
    }

    /// A record of a container the daemon records undecoded: taken into its recording, with
    /// the ids in the container's PID namespace that decoding would have added.
    fn recorded(&mut self, rec: &[u8]) -> bool {
        let Some(r) = &mut self.stages.recordings else {
            return false;
        };
        let Some(owner) = decode::owner(rec) else {
            return false;
        };
        let enrich = &mut self.stages.enrich;
        let Some(c) = enrich.container_of(owner.cgroup_id, owner.tgid) else {
            return false;
        };
        if !r.records(&c) {
            return false;
        }
        let ns = match owner.ns_missing {
            true => enrich.ns_ids_of(owner.tid),
            false => None,
        };
        r.take(rec, &c, ns);
        self.records += 1;
        true
    }

    /// The calls in flight at the end that belong to recorded containers go into their
    /// recordings (with what /proc says of their threads now); the rest are returned.
    fn recorded_in_flight(
        &mut self,
        calls: Vec<(u32, tracer_common::config::Pending)>,
    ) -> io::Result<Vec<(u32, tracer_common::config::Pending)>> {
        let Some(r) = &mut self.stages.recordings else {
            return Ok(calls);
        };
        let mut rest = Vec::new();
        let mut by: Vec<(Arc<Container>, Vec<bpf::recording::InFlight>)> = Vec::new();
        for (tid, pending) in calls {
            let seen = decode::unfinished(tid, &pending);
            let cgroup_id = crate::runtime::cgroup::of_pid(tid)
                .ok()
                .flatten()
                .map_or(0, |c| c.id);
            let container = self.stages.enrich.container_of(cgroup_id, seen.tgid);
            match container {
                Some(c) if r.records(&c) => {
                    let call = bpf::recording::InFlight {
                        tid,
                        tgid: seen.tgid,
                        cgroup_id,
                        comm: seen.comm,
                        pending,
                    };
                    match by.iter_mut().find(|(k, _)| k.label() == c.label()) {
                        Some((_, v)) => v.push(call),
                        None => by.push((c, vec![call])),
                    }
                }
                _ => rest.push((tid, pending)),
            }
        }
        for (c, calls) in by {
            r.in_flight(&c, &calls)?;
        }
        Ok(rest)
    }

    fn record(&mut self, rec: &[u8]) -> io::Result<()> {
        match decode::decode_record(rec) {
            Ok(Record::Signal(s)) => self.signal(s),
            Ok(record) => match self.pairing.push(record) {
                Some(call) => self.call(call),
                None => Ok(()),
            },
            Err(e) => {
                if self.decode_errors == 0 {
                    tracing::warn!("undecodable record: {e}");
                }
                self.decode_errors += 1;
                self.stages.sink.undecodable(&e);
                Ok(())
            }
        }
    }

    /// A call in flight at the end: written as it is, not counted against --count.
    fn unfinished(&mut self, call: SyscallEvent) -> io::Result<()> {
        let mut e = decode::event(call, self.stages.decode);
        self.stages.enrich.enrich(&mut e);
        if self.stages.filter.shown(&e) {
            self.stages.sink.event(&e)?;
        }
        Ok(())
    }

    fn call(&mut self, call: SyscallEvent) -> io::Result<()> {
        let e = decode::event(call, self.stages.decode);
        self.emit(e)
    }

    /// A signal delivered or a death by signal: enriched, filtered (`-e signal=`), written; not
    /// counted against `--count`, which counts calls.
    fn signal(&mut self, mut s: SignalEvent) -> io::Result<()> {
        if self.state != State::Running {
            return Ok(());
        }
        self.stages.enrich.signal(&mut s);
        if self.stages.filter.signal_shown(&s) {
            self.stages.sink.signal(&s)?;
        }
        Ok(())
    }

    fn emit(&mut self, mut e: crate::model::Event) -> io::Result<()> {
        self.stages.enrich.enrich(&mut e);
        match self.stages.filter.pass(&e) {
            Pass::Keep => {
                self.stages.sink.event(&e)?;
                self.records += 1;
                if self.stages.filter.complete() {
                    self.state = State::Complete;
                }
            }
            Pass::Skip => {}
            Pass::Done => self.state = State::Complete,
        }
        Ok(())
    }

    /// Turns a snapshot of the kernel's aggregates into the interval table and, at the end,
    /// the totals.
    fn summary(&mut self, ktime: u64, snapshot: Snapshot, last: bool) -> io::Result<()> {
        let Some(s) = &mut self.summaries else {
            return Ok(());
        };
        let container = self.stages.container.as_deref();
        if s.per_interval {
            let rows = delta(&snapshot, &s.previous);
            if !last || !rows.is_empty() {
                let report = Report {
                    start_ktime: s.previous_ktime,
                    end_ktime: ktime,
                    total: false,
                    rows,
                };
                self.stages.sink.summary(&report, container)?;
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
            self.stages.sink.summary(&report, container)?;
        }
        s.previous = snapshot;
        Ok(())
    }
}

/// Reads every file in order into the channel; a file with no syscall record is an error.
fn read_files(
    files: Vec<(PathBuf, File)>,
    clock: Clock,
    tx: mpsc::Sender<Message>,
    control: &control::Control,
) -> Result<KernelStats, Error> {
    let r = read_files_into(files, clock, &tx);
    if r.is_err() {
        // Before the channel closes: the writer must not conclude from part of the input.
        control.source_failed();
    }
    r
}

fn read_files_into(
    files: Vec<(PathBuf, File)>,
    clock: Clock,
    tx: &mpsc::Sender<Message>,
) -> Result<KernelStats, Error> {
    for (path, file) in files {
        let mut open = true;
        let read = jsonl::read(BufReader::new(file), &clock, FILE_BATCH, |events| {
            open = tx.blocking_send(Message::Events(events)).is_ok();
            open
        })
        .map_err(|e| Error::Input {
            path: path.clone(),
            why: e.to_string(),
        })?;
        if !open {
            break;
        }
        if read.syscalls == 0 {
            let why = match read.first_bad {
                Some(n) => format!("line {n} is not a JSON record of tracer's"),
                None => "it holds no syscall record".into(),
            };
            return Err(Error::Input { path, why });
        }
        if read.bad > 0 {
            tracing::warn!(
                "{}: {} line(s) that are not tracer's JSON were skipped (the first is line {})",
                path.display(),
                read.bad,
                read.first_bad.unwrap_or(0)
            );
        }
    }
    Ok(KernelStats::default())
}

/// Waits for the end of the run (`control::wait`), stops the source and returns its result.
pub(crate) async fn until_end(
    ends: &control::Ends,
    stop_rx: watch::Receiver<bool>,
    stop_tx: &watch::Sender<bool>,
    control: &control::Control,
    source: &mut tokio::task::JoinHandle<Result<KernelStats, Error>>,
) -> Result<Result<KernelStats, Error>, Error> {
    let ended_by_source = control::wait(ends, stop_rx, control, source).await;
    let _ = stop_tx.send(true);
    match ended_by_source {
        Some(r) => Ok(r),
        None => source.await.map_err(|e| Error::Task {
            what: "source task",
            source: e,
        }),
    }
}

/// Runs the source and the writer until the run ends (control::Ends), then drains: the run's
/// summary, or what failed (a write to the output first of all).
pub async fn run(r: Run) -> Result<Summary, Error> {
    let Run {
        source,
        stages,
        ends,
        control,
        output,
    } = r;
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let (stop_tx, stop_rx) = watch::channel(false);
    let start_ktime = bpf::reader::monotonic_ns();
    let summaries = stages.summary.map(|per_interval| Summaries {
        per_interval,
        start_ktime,
        previous_ktime: start_ktime,
        previous: Snapshot::new(),
    });
    let clock = stages.clock;
    let mut source = match source {
        Source::Kernel {
            loaded,
            interval,
            gauges,
        } => {
            let stop = stop_tx.subscribe();
            tokio::spawn(async move {
                bpf::reader::run(*loaded, tx, stop, interval, gauges)
                    .await
                    .map_err(|e| Error::Io {
                        what: "reading the ring buffer".into(),
                        source: e,
                    })
            })
        }
        Source::Files(files) => {
            let control = control.clone();
            tokio::task::spawn_blocking(move || read_files(files, clock, tx, &control))
        }
        Source::Recording(opened) => {
            let control = control.clone();
            tokio::task::spawn_blocking(move || show::read(opened, &tx, &control))
        }
    };
    let writer = Writer {
        stages,
        lifecycle_written: Ok(()),
        pairing: Pairing::default(),
        summaries,
        control: control.clone(),
        state: State::Running,
        records: 0,
        decode_errors: 0,
    };
    let writer_stop = stop_tx.clone();
    let rt = tokio::runtime::Handle::current();
    let writer = tokio::task::spawn_blocking(move || writer.run(&rt, rx, &writer_stop));

    let kernel = until_end(&ends, stop_rx, &stop_tx, &control, &mut source).await?;
    let end = writer.await.map_err(|e| Error::Task {
        what: "writer thread",
        source: e,
    })?;
    end.written.map_err(|e| Error::write_failed(output, &e))?;
    let kernel = kernel?;
    end.verdict?;
    Ok(Summary {
        records: end.records,
        lost: kernel.lost,
        decode_errors: end.decode_errors,
        pending_full: kernel.pending_full,
        tasks_full: kernel.tasks_full,
        stack_failed: kernel.stack_failed,
        otlp: None,
    })
}

type BoxedSink = Box<dyn Sink + Send>;

/// `sink`, and with `--otlp` the OTLP sink beside it (started on the current runtime); the
/// counters the closing line reads after the run.
pub(crate) fn with_otlp(
    sink: BoxedSink,
    endpoint: Option<&crate::sink::otlp::Endpoint>,
    clock: Clock,
) -> Result<(BoxedSink, Option<Arc<ExportCounts>>), Error> {
    let Some(endpoint) = endpoint else {
        return Ok((sink, None));
    };
    let counts = Arc::new(ExportCounts::default());
    let otlp = crate::sink::otlp::Otlp::start(endpoint, clock, counts.clone()).map_err(|e| {
        Error::Usage(format!(
            "cannot export to --otlp {endpoint}: {e}; give http://HOST:PORT of an OTLP/gRPC receiver"
        ))
    })?;
    let tee = crate::sink::tee::Tee(vec![sink, Box::new(otlp)]);
    Ok((Box::new(tee), Some(counts)))
}

/// What a start line ("tracing …", "daemon following …") says of `--exit-only`: the calls it
/// leaves out (`config::exit_only_set`); nothing without it.
fn exit_only_note(exit_only: bool, left_out: &[u32]) -> String {
    if !exit_only {
        return String::new();
    }
    let names: Vec<_> = left_out
        .iter()
        .map(|&nr| crate::decode::syscalls::display_name(nr))
        .collect();
    format!(
        ", at exits only (left out, as their records need the entry: {})",
        names.join(", ")
    )
}
