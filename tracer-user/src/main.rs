//! Parses the command line, sets up logging, runs, maps errors to exit codes.
use std::process::ExitCode;

use clap::Parser;
use tracer::{
    cli::{Cli, Command, observe::ObserveConfig},
    error::{Error, exit},
    pipeline,
};

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Observe(args) => {
            let cfg = ObserveConfig::try_from(args)?;
            let s = pipeline::observe(cfg).await?;
            let mut line = format!("tracer: {} records, {} lost", s.records, s.lost);
            if s.decode_errors > 0 {
                line.push_str(&format!(", {} undecodable", s.decode_errors));
            }
            if s.pending_full > 0 {
                line.push_str(&format!(", {} enters not kept", s.pending_full));
            }
            eprintln!("{line}");
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tracer: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("tracer: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
