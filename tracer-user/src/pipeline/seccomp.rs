//! `seccomp profile`, `check` and `watch`: the same pipeline as observe (or, with
//! `--from-start`, as the daemon), with a seccomp sink or the watch stage; or recorded JSON
//! lines read back into the same typed events. `merge` and `diff` only read profiles.
use std::{fs::File, io::BufWriter, path::PathBuf, sync::Arc};

use super::{
    Run, Source, Stages, Summary, control,
    daemon::{Kernel, View, follow, run_followed},
    observe::{bpf_config, open_output},
};
use crate::{
    bpf,
    config::{
        CheckConfig, DEFAULT_RING_SIZE, DEFAULT_STRING_SIZE, DiffConfig, Format, MergeConfig,
        ObserveConfig, ProfileConfig, SeccompSource, WatchConfig, parse_ring_size,
    },
    decode::args,
    enrich::{Attribution, Enricher},
    error::Error,
    filter::Filter,
    model::{Gauges, clock::Clock},
    runtime::{self, Runtime, TargetSpec, docker, follow::FollowReport},
    sink::{
        Sink,
        jsonl::JsonLines,
        seccomp::{
            CheckSink, Output, ProfileSink, diff, load_profile, merge,
            profile::Env,
            watch::{Judge, Watch},
        },
        tee::Tee,
        text::Text,
    },
};

/// The follower's news, for the log only (no metrics here).
struct LogOnly;

impl FollowReport for LogOnly {
    fn state(&self, name: &str, state: &str) {
        tracing::debug!(container = name, state, "container state");
    }
    fn started(&self, _name: &str, _first: bool) {}
    fn stopped(&self, _name: &str) {}
    fn follow_gap(&self, _name: &str, _seconds: f64) {}
    fn engine_connected(&self, _up: bool) {}
    fn forget(&self, _name: &str) {}
}

/// Opens every events file up front, so a missing one fails before anything runs.
fn open_events(paths: &[PathBuf]) -> Result<Vec<(PathBuf, File)>, Error> {
    paths
        .iter()
        .map(|p| {
            File::open(p)
                .map(|f| (p.clone(), f))
                .map_err(|e| Error::Input {
                    path: p.clone(),
                    why: e.to_string(),
                })
        })
        .collect()
}

/// How a seccomp command reads the calls: whether its sink prints text (strace's rendering
/// of the arguments is decoded then), and the verb of its "… container web; Ctrl-C to stop"
/// line.
#[derive(Debug, Clone, Copy)]
struct Reading {
    text: bool,
    verb: &'static str,
}

const RECORDING: Reading = Reading {
    text: false,
    verb: "recording",
};

