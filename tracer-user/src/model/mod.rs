//! Plain typed data that every stage may import: events, losses, kernel statistics, summary
//! aggregates and what the kernel filter is told. Nothing here imports another module of the
//! crate.
pub mod clock;
pub mod event;
pub mod export;
pub mod lifecycle;
pub mod loss;
pub mod seccomp;
pub mod signal;
pub mod summary;
pub mod target;

pub use event::{Container, Event, Frame, Pod, Runtime, SyscallEvent};
pub use export::{ExportCounts, ExportReport};
pub use lifecycle::{Lifecycle, LifecycleKind};
pub use loss::{Gauges, KernelStats, Lost};
pub use signal::{SignalEvent, SignalKind};
