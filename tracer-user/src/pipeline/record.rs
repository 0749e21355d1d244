//! `record`: observe's source and kernel configuration, and in place of the decode → enrich →
//! filter → sink stages a writer that copies each batch of kernel records into the recording
//! (docs/capture-format.md). `show` decodes it later through those stages.
use std::{
    fs::File,
    io::{self, BufWriter},
    sync::Arc,
};

use tokio::sync::{mpsc, watch};
use tracer_common::{
    capture::{CaptureHeader, CaptureSpec, EnterRecord},
    config::Pending,
    record::{RecordHeader, SignalRecord, SyscallRecord},
};

use super::{CHANNEL_BATCHES, Summary, control, observe};
use crate::{
    bpf::{
        self,
        reader::Message,
        recording::{Header, InFlight, Trailer, Writer},
    },
    config::{ObserveConfig, RecordConfig},
    decode::{self, capture_spec},
    error::Error,
    model::{Gauges, KernelStats, clock::Clock},
    runtime,
};

/// Large writes: a batch is up to 256 KiB.
const WRITE_BUFFER: usize = 1 << 20;

/// What the recording must be decoded with: the kernel record layouts (their sizes) and the
/// capture rules the kernel is loaded with (decode/capture_spec.rs), as a CRC-32, and tracer's
/// version. `show` refuses a recording whose layout is not its own.
pub fn layout_id() -> String {
    let mut h = crc32fast::Hasher::new();
    for size in [
        size_of::<RecordHeader>(),
        size_of::<SyscallRecord>(),
        size_of::<SignalRecord>(),
        size_of::<EnterRecord>(),
        size_of::<CaptureHeader>(),
        size_of::<CaptureSpec>(),
        size_of::<Pending>(),
    ] {
        h.update(&(size as u64).to_le_bytes());
    }
    for (nr, spec) in capture_spec::table() {
        h.update(&nr.to_le_bytes());
        h.update(format!("{spec:?}").as_bytes());
    }
    format!("{:08x}/{}", h.finalize(), env!("CARGO_PKG_VERSION"))
}

pub(super) fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Counts for the closing line and the trailer.
#[derive(Debug, Default)]
struct Counts {
    records: u64,
}

/// The writer thread: every message into a frame, flushed whenever the channel is empty. After
/// a failed write the file is cut back to the last whole frame flushed, and the run stops.
fn write_frames(
    w: Writer<BufWriter<File>>,
    mut rx: mpsc::Receiver<Message>,
    stop: &watch::Sender<bool>,
) -> (Option<Writer<BufWriter<File>>>, Counts, io::Result<()>) {
    let mut counts = Counts::default();
    let mut durable = w.written();
    let mut writer = Some(w);
    let mut result = Ok(());
    while let Some(msg) = rx.blocking_recv() {
        let Some(w) = writer.as_mut() else {
            continue; // keep draining: the source must not block on a full channel
        };
        let r = frame(w, msg, &mut counts).and_then(|()| {
            if rx.is_empty() {
                w.flush()?;
                durable = w.written();
            }
            Ok(())
        });
        if let Err(e) = r {
            // A frame cut by the failed write would end the file in part of a frame.
            if let Some(w) = writer.take() {
                let _ = w.cut_back(durable);
            }
            result = Err(e);
            let _ = stop.send(true);
        }
    }
    (writer, counts, result)
}

fn frame(w: &mut Writer<BufWriter<File>>, msg: Message, counts: &mut Counts) -> io::Result<()> {
    match msg {
        Message::Batch(b) => {
            counts.records += bpf::reader::records(&b).count() as u64;
            w.batch(&b)
        }
        Message::Lost(l) => w.lost(&l),
        Message::Unfinished(calls) => {
            // The threads are alive now (inside the calls); by `show` they may be gone.
            let calls: Vec<InFlight> = calls
                .into_iter()
                .map(|(tid, pending)| {
                    let seen = decode::unfinished(tid, &pending);
                    InFlight {
                        tid,
                        tgid: seen.tgid,
                        cgroup_id: runtime::cgroup::of_pid(tid)
                            .ok()
                            .flatten()
                            .map_or(0, |c| c.id),
                        comm: seen.comm,
                        pending,
                    }
                })
                .collect();
            w.in_flight(&calls)
        }
        Message::InFlight(_)
        | Message::Events(_)
        | Message::Summary { .. }
        | Message::Counts(_) => Ok(()),
    }
}

