//! The daemon's binary recordings (`--format binary`, or `format = "binary"` in a container's
//! table): each such container's kernel records, copied undecoded into a recording of its own
//! (docs/capture-format.md), which `tracer show` decodes later. The pipeline hands them over
//! before the decode stage: for these containers the live path pays a copy, not a decode.
//!
//! A recording is one header, frames, one trailer. A file is never appended to: when one
//! exists at the path (a previous run, or one logrotate did not move), it is moved aside as
//! rotation would (`FILE.1`, …) and a new recording starts. Rotation and SIGHUP end the
//! current recording with its trailer and start a new one, so every file reads on its own.
use std::{
    collections::HashMap,
    fs::File,
    io::{self, BufWriter},
    path::PathBuf,
    sync::Arc,
};

use prometheus_client::metrics::{counter::Counter, family::Family};

use super::{
    file::{self, Rotation},
    metrics::ContainerLabel,
};
use crate::{
    bpf::recording::{Header, InFlight, Trailer, Writer},
    model::{Container, Lost},
};

const WRITE_BUFFER: usize = 1 << 20;

/// Where and how one container's recording is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub path: PathBuf,
    pub rotation: Option<Rotation>,
    /// Earlier recordings kept when one found at the path is moved aside (the rotation's
    /// count, or the daemon's default without rotation).
    pub keep: u32,
    /// The syscalls its records are shown with (empty: all), and its string size: `show`'s
    /// defaults, from the container's policy.
    pub syscalls: Vec<u32>,
    pub string_size: u32,
}

/// Which containers are recorded, and where.
#[derive(Debug, Clone, Default)]
pub struct Plans {
    /// By label: containers with a file of their own.
    pub own: HashMap<String, Plan>,
    /// `--output-dir`: where recorded containers without a file of their own go
    /// (`DIR/STEM.trec`).
    pub dir: Option<PathBuf>,
    /// `--format binary`: every container is recorded unless its table says otherwise.
    pub default_binary: bool,
    /// Labels whose table sets the format: recorded or not.
    pub formats: HashMap<String, bool>,
    pub rotation: Option<Rotation>,
    /// Earlier recordings kept without rotation (`--rotate-keep`'s default).
    pub default_keep: u32,
    /// Per label, else the daemon's: the syscall set and string size.
    pub syscalls: HashMap<String, Vec<u32>>,
    pub string_sizes: HashMap<String, u32>,
    pub default_syscalls: Vec<u32>,
    pub default_string_size: u32,
}

impl Plans {
    /// The plan of `container`, or `None` when its records are decoded.
    fn of(&self, c: &Container) -> Option<Plan> {
        let label = c.label();
        if let Some(p) = self.own.get(label.as_ref()) {
            return Some(p.clone());
        }
        let dir = self.dir.as_ref()?;
        let binary = self
            .formats
            .get(label.as_ref())
            .copied()
            .unwrap_or(self.default_binary);
        if !binary {
            return None;
        }
        Some(Plan {
            path: dir.join(format!("{}.trec", c.file_stem())),
            rotation: self.rotation,
            keep: self.rotation.map_or(self.default_keep, |r| r.keep),
            syscalls: self
                .syscalls
                .get(label.as_ref())
                .unwrap_or(&self.default_syscalls)
                .clone(),
            string_size: self
                .string_sizes
                .get(label.as_ref())
                .copied()
                .unwrap_or(self.default_string_size),
        })
    }

    /// Whether any container can be recorded (else the stage is left out).
    pub fn any(&self) -> bool {
        !self.own.is_empty()
            || (self.dir.is_some() && (self.default_binary || self.formats.values().any(|&b| b)))
    }
}

/// One open recording.
struct Open {
    plan: Plan,
    container: Arc<Container>,
    /// `None` between recordings (before the first batch, after a trailer).
    writer: Option<Writer<BufWriter<File>>>,
    /// Bytes known to be in the file: a failed write cuts it back to here.
    durable: u64,
    records: u64,
    /// This batch's records, each after its u32 length.
    batch: Vec<u8>,
    /// Bytes written since the metric was last told.
    bytes: u64,
}

