//! The daemon's writer: decode, attribute each record to its container (registry), count it,
//! write it to that container's output. Runs on one blocking thread, like observe's writer.
use std::{
    collections::HashMap,
    io::{self, BufWriter, Write},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::sync::mpsc;

use super::{
    metrics::{Metrics, RecordLabels},
    registry::Registry,
};
use crate::{
    bpf::{self, reader::Message},
    cli::daemon::Output,
    clock::Clock,
    decode::{self, pairing::Pairing, syscalls},
    sink::{
        Enriched, Lost, Sink,
        file::{OutputFile, Rotation},
        jsonl::JsonLines,
    },
    target::Container,
};

const WRITE_BUFFER: usize = 256 << 10;
/// Where records of cgroups that belong to no followed container would go with --output-dir
/// (should not happen: the kernel only passes followed cgroups).
const UNATTRIBUTED: &str = "_unattributed";

/// Standard output or a (rotating) file.
enum Out {
    Stdout(io::Stdout),
    File(OutputFile),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Stdout(s) => s.write(buf),
            Out::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Stdout(s) => s.flush(),
            Out::File(f) => f.flush(),
        }
    }
}

type Lines = JsonLines<BufWriter<Out>>;

fn lines(out: Out) -> Lines {
    JsonLines::new(BufWriter::with_capacity(WRITE_BUFFER, out), Clock::new())
}

/// The open outputs: one for everything, or one per container name.
pub struct Outputs {
    dir: Option<PathBuf>,
    rotation: Option<Rotation>,
    one: Option<Lines>,
    per: HashMap<String, Lines>,
}

impl Outputs {
    pub fn open(output: &Output, rotation: Option<Rotation>) -> io::Result<Outputs> {
        let (dir, one) = match output {
            Output::Stdout => (None, Some(lines(Out::Stdout(io::stdout())))),
            Output::File(p) => (
                None,
                Some(lines(Out::File(OutputFile::open(p.clone(), rotation)?))),
            ),
            Output::Dir(d) => (Some(d.clone()), None),
        };
        Ok(Outputs {
            dir,
            rotation,
            one,
            per: HashMap::new(),
        })
    }

    fn sink_for(&mut self, name: &str) -> io::Result<&mut Lines> {
        if let Some(one) = &mut self.one {
            return Ok(one);
        }
        let dir = self
            .dir
            .as_ref()
            .ok_or_else(|| io::Error::other("no output"))?;
        if !self.per.contains_key(name) {
            let path = dir.join(format!("{name}.jsonl"));
            let file = OutputFile::open(path, self.rotation)?;
            self.per.insert(name.to_string(), lines(Out::File(file)));
        }
        self.per
            .get_mut(name)
            .ok_or_else(|| io::Error::other("output vanished"))
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Lines> {
        self.one.iter_mut().chain(self.per.values_mut())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.all().try_for_each(|s| s.flush())
    }

    /// Losses are host-wide (one ring buffer): every output gets the line.
    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.all().try_for_each(|s| s.lost(lost))
    }

    /// Flushes, then reopens every file at its path (SIGHUP, after logrotate moved them).
    fn reopen(&mut self) -> io::Result<()> {
        for s in self.all() {
            s.flush()?;
            if let Out::File(f) = s.get_mut().get_mut() {
                f.reopen()?;
            }
        }
        Ok(())
    }

    /// Flushes and syncs everything to disk (shutdown).
    fn finish(&mut self) -> io::Result<()> {
        for s in self.all() {
            s.flush()?;
            if let Out::File(f) = s.get_mut().get_mut() {
                f.sync()?;
            }
        }
        Ok(())
    }
}

/// Records of one (cgroup, syscall) in a batch, and their container.
type Counted = (u64, Option<Arc<Container>>);

pub struct DaemonWriter {
    pub outputs: Outputs,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    /// Set by SIGHUP; acted on before the next message.
    pub reopen: Arc<AtomicBool>,
    pairing: Pairing,
    /// cgroup id → container, valid for `cache_generation` of the registry.
    cache: HashMap<u64, Option<Arc<Container>>>,
    cache_generation: u64,
    /// The last lookup: consecutive records mostly come from the same cgroup.
    last: Option<(u64, Option<Arc<Container>>)>,
    /// Records of this batch by (cgroup id, syscall), turned into labelled counters once per
    /// batch.
    counts: HashMap<(u64, u32), Counted>,
    pub records: u64,
    pub decode_errors: u64,
}

