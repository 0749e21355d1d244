//! Per-container routing (the daemon): each event goes to its container's output, JSON lines or
//! strace-like text: the daemon's one output, a file per container in the output directory,
//! or a file of the container's own (its `[container.NAME]` table).
use std::{
    collections::HashMap,
    io::{self, BufWriter, Write},
    path::PathBuf,
};

use prometheus_client::metrics::{counter::Counter, family::Family};

use super::{
    Lost, Sink,
    file::{OutputFile, Rotation},
    jsonl::JsonLines,
    metrics::ContainerLabel,
    text::Text,
};
use crate::model::{Container, Event, Lifecycle, SignalEvent, clock::Clock, seccomp::Finding};

/// How a daemon output is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DaemonFormat {
    /// JSON lines (docs/events.md).
    #[default]
    Json,
    /// strace-like lines, each after `[NAME]` when several containers share the output.
    Text,
    /// The kernel's records copied undecoded, a recording per container (`DIR/NAME.trec`, or
    /// the container's own output), decoded later by `tracer show` (docs/capture-format.md).
    Binary,
}

/// Where the records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
    Dir(PathBuf),
}

impl Output {
    /// For messages: the file, the directory or `<stdout>`.
    pub fn path(&self) -> PathBuf {
        match self {
            Output::File(p) | Output::Dir(p) => p.clone(),
            Output::Stdout => "<stdout>".into(),
        }
    }
}

/// A container's own output (its `[container.NAME]` table): format, file and rotation, each
/// `None` for the daemon's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destination {
    pub format: Option<DaemonFormat>,
    pub output: Option<PathBuf>,
    pub rotation: Option<Rotation>,
}

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

/// Counts the bytes written through it (the records' bytes, by container).
struct Counted {
    inner: BufWriter<Out>,
    bytes: u64,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One open output, in its format.
enum Dest {
    Json(JsonLines<Counted>),
    Text(Text<Counted>),
}

impl Dest {
    fn new(out: Out, format: DaemonFormat, labelled: bool, clock: Clock) -> Dest {
        let w = Counted {
            inner: BufWriter::with_capacity(WRITE_BUFFER, out),
            bytes: 0,
        };
        match format {
            DaemonFormat::Json => Dest::Json(JsonLines::new(w, clock)),
            // Recorded containers' records never reach the routes (sink/recording.rs).
            DaemonFormat::Text | DaemonFormat::Binary => {
                Dest::Text(Text::new(w, false).with_container_labels(labelled))
            }
        }
    }

    fn sink(&mut self) -> &mut dyn Sink {
        match self {
            Dest::Json(s) => s,
            Dest::Text(s) => s,
        }
    }

    fn writer(&mut self) -> &mut Counted {
        match self {
            Dest::Json(s) => s.get_mut(),
            Dest::Text(s) => s.get_mut(),
        }
    }

    /// Flushes, then syncs a file to disk.
    fn sync(&mut self) -> io::Result<()> {
        self.sink().flush()?;
        match self.writer().inner.get_mut() {
            Out::File(f) => f.sync(),
            Out::Stdout(_) => Ok(()),
        }
    }

    /// Flushes, then reopens a file at its path.
    fn reopen(&mut self) -> io::Result<()> {
        self.sink().flush()?;
        match self.writer().inner.get_mut() {
            Out::File(f) => f.reopen(),
            Out::Stdout(_) => Ok(()),
        }
    }
}

/// Which open output a container's records go to.
#[derive(Clone, Copy)]
enum Which {
    One,
    Own,
    Dir,
}

/// The open outputs: the daemon's one, one per container in the output directory, and the
/// containers' own.
pub struct Outputs {
    clock: Clock,
    format: DaemonFormat,
    dir: Option<PathBuf>,
    rotation: Option<Rotation>,
    one: Option<Dest>,
    /// By file stem (`NS_POD_NAME` in a pod), in the output directory.
    per: HashMap<String, Dest>,
    /// Containers' own outputs, by label (name, or `NS/POD/NAME`).
    own: HashMap<String, Dest>,
    destinations: HashMap<String, Destination>,
    /// Bytes written by container since the last flush, and where they are counted.
    bytes: HashMap<String, u64>,
    bytes_metric: Option<Family<ContainerLabel, Counter>>,
}

impl Outputs {
    pub fn open(
        output: &Output,
        rotation: Option<Rotation>,
        format: DaemonFormat,
        destinations: HashMap<String, Destination>,
        clock: Clock,
    ) -> io::Result<Outputs> {
        // Several containers share the one output: text lines say whose they are.
        let (dir, one) = match output {
            Output::Stdout => (
                None,
                Some(Dest::new(Out::Stdout(io::stdout()), format, true, clock)),
            ),
            Output::File(p) => (
                None,
                Some(Dest::new(
                    Out::File(OutputFile::open(p.clone(), rotation)?),
                    format,
                    true,
                    clock,
                )),
            ),
            Output::Dir(d) => (Some(d.clone()), None),
        };
        // Open the containers' own files now: a path that cannot be written fails at start.
        let mut own = HashMap::new();
        for (label, d) in &destinations {
            let f = d.format.unwrap_or(format);
            if let Some(path) = &d.output
                && f != DaemonFormat::Binary
            {
                let file = OutputFile::open(path.clone(), d.rotation)?;
                own.insert(label.clone(), Dest::new(Out::File(file), f, false, clock));
            }
        }
        Ok(Outputs {
            clock,
            format,
            dir,
            rotation,
            one,
            per: HashMap::new(),
            own,
            destinations,
            bytes: HashMap::new(),
            bytes_metric: None,
        })
    }

