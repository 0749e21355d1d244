//! strace's `-e signal=SET`: only the signals in the set are shown, deliveries
//! (`--- SIGUSR1 {...} ---`) and deaths (`+++ killed by SIGKILL +++`) alike, as strace 6.1 does
//! (its print_stopped and print_signalled both test `signal_set`).
use super::Filter;
use crate::model::SignalEvent;

/// Signal numbers strace's sets hold: 0 to 255 (its `sigstr_to_uint` takes numbers up to 255).
pub const MAX_SIGNAL: u32 = 255;

/// A set of signal numbers, 0 to [`MAX_SIGNAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalSet([u64; 4]);

impl SignalSet {
    pub const NONE: SignalSet = SignalSet([0; 4]);
    pub const ALL: SignalSet = SignalSet([u64::MAX; 4]);

    /// The set with `sig` added (numbers past [`MAX_SIGNAL`] are never in a set).
    pub fn with(mut self, sig: u32) -> SignalSet {
        if sig <= MAX_SIGNAL {
            self.0[(sig / 64) as usize] |= 1 << (sig % 64);
        }
        self
    }

    pub fn invert(self) -> SignalSet {
        SignalSet(self.0.map(|w| !w))
    }

    pub fn contains(self, sig: u32) -> bool {
        sig <= MAX_SIGNAL && self.0[(sig / 64) as usize] >> (sig % 64) & 1 == 1
    }

    pub fn is_all(self) -> bool {
        self == Self::ALL
    }
}

impl Default for SignalSet {
    fn default() -> Self {
        Self::ALL
    }
}

impl Filter {
    /// Shows only the signals in `set` (default: all).
    pub fn signals(mut self, set: SignalSet) -> Self {
        self.signals = set;
        self
    }

    /// The signal is asked for. A delivery is judged by its signal, a death by the signal that
    /// killed the process; either is left out with the task's calls (`--exclude-comm`).
    pub fn signal_shown(&self, s: &SignalEvent) -> bool {
        let f = self.of(s.container.as_deref());
        f.signals.contains(s.sig)
            && !f
                .excluded_comms
                .iter()
                .any(|c| c.as_slice() == s.comm_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SignalKind;

    fn event(sig: u32, kind: SignalKind) -> SignalEvent {
        SignalEvent {
            ktime_ns: 1,
            sig,
            tgid: 1,
            tid: 1,
            ns_tgid: None,
            ns_tid: None,
            cgroup_id: 0,
            comm: [0; 16],
            kind,
            container: None,
        }
    }

    #[test]
    fn sets() {
        let s = SignalSet::NONE.with(10).with(255).with(256);
        assert!(s.contains(10) && s.contains(255));
        assert!(!s.contains(12) && !s.contains(256) && !s.contains(0));
        assert!(!s.invert().contains(10) && s.invert().contains(12));
        assert!(SignalSet::ALL.is_all() && SignalSet::default().is_all());
        assert!(!SignalSet::ALL.contains(256));
    }

    #[test]
    fn filters_deliveries_and_deaths_by_their_signal() {
        let usr1 = event(
            10,
            SignalKind::Delivered {
                handler: None,
                sa_flags: 0,
                info: None,
            },
        );
        let killed = event(9, SignalKind::Killed { core: false });
        let all = Filter::new(None);
        assert!(all.signal_shown(&usr1) && all.signal_shown(&killed));
        let none = Filter::new(None).signals(SignalSet::NONE);
        assert!(!none.signal_shown(&usr1) && !none.signal_shown(&killed));
        let not_usr1 = Filter::new(None).signals(SignalSet::NONE.with(10).invert());
        assert!(!not_usr1.signal_shown(&usr1) && not_usr1.signal_shown(&killed));
        // The syscall limit does not apply to signals.
        let limited = Filter::new(Some(0));
        assert!(limited.signal_shown(&usr1));
        // A task whose calls are left out has its signals left out too.
        let mut runc = usr1.clone();
        runc.comm[..13].copy_from_slice(b"runc:[2:INIT]");
        let excluding = Filter::new(None).exclude_comms(&["runc:[2:INIT]".into()]);
        assert!(!excluding.signal_shown(&runc) && excluding.signal_shown(&usr1));
    }
}
