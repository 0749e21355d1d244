//! User-space only: aya `Pod` impls.
use crate::{
    config::Pending,
    record::{RecordHeader, SyscallRecord},
};

// SAFETY: both are `repr(C)` plain integers with explicit padding; every bit pattern is valid.
unsafe impl aya::Pod for SyscallRecord {}
// SAFETY: as above.
unsafe impl aya::Pod for RecordHeader {}
// SAFETY: as above.
unsafe impl aya::Pod for Pending {}