    /// Counts the bytes written for each container in `metric` (at each flush).
    pub fn with_bytes_metric(mut self, metric: Family<ContainerLabel, Counter>) -> Self {
        self.bytes_metric = Some(metric);
        self
    }

    fn which(&self, label: &str) -> Which {
        if self.own.contains_key(label) {
            Which::Own
        } else if self.one.is_some() {
            Which::One
        } else {
            Which::Dir
        }
    }

    /// Writes with `write` to the output of `container`, counting the bytes it wrote.
    fn to(
        &mut self,
        container: Option<&Container>,
        write: impl FnOnce(&mut dyn Sink) -> io::Result<()>,
    ) -> io::Result<()> {
        let label = container.map_or(UNATTRIBUTED.into(), |c| c.label());
        let format = self
            .destinations
            .get(label.as_ref())
            .and_then(|d| d.format)
            .unwrap_or(self.format);
        if format == DaemonFormat::Binary {
            // A recorded container: its records went to its recording, undecoded; what is
            // written here about it (its lifecycle) has no place in one.
            return Ok(());
        }
        let dest = match self.which(&label) {
            Which::Own => self.own.get_mut(label.as_ref()),
            Which::One => self.one.as_mut(),
            Which::Dir => {
                let stem = container.map_or(UNATTRIBUTED.into(), |c| c.file_stem());
                if !self.per.contains_key(stem.as_ref()) {
                    let dir = self
                        .dir
                        .as_ref()
                        .ok_or_else(|| io::Error::other("no output"))?;
                    let ext = match format {
                        DaemonFormat::Json => "jsonl",
                        DaemonFormat::Text | DaemonFormat::Binary => "log",
                    };
                    let file = OutputFile::open(dir.join(format!("{stem}.{ext}")), self.rotation)?;
                    let d = Dest::new(Out::File(file), format, false, self.clock);
                    self.per.insert(stem.to_string(), d);
                }
                self.per.get_mut(stem.as_ref())
            }
        }
        .ok_or_else(|| io::Error::other("output vanished"))?;
        let before = dest.writer().bytes;
        let r = write(dest.sink());
        let n = dest.writer().bytes - before;
        if n > 0 && self.bytes_metric.is_some() {
            match self.bytes.get_mut(label.as_ref()) {
                Some(b) => *b += n,
                None => {
                    self.bytes.insert(label.into_owned(), n);
                }
            }
        }
        r
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Dest> {
        self.one
            .iter_mut()
            .chain(self.per.values_mut())
            .chain(self.own.values_mut())
    }
}

impl Sink for Outputs {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.to(e.container.as_deref(), |s| s.event(e))
    }

    /// Into the call's container's stream, after the call's record.
    fn seccomp(&mut self, e: &Event, f: &Finding) -> io::Result<()> {
        self.to(e.container.as_deref(), |s| s.seccomp(e, f))
    }

    fn lifecycle(&mut self, l: &Lifecycle) -> io::Result<()> {
        self.to(Some(&l.container), |s| s.lifecycle(l))
    }

    fn signal(&mut self, s: &SignalEvent) -> io::Result<()> {
        self.to(s.container.as_deref(), |k| k.signal(s))
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(m) = &self.bytes_metric {
            for (label, n) in self.bytes.drain() {
                m.get_or_create(&ContainerLabel { container: label })
                    .inc_by(n);
            }
        }
        self.all().try_for_each(|d| d.sink().flush())
    }

    /// Losses are host-wide (one ring buffer): every output gets the line.
    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.all().try_for_each(|d| d.sink().lost(lost))
    }

    /// Flushes, then reopens every file at its path (SIGHUP, after logrotate moved them).
    fn reopen(&mut self) -> io::Result<()> {
        self.all().try_for_each(Dest::reopen)?;
        tracing::info!("output files reopened");
        Ok(())
    }

    /// Flushes and syncs everything to disk (shutdown).
    fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        self.all().try_for_each(Dest::sync)
    }
}
