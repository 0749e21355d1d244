//! `tracer seccomp profile|check|watch|merge|diff`: arguments, turned into the checked
//! configurations of `config`.
use std::{path::PathBuf, time::Duration};

use clap::{Args, Subcommand};

use super::observe::FormatArg;
use crate::{
    config::{
        self, CheckConfig, DiffConfig, MergeConfig, ProfileConfig, SeccompSource, WatchConfig,
    },
    error::Error,
};

#[derive(Debug, Subcommand)]
pub enum SeccompCommand {
    /// Write a Docker seccomp profile allowing what a container was seen doing.
    Profile(ProfileArgs),
    /// Report the observed calls a profile would deny (exit 9 when there are any).
    Check(CheckArgs),
    /// Complain mode: write each observed call a profile would not simply allow, as it
    /// happens, without enforcing anything (exit 9 when there were any).
    Watch(WatchArgs),
    /// Combine profiles into one allowing what any of them allows.
    Merge(MergeArgs),
    /// What one profile allows that the other does not, by syscall and argument condition
    /// (exit 13 when they differ).
    Diff(DiffArgs),
}

/// Where the observed calls come from.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Observe this container now (until --duration or Ctrl-C).
    #[arg(long, value_name = "NAME", conflicts_with = "events")]
    pub container: Option<String>,
    /// Recorded JSON lines (`tracer observe --format json`, `tracer daemon`); several files
    /// merge (replicas, several runs).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub events: Vec<PathBuf>,
    /// Wait for the container to be created or started and trace it from its first syscall
    /// (runc's set-up included).
    #[arg(long, requires = "container")]
    pub from_start: bool,
    /// How long to observe (e.g. 30s, 5m).
    #[arg(long, value_name = "DUR", requires = "container")]
    pub duration: Option<humantime::Duration>,
    /// Keep the observed JSON lines in FILE.
    #[arg(long, value_name = "FILE", requires = "container")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Write the profile to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Allow only the observed values of selector arguments (socket's family, prctl's option,
    /// clone's namespace flags… docs/seccomp.md lists them), where a call saw at most 8.
    #[arg(long)]
    pub args: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The Docker seccomp profile to check against.
    #[arg(long, value_name = "FILE")]
    pub profile: PathBuf,
    /// Output: a table, or one JSON report.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// With --events: capabilities added to Docker's default set (the profile's
    /// `includes`/`excludes` depend on them); with --container they are read from Docker.
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// With --events: capabilities dropped from Docker's default set.
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The Docker seccomp profile to judge the calls by (never enforced).
    #[arg(long, value_name = "FILE")]
    pub profile: PathBuf,
    /// Output: one JSON line per finding (docs/events.md), or strace-like lines.
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    pub format: FormatArg,
    /// Write the findings to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --events: capabilities added to Docker's default set; with --container they are
    /// read from its engine.
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// With --events: capabilities dropped from Docker's default set.
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The profiles (Docker's format), two or more.
    #[arg(value_name = "PROFILE", num_args = 2.., required = true)]
    pub profiles: Vec<PathBuf>,
    /// Write the merged profile to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The profile before.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The profile after.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Output: lines marked - and +, or one JSON object.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
}

impl TryFrom<SourceArgs> for SeccompSource {
    type Error = Error;

    fn try_from(a: SourceArgs) -> Result<Self, Error> {
        let duration =
            config::check_duration("--duration", a.duration.map(Duration::from), Duration::ZERO)?;
        match a.container {
            Some(name) => Ok(SeccompSource::Container {
                name,
                from_start: a.from_start,
                duration,
                record: a.record,
            }),
            None if !a.events.is_empty() => Ok(SeccompSource::Events(a.events)),
            None => Err(Error::Usage(
                "nothing to read: give --container NAME to observe one, or --events FILE… with recorded JSON lines".into(),
            )),
        }
    }
}

impl TryFrom<ProfileArgs> for ProfileConfig {
    type Error = Error;

    fn try_from(a: ProfileArgs) -> Result<Self, Error> {
        Ok(ProfileConfig {
            source: a.source.try_into()?,
            output: a.output,
            args: a.args,
        })
    }
}

impl TryFrom<CheckArgs> for CheckConfig {
    type Error = Error;

    fn try_from(a: CheckArgs) -> Result<Self, Error> {
        Ok(CheckConfig {
            source: a.source.try_into()?,
            profile: a.profile,
            json: a.format == FormatArg::Json,
            cap_add: a.cap_add,
            cap_drop: a.cap_drop,
        })
    }
}

impl TryFrom<WatchArgs> for WatchConfig {
    type Error = Error;

    fn try_from(a: WatchArgs) -> Result<Self, Error> {
        Ok(WatchConfig {
            source: a.source.try_into()?,
            profile: a.profile,
            format: a.format.into(),
            output: a.output,
            cap_add: a.cap_add,
            cap_drop: a.cap_drop,
        })
    }
}

impl From<MergeArgs> for MergeConfig {
    fn from(a: MergeArgs) -> Self {
        MergeConfig {
            profiles: a.profiles,
            output: a.output,
        }
    }
}

impl From<DiffArgs> for DiffConfig {
    fn from(a: DiffArgs) -> Self {
        DiffConfig {
            old: a.old,
            new: a.new,
            json: a.format == FormatArg::Json,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        cli::{Cli, Command},
        config::{Format, SeccompSource, WatchConfig},
        error::exit,
    };

    use super::SeccompCommand;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let mut all = vec!["tracer", "seccomp"];
        all.extend_from_slice(args);
        Cli::parse_args(all)
    }

    #[test]
    fn watch_merge_and_diff_arguments() {
        let cli = parse(&["watch", "--profile", "p.json", "--container", "web"]).expect("parses");
        let Command::Seccomp(SeccompCommand::Watch(a)) = cli.command else {
            panic!("watch")
        };
        let c = WatchConfig::try_from(a).expect("valid");
        assert_eq!(c.format, Format::Json, "JSON lines unless told");
        assert!(matches!(c.source, SeccompSource::Container { ref name, .. } if name == "web"));
        let cli = parse(&["watch", "--profile", "p.json"]).expect("parses");
        let Command::Seccomp(SeccompCommand::Watch(a)) = cli.command else {
            panic!("watch")
        };
        let e = WatchConfig::try_from(a).expect_err("no source");
        assert_eq!(e.exit_code(), exit::USAGE);
        assert!(
            e.to_string()
                .starts_with("nothing to read: give --container NAME")
        );
        assert!(
            parse(&["watch", "--container", "web"]).is_err(),
            "--profile is needed"
        );
        assert!(
            parse(&["merge", "a.json"]).is_err(),
            "one profile is not a merge"
        );
        assert!(parse(&["merge", "a.json", "b.json", "-o", "m.json"]).is_ok());
        assert!(parse(&["diff", "a.json"]).is_err());
        assert!(parse(&["diff", "a.json", "b.json", "--format", "json"]).is_ok());
        assert!(parse(&["profile", "--events", "e.jsonl", "--args"]).is_ok());
    }
}
