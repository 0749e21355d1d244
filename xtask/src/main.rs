//! Project tasks: `cargo xtask setup | demo | test | bench | fuzz | codegen`.
mod bench;
mod codegen;
mod demo;
mod fuzz;
mod images;
mod kubernetes;
mod otlp;
mod setup;
mod strace_suite;
mod test;
mod util;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install what a fresh Debian 12 machine lacks, start dockerd, build the test images.
    Setup,
    /// Set up, build, start the demo nginx container `web` (reused when running) and observe it.
    Demo(demo::DemoArgs),
    /// Set up, build, run every test (unit and privileged end-to-end).
    Test {
        /// Extra arguments for the test binaries (e.g. a test name filter).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Build the release binary and the `tracer:local` image (packaging/Dockerfile).
    Image,
    /// Benchmarks that print numbers.
    Bench(bench::BenchArgs),
    /// Run the fuzz targets (fuzz/) for a set time each.
    Fuzz(fuzz::FuzzArgs),
    /// Download and build strace 6.1's test programs for the strace suite (part of setup).
    StraceSuite,
    /// Regenerate the committed tables: tracer-user/src/decode/syscall_args.rs from this
    /// kernel's tracefs, tracer-user/src/decode/syscall_classes.rs from strace 6.1's source.
    Codegen {
        /// Only this table (default: both).
        #[arg(value_enum)]
        table: Option<codegen::Table>,
    },
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

fn main() -> Result<()> {
    // Every build xtask starts must embed the BPF programs (tracer-user/build.rs); set once
    // here so every cargo it runs sees the same value and none rebuilds for it.
    // SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("TRACER_REQUIRE_EBPF", "1") };
    let cli = Cli::parse();
    let root = root();
    std::env::set_current_dir(&root)?;
    match cli.command {
        Task::Setup => setup::run_all(&root),
        Task::Demo(args) => demo::run(&root, args),
        Task::Test { args } => test::run(&root, &args),
        Task::Image => {
            setup::run_all(&root)?;
            demo::build_tracer(&root)?;
            images::build_tracer_image(&root)
        }
        Task::Bench(args) => bench::run(&root, args),
        Task::Fuzz(args) => fuzz::run(&root, args),
        Task::StraceSuite => strace_suite::build(&root).map(|_| ()),
        Task::Codegen { table } => codegen::run(&root, table),
    }
}
