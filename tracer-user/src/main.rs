//! Parses the command line, sets up logging, runs, maps errors to exit codes.
use std::process::ExitCode;

use tracer::{
    cli::{self, Cli, Command, LogFormat, LogLevel, seccomp::SeccompCommand},
    config::{
        CheckConfig, DaemonConfig, ObserveConfig, ProfileConfig, RecordConfig, ShowConfig,
        WatchConfig,
    },
    error::{Error, exit},
    pipeline::{self, Summary},
};

/// Default (no `-v`): warnings as the user's lines, `tracer: message`, no time or target.
struct Plain;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        write!(writer, "tracer: ")?;
        if *event.metadata().level() == tracing::Level::ERROR {
            write!(writer, "error: ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Sets up the log: `--log-format` (else journald under systemd's journal, else text) at
/// `--log-level` (else what `-v` asks for); RUST_LOG overrides the level. The default, text at
/// warn, writes the user's lines (`tracer: message`).
fn init_logging(verbose: u8, format: Option<LogFormat>, level: Option<LogLevel>) {
    use tracing_subscriber::{EnvFilter, layer::SubscriberExt as _, util::SubscriberInitExt as _};
    let level = level.unwrap_or(LogLevel::of_verbosity(verbose));
    let filter = || {
        let f =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level.as_str()));
        match format!("{STATUS}=info").parse() {
            Ok(d) => f.add_directive(d),
            Err(_) => f,
        }
    };
    // Under systemd (journald sets JOURNAL_STREAM) the journal adds timestamps and colours
    // mean nothing.
    let under_journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let format = format.unwrap_or(if under_journal {
        LogFormat::Journald
    } else {
        LogFormat::Text
    });
    match format {
        LogFormat::Journald => match tracing_journald::layer() {
            Ok(layer) => {
                STRUCTURED.store(true, std::sync::atomic::Ordering::Relaxed);
                tracing_subscriber::registry()
                    .with(filter())
                    .with(layer.with_syslog_identifier("tracer".into()))
                    .init();
            }
            Err(e) => {
                // No journal socket: text on stderr, said once.
                init_text(filter(), under_journal, level, verbose);
                tracing::warn!(
                    "--log-format journald: no journal to write to ({e}); logging to stderr"
                );
            }
        },
        LogFormat::Json => {
            STRUCTURED.store(true, std::sync::atomic::Ordering::Relaxed);
            tracing_subscriber::fmt()
                .json()
                .with_current_span(false)
                .with_env_filter(filter())
                .with_writer(std::io::stderr)
                .init();
        }
        LogFormat::Text => init_text(filter(), under_journal, level, verbose),
    }
}

fn init_text(filter: tracing_subscriber::EnvFilter, journal: bool, level: LogLevel, verbose: u8) {
    if level == LogLevel::Warn && verbose == 0 && std::env::var_os("RUST_LOG").is_none() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .event_format(Plain)
            .init();
        return;
    }
    // Plain `level target: message key=value` lines.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!journal && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if journal {
        builder.without_time().init();
    } else {
        builder.init();
    }
}

/// The closing line on stderr.
fn report(s: &Summary) {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = format!(
        "tracer: {}, {} lost",
        plural(s.records, "record", "records"),
        s.lost
    );
    if s.decode_errors > 0 {
        line.push_str(&format!(", {} undecodable", s.decode_errors));
    }
    if s.pending_full > 0 {
        line.push_str(&format!(", {} enters not kept", s.pending_full));
    }
    if s.tasks_full > 0 {
        line.push_str(&format!(", {} children not followed", s.tasks_full));
    }
    if s.stack_failed > 0 {
        line.push_str(&format!(", {} stacks not read", s.stack_failed));
    }
    if let Some(o) = &s.otlp {
        line.push_str(&format!(
            "; otlp: {} exported, {} dropped",
            o.exported,
            o.dropped()
        ));
        let why: Vec<String> = [
            (o.queue_full, "queue full"),
            (o.export_failed, "export failed"),
            (o.rejected, "rejected"),
            (o.at_exit, "at exit"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if !why.is_empty() {
            line.push_str(&format!(" ({})", why.join(", ")));
        }
    }
    say_line(&line);
}

/// Log lines are JSON or journal entries (`--log-format json|journald`): the user's lines go
/// through the log too, at info (always kept: their own target), errors at error.
static STRUCTURED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The target of the user's lines in a structured log.
const STATUS: &str = "tracer_status";

fn structured() -> bool {
    STRUCTURED.load(std::sync::atomic::Ordering::Relaxed)
}

/// A user's line (`tracer: …`) on stderr, or in the structured log without its prefix.
fn say_line(line: &str) {
    if structured() {
        let message = line.strip_prefix("tracer: ").unwrap_or(line);
        tracing::info!(target: STATUS, "{message}");
    } else {
        eprintln!("{line}");
    }
}

/// The error that ends the run.
fn say_error(e: &dyn std::fmt::Display, code: u8) {
    if structured() {
        tracing::error!(target: STATUS, exit_code = code, "{e}");
    } else {
        eprintln!("tracer: {e}");
    }
}

/// Status lines for the user (the "tracing …" line once attached).
fn status(line: String) {
    say_line(&format!("tracer: {line}"));
}

/// A write to stdout: a reader that went away (`| head`) is not a failure.
fn to_stdout(r: std::io::Result<()>) -> Result<Option<Summary>, Error> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::write_failed("<stdout>".into(), &e))
        }
        _ => Ok(None),
    }
}

