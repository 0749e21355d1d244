//! `tracer`: an eBPF syscall observer for containers.
//!
//! One way through, each stage importing only from those before it (docs/design.md; the
//! `layers` test checks it):
//!
//! ```text
//! error, model → bpf → decode → runtime → enrich → filter → sink → config → pipeline → cli
//! ```
//!
//! `bpf` loads the kernel programs and reads their ring buffer, `decode` turns records into
//! typed events, `runtime` resolves and follows containers, `enrich` attributes events to
//! them, `filter` keeps what the user asked for, `sink` renders; `config` is the checked form
//! of what the user asked, `pipeline` wires the stages for each command, `cli` parses.
pub mod error;
pub mod model;

pub mod bpf;
pub mod decode;
pub mod runtime;

pub mod enrich;
pub mod filter;
pub mod sink;

pub mod config;
pub mod pipeline;

pub mod cli;
