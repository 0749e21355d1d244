//! What an export to a remote receiver (OTLP) delivered and what it lost, counted as it
//! happens and read by the closing line and the metrics.
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters shared by the exporting sink, its export task and whoever reports them.
#[derive(Debug, Default)]
pub struct ExportCounts {
    /// Records the receiver accepted.
    pub exported: AtomicU64,
    /// Records left out because the queue was full (the receiver is down, slow or refusing).
    pub queue_full: AtomicU64,
    /// Records of batches given up: every attempt failed, or the receiver refused them in a
    /// way retrying cannot change.
    pub export_failed: AtomicU64,
    /// Records the receiver answered it rejected (a partial success).
    pub rejected: AtomicU64,
    /// Records still queued or in flight when the run's flush deadline passed.
    pub at_exit: AtomicU64,
    /// Export requests that failed (each attempt, retries included).
    pub failures: AtomicU64,
    /// Records waiting in the queue now.
    pub queued: AtomicU64,
}

/// Why records were not delivered, as metrics label them.
pub const DROP_REASONS: [&str; 4] = ["queue_full", "export_failed", "rejected", "at_exit"];

impl ExportCounts {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records dropped for `reason` (one of [`DROP_REASONS`]).
    pub fn dropped_for(&self, reason: &str) -> u64 {
        let c = match reason {
            "queue_full" => &self.queue_full,
            "export_failed" => &self.export_failed,
            "rejected" => &self.rejected,
            "at_exit" => &self.at_exit,
            _ => return 0,
        };
        c.load(Ordering::Relaxed)
    }

    pub fn report(&self) -> ExportReport {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ExportReport {
            exported: get(&self.exported),
            queue_full: get(&self.queue_full),
            export_failed: get(&self.export_failed),
            rejected: get(&self.rejected),
            at_exit: get(&self.at_exit),
            failures: get(&self.failures),
        }
    }
}

/// The counters at the end of a run, for the closing line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExportReport {
    pub exported: u64,
    pub queue_full: u64,
    pub export_failed: u64,
    pub rejected: u64,
    pub at_exit: u64,
    pub failures: u64,
}

impl ExportReport {
    /// Records not delivered, for every reason.
    pub fn dropped(&self) -> u64 {
        self.queue_full + self.export_failed + self.rejected + self.at_exit
    }
}