/// -q: the closing line only when something was not delivered.
fn unless_quiet(quiet: bool, s: Summary) -> Option<Summary> {
    let undelivered = s.lost > 0
        || s.decode_errors > 0
        || s.pending_full > 0
        || s.tasks_full > 0
        || s.otlp.is_some_and(|o| o.dropped() > 0);
    (!quiet || undelivered).then_some(s)
}

async fn run(command: Command) -> Result<Option<Summary>, Error> {
    let s = match command {
        Command::Observe(args) => {
            let cfg = ObserveConfig::try_from(*args)?;
            let quiet = cfg.quiet > 0;
            let silent = |_: String| {};
            let say: &dyn Fn(String) = if quiet { &silent } else { &status };
            let s = pipeline::observe::observe(cfg, None, say).await?;
            return Ok(unless_quiet(quiet, s));
        }
        Command::Record(args) => {
            let cfg = RecordConfig::try_from(*args)?;
            let quiet = cfg.observe.quiet > 0;
            let silent = |_: String| {};
            let say: &dyn Fn(String) = if quiet { &silent } else { &status };
            let s = pipeline::record::record(cfg, say).await?;
            return Ok(unless_quiet(quiet, s));
        }
        Command::Show(args) => {
            let cfg = ShowConfig::try_from(*args)?;
            let quiet = cfg.view.quiet > 0;
            let s = pipeline::show::show(cfg).await?;
            return Ok(unless_quiet(quiet, s));
        }
        Command::Daemon(args) => {
            pipeline::daemon::daemon(DaemonConfig::try_from(args)?, &status).await?
        }
        Command::Seccomp(SeccompCommand::Profile(args)) => {
            pipeline::seccomp::profile(ProfileConfig::try_from(args)?, &status).await?
        }
        Command::Seccomp(SeccompCommand::Check(args)) => {
            pipeline::seccomp::check(CheckConfig::try_from(args)?, &status).await?
        }
        Command::Seccomp(SeccompCommand::Watch(args)) => {
            pipeline::seccomp::watch(WatchConfig::try_from(args)?, &status).await?
        }
        Command::Seccomp(SeccompCommand::Merge(args)) => {
            pipeline::seccomp::merge(args.into())?;
            return Ok(None);
        }
        Command::Seccomp(SeccompCommand::Diff(args)) => {
            pipeline::seccomp::diff(args.into())?;
            return Ok(None);
        }
        Command::Completions { shell } => {
            return to_stdout(cli::completions(shell, &mut std::io::stdout()));
        }
        Command::Man => return to_stdout(cli::man(&mut std::io::stdout())),
    };
    Ok(Some(s))
}

fn main() -> ExitCode {
    let cli = match Cli::parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version: clap's own output on stdout.
            let _ = e.print();
            return ExitCode::from(exit::OK);
        }
        Err(e) => {
            eprintln!("tracer: {}", cli::one_line(&e));
            return ExitCode::from(exit::USAGE);
        }
    };
    init_logging(cli.verbose, cli.log_format, cli.log_level);
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
        Ok(summary) => {
            if let Some(s) = summary {
                report(&s);
            }
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            say_error(&e, e.exit_code());
            ExitCode::from(e.exit_code())
        }
    }
}
