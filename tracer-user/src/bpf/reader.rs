//! The one ring buffer reader: waits for readiness, drains everything available into a batch
//! (one buffer, records framed by their length), and polls the loss counters.
use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use aya::maps::{MapData, PerCpuArray, RingBuf};
use bytes::{BufMut, Bytes, BytesMut};
use tokio::{
    io::unix::AsyncFd,
    sync::{mpsc, watch},
};
use tracer_common::config::Pending;
use tracer_common::stats::{
    STAT_PENDING_FULL, STAT_REGS_UNREADABLE, STAT_RINGBUF_FULL, STAT_STACK_FAILED,
    STAT_SUMMARY_FULL, STAT_TASKS_FULL,
};

use super::Loaded;
use crate::model::{
    Event, Gauges, KernelStats, Lost,
    summary::{Snapshot, TargetCount},
};

/// Largest batch handed downstream at once.
const BATCH_BYTES: usize = 256 << 10;
/// How often the loss counters are read while tracing.
const STATS_EVERY: Duration = Duration::from_millis(200);
/// How often the ring buffer is drained without a wakeup: the kernel side only wakes the reader
/// once a batch is waiting, so this bounds how long a trickle of records waits.
const DRAIN_EVERY: Duration = Duration::from_millis(10);
/// How often each followed target's counts are read from the kernel's summary maps (the
/// daemon's syscall metrics).
const COUNTS_EVERY: Duration = Duration::from_secs(1);

pub enum Message {
    /// Records, each preceded by its length as a native-endian u32.
    Batch(Bytes),
    Lost(Lost),
    /// Calls still in progress when tracing stopped (sent once, at the end): the kernel's
    /// pending entries by thread id, oldest first.
    Unfinished(Vec<(u32, Pending)>),
    /// Calls in progress when a recording stopped, with their thread's ids, name and cgroup as
    /// they were then (read back by `tracer show`: the threads may be gone).
    InFlight(Vec<super::recording::InFlight>),
    /// Events that were decoded elsewhere (recorded JSON lines read back): the same channel
    /// feeds the same writer.
    Events(Vec<Event>),
    /// The kernel's aggregates so far (summary mode); `last` once tracing has stopped.
    Summary {
        ktime_ns: u64,
        snapshot: Snapshot,
        last: bool,
    },
    /// What each followed target called since the last `Counts` (the daemon's syscall
    /// metrics, from the kernel's summary maps).
    Counts(Vec<TargetCount>),
}

/// Iterates the records of a batch.
pub fn records(batch: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = batch;
    std::iter::from_fn(move || {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_ne_bytes(*len) as usize;
        let (rec, tail) = tail.split_at_checked(len)?;
        rest = tail;
        Some(rec)
    })
}

