//! User-space only: aya `Pod` impls.
use crate::{
    capture::{CaptureHeader, CaptureSpec, EnterRecord},
    config::Pending,
    record::{RecordHeader, SignalRecord, SyscallRecord},
    summary::{ErrnoKey, SummaryKey, SummaryValue},
};

// SAFETY: both are `repr(C)` plain integers with explicit padding; every bit pattern is valid.
unsafe impl aya::Pod for SyscallRecord {}
// SAFETY: as above.
unsafe impl aya::Pod for RecordHeader {}
// SAFETY: as above.
unsafe impl aya::Pod for Pending {}
// SAFETY: as above.
unsafe impl aya::Pod for CaptureSpec {}
// SAFETY: as above.
unsafe impl aya::Pod for CaptureHeader {}
// SAFETY: as above.
unsafe impl aya::Pod for EnterRecord {}
// SAFETY: as above.
unsafe impl aya::Pod for SummaryKey {}
// SAFETY: as above.
unsafe impl aya::Pod for SummaryValue {}
// SAFETY: as above.
unsafe impl aya::Pod for ErrnoKey {}
// SAFETY: as above.
unsafe impl aya::Pod for SignalRecord {}
