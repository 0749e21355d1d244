//! Where records go. Every sink takes the same owned, enriched values.
pub mod file;
pub mod json_writer;
pub mod jsonl;
pub mod text;

use std::io;

use crate::{decode::SyscallEvent, summary::Report, target::Container};

/// A syscall event with what the enrich stage knows about its origin.
pub struct Enriched<'a> {
    pub event: &'a SyscallEvent,
    pub container: Option<&'a Container>,
}

/// Events the kernel could not deliver, noticed by the stats poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// Lost since the previous report.
    pub count: u64,
    /// Lost since tracing started.
    pub total: u64,
    /// CLOCK_MONOTONIC when noticed.
    pub ktime_ns: u64,
}

pub trait Sink {
    fn syscall(&mut self, e: &Enriched<'_>) -> io::Result<()>;
    fn lost(&mut self, lost: &Lost) -> io::Result<()>;
    /// A summary table (summary mode): an interval's deltas, or the run's totals.
    fn summary(&mut self, report: &Report, container: Option<&Container>) -> io::Result<()>;
    /// Pushes buffered output out; called after every batch and at the end.
    fn flush(&mut self) -> io::Result<()>;
}