pub struct Recordings {
    plans: Plans,
    /// What every header says (tracer, kernel, layout, clock offset).
    template: Header,
    /// By label; `None`: decided, not recorded.
    open: HashMap<String, Option<Open>>,
    /// Host-wide losses seen so far (the trailer's `lost`).
    lost_total: u64,
    bytes_metric: Option<Family<ContainerLabel, Counter>>,
}

impl Recordings {
    pub fn new(plans: Plans, template: Header) -> Recordings {
        Recordings {
            plans,
            template,
            open: HashMap::new(),
            lost_total: 0,
            bytes_metric: None,
        }
    }

    /// Counts the bytes written for each container in `metric` (at each flush).
    pub fn with_bytes_metric(mut self, metric: Family<ContainerLabel, Counter>) -> Self {
        self.bytes_metric = Some(metric);
        self
    }

    /// Whether `container`'s records are recorded (and so not decoded).
    pub fn records(&mut self, container: &Arc<Container>) -> bool {
        let label = container.label();
        if let Some(o) = self.open.get(label.as_ref()) {
            return o.is_some();
        }
        let plan = self.plans.of(container);
        let open = plan.map(|plan| Open {
            plan,
            container: container.clone(),
            // Opened at the first batch: an error there is the run's write error.
            writer: None,
            durable: 0,
            records: 0,
            batch: Vec::new(),
            bytes: 0,
        });
        let recorded = open.is_some();
        self.open.insert(label.into_owned(), open);
        recorded
    }

    /// Takes `rec` (one ring-buffer record of `container`, which `records`) into its
    /// recording's batch, with `ns` (the ids in the container's PID namespace) written in.
    pub fn take(&mut self, rec: &[u8], container: &Arc<Container>, ns: Option<(u32, u32)>) {
        let Some(Some(o)) = self.open.get_mut(container.label().as_ref()) else {
            return;
        };
        o.batch.extend_from_slice(&(rec.len() as u32).to_ne_bytes());
        let at = o.batch.len();
        o.batch.extend_from_slice(rec);
        if let Some((tgid, tid)) = ns {
            crate::decode::set_ns_ids(&mut o.batch[at..], tgid, tid);
        }
        o.records += 1;
    }

    /// Writes each recording's share of the batch as one frame.
    pub fn end_batch(&mut self) -> io::Result<()> {
        let template = &self.template;
        for o in self.open.values_mut().flatten() {
            if o.batch.is_empty() {
                continue;
            }
            o.start_if_closed(template)?;
            let batch = std::mem::take(&mut o.batch);
            let r = o.write(|w| w.batch(&batch));
            o.batch = batch;
            o.batch.clear();
            r?;
            o.rotate_if_full(template, self.lost_total)?;
        }
        Ok(())
    }

    /// Losses are host-wide: every open recording gets the frame.
    pub fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.lost_total = lost.total;
        for o in self.open.values_mut().flatten() {
            if o.writer.is_some() {
                o.write(|w| w.lost(lost))?;
            }
        }
        Ok(())
    }

    /// The calls of `container` in flight at the end; false when its records are decoded.
    pub fn in_flight(
        &mut self,
        container: &Arc<Container>,
        calls: &[InFlight],
    ) -> io::Result<bool> {
        if !self.records(container) {
            return Ok(false);
        }
        let template = &self.template;
        if let Some(Some(o)) = self.open.get_mut(container.label().as_ref()) {
            o.start_if_closed(template)?;
            o.write(|w| w.in_flight(calls))?;
        }
        Ok(true)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        for o in self.open.values_mut().flatten() {
            if let Some(w) = &o.writer {
                let written = w.written();
                o.write(Writer::flush)?;
                o.durable = written;
            }
            if o.bytes > 0
                && let Some(m) = &self.bytes_metric
            {
                m.get_or_create(&ContainerLabel {
                    container: o.container.label().into_owned(),
                })
                .inc_by(std::mem::take(&mut o.bytes));
            }
        }
        Ok(())
    }

    /// SIGHUP: each recording ends with its trailer; the next batch starts a new one at the
    /// path (a file still there is moved aside first).
    pub fn reopen(&mut self) -> io::Result<()> {
        let lost = self.lost_total;
        self.open
            .values_mut()
            .flatten()
            .try_for_each(|o| o.end(lost))
    }

    /// Shutdown: every recording ends with its trailer, synced to disk.
    pub fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        let lost = self.lost_total;
        self.open
            .values_mut()
            .flatten()
            .try_for_each(|o| o.end(lost))
    }
}

