//! Command line: clap derive types, turned into checked configurations in one place each.
pub mod daemon;
pub mod observe;
pub mod seccomp;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tracer",
    version,
    about = "eBPF syscall observer for containers: strace's output without ptrace's cost"
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stream the syscalls of one container, process or cgroup.
    Observe(observe::ObserveArgs),
    /// Follow named containers for days: across restarts, re-creation and engine restarts.
    Daemon(daemon::DaemonArgs),
    /// Seccomp profiles from observed behaviour, and observed behaviour against a profile.
    #[command(subcommand)]
    Seccomp(seccomp::SeccompCommand),
}