impl DaemonWriter {
    pub fn new(
        outputs: Outputs,
        registry: Arc<Registry>,
        metrics: Arc<Metrics>,
        reopen: Arc<AtomicBool>,
    ) -> Self {
        DaemonWriter {
            outputs,
            registry,
            metrics,
            reopen,
            pairing: Pairing::default(),
            cache: HashMap::new(),
            cache_generation: u64::MAX,
            last: None,
            counts: HashMap::new(),
            records: 0,
            decode_errors: 0,
        }
    }

    pub fn run(&mut self, mut rx: mpsc::Receiver<Message>) -> io::Result<()> {
        while let Some(msg) = rx.blocking_recv() {
            if self.reopen.swap(false, Ordering::Relaxed) {
                self.outputs.reopen()?;
                tracing::info!("output files reopened");
            }
            match msg {
                Message::Batch(b) => self.batch(&b)?,
                Message::Lost(l) => {
                    self.outputs.lost(&l)?;
                    self.outputs.flush()?;
                }
                Message::Unfinished(calls) => {
                    for event in &calls {
                        let container = self.container_of(event.cgroup_id, event.tgid);
                        let name = container.as_ref().map_or(UNATTRIBUTED, |c| c.name.as_str());
                        self.outputs.sink_for(name)?.syscall(&Enriched {
                            event,
                            container: container.as_deref(),
                        })?;
                    }
                    self.outputs.flush()?;
                }
                Message::Summary { .. } => {}
            }
        }
        self.outputs.finish()
    }

    /// The container of a record's cgroup: the registry, else (a nested cgroup) the
    /// followed cgroup that contains the process's.
    fn container_of(&mut self, cgroup_id: u64, tgid: u32) -> Option<Arc<Container>> {
        let generation = self.registry.generation();
        if generation != self.cache_generation {
            self.cache.clear();
            self.last = None;
            self.cache_generation = generation;
        }
        if let Some((id, c)) = &self.last
            && *id == cgroup_id
        {
            return c.clone();
        }
        if let Some(c) = self.cache.get(&cgroup_id) {
            self.last = Some((cgroup_id, c.clone()));
            return c.clone();
        }
        let found = self
            .registry
            .get(cgroup_id)
            .or_else(|| {
                let cg = crate::target::cgroup::of_pid(tgid).ok()??;
                self.registry.containing(&cg.path)
            })
            .map(|e| e.container);
        self.cache.insert(cgroup_id, found.clone());
        self.last = Some((cgroup_id, found.clone()));
        found
    }

    fn batch(&mut self, batch: &[u8]) -> io::Result<()> {
        for rec in bpf::reader::records(batch) {
            let record = match decode::decode_record(rec) {
                Ok(r) => r,
                Err(e) => {
                    if self.decode_errors == 0 {
                        tracing::warn!("undecodable record: {e}");
                    }
                    self.decode_errors += 1;
                    self.metrics.decode_errors.inc();
                    continue;
                }
            };
            let Some(event) = self.pairing.push(record) else {
                continue;
            };
            let container = self.container_of(event.cgroup_id, event.tgid);
            let name = container.as_ref().map_or(UNATTRIBUTED, |c| c.name.as_str());
            let sink = self.outputs.sink_for(name)?;
            sink.syscall(&Enriched {
                event: &event,
                container: container.as_deref(),
            })?;
            self.counts
                .entry((event.cgroup_id, event.nr))
                .or_insert_with(|| (0, container.clone()))
                .0 += 1;
            self.records += 1;
        }
        self.outputs.flush()?;
        for ((_, nr), (n, container)) in self.counts.drain() {
            let container = container.map_or_else(|| UNATTRIBUTED.to_string(), |c| c.name.clone());
            self.metrics
                .records
                .get_or_create(&RecordLabels {
                    container,
                    syscall: syscalls::display_name(nr).into_owned(),
                })
                .inc_by(n);
        }
        Ok(())
    }
}