impl Open {
    /// Writes with `write`, counting the bytes; on failure the file is cut back to its last
    /// whole frame flushed, so what is there still reads.
    fn write(
        &mut self,
        write: impl FnOnce(&mut Writer<BufWriter<File>>) -> io::Result<()>,
    ) -> io::Result<()> {
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let before = w.written();
        match write(w) {
            Ok(()) => {
                self.bytes += w.written() - before;
                Ok(())
            }
            Err(e) => {
                if let Some(w) = self.writer.take() {
                    let _ = w.cut_back(self.durable);
                }
                Err(e)
            }
        }
    }

    /// A new recording at the plan's path, after moving aside a file found there.
    fn start_if_closed(&mut self, template: &Header) -> io::Result<()> {
        if self.writer.is_some() {
            return Ok(());
        }
        let path = &self.plan.path;
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            file::shift(path, self.plan.keep)?;
        }
        let f = file::create(path)?;
        let header = Header {
            started_ktime_ns: crate::bpf::reader::monotonic_ns(),
            target: format!("container {}", self.container.label()),
            container: Some((*self.container).clone()),
            syscalls: self.plan.syscalls.clone(),
            string_size: self.plan.string_size,
            ..template.clone()
        };
        let w = Writer::new(BufWriter::with_capacity(WRITE_BUFFER, f), &header)?;
        self.bytes += w.written();
        self.writer = Some(w);
        self.durable = 0;
        self.records = 0;
        Ok(())
    }

    fn rotate_if_full(&mut self, template: &Header, lost: u64) -> io::Result<()> {
        match self.plan.rotation {
            Some(r)
                if self
                    .writer
                    .as_ref()
                    .is_some_and(|w| w.written() >= r.max_bytes) =>
            {
                self.end(lost)?;
                self.start_if_closed(template)
            }
            _ => Ok(()),
        }
    }

    /// The trailer, flushed and synced; the recording is closed.
    fn end(&mut self, lost: u64) -> io::Result<()> {
        if self.writer.is_none() {
            return Ok(());
        }
        let trailer = Trailer {
            ended_ktime_ns: crate::bpf::reader::monotonic_ns(),
            records: self.records,
            lost,
            ..Trailer::default()
        };
        self.write(|w| w.trailer(&trailer))?;
        if let Some(w) = self.writer.take() {
            file::sync(w.get_ref().get_ref())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Runtime;

    fn container(name: &str) -> Container {
        Container {
            id: format!("{name}-id"),
            name: name.into(),
            runtime: Runtime::Docker,
            pod: None,
        }
    }

    #[test]
    fn which_containers_are_recorded_and_where() {
        let own = Plan {
            path: "/var/log/web.trec".into(),
            rotation: None,
            keep: 5,
            syscalls: vec![1],
            string_size: 64,
        };
        let mut plans = Plans {
            own: HashMap::from([("web".to_string(), own.clone())]),
            default_syscalls: vec![2],
            default_string_size: 32,
            ..Plans::default()
        };
        // A table of its own: recorded wherever the others go.
        assert_eq!(plans.of(&container("web")), Some(own.clone()));
        assert_eq!(plans.of(&container("db")), None);
        assert!(plans.any());
        // --format binary --output-dir: everyone else in the directory, unless its table
        // says json or text.
        plans.dir = Some("/var/log/tracer".into());
        plans.default_binary = true;
        plans.formats.insert("db".into(), false);
        plans.string_sizes.insert("cache".into(), 16);
        assert_eq!(plans.of(&container("db")), None);
        let cache = plans.of(&container("cache")).expect("recorded");
        assert_eq!(cache.path, PathBuf::from("/var/log/tracer/cache.trec"));
        assert_eq!((cache.syscalls, cache.string_size), (vec![2], 16));
        // json by default: only a table's format = "binary" records, in the directory.
        plans.default_binary = false;
        assert_eq!(plans.of(&container("cache")), None);
        plans.formats.insert("cache".into(), true);
        assert!(plans.of(&container("cache")).is_some());
        assert_eq!(plans.of(&container("web")), Some(own));
    }
}