fn read_stat(stats: &PerCpuArray<MapData, u64>, index: u32) -> u64 {
    stats
        .get(&index, 0)
        .map(|v| v.iter().copied().sum())
        .unwrap_or(0)
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid clock id and out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// CLOCK_MONOTONIC now, in ns (the clock of `bpf_ktime_get_ns`).
pub fn monotonic_ns() -> u64 {
    now_ns()
}

struct Reader {
    ring: AsyncFd<RingBuf<MapData>>,
    stats: PerCpuArray<MapData, u64>,
    summary: Option<super::summary::SummaryMaps>,
    counts: Option<super::summary::CountMaps>,
    lost_reported: u64,
    tx: mpsc::Sender<Message>,
    gauges: Arc<Gauges>,
}

impl Reader {
    /// Moves every available record into batches. Returns false when downstream is gone.
    async fn drain(&mut self) -> bool {
        let mut drained = 0;
        let alive = self.drain_batches(&mut drained).await;
        self.gauges.fill_bytes.store(drained, Ordering::Relaxed);
        self.gauges
            .peak_fill_bytes
            .fetch_max(drained, Ordering::Relaxed);
        alive
    }

    async fn drain_batches(&mut self, drained: &mut u64) -> bool {
        loop {
            let mut buf = BytesMut::with_capacity(BATCH_BYTES);
            {
                let ring = self.ring.get_mut();
                while buf.len() < BATCH_BYTES {
                    let Some(item) = ring.next() else { break };
                    buf.put_u32_ne(item.len() as u32);
                    buf.put_slice(&item);
                }
            }
            let full = buf.len() >= BATCH_BYTES;
            *drained += buf.len() as u64;
            if !buf.is_empty() && self.tx.send(Message::Batch(buf.freeze())).await.is_err() {
                return false;
            }
            if !full {
                return true;
            }
        }
    }

    /// Per target (the daemon's metrics): what changed since the last reading.
    async fn report_counts(&mut self) -> bool {
        let Some(maps) = &mut self.counts else {
            return true;
        };
        let counts = maps.target_counts();
        counts.is_empty() || self.tx.send(Message::Counts(counts)).await.is_ok()
    }

    async fn report_summary(&mut self, last: bool) -> bool {
        let Some(maps) = &self.summary else {
            return true;
        };
        let msg = Message::Summary {
            ktime_ns: now_ns(),
            snapshot: maps.snapshot(),
            last,
        };
        self.tx.send(msg).await.is_ok()
    }

    async fn report_loss(&mut self) -> bool {
        let total = read_stat(&self.stats, STAT_RINGBUF_FULL);
        if total <= self.lost_reported {
            return true;
        }
        let lost = Lost {
            count: total - self.lost_reported,
            total,
            ktime_ns: now_ns(),
        };
        self.lost_reported = total;
        self.gauges.lost.store(total, Ordering::Relaxed);
        self.tx.send(Message::Lost(lost)).await.is_ok()
    }
}

/// Runs until `stop` turns true or downstream goes away; then detaches the programs (drops
/// `ebpf`), drains what is left and reports the final loss.
pub async fn run(
    loaded: Loaded,
    tx: mpsc::Sender<Message>,
    mut stop: watch::Receiver<bool>,
    interval: Option<Duration>,
    gauges: Arc<Gauges>,
) -> std::io::Result<KernelStats> {
    let Loaded {
        ebpf,
        events,
        stats,
        summary,
        counts,
        targets: _,
        tasks: _,
        pending,
    } = loaded;
    let mut r = Reader {
        // SAFETY: the RingBuf owns its map fd for as long as the AsyncFd owns the RingBuf.
        ring: unsafe { AsyncFd::register_with_interest(events, tokio::io::Interest::READABLE) }
            .map_err(std::io::Error::from)?,
        stats,
        summary,
        counts,
        lost_reported: 0,
        tx,
        gauges,
    };
    // Summary intervals; a timer that never fires when there is no --interval.
    let period = interval.unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut tick = tokio::time::interval(STATS_EVERY);
    let mut counts_every = tokio::time::interval(COUNTS_EVERY);
    counts_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut drain = tokio::time::interval(DRAIN_EVERY);
    drain.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut alive = true;
    while alive && !*stop.borrow() {
        tokio::select! {
            guard = r.ring.readable_mut() => {
                let mut guard = guard?;
                guard.clear_ready();
                drop(guard);
                alive = r.drain().await;
            }
            _ = drain.tick() => alive = r.drain().await,
            _ = every.tick() => alive = r.report_summary(false).await,
            _ = tick.tick() => alive = r.report_loss().await,
            _ = counts_every.tick(), if r.counts.is_some() => alive = r.report_counts().await,
            _ = stop.changed() => {}
        }
    }
    drop(ebpf);
    if alive {
        alive = r.drain().await;
    }
    if alive {
        let unfinished = in_flight(&pending);
        if !unfinished.is_empty() {
            alive = r.tx.send(Message::Unfinished(unfinished)).await.is_ok();
        }
    }
    if alive {
        alive = r.report_loss().await;
    }
    if alive {
        alive = r.report_counts().await;
    }
    if alive {
        r.report_summary(true).await;
    }
    Ok(KernelStats {
        lost: read_stat(&r.stats, STAT_RINGBUF_FULL),
        pending_full: read_stat(&r.stats, STAT_PENDING_FULL),
        regs_unreadable: read_stat(&r.stats, STAT_REGS_UNREADABLE),
        summary_full: read_stat(&r.stats, STAT_SUMMARY_FULL),
        tasks_full: read_stat(&r.stats, STAT_TASKS_FULL),
        stack_failed: read_stat(&r.stats, STAT_STACK_FAILED),
    })
}

/// Threads with an enter and no exit yet, oldest first.
fn in_flight(pending: &aya::maps::HashMap<MapData, u32, Pending>) -> Vec<(u32, Pending)> {
    let mut calls: Vec<(u32, Pending)> = pending
        .iter()
        .filter_map(Result::ok)
        .filter(|(_, p)| p.state == tracer_common::config::PENDING_IN_FLIGHT)
        .collect();
    calls.sort_by_key(|(_, p)| p.enter_ns);
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut b = BytesMut::new();
        for rec in [&b"abc"[..], b"", b"0123456789"] {
            b.put_u32_ne(rec.len() as u32);
            b.put_slice(rec);
        }
        let got: Vec<&[u8]> = records(&b).collect();
        assert_eq!(got, [&b"abc"[..], b"", b"0123456789"]);
        // A torn frame ends the iteration instead of reading past the end.
        let torn = &b[..b.len() - 1];
        assert_eq!(records(torn).count(), 2);
    }
}
