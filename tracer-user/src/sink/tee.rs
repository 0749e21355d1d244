//! Several sinks fed the same events (a seccomp check that also keeps its recording).
use std::io;

use super::{Lost, Sink};
use crate::{
    decode::DecodeError,
    error::Error,
    model::{
        Container, Event, Lifecycle, SignalEvent,
        seccomp::Finding,
        summary::{Report, TargetCount},
    },
};

pub struct Tee(pub Vec<Box<dyn Sink + Send>>);

impl Sink for Tee {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.event(e))
    }

    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.lost(lost))
    }

    fn signal(&mut self, s: &SignalEvent) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|k| k.signal(s))
    }

    fn lifecycle(&mut self, l: &Lifecycle) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.lifecycle(l))
    }

    fn seccomp(&mut self, e: &Event, f: &Finding) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.seccomp(e, f))
    }

    fn summary(&mut self, r: &Report, c: Option<&Container>) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.summary(r, c))
    }

    fn counts(&mut self, c: &[TargetCount]) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.counts(c))
    }

    fn undecodable(&mut self, e: &DecodeError) {
        self.0.iter_mut().for_each(|s| s.undecodable(e));
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.flush())
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.reopen())
    }

    /// Every sink finishes, even after one failed; the first failure is returned.
    fn finish(&mut self) -> io::Result<()> {
        let mut first = Ok(());
        for s in &mut self.0 {
            let r = s.finish();
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    fn verdict(&mut self) -> Result<(), Error> {
        self.0.iter_mut().try_for_each(|s| s.verdict())
    }
}
