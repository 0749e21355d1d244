//! Command line: clap derive types, turned into checked configurations (`config`) in one place
//! each.
pub mod daemon;
pub mod observe;
pub mod record;
pub mod seccomp;

use clap::{CommandFactory as _, Parser, Subcommand};

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
    /// How log lines are written: text (stderr), json (one JSON object per line on stderr),
    /// journald (the journal's native fields). Default: journald when systemd started tracer
    /// with its journal (JOURNAL_STREAM), else text.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// The least severe log level written: error, warn, info, debug, trace (default warn; -v is
    /// info, -vv debug). RUST_LOG overrides both.
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    pub log_level: Option<LogLevel>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
    Journald,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The level `-v`s ask for.
    pub fn of_verbosity(verbose: u8) -> LogLevel {
        match verbose {
            0 => LogLevel::Warn,
            1 => LogLevel::Info,
            2 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl Cli {
    /// Parses `args` (the program name first), noting where each syscall set was given: as in
    /// strace, the last one counts, across `--syscalls`/`--trace` and `-e`.
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::FromArgMatches as _;
        let matches = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))?;
        match (&mut cli.command, matches.subcommand()) {
            (Command::Observe(a), Some(("observe", m)))
            | (Command::Record(a), Some(("record", m))) => a.positions = observe::Positions::of(m),
            (Command::Show(a), Some(("show", m))) => a.view.positions = observe::Positions::of(m),
            _ => {}
        }
        Ok(cli)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stream the syscalls of one container, process or cgroup.
    Observe(Box<observe::ObserveArgs>),
    /// Write the kernel's records of one container, process or cgroup to a file (-o FILE) as
    /// they come, for `tracer show` to decode later (docs/capture-format.md).
    #[command(mut_args(record::hide_display))]
    Record(Box<observe::ObserveArgs>),
    /// Decode a recording (`tracer record`) and print it as `observe` would have printed it.
    Show(Box<record::ShowArgs>),
    /// Follow named containers for days: across restarts, re-creation and engine restarts.
    Daemon(daemon::DaemonArgs),
    /// Seccomp profiles from observed behaviour, observed behaviour against a profile (at the
    /// end, or live in complain mode), and profiles merged and compared.
    #[command(subcommand)]
    Seccomp(seccomp::SeccompCommand),
    /// Print a shell completion script (e.g. `tracer completions bash > /etc/bash_completion.d/tracer`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) for `man -l -`.
    Man,
}

/// Writes the completion script for `shell` to `out` (rendered first: clap_complete panics on
/// a failed write, and a closed stdout is not a failure).
pub fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tracer", &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Writes the man page to `out`.
pub fn man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)?;
    out.flush()
}

/// What to use instead of a strace option tracer does not have (`None`: not one of strace's).
fn strace_hint(arg: &str) -> Option<&'static str> {
    let (name, _) = arg.split_once('=').unwrap_or((arg, ""));
    Some(match name {
        "-i" | "--instruction-pointer" => {
            "strace's -i (instruction pointer) is not supported; -k prints each call's user stack"
        }
        "-n" | "--syscall-number" => {
            "strace's -n is not supported; --format json records carry each call's number (nr)"
        }
        "-u" | "--user" | "-E" | "--env" => {
            "tracer does not start programs: start it (in a container or not), then give --container NAME or -p PID"
        }
        "-D" | "-DD" | "-DDD" | "--daemonize" | "-I" | "--interruptible" | "--seccomp-bpf" => {
            "not needed: tracer does not ptrace, the traced processes never stop"
        }
        "-b" | "--detach-on" => "strace's -b is not supported: tracer never detaches",
        "-a"
        | "--columns"
        | "-X"
        | "--const-print-style"
        | "-A"
        | "-O"
        | "-w"
        | "--summary-wall-clock" => {
            "that strace option is not supported; docs/cli.md lists the strace options tracer has"
        }
        "-d" | "--debug" => "strace's -d is tracer's -v (-vv, -vvv for more)",
        "-ff" | "--output-separately" => {
            "one file per process is not supported; --format json records carry tid and tgid"
        }
        _ => return None,
    })
}

/// clap's error as one line in tracer's style: `the problem (tip: …); see 'tracer … --help'`;
/// a strace option tracer lacks gets what to use instead.
pub fn one_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg)
    {
        if let Some(hint) = strace_hint(arg) {
            return format!("unexpected argument '{arg}': {hint}; see 'tracer observe --help'");
        }
        if !arg.starts_with('-') {
            return format!(
                "unexpected argument '{arg}': tracer does not start programs (strace CMD); start it, then give --container NAME or -p PID; see 'tracer observe --help'"
            );
        }
    }
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines
        .next()
        .unwrap_or("bad arguments")
        .trim_start_matches("error: ")
        .to_string();
    let tip = lines
        .clone()
        .find_map(|l| l.strip_prefix("tip: "))
        .map(str::to_string);
    let usage = lines
        .find_map(|l| l.strip_prefix("Usage: "))
        .and_then(|u| {
            let words: Vec<&str> = u
                .split_whitespace()
                .take_while(|w| !w.starts_with(['-', '[', '<']))
                .collect();
            (!words.is_empty()).then(|| words.join(" "))
        })
        .unwrap_or_else(|| "tracer".into());
    match tip {
        Some(tip) => format!("{first} ({tip}); see '{usage} --help'"),
        None => format!("{first}; see '{usage} --help'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_are_one_line() {
        let e = Cli::try_parse_from(["tracer", "observe", "-p", "1", "--bogus"]).expect_err("bad");
        let line = one_line(&e);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("unexpected argument '--bogus' found"),
            "{line}"
        );
        assert!(line.ends_with("see 'tracer observe --help'"), "{line}");
        let e = Cli::try_parse_from(["tracer", "nosuch"]).expect_err("bad");
        assert!(one_line(&e).contains("unrecognized subcommand 'nosuch'"));
    }

    #[test]
    fn strace_options_tracer_lacks_get_a_hint() {
        for (args, want) in [
            (&["-i"][..], "-k prints each call's user stack"),
            (&["-n"][..], "carry each call's number"),
            (&["-D"][..], "not needed: tracer does not ptrace"),
            (&["ls", "-l"][..], "tracer does not start programs"),
            (&["-u", "nobody"][..], "tracer does not start programs"),
        ] {
            let mut a = vec!["tracer", "observe", "-p", "1"];
            a.extend_from_slice(args);
            let e = Cli::try_parse_from(a).expect_err("bad");
            let line = one_line(&e);
            assert!(line.contains(want), "{args:?}: {line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn completions_and_man_render() {
        let mut out = Vec::new();
        completions(clap_complete::Shell::Bash, &mut out).expect("renders");
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("observe") && text.contains("--container"),
            "{text}"
        );
        let mut out = Vec::new();
        man(&mut out).expect("renders");
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains(".TH tracer"), "{text}");
    }
}
