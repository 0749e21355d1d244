//! Types shared by the kernel programs (`tracer-ebpf`) and user space (`tracer-user`).
//!
//! Everything here is plain integers with explicit padding: no `bool`, no Rust enums across the
//! boundary. User space converts with `TryFrom` (behind the `user` feature).
#![no_std]

pub mod capture;
pub mod config;
pub mod record;
pub mod stats;
pub mod summary;

#[cfg(feature = "user")]
mod user;