/// Feeds `sink` from the configured source; `ready` hears the "recording …" line. `written`
/// is the file the command writes (named in write errors), when not the recording.
async fn feed(
    source: &SeccompSource,
    sink: Box<dyn Sink + Send>,
    written: Option<PathBuf>,
    reading: Reading,
    ready: &dyn Fn(String),
) -> Result<Summary, Error> {
    let verb = reading.verb;
    let (name, from_start, duration, record) = match source {
        SeccompSource::Events(paths) => {
            let files = open_events(paths)?;
            let clock = Clock::shared();
            return super::run(Run {
                source: Source::Files(files),
                stages: Stages {
                    decode: args::Options::default(),
                    enrich: Enricher::new(Attribution::None, false),
                    filter: Filter::new(None),
                    sink,
                    summary: None,
                    container: None,
                    unfinished: false,
                    clock,
                    lifecycle: None,
                    recordings: None,
                },
                ends: control::Ends::default(),
                control: Arc::default(),
                output: written.unwrap_or_else(|| "<stdout>".into()),
            })
            .await;
        }
        SeccompSource::Container {
            name,
            from_start,
            duration,
            record,
        } => (name, *from_start, *duration, record),
    };
    let clock = Clock::shared();
    let sink: Box<dyn Sink + Send> = match record {
        Some(path) => {
            let out = std::io::BufWriter::new(open_output(Some(path))?);
            Box::new(Tee(vec![sink, Box::new(JsonLines::new(out, clock))]))
        }
        None => sink,
    };
    let output = written
        .or_else(|| record.clone())
        .unwrap_or_else(|| "<stdout>".into());
    let ring_size = parse_ring_size(DEFAULT_RING_SIZE)?;
    if from_start {
        // From its start: followed through Docker's events, as the daemon does.
        let followed = follow(
            runtime::Engine::docker(),
            std::slice::from_ref(name),
            Vec::new(),
            Kernel {
                ring_size,
                syscalls: Vec::new(),
                string_size: DEFAULT_STRING_SIZE,
                counts: false,
                gate: true,
                exit_only: false,
            },
            Arc::new(LogOnly),
        )
        .await?;
        ready(format!(
            "{verb} container {name} from its start; start or restart it now"
        ));
        return run_followed(
            followed,
            sink,
            Arc::new(Gauges::default()),
            duration,
            output,
            // The profile must allow the runtime's set-up too: nothing left out.
            View {
                decode: args::Options {
                    json_only: !reading.text,
                    ..args::Options::default()
                },
                ..View::all(DEFAULT_STRING_SIZE)
            },
        )
        .await;
    }
    let cfg = ObserveConfig {
        target: TargetSpec::Container {
            name: name.clone(),
            runtime: None,
        },
        syscalls: Vec::new(),
        duration,
        count: None,
        format: Format::Json,
        output: record.clone(),
        ring_size,
        hook: bpf::Hook::RawTracepoint,
        follow_nothing: false,
        string_size: DEFAULT_STRING_SIZE,
        host_pids: false,
        fd_paths: false,
        fd_details: false,
        stack: false,
        no_abbrev: false,
        hex: Default::default(),
        stamps: Default::default(),
        status: Default::default(),
        signals: Default::default(),
        summary: None,
        syscall_times: false,
        quiet: 0,
        // A profile must allow the runtime's set-up too.
        exclude_comm: Vec::new(),
        trace_paths: Vec::new(),
        otlp: None,
        exit_only: false,
        left_out: Vec::new(),
    };
    let target = runtime::resolve(&cfg.target).await?;
    let loaded = bpf::load_and_attach(&bpf_config(&cfg, &target))?;
    ready(format!("{verb} {}; Ctrl-C to stop", target.describe()));
    let container = target.container.clone().map(Arc::new);
    let attribution = container
        .clone()
        .map_or(Attribution::None, Attribution::Fixed);
    super::run(Run {
        source: Source::Kernel {
            loaded: Box::new(loaded),
            interval: None,
            gauges: Arc::new(Gauges::default()),
        },
        stages: Stages {
            decode: args::Options::default(),
            enrich: Enricher::new(attribution, false),
            filter: Filter::new(None),
            sink,
            summary: None,
            container,
            unfinished: true,
            clock,
            lifecycle: None,
            recordings: None,
        },
        ends: control::Ends {
            duration,
            target: Some(target),
            tasks: None,
        },
        control: Arc::default(),
        output,
    })
    .await
}

/// `tracer seccomp profile`.
pub async fn profile(cfg: ProfileConfig, ready: &dyn Fn(String)) -> Result<Summary, Error> {
    let output = match &cfg.output {
        Some(p) => Output::File(p.clone()),
        None => Output::Stdout,
    };
    let sink = ProfileSink::new(output, cfg.args, Clock::shared());
    feed(
        &cfg.source,
        Box::new(sink),
        cfg.output.clone(),
        RECORDING,
        ready,
    )
    .await
}

/// What `name`'s filter is built for: this machine, with the capabilities its engine gives it.
/// `runtime`: its engine, when known (else the one that has it).
pub(crate) async fn container_env(name: &str, runtime: Option<Runtime>) -> Result<Env, Error> {
    let host = Env::host();
    Ok(match capabilities(name, runtime).await? {
        (true, _, _) => host.with_caps(&["ALL".into()], &[]),
        (false, add, drop) => host.with_caps(&add, &drop),
    })
}

/// The capabilities' environment for `check` and `watch`: a live container's from its engine
/// (Docker's defaults when they cannot be read), recorded calls' Docker's defaults changed by
/// `--cap-add`/`--cap-drop`.
async fn env_for(source: &SeccompSource, cap_add: &[String], cap_drop: &[String]) -> Env {
    let given = || Env::host().with_caps(cap_add, cap_drop);
    match source {
        SeccompSource::Container { name, .. } => {
            container_env(name, None).await.unwrap_or_else(|e| {
                tracing::warn!(
                    "cannot read {name}'s capabilities ({e}); assuming Docker's defaults"
                );
                given()
            })
        }
        SeccompSource::Events(_) => given(),
    }
}