/// Runs `record` until a signal, --duration or the target's end (pipeline/control.rs), then
/// writes the trailer.
pub async fn record(cfg: RecordConfig, ready: &dyn Fn(String)) -> Result<Summary, Error> {
    let RecordConfig {
        observe: cfg,
        output,
    } = cfg;
    let target = runtime::resolve(&cfg.target).await?;
    let clock = Clock::shared();
    // Every status, and the calls `-y`'s and `-P`'s fd tables follow, so that `show` can
    // filter and name fds as observe would have.
    let kernel_cfg = ObserveConfig {
        fd_paths: true,
        ..cfg.clone()
    };
    let output_error = |e: &io::Error| Error::write_failed(output.clone(), e);
    let file = crate::sink::file::create(&output).map_err(|e| Error::Output {
        path: output.clone(),
        reason: e.to_string(),
    })?;
    let mut kernel = observe::bpf_config(&kernel_cfg, &target);
    // `fd_paths` above only makes the kernel report what the fd tables follow: `show` asks
    // nothing of /proc or sock_diag, so no record needs the reader woken at once (a wakeup per
    // fd-creating call cost nginx a third of its throughput under `record`).
    kernel.wake_syscalls = Vec::new();
    let mut loaded = bpf::load_and_attach(&kernel)?;
    let tasks = loaded.tasks.take();
    let header = Header {
        tracer: env!("CARGO_PKG_VERSION").into(),
        kernel: kernel_release(),
        layout: layout_id(),
        clock_offset_ns: i64::try_from(clock.offset_ns()).unwrap_or_default(),
        started_ktime_ns: bpf::reader::monotonic_ns(),
        target: target.describe(),
        container: target.container.clone(),
        syscalls: cfg.syscalls.clone(),
        string_size: cfg.string_size,
    };
    let writer = Writer::new(BufWriter::with_capacity(WRITE_BUFFER, file), &header)
        .map_err(|e| output_error(&e))?;
    ready(format!(
        "tracing {}{} into {}; Ctrl-C to stop",
        target.describe(),
        super::exit_only_note(cfg.exit_only, &cfg.left_out),
        output.display()
    ));

    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop = stop_tx.subscribe();
    let mut source = tokio::spawn(async move {
        bpf::reader::run(loaded, tx, stop, None, Arc::new(Gauges::default()))
            .await
            .map_err(|e| Error::Io {
                what: "reading the ring buffer".into(),
                source: e,
            })
    });
    let writer_stop = stop_tx.clone();
    let writer = tokio::task::spawn_blocking(move || write_frames(writer, rx, &writer_stop));
    let ends = control::Ends {
        duration: cfg.duration,
        target: Some(target),
        tasks,
    };
    let control = control::Control::default();
    let kernel = super::until_end(&ends, stop_rx, &stop_tx, &control, &mut source).await?;
    let (w, counts, written) = writer.await.map_err(|e| Error::Task {
        what: "writer thread",
        source: e,
    })?;
    written.map_err(|e| output_error(&e))?;
    let Some(mut w) = w else {
        return Err(output_error(&io::Error::other("the recording was closed")));
    };
    let kernel: KernelStats = kernel?;
    let whole = w.written();
    let trailer = w.trailer(&Trailer {
        ended_ktime_ns: bpf::reader::monotonic_ns(),
        records: counts.records,
        lost: kernel.lost,
        pending_full: kernel.pending_full,
        regs_unreadable: kernel.regs_unreadable,
        tasks_full: kernel.tasks_full,
        stack_failed: kernel.stack_failed,
    });
    if let Err(e) = trailer {
        let _ = w.cut_back(whole);
        return Err(output_error(&e));
    }
    Ok(Summary {
        records: counts.records,
        lost: kernel.lost,
        decode_errors: 0,
        pending_full: kernel.pending_full,
        tasks_full: kernel.tasks_full,
        stack_failed: kernel.stack_failed,
        otlp: None,
    })
}
