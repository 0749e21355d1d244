//! `show`: a recording (`tracer record`) as the source, and observe's stages after it, so the
//! output is what `observe` would have printed for the same records. What differs offline:
//! /proc is not asked (the processes may be gone, their pids reused), see docs/cli.md.
use std::{
    fs::File,
    io::BufReader,
    path::{Path, PathBuf},
    sync::Arc,
};

use tokio::sync::mpsc;

use super::{Run, Source, Summary, control, observe};
use crate::{
    bpf::{
        reader::Message,
        recording::{Frame, Header, Reader},
    },
    config::ShowConfig,
    enrich::{fds::ProcFs, sockets},
    error::Error,
    model::{KernelStats, clock::Clock},
};

/// A recording whose header was read and checked.
pub struct Opened {
    path: PathBuf,
    reader: Reader<BufReader<File>>,
}

fn bad(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Recording {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

/// Opens `path` and reads its header; a recording made with another record layout is refused
/// (its bytes would decode as something else).
pub fn open(path: &Path) -> Result<(Opened, Header), Error> {
    let file =
        File::open(path).map_err(|e| bad(path, format!("cannot open it: {e}; check the path")))?;
    let (reader, header) = Reader::open(BufReader::with_capacity(1 << 20, file)).map_err(|e| {
        bad(
            path,
            format!("{e}; give a file written by `tracer record -o`"),
        )
    })?;
    let ours = super::record::layout_id();
    if header.layout != ours {
        return Err(bad(
            path,
            format!(
                "recorded by tracer {} with record layout {}, this tracer decodes {ours}; show it with the tracer that recorded it",
                header.tracer, header.layout
            ),
        ));
    }
    let path = path.to_path_buf();
    Ok((Opened { path, reader }, header))
}

/// Sends every frame's records downstream; the trailer's counts are the run's. An error stops
/// the source after every whole frame before it was sent.
pub fn read(
    opened: Opened,
    tx: &mpsc::Sender<Message>,
    control: &control::Control,
) -> Result<KernelStats, Error> {
    let r = read_into(opened, tx);
    if r.is_err() {
        // Before the channel closes: the writer must not conclude from part of the input.
        control.source_failed();
    }
    r
}

fn read_into(mut o: Opened, tx: &mpsc::Sender<Message>) -> Result<KernelStats, Error> {
    let mut stats = KernelStats::default();
    loop {
        let next = o.reader.next_frame().map_err(|e| {
            bad(
                &o.path,
                format!("{e}; every whole record before it is shown"),
            )
        })?;
        let msg = match next {
            None => return Ok(stats),
            Some(Frame::Batch(b)) => Message::Batch(b),
            Some(Frame::Lost(l)) => {
                stats.lost = l.total;
                Message::Lost(l)
            }
            Some(Frame::InFlight(calls)) => Message::InFlight(calls),
            Some(Frame::Trailer(t)) => {
                stats = KernelStats {
                    lost: t.lost,
                    pending_full: t.pending_full,
                    regs_unreadable: t.regs_unreadable,
                    summary_full: 0,
                    tasks_full: t.tasks_full,
                    stack_failed: t.stack_failed,
                };
                continue;
            }
            // The reader refuses a second header.
            Some(Frame::Header(_)) => continue,
        };
        if tx.blocking_send(msg).is_err() {
            return Ok(stats); // the writer is done (--count, a closed stdout)
        }
    }
}

/// No /proc offline: the fd tables know what the trace showed, and nothing else.
struct Offline;

impl ProcFs for Offline {
    fn link(&self, _tgid: u32, _fd: i32) -> Option<Vec<u8>> {
        None
    }
    fn cloexec(&self, _tgid: u32, _fd: i32) -> Option<bool> {
        None
    }
    fn same_file(&self, _tgid: u32, _fd: i32, _path: &[u8]) -> bool {
        false
    }
    fn cwd(&self, _tgid: u32) -> Option<Vec<u8>> {
        None
    }
}

/// No sock_diag or device files offline either: `-yy` shows what `-y` shows.
impl sockets::SocketSource for Offline {
    fn protocol(&mut self, _tgid: u32, _fd: i32, _ino: u64) -> Option<sockets::Proto> {
        None
    }
    fn details(
        &mut self,
        _tgid: u32,
        _ino: u64,
        _proto: sockets::Proto,
    ) -> Option<sockets::Details> {
        None
    }
    fn device(&mut self, _tgid: u32, _path: &[u8]) -> Option<sockets::Device> {
        None
    }
}

/// The syscalls to show: those recorded (the kernel also reported the calls the fd tables
/// follow: hidden here as observe hides them), narrowed by show's own set.
fn shown(recorded: &[u32], asked: &[u32]) -> Option<Vec<u32>> {
    match (recorded.is_empty(), asked.is_empty()) {
        (true, true) => None,
        (false, true) => Some(recorded.to_vec()),
        (true, false) => Some(asked.to_vec()),
        (false, false) => Some(
            asked
                .iter()
                .copied()
                .filter(|n| recorded.contains(n))
                .collect(),
        ),
    }
}

/// Runs `show`: the recording through decode → enrich → filter → sink, to its end.
pub async fn show(cfg: ShowConfig) -> Result<Summary, Error> {
    let ShowConfig { input, mut view } = cfg;
    let (opened, header) = open(&input)?;
    if view.string_size > header.string_size {
        tracing::warn!(
            "{}: recorded with -s {}: strings are shown up to that",
            input.display(),
            header.string_size
        );
        view.string_size = header.string_size;
    }
    let clock = Clock::with_offset(i128::from(header.clock_offset_ns));
    let sink = observe::make_sink(&view, observe::open_output(view.output.as_deref())?, clock);
    let container = header.container.clone().map(Arc::new);
    let shown = shown(&header.syscalls, &view.syscalls);
    let stages = observe::stages(
        &view,
        container,
        Box::new(Offline),
        Box::new(Offline),
        shown,
        sink,
        clock,
    );
    super::run(Run {
        source: Source::Recording(opened),
        stages,
        ends: control::Ends::default(),
        control: Arc::default(),
        output: view.output.unwrap_or_else(|| "<stdout>".into()),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shown_set_is_the_recorded_one_narrowed_by_show_s() {
        assert_eq!(shown(&[], &[]), None);
        assert_eq!(shown(&[1, 2], &[]), Some(vec![1, 2]));
        assert_eq!(shown(&[], &[3]), Some(vec![3]));
        assert_eq!(shown(&[1, 2], &[2, 3]), Some(vec![2]));
    }
}
