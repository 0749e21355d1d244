//! Summary mode: per-CPU counts, errors, times and a log2 histogram per (target, syscall).
use tracer_common::{
    stats::STAT_SUMMARY_FULL,
    summary::{ErrnoKey, HIST_BUCKETS, NR_LOST, SummaryKey, SummaryValue},
};

use crate::maps::{
    COUNTS, COUNTS_ON, ERRNOS, SUMMARY, SUMMARY_BY_NR, SUMMARY_ON, SUMMARY_SINGLE, config_u32,
    count,
};

static EMPTY: SummaryValue = SummaryValue::EMPTY;

/// Number of significant bits of `v` (0 for 0), without a count-leading-zeros instruction.
#[inline(always)]
fn bits(mut v: u64) -> usize {
    let mut n = 0;
    for shift in [32u32, 16, 8, 4, 2, 1] {
        if v >> shift != 0 {
            v >>= shift;
            n += shift as usize;
        }
    }
    n + (v != 0) as usize
}

/// Adds one finished syscall. `duration` is `None` when the enter was not seen or the call
/// does not return; `ret` is `None` for calls that do not return.
#[inline(always)]
pub fn record(target: u64, nr: u32, ret: Option<i64>, duration: Option<u64>) {
    if config_u32(&SUMMARY_ON) == 0 {
        if config_u32(&COUNTS_ON) != 0 {
            count_call(target, nr, ret.unwrap_or(0));
        }
        return;
    }
    let value = if config_u32(&SUMMARY_SINGLE) != 0 {
        // One target: its aggregates by syscall number.
        match SUMMARY_BY_NR.get_ptr_mut(nr) {
            Some(v) => v,
            None => return,
        }
    } else {
        match by_key(target, nr) {
            Some(v) => v,
            None => return,
        }
    };
    // SAFETY: this CPU's copy of the value; programs do not nest on a CPU for these hooks.
    let v = unsafe { &mut *value };
    v.calls += 1;
    if let Some(d) = duration {
        // An array slot starts zeroed, not at `SummaryValue::EMPTY`: the first time sets the
        // shortest.
        if v.timed == 0 || d < v.min_ns {
            v.min_ns = d;
        }
        v.timed += 1;
        v.total_ns += d;
        if d > v.max_ns {
            v.max_ns = d;
        }
        let b = bits(d);
        let b = if b >= HIST_BUCKETS {
            HIST_BUCKETS - 1
        } else {
            b
        };
        v.hist[b & (HIST_BUCKETS - 1)] += 1;
    }
    if let Some(r) = ret
        && (-4095..0).contains(&r)
    {
        v.errors += 1;
        count_errno(target, nr, r);
    }
}

/// The `SUMMARY` entry of (`target`, `nr`), inserted when missing.
#[inline(always)]
fn by_key(target: u64, nr: u32) -> Option<*mut SummaryValue> {
    let key = SummaryKey {
        target,
        nr,
        _pad: 0,
    };
    if let Some(v) = SUMMARY.get_ptr_mut(key) {
        return Some(v);
    }
    // From a global: a 304-byte value does not fit on the 512-byte BPF stack here.
    #[expect(
        clippy::needless_borrows_for_generic_args,
        reason = "by value, the 304-byte default would be copied onto the BPF stack"
    )]
    let inserted = SUMMARY.insert(key, &EMPTY, 0);
    if inserted.is_err() {
        count(STAT_SUMMARY_FULL);
        crate::diag::summary_full(nr);
        return None;
    }
    SUMMARY.get_ptr_mut(key)
}

/// `COUNTS_ON`: one more call of `nr` by `target`, and its errno when it failed (`ret`: 0 for
/// calls that do not return). A function of its own in the object (a BPF subprogram): inlined,
/// its keys would grow the stack frame of the programs that also call the capture
/// subprograms, past the verifier's 512 bytes for the whole chain.
#[inline(never)]
fn count_call(target: u64, nr: u32, ret: i64) {
    let key = SummaryKey {
        target,
        nr,
        _pad: 0,
    };
    match COUNTS.get_ptr_mut(key) {
        // SAFETY: this CPU's copy of the value; programs do not nest on a CPU for these hooks.
        Some(n) => unsafe { *n += 1 },
        None => {
            if COUNTS.insert(key, 1, 0).is_err() {
                count(STAT_SUMMARY_FULL);
                crate::diag::summary_full(nr);
            }
        }
    }
    if (-4095..0).contains(&ret) {
        count_errno(target, nr, ret);
    }
}

/// `COUNTS_ON`: one more record of `target` lost (the ring buffer was full), counted under
/// the reserved number `NR_LOST`.
#[inline(always)]
pub fn lost(target: u64) {
    if config_u32(&COUNTS_ON) != 0 {
        count_call(target, NR_LOST, 0);
    }
}

/// One more failure of `nr` by `target` with errno `-ret`.
#[inline(always)]
fn count_errno(target: u64, nr: u32, ret: i64) {
    let ekey = ErrnoKey {
        target,
        nr,
        errno: (-ret) as u32,
    };
    match ERRNOS.get_ptr_mut(ekey) {
        // SAFETY: as above.
        Some(n) => unsafe { *n += 1 },
        None => {
            if ERRNOS.insert(ekey, 1, 0).is_err() {
                count(STAT_SUMMARY_FULL);
                crate::diag::summary_full(nr);
            }
        }
    }
}
