//! Reads the kernel's summary maps (per-CPU hashes) into one aggregate per syscall.
use aya::maps::{MapData, PerCpuHashMap};
use tracer_common::summary::{ErrnoKey, SummaryKey, SummaryValue};

use crate::model::summary::Snapshot;

pub struct SummaryMaps {
    pub summary: PerCpuHashMap<MapData, SummaryKey, SummaryValue>,
    pub errnos: PerCpuHashMap<MapData, ErrnoKey, u64>,
}

impl SummaryMaps {
    /// Everything counted so far, summed over CPUs and targets.
    pub fn snapshot(&self) -> Snapshot {
        let mut out = Snapshot::new();
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