/// The capabilities the engine that runs `name` gives it.
async fn capabilities(
    name: &str,
    runtime: Option<Runtime>,
) -> Result<(bool, Vec<String>, Vec<String>), Error> {
    let (engine, _) = runtime::find(name, runtime).await?;
    match engine.runtime {
        Runtime::Docker | Runtime::Podman => docker::capabilities(&engine, name).await,
        // The whole set, from the container's OCI spec: all of Docker's defaults dropped,
        // then these.
        Runtime::Containerd | Runtime::Cri => {
            let caps = match engine.runtime {
                Runtime::Cri => runtime::cri::capabilities(&engine, name).await?,
                _ => runtime::containerd::capabilities(&engine, name).await?,
            };
            tracing::info!("{name}'s capabilities (its OCI spec): {}", caps.join(","));
            Ok((false, caps, vec!["ALL".into()]))
        }
    }
}

/// `tracer seccomp check`: `Error::WouldDeny` when something would be denied.
pub async fn check(cfg: CheckConfig, ready: &dyn Fn(String)) -> Result<Summary, Error> {
    let profile = load_profile(&cfg.profile)?;
    let env = env_for(&cfg.source, &cfg.cap_add, &cfg.cap_drop).await;
    let sink = CheckSink::new(cfg.profile.clone(), profile, env, cfg.json, Clock::shared());
    feed(&cfg.source, Box::new(sink), None, RECORDING, ready).await
}

/// `tracer seccomp watch`: the findings as the calls come; `Error::WouldReject` at the end
/// when there were any.
pub async fn watch(cfg: WatchConfig, ready: &dyn Fn(String)) -> Result<Summary, Error> {
    let profile = load_profile(&cfg.profile)?;
    let env = env_for(&cfg.source, &cfg.cap_add, &cfg.cap_drop).await;
    let judge = Arc::new(Judge::new(
        &cfg.profile.display().to_string(),
        profile,
        &env,
    ));
    let out = BufWriter::new(open_output(cfg.output.as_deref())?);
    let text = cfg.format == Format::Text;
    let inner: Box<dyn Sink + Send> = if text {
        Box::new(Text::new(out, false))
    } else {
        Box::new(JsonLines::new(out, Clock::shared()))
    };
    let sink = Watch::new(inner, Some(judge)).failing();
    let reading = Reading {
        text,
        verb: "watching",
    };
    feed(
        &cfg.source,
        Box::new(sink),
        cfg.output.clone(),
        reading,
        ready,
    )
    .await
}

/// Reads every profile named, up front.
fn load_all(
    paths: &[PathBuf],
) -> Result<Vec<(String, crate::sink::seccomp::profile::Profile)>, Error> {
    paths
        .iter()
        .map(|p| Ok((p.display().to_string(), load_profile(p)?)))
        .collect()
}

/// Writes `text` where the command writes: a closed stdout (`| head`) is not a failure.
fn write_out(output: &Output, text: &str) -> Result<(), Error> {
    match output.write(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            let path = match output {
                Output::File(p) => p.clone(),
                Output::Stdout => "<stdout>".into(),
            };
            Err(Error::write_failed(path, &e))
        }
        _ => Ok(()),
    }
}

/// `tracer seccomp merge`: `Error::ProfileConflict` when the profiles cannot be one.
pub fn merge(cfg: MergeConfig) -> Result<(), Error> {
    let profiles = load_all(&cfg.profiles)?;
    let merged = merge::merge(&profiles).map_err(|e| Error::ProfileConflict(e.to_string()))?;
    let mut json = serde_json::to_string_pretty(&merged)
        .map_err(|e| Error::Internal(format!("cannot write the merged profile: {e}")))?;
    json.push('\n');
    let output = match cfg.output {
        Some(p) => Output::File(p),
        None => Output::Stdout,
    };
    write_out(&output, &json)
}

/// `tracer seccomp diff`: `Error::ProfilesDiffer` when they differ, as diff(1) exits 1.
pub fn diff(cfg: DiffConfig) -> Result<(), Error> {
    let profiles = load_all(&[cfg.old, cfg.new])?;
    let [(old_name, old), (new_name, new)] = &profiles[..] else {
        return Err(Error::Internal("two profiles expected".into()));
    };
    let d = diff::diff(old_name, old, new_name, new);
    let text = if cfg.json {
        let mut line = serde_json::to_string(&d)
            .map_err(|e| Error::Internal(format!("cannot write the difference: {e}")))?;
        line.push('\n');
        line
    } else {
        diff::text(&d)
    };
    write_out(&Output::Stdout, &text)?;
    match d.count() {
        0 => Ok(()),
        n => Err(Error::ProfilesDiffer(n)),
    }
}
