//! Where events go. Every sink renders the same owned, decoded, enriched events; none decodes
//! or reads /proc again.
pub mod file;
pub mod json_writer;
pub mod jsonl;
pub mod metrics;
pub mod otlp;
pub mod recording;
pub mod route;
pub mod seccomp;
pub mod summary;
pub mod tee;
pub mod text;

use std::io;

pub use crate::model::Lost;
use crate::{
    decode::DecodeError,
    error::Error,
    model::{
        Container, Event, Lifecycle, SignalEvent,
        seccomp::Finding,
        summary::{Report, TargetCount},
    },
};

pub trait Sink {
    fn event(&mut self, e: &Event) -> io::Result<()>;
    fn lost(&mut self, lost: &Lost) -> io::Result<()>;
    /// A signal delivered to a followed task, or a followed process's death by a signal.
    /// Sinks about calls only (seccomp profiles, metrics) leave it.
    fn signal(&mut self, _s: &SignalEvent) -> io::Result<()> {
        Ok(())
    }
    /// A followed container started, restarted, died… (the daemon). Sinks about calls leave
    /// it.
    fn lifecycle(&mut self, _l: &Lifecycle) -> io::Result<()> {
        Ok(())
    }
    /// A call the watched seccomp profile would not simply have allowed (`seccomp watch`, the
    /// daemon's `--seccomp-watch`), after the call's own record when that is written too.
    /// Sinks that do not render findings leave it.
    fn seccomp(&mut self, _e: &Event, _f: &Finding) -> io::Result<()> {
        Ok(())
    }
    /// A summary table (summary mode): an interval's deltas, or the run's totals.
    fn summary(&mut self, _report: &Report, _container: Option<&Container>) -> io::Result<()> {
        Ok(())
    }
    /// What each followed container called since the last counts, from the kernel's summary
    /// maps (the daemon's syscall metrics). Sinks that write records leave it.
    fn counts(&mut self, _counts: &[TargetCount]) -> io::Result<()> {
        Ok(())
    }
    /// A record the decoder could not read (counted by the pipeline too).
    fn undecodable(&mut self, _e: &DecodeError) {}
    /// Pushes buffered output out; called after every batch.
    fn flush(&mut self) -> io::Result<()>;
    /// Reopens output files at their paths (SIGHUP, after logrotate moved them).
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// The run is over: write what was gathered, sync files.
    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
    /// The sink's conclusion once finished: a seccomp check that found calls the profile would
    /// deny, a profile from an observation that saw nothing.
    fn verdict(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// What decoding must produce for a set of sinks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// strace's text of every argument (text output); JSON values are always decoded.
    pub text: bool,
}

#[cfg(all(test, target_arch = "x86_64"))]
#[path = "golden_tests.rs"]
mod golden_tests;
