//! Reads the kernel's summary maps (per-CPU hashes): one aggregate per syscall (summary mode),
//! or what each followed target called since the last reading (the daemon's metrics).
use std::collections::HashMap;

use aya::maps::{HashMap as BpfHashMap, MapData, PerCpuArray, PerCpuHashMap};
use tracer_common::summary::{ErrnoKey, SummaryKey, SummaryValue};

use crate::model::summary::{Snapshot, TargetCount};

pub struct SummaryMaps {
    /// One target's aggregates by syscall number (`SUMMARY_SINGLE`), when in use.
    pub by_nr: Option<PerCpuArray<MapData, SummaryValue>>,
    pub summary: PerCpuHashMap<MapData, SummaryKey, SummaryValue>,
    pub errnos: PerCpuHashMap<MapData, ErrnoKey, u64>,
}

impl SummaryMaps {
    /// Everything counted so far, summed over CPUs and targets.
    pub fn snapshot(&self) -> Snapshot {
        let mut out = Snapshot::new();
        if let Some(by_nr) = &self.by_nr {
            for nr in 0..by_nr.len() {
                let Ok(per_cpu) = by_nr.get(&nr, 0) else {
                    continue;
                };
                if per_cpu.iter().all(|v| v.calls == 0) {
                    continue;
                }
                let agg = out.entry(nr).or_default();
                for v in per_cpu.iter() {
                    agg.add(v);
                }
            }
        }
        for (key, per_cpu) in self.summary.iter().filter_map(Result::ok) {
            let agg = out.entry(key.nr).or_default();
            for v in per_cpu.iter() {
                agg.add(v);
            }
        }
        for (key, per_cpu) in self.errnos.iter().filter_map(Result::ok) {
            let n: u64 = per_cpu.iter().sum();
            *out.entry(key.nr)
                .or_default()
                .errnos
                .entry(key.errno)
                .or_default() += n;
        }
        out
    }
}

/// The daemon's per-target counts (`COUNTS_ON`): calls and failures by errno of each followed
/// target, read as what changed since the last reading.
pub struct CountMaps {
    pub calls: PerCpuHashMap<MapData, SummaryKey, u64>,
    pub errnos: PerCpuHashMap<MapData, ErrnoKey, u64>,
    /// A read-only view of the kernel's target set (`TARGET_CGROUPS`): the entries of targets
    /// that left it are read one last time, then deleted.
    pub live: BpfHashMap<MapData, u64, u8>,
    /// Totals at the last reading, by key.
    last_calls: HashMap<(u64, u32), u64>,
    last_errnos: HashMap<(u64, u32, u32), u64>,
}

impl CountMaps {
    pub fn new(
        calls: PerCpuHashMap<MapData, SummaryKey, u64>,
        errnos: PerCpuHashMap<MapData, ErrnoKey, u64>,
        live: BpfHashMap<MapData, u64, u8>,
    ) -> Self {
        CountMaps {
            calls,
            errnos,
            live,
            last_calls: HashMap::new(),
            last_errnos: HashMap::new(),
        }
    }

    fn is_live(&self, target: u64) -> bool {
        self.live.get(&target, 0).is_ok()
    }

    /// What each target called since the last call, by syscall (only what changed). The
    /// entries of targets no longer followed are deleted after this last reading: a target
    /// leaves the set when its container stops, after which the kernel adds nothing to them,
    /// so the maps stay bounded however often containers restart.
    pub fn target_counts(&mut self) -> Vec<TargetCount> {
        let mut out: HashMap<(u64, u32), TargetCount> = HashMap::new();
        let entries: Vec<(SummaryKey, u64)> = self
            .calls
            .iter()
            .filter_map(Result::ok)
            .map(|(k, per_cpu)| (k, per_cpu.iter().sum()))
            .collect();
        let mut retired = Vec::new();
        for (key, calls) in entries {
            let k = (key.target, key.nr);
            let before = self.last_calls.get(&k).copied().unwrap_or(0);
            if calls > before {
                out.insert(k, count(key.target, key.nr, calls - before));
            }
            if self.is_live(key.target) {
                self.last_calls.insert(k, calls);
            } else {
                self.last_calls.remove(&k);
                retired.push(key);
            }
        }
        let entries: Vec<(ErrnoKey, u64)> = self
            .errnos
            .iter()
            .filter_map(Result::ok)
            .map(|(k, per_cpu)| (k, per_cpu.iter().sum()))
            .collect();
        let mut retired_errnos = Vec::new();
        for (key, n) in entries {
            let k = (key.target, key.nr, key.errno);
            let before = self.last_errnos.get(&k).copied().unwrap_or(0);
            if n > before {
                out.entry((key.target, key.nr))
                    .or_insert_with(|| count(key.target, key.nr, 0))
                    .errnos
                    .push((key.errno, n - before));
            }
            if self.is_live(key.target) {
                self.last_errnos.insert(k, n);
            } else {
                self.last_errnos.remove(&k);
                retired_errnos.push(key);
            }
        }
        for key in retired {
            let _ = self.calls.remove(&key);
        }
        for key in retired_errnos {
            let _ = self.errnos.remove(&key);
        }
        let mut v: Vec<TargetCount> = out.into_values().collect();
        v.sort_by_key(|c| (c.target, c.nr));
        v
    }
}

fn count(target: u64, nr: u32, calls: u64) -> TargetCount {
    TargetCount {
        target,
        container: None,
        nr,
        calls,
        errnos: Vec::new(),
    }
}
