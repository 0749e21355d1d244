//! `tracer record` (observe's arguments: what to follow and how the kernel captures) and
//! `tracer show FILE` (observe's arguments: what to print), turned into their configurations.
use std::path::PathBuf;

use clap::Args;

use super::observe::{self, ObserveArgs};
use crate::{
    config::{Format, ObserveConfig, RecordConfig, ShowConfig},
    decode::escape::Hex,
    error::Error,
    runtime::TargetSpec,
    sink::text::Stamps,
};

#[derive(Debug, Args)]
#[command(mut_group("target", |g| g.required(false)), mut_args(hide_kernel))]
pub struct ShowArgs {
    /// A recording written by `tracer record -o FILE`.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    #[command(flatten)]
    pub view: ObserveArgs,
}

/// Observe's options that neither `record` nor `show` has (yet): the summary, user stacks,
/// OTLP export.
const NEITHER: [&str; 9] = [
    "stack",
    "summary",
    "summary_and_stream",
    "stream",
    "interval",
    "sort",
    "summary_columns",
    "histogram",
    "otlp",
];

/// Observe's options that only choose what is printed: `show`'s, hidden from `record --help`
/// (and refused there, `display_options`).
const DISPLAY: [&str; 15] = [
    "format",
    "syscall_times",
    "timestamps",
    "relative_timestamps",
    "hex_strings",
    "fd_paths",
    "trace_path",
    "status",
    "successful_only",
    "failed_only",
    "signals",
    "exclude_comm",
    "count",
    "no_abbrev",
    "host_pids",
];

/// Observe's options that choose what is followed and how the kernel captures it: hidden from
/// `show --help` (the target ones are refused there).
const KERNEL: [&str; 8] = [
    "container",
    "attach",
    "pid",
    "cgroup",
    "duration",
    "ring_size",
    "hook",
    "exit_only",
];

fn hide_if(a: clap::Arg, ids: &[&str]) -> clap::Arg {
    let id = a.get_id().as_str();
    let hide = a.is_hide_set() || ids.contains(&id) || NEITHER.contains(&id);
    a.hide(hide)
}

/// `record`'s help: observe's without the printing options.
pub fn hide_display(a: clap::Arg) -> clap::Arg {
    hide_if(a, &DISPLAY)
}

fn hide_kernel(a: clap::Arg) -> clap::Arg {
    hide_if(a, &KERNEL)
}

