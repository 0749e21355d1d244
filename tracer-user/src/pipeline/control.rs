//! The one shutdown policy, for every command: SIGINT, SIGTERM, `--duration`, the target gone,
//! the source done (files read, ring buffer failed) and the writer done (`--count` reached,
//! stdout closed, a write failed) end a run; SIGHUP asks the sinks to reopen their files.
use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use tokio::{
    signal::unix::{SignalKind, signal},
    sync::watch,
    task::JoinHandle,
};

use crate::{error::Error, model::KernelStats, runtime::Target};

/// How often `-p`'s task set is checked for emptiness.
const TASKS_POLL: Duration = Duration::from_millis(200);

/// Control that travels beside the data channel.
#[derive(Debug, Default)]
pub struct Control {
    reopen: AtomicBool,
    source_failed: AtomicBool,
    /// Wakes the writer while it waits for data.
    pub wake: tokio::sync::Notify,
}

impl Control {
    /// SIGHUP: acted on by the writer at once, before any further message.
    pub fn ask_reopen(&self) {
        self.reopen.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn take_reopen(&self) -> bool {
        self.reopen.swap(false, Ordering::SeqCst)
    }

    pub fn source_failed(&self) {
        self.source_failed.store(true, Ordering::SeqCst);
    }

    pub fn has_source_failed(&self) -> bool {
        self.source_failed.load(Ordering::SeqCst)
    }
}

/// What, besides signals and the writer, ends a run.
#[derive(Default)]
pub struct Ends {
    pub duration: Option<Duration>,
    /// Ends the run when it is gone (observe).
    pub target: Option<Target>,
    /// `-p`: ends the run when no followed thread is left.
    pub tasks: Option<crate::bpf::TaskSet>,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Signal,
    Duration,
    TargetGone,
    WriterDone,
    SourceDone,
}

fn stream(kind: SignalKind) -> Result<tokio::signal::unix::Signal, Error> {
    signal(kind).map_err(|e| Error::Io {
        what: "installing a signal handler".into(),
        source: e,
    })
}

/// Waits for the end of a run; returns the source's result when the source ended it.
pub async fn wait(
    ends: &Ends,
    mut writer_stop: watch::Receiver<bool>,
    control: &Control,
    source: &mut JoinHandle<Result<KernelStats, Error>>,
) -> Option<Result<KernelStats, Error>> {
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        stream(SignalKind::interrupt()),
        stream(SignalKind::terminate()),
        stream(SignalKind::hangup()),
    ) else {
        tracing::error!("cannot install signal handlers; stopping");
        return None;
    };
    let deadline = async {
        match ends.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let gone = async {
        match &ends.target {
            Some(t) => Some((t.label.clone(), crate::runtime::end::ended(t).await)),
            None => std::future::pending().await,
        }
    };
    tokio::pin!(gone);
    let all_exited = async {
        match &ends.tasks {
            Some(tasks) => loop {
                tokio::time::sleep(TASKS_POLL).await;
                if tasks.is_empty() {
                    break;
                }
            },
            None => std::future::pending().await,
        }
    };
    tokio::pin!(all_exited);
    let (why, result) = loop {
        tokio::select! {
            _ = int.recv() => break (Why::Signal, None),
            _ = term.recv() => break (Why::Signal, None),
            _ = hup.recv() => control.ask_reopen(),
            () = &mut deadline => break (Why::Duration, None),
            _ = writer_stop.wait_for(|s| *s) => break (Why::WriterDone, None),
            () = &mut all_exited => {
                let label = ends.target.as_ref().map_or("the target", |t| t.label.as_str());
                tracing::warn!("{label}: every followed process exited; stopping");
                break (Why::TargetGone, None);
            }
            Some((label, why)) = &mut gone => {
                tracing::warn!("{label} is gone: {why}; stopping");
                break (Why::TargetGone, None);
            }
            r = &mut *source => {
                let r = r.unwrap_or_else(|e| {
                    Err(Error::Task {
                        what: "source task",
                        source: e,
                    })
                });
                break (Why::SourceDone, Some(r));
            }
        }
    };
    tracing::debug!(?why, "run ends");
    result
}
