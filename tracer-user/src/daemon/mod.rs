//! `tracer daemon`: one loaded BPF object for every named container; the follower changes the
//! kernel's target set as containers come and go, the writer attributes records to containers
//! and writes them out, the metrics endpoint reports on both.
//!
//! kernel → reader → writer (decode → registry → outputs), with the follower feeding the
//! kernel filter and the registry from Docker events and inotify.
pub mod follow;
pub mod metrics;
pub mod registry;
pub mod writer;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::{
    signal::unix::{SignalKind, signal},
    sync::{mpsc, watch},
};

use crate::{
    bpf::{self, BpfConfig, reader::Message},
    cli::{daemon::DaemonConfig, observe::Hook},
    error::Error,
    pipeline::Summary,
    target::{Filter, cgroup, docker},
};

const CHANNEL_BATCHES: usize = 64;
/// Docker's containers sit at `/docker/ID` (cgroupfs driver) or `/system.slice/docker-ID.scope`
/// (systemd driver): two levels below the cgroup2 root.
const DOCKER_LEVEL: u32 = 2;

/// The depth of the named containers' cgroups: from one that runs now, else Docker's default.
async fn cgroup_level(names: &[String]) -> u32 {
    let Ok(client) = docker::connect_negotiated().await else {
        return DOCKER_LEVEL;
    };
    for name in names {
        if let Ok(Some(s)) = docker::state(&client, name).await
            && s.running
            && let Ok(Some(cg)) = cgroup::of_pid(s.pid)
            && cg.level > 0
        {
            return cg.level;
        }
    }
    DOCKER_LEVEL
}

pub async fn run(cfg: DaemonConfig) -> Result<Summary, Error> {
    let mount = cgroup::cgroup2_mount().ok_or_else(|| {
        Error::KernelSupport(
            "no cgroup2 mount: the daemon filters by cgroup v2; mount cgroup2 (e.g. at /sys/fs/cgroup/unified)".into(),
        )
    })?;
    let listener = match cfg.metrics {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Error::Usage(format!(
                "cannot serve metrics on {addr}: {e}; choose a free address with --metrics"
            ))
        })?),
        None => None,
    };
    let output_path = match &cfg.output {
        crate::cli::daemon::Output::File(p) | crate::cli::daemon::Output::Dir(p) => p.clone(),
        crate::cli::daemon::Output::Stdout => "<stdout>".into(),
    };
    let outputs = writer::Outputs::open(&cfg.output, cfg.rotation).map_err(|e| Error::Output {
        path: output_path.clone(),
        reason: e.to_string(),
    })?;
    let level = cgroup_level(&cfg.containers).await;
    let mut loaded = bpf::load_and_attach(&BpfConfig {
        hook: Hook::RawTracepoint,
        ring_size: cfg.ring_size,
        syscalls: cfg.syscalls.clone(),
        filter: Filter::CgroupSet { level },
        pidns: None,
        follow_nothing: false,
        string_size: cfg.string_size,
        summary: false,
        stream: true,
    })?;
    let targets = loaded
        .targets
        .take()
        .ok_or_else(|| Error::Internal("target set missing".into()))?;
    let registry = Arc::new(registry::Registry::default());
    let metrics = Arc::new(metrics::Metrics::new(cfg.ring_size));
    let gauges = Arc::new(bpf::reader::Gauges::default());
    eprintln!(
        "tracer: daemon following {}; SIGTERM to stop, SIGHUP to reopen output files",
        cfg.containers.join(", ")
    );

    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let (stop_tx, stop_rx) = watch::channel(false);
    let reader = tokio::spawn(bpf::reader::run(
        loaded,
        tx.clone(),
        stop_rx.clone(),
        None,
        gauges.clone(),
    ));
    let reopen = Arc::new(AtomicBool::new(false));
    let mut w =
        writer::DaemonWriter::new(outputs, registry.clone(), metrics.clone(), reopen.clone());
    let writer_metrics = metrics.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let r = w.run(rx);
        writer_metrics.healthy.store(false, Ordering::Relaxed);
        (w.records, w.decode_errors, r)
    });
    let follower = follow::Follower::new(
        &cfg.containers,
        targets,
        registry,
        metrics.clone(),
        level,
        mount,
    );
    let follower = tokio::spawn(follower.run(stop_rx.clone()));
    let server = listener.map(|l| tokio::spawn(metrics::serve(l, metrics.clone(), gauges)));

    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::Internal(format!("signal handler: {e}")))?;
    let mut hup = signal(SignalKind::hangup())
        .map_err(|e| Error::Internal(format!("signal handler: {e}")))?;
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| Error::Internal(format!("signal handler: {e}")))?;
    let mut reader_done = false;
    let deadline = async {
        match cfg.duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => break,
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
            _ = hup.recv() => {
                reopen.store(true, Ordering::Relaxed);
                // An empty batch wakes the writer, which reopens before anything else.
                let _ = tx.send(Message::Batch(bytes::Bytes::new())).await;
            }
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if reader.is_finished() {
                    reader_done = true;
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = stop_tx.send(true);
    if reader_done {
        metrics.healthy.store(false, Ordering::Relaxed);
    }
    let summary = crate::pipeline::finish(reader, writer, output_path).await;
    let _ = follower.await;
    if let Some(s) = server {
        s.abort();
    }
    summary
}