/// The options that choose what is printed: `show`'s, not `record`'s (the recording keeps
/// every status, signal and process, and the calls `-y` follows).
fn display_options(c: &ObserveConfig) -> Vec<&'static str> {
    [
        (c.format != Format::Text, "--format"),
        (c.syscall_times, "-T"),
        (c.stamps != Stamps::None, "-t/-r"),
        (c.hex != Hex::None, "-x"),
        (c.fd_paths, "-y"),
        (!c.trace_paths.is_empty(), "-P"),
        (!c.status.is_all(), "--status/-z/-Z"),
        (!c.signals.is_all(), "--signals"),
        (!c.exclude_comm.is_empty(), "--exclude-comm"),
        (c.count.is_some(), "--count"),
        (c.no_abbrev, "--no-abbrev"),
        (c.host_pids, "--host-pids"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect()
}

impl TryFrom<ObserveArgs> for RecordConfig {
    type Error = Error;

    fn try_from(a: ObserveArgs) -> Result<Self, Error> {
        let observe = ObserveConfig::try_from(a)?;
        let Some(output) = observe.output.clone() else {
            return Err(Error::Usage(
                "record writes a file: give -o FILE (then `tracer show FILE` prints it)".into(),
            ));
        };
        if observe.summary.is_some() {
            return Err(Error::Usage(
                "-c/-C with record: the summary is counted in the kernel, record keeps every call; record without -c, or use `tracer observe -c`".into(),
            ));
        }
        if observe.stack {
            return Err(Error::Usage(
                "-k with record is not supported: symbols come from the processes' binaries as they are now; use `tracer observe -k`".into(),
            ));
        }
        if observe.otlp.is_some() {
            return Err(Error::Usage(
                "--otlp with record is not supported: record writes a recording; use `tracer observe --otlp` or `tracer daemon --otlp`".into(),
            ));
        }
        let display = display_options(&observe);
        if !display.is_empty() {
            return Err(Error::Usage(format!(
                "{} with record: what is printed is chosen by `tracer show FILE`, which decodes the recording; give it there (record keeps every status, signal and process)",
                display.join(", ")
            )));
        }
        Ok(RecordConfig { observe, output })
    }
}

impl TryFrom<ShowArgs> for ShowConfig {
    type Error = Error;

    fn try_from(a: ShowArgs) -> Result<Self, Error> {
        if observe::has_target(&a.view) {
            return Err(Error::Usage(
                "show follows no target: the recording names what it followed; give only the FILE and what to print".into(),
            ));
        }
        if a.view.exit_only {
            return Err(Error::Usage(
                "--exit-only with show: it chooses how the kernel traces; give it to `tracer record`".into(),
            ));
        }
        // The recording names its target; observe's field is not used by show.
        let view = observe::config_for(a.view, TargetSpec::Processes(Vec::new()))?;
        if view.summary.is_some() {
            return Err(Error::Usage(
                "-c/-C with show is not supported yet: the summary is counted in the kernel; use `tracer observe -c`".into(),
            ));
        }
        if view.stack {
            return Err(Error::Usage(
                "-k with show is not supported: the recording holds no user stacks".into(),
            ));
        }
        if view.otlp.is_some() {
            return Err(Error::Usage(
                "--otlp with show is not supported yet: use `tracer observe --otlp` or `tracer daemon --otlp`".into(),
            ));
        }
        if view.duration.is_some() {
            return Err(Error::Usage(
                "--duration with show: a recording is read to its end; use --count N to stop early"
                    .into(),
            ));
        }
        Ok(ShowConfig {
            input: a.input,
            view,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command, one_line};

    fn parse(args: &[&str]) -> Result<Command, Error> {
        Cli::parse_args(["tracer"].iter().chain(args).copied())
            .map(|c| c.command)
            .map_err(|e| Error::Usage(one_line(&e)))
    }

    fn record(args: &[&str]) -> Result<RecordConfig, Error> {
        let mut a = vec!["record"];
        a.extend_from_slice(args);
        match parse(&a)? {
            Command::Record(a) => RecordConfig::try_from(*a),
            other => panic!("record parsed as {other:?}"),
        }
    }

    fn show(args: &[&str]) -> Result<ShowConfig, Error> {
        let mut a = vec!["show"];
        a.extend_from_slice(args);
        match parse(&a)? {
            Command::Show(a) => ShowConfig::try_from(*a),
            other => panic!("show parsed as {other:?}"),
        }
    }

    #[test]
    fn exit_only_is_records_not_shows() {
        let r = record(&["-p", "1", "--exit-only", "-o", "x.trec"]).expect("valid");
        assert!(r.observe.exit_only && !r.observe.syscalls.contains(&59));
        match show(&["x.trec", "--exit-only"]) {
            Err(Error::Usage(m)) => assert!(m.starts_with("--exit-only with show"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn record_takes_a_target_a_syscall_set_and_a_file() {
        let c =
            record(&["--container", "web", "-e", "trace=openat", "-o", "cap.bin"]).expect("valid");
        assert_eq!(c.output, PathBuf::from("cap.bin"));
        assert_eq!(
            c.observe.target,
            TargetSpec::Container {
                name: "web".into(),
                runtime: None
            }
        );
        assert_eq!(c.observe.syscalls.len(), 1);
        let e = record(&["--container", "web"]).expect_err("no -o");
        assert!(e.to_string().contains("-o FILE"), "{e}");
        assert!(record(&["-o", "cap.bin"]).is_err(), "a target is needed");
        for display in [&["-y"][..], &["-Z"], &["--format", "json"], &["-tt"]] {
            let mut a = vec!["-p", "7", "-o", "c.bin"];
            a.extend_from_slice(display);
            let e = record(&a).expect_err("display option");
            assert!(e.to_string().contains("tracer show"), "{display:?}: {e}");
            assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        }
        assert!(record(&["-p", "7", "-o", "c.bin", "-c"]).is_err());
        let e = record(&["-p", "7", "-o", "c.bin", "--otlp", "4317"]).expect_err("--otlp");
        assert!(e.to_string().starts_with("--otlp with record"), "{e}");
    }

    #[test]
    fn show_takes_a_file_and_what_to_print() {
        let c = show(&[
            "cap.bin",
            "--format",
            "json",
            "-Z",
            "-e",
            "trace=openat",
            "-y",
        ])
        .expect("valid");
        assert_eq!(c.input, PathBuf::from("cap.bin"));
        assert_eq!(c.view.format, Format::Json);
        assert!(c.view.fd_paths);
        assert!(!c.view.status.is_all());
        let e = show(&["cap.bin", "--container", "web"]).expect_err("a target");
        assert!(e.to_string().contains("no target"), "{e}");
        assert!(show(&[]).is_err(), "the file is needed");
        assert!(show(&["cap.bin", "-c"]).is_err());
        let e = show(&["cap.bin", "--otlp", "4317"]).expect_err("--otlp");
        assert!(e.to_string().starts_with("--otlp with show"), "{e}");
    }
}
