//! `tracer`: an eBPF syscall observer for containers.
//!
//! kernel tracepoint → ring buffer (`bpf`) → `decode` → enrich (`target`) → `sink`, wired by
//! `pipeline`.
pub mod bpf;
pub mod cli;
pub mod clock;
pub mod daemon;
pub mod decode;
pub mod error;
pub mod pipeline;
pub mod seccomp;
pub mod sink;
pub mod summary;
pub mod target;
