//! Parses the command line, sets up logging, runs, maps errors to exit codes.
use std::process::ExitCode;

use clap::Parser;
use tracer::{
    cli::{Cli, Command, daemon::DaemonConfig, observe::ObserveConfig, seccomp::SeccompCommand},
    daemon,
    error::{Error, exit},
    pipeline::{self, Summary},
    seccomp,
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
    // Under systemd (journald sets JOURNAL_STREAM) the journal adds timestamps and colours
    // mean nothing: plain `level target: message key=value` lines.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!journald && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if journald {
        builder.without_time().init();
    } else {
        builder.init();
    }
}

/// The closing line on stderr.
fn report(s: &Summary) {
    let mut line = format!("tracer: {} records, {} lost", s.records, s.lost);
    if s.decode_errors > 0 {
        line.push_str(&format!(", {} undecodable", s.decode_errors));
    }
    if s.pending_full > 0 {
        line.push_str(&format!(", {} enters not kept", s.pending_full));
    }
    eprintln!("{line}");
}

async fn run(command: Command) -> Result<(), Error> {
    let s = match command {
        Command::Observe(args) => pipeline::observe(ObserveConfig::try_from(args)?).await?,
        Command::Daemon(args) => daemon::run(DaemonConfig::try_from(args)?).await?,
        Command::Seccomp(SeccompCommand::Profile(args)) => {
            return seccomp::profile(args.try_into()?).await;
        }
        Command::Seccomp(SeccompCommand::Check(args)) => {
            return seccomp::check(args.try_into()?).await;
        }
    };
    report(&s);
    Ok(())
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
