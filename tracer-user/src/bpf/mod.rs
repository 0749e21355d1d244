//! The kernel side from user space: load, configure, attach, then read.
pub mod gate;
pub mod load;
pub mod reader;
pub mod recording;
pub mod summary;

pub use load::{BpfConfig, Hook, Loaded, TargetSet, TaskSet, load_and_attach};
