//! Per-container routing (the daemon): each event goes to its container's JSON lines output,
//! or everything to one output.
use std::{
    collections::HashMap,
    io::{self, BufWriter, Write},
    path::PathBuf,
};

use super::{
    Lost, Sink,
    file::{OutputFile, Rotation},
    jsonl::JsonLines,
};
use crate::model::{Event, Lifecycle, SignalEvent, clock::Clock, seccomp::Finding};

/// Where the JSON lines go.
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

fn lines(out: Out, clock: Clock) -> Lines {
    JsonLines::new(BufWriter::with_capacity(WRITE_BUFFER, out), clock)
}

/// The open outputs: one for everything, or one per container (its name; `NS_POD_NAME` in a
/// pod).
pub struct Outputs {
    clock: Clock,
    dir: Option<PathBuf>,
    rotation: Option<Rotation>,
    one: Option<Lines>,
    per: HashMap<String, Lines>,
}

impl Outputs {
    pub fn open(output: &Output, rotation: Option<Rotation>, clock: Clock) -> io::Result<Outputs> {
        let (dir, one) = match output {
            Output::Stdout => (None, Some(lines(Out::Stdout(io::stdout()), clock))),
            Output::File(p) => (
                None,
                Some(lines(
                    Out::File(OutputFile::open(p.clone(), rotation)?),
                    clock,
                )),
            ),
            Output::Dir(d) => (Some(d.clone()), None),
        };
        Ok(Outputs {
            clock,
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
            self.per
                .insert(name.to_string(), lines(Out::File(file), self.clock));
        }
        self.per
            .get_mut(name)
            .ok_or_else(|| io::Error::other("output vanished"))
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Lines> {
        self.one.iter_mut().chain(self.per.values_mut())
    }
}

impl Sink for Outputs {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        let name = e
            .container
            .as_ref()
            .map_or(UNATTRIBUTED.into(), |c| c.file_stem());
        self.sink_for(&name)?.event(e)
    }

    /// Into the call's container's stream, after the call's record.
    fn seccomp(&mut self, e: &Event, f: &Finding) -> io::Result<()> {
        let name = e
            .container
            .as_ref()
            .map_or(UNATTRIBUTED.into(), |c| c.file_stem());
        self.sink_for(&name)?.seccomp(e, f)
    }

    fn lifecycle(&mut self, l: &Lifecycle) -> io::Result<()> {
        self.sink_for(&l.container.file_stem())?.lifecycle(l)
    }

    fn signal(&mut self, s: &SignalEvent) -> io::Result<()> {
        let name = s
            .container
            .as_ref()
            .map_or(UNATTRIBUTED.into(), |c| c.file_stem());
        self.sink_for(&name)?.signal(s)
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
        tracing::info!("output files reopened");
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
