//! `daemon`: the pipeline with a changing target set (the follower puts containers' cgroups
//! into the kernel filter as they come and go) and a sink that routes each event to its
//! container's output, beside the metrics.
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use super::{Run, Source, Stages, Summary, control};
use crate::{
    bpf::{self, BpfConfig, Hook, TargetSet},
    config::{
        DaemonConfig,
        policy::{self, DaemonFormat},
    },
    decode::{args, capture_spec},
    enrich::{Attribution, Enricher},
    error::Error,
    filter::Filter,
    model::Runtime,
    model::{Gauges, clock::Clock, target::KernelFilter},
    runtime::{
        Engine, cgroup,
        cri::PodSpec,
        follow::{FollowReport, Follower, Wants},
        registry::Registry,
    },
    sink::{
        Sink,
        metrics::{self, Counting, Metrics},
        recording::{Plan, Plans, Recordings},
        route::{Destination, Output, Outputs},
        seccomp::{
            load_profile,
            profile::Env,
            watch::{Judge, Watch},
        },
        tee::Tee,
    },
};

/// Docker's containers sit at `/docker/ID` (cgroupfs driver) or `/system.slice/docker-ID.scope`
/// (systemd driver): two levels below the cgroup2 root.
const DOCKER_LEVEL: u32 = 2;

/// The depths of the named containers' cgroups (the kernel filter's level, and a second one
/// or 0): from one that runs now, else the drivers' default (podman's `/libpod_parent/libpod-ID`
/// and `machine.slice/libpod-ID.scope` too). CRI pods are at two depths: the kubelet's
/// BestEffort and Burstable pods (`kubepods/<qos>/pod<uid>/<id>`) one level below its
/// Guaranteed ones (`kubepods/pod<uid>/<id>`).
/// A running container's cgroup: its spec's, else its process's.
fn cgroup_of(mount: &Path, s: &crate::runtime::State) -> Option<cgroup::CgroupTarget> {
    if !s.running {
        return None;
    }
    let cg = match &s.cgroup {
        Some(rel) => cgroup::CgroupTarget::from_dir(&mount.join(rel)).ok(),
        None => cgroup::of_pid(s.pid).ok().flatten(),
    }?;
    (cg.level > 0).then_some(cg)
}

async fn cgroup_levels(
    engine: &Engine,
    mount: &Path,
    names: &[String],
    pods: &[PodSpec],
) -> (u32, u32) {
    let mut running = None;
    for name in names {
        if let Ok(Some(s)) = crate::runtime::state(engine, name).await
            && let Some(cg) = cgroup_of(mount, &s)
        {
            running = Some(cg);
            break;
        }
    }
    if running.is_none() && !pods.is_empty() {
        let found = crate::runtime::cri::selected(engine, pods).await;
        running = found
            .iter()
            .flatten()
            .find_map(|(_, s)| cgroup_of(mount, s));
    }
    match engine.runtime {
        Runtime::Cri => {
            let level = running.map_or(KUBEPODS_LEVEL, |cg| {
                // kubepods/pod<uid>/<id> (or kubepods.slice/kubepods-pod<uid>.slice/…): a
                // Guaranteed pod, one level above the others.
                let guaranteed = cg
                    .path
                    .parent()
                    .and_then(Path::parent)
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "kubepods" || n == "kubepods.slice");
                cg.level + u32::from(guaranteed)
            });
            (level, level - 1)
        }
        _ => (running.map_or(DOCKER_LEVEL, |cg| cg.level), 0),
    }
}

const KUBEPODS_LEVEL: u32 = 4;

/// Lifecycle records queued for the writer before the follower drops them (and logs it).
const LIFECYCLE_QUEUE: usize = 256;

/// What a run with a follower needs besides its sink: the loaded programs and their target
/// set, the follower over it, and where records are attributed.
pub struct Followed {
    pub loaded: bpf::Loaded,
    pub follower: Follower,
    pub registry: Arc<Registry>,
}

/// What the kernel side of a followed run is asked for.
pub struct Kernel {
    pub ring_size: u32,
    /// Syscalls reported (empty: all).
    pub syscalls: Vec<u32>,
    pub string_size: u32,
    /// Count every followed call per target in the kernel's summary maps (the daemon's
    /// syscall metrics).
    pub counts: bool,
    /// Attach the syscall programs only while a target is followed (bpf/gate.rs).
    pub gate: bool,
    /// `--exit-only`: the exit program alone (`syscalls` holds only calls that allow it).
    pub exit_only: bool,
}

/// Loads the programs for a changing set of containers' cgroups and builds their follower.
pub async fn follow(
    engine: Engine,
    containers: &[String],
    pods: Vec<crate::runtime::cri::PodSpec>,
    kernel: Kernel,
    report: Arc<dyn FollowReport>,
) -> Result<Followed, Error> {
    let Kernel {
        ring_size,
        syscalls,
        string_size,
        counts,
        gate,
        exit_only,
    } = kernel;
    let mount = cgroup::cgroup2_mount().ok_or_else(|| {
        Error::KernelSupport(
            "no cgroup2 mount: the daemon filters by cgroup v2; mount cgroup2 (e.g. at /sys/fs/cgroup/unified)".into(),
        )
    })?;
    if let Some(why) = cgroup::host_view_problem() {
        return Err(Error::KernelSupport(why));
    }
    let (level, also) = cgroup_levels(&engine, &mount, containers, &pods).await;
    let mut loaded = bpf::load_and_attach(&BpfConfig {
        hook: Hook::RawTracepoint,
        ring_size,
        syscalls,
        filter: KernelFilter::CgroupSet { level, also },
        pidns: None,
        tasks: Vec::new(),
        status_shown: 0,
        follow_nothing: false,
        string_size,
        summary: false,
        summary_by_nr: false,
        counts,
        stream: true,
        capture_specs: capture_spec::table(),
        stack: false,
        wake_syscalls: Vec::new(),
        gate,
        exit_only,
    })?;
    let targets: TargetSet = loaded
        .targets
        .take()
        .ok_or_else(|| Error::Internal("target set missing".into()))?;
    let registry = Arc::new(Registry::default());
    let follower = Follower::new(
        engine,
        Wants {
            names: containers,
            pods,
        },
        targets,
        registry.clone(),
        report,
        [level, also],
        mount,
    );
    Ok(Followed {
        loaded,
        follower,
        registry,
    })
}

/// What a followed run shows: decoded with `decode` (the kernel's string size), filtered by
/// `filter`, and the containers whose string size is smaller cut to theirs.
pub struct View {
    pub decode: args::Options,
    pub filter: Filter,
    /// Per container (by label): a string size below the kernel's.
    pub string_sizes: HashMap<String, u32>,
    /// The containers recorded undecoded (`--format binary`).
    pub recordings: Option<Recordings>,
}

impl View {
    /// Everything, JSON only, the kernel's string size.
    pub fn all(string_size: u32) -> View {
        View {
            decode: args::Options {
                json_only: true,
                string_size,
                ..args::Options::default()
            },
            filter: Filter::new(None),
            string_sizes: HashMap::new(),
            recordings: None,
        }
    }
}

/// Runs a followed target set into `sink` until the run ends; the follower stops with it.
pub async fn run_followed(
    f: Followed,
    sink: Box<dyn Sink + Send>,
    gauges: Arc<Gauges>,
    duration: Option<std::time::Duration>,
    output: std::path::PathBuf,
    view: View,
) -> Result<Summary, Error> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Containers' lifecycle records, from the follower to the writer: rare, so a small bound.
    let (life_tx, life_rx) = tokio::sync::mpsc::channel(LIFECYCLE_QUEUE);
    let follower = tokio::spawn(f.follower.with_lifecycle(life_tx).run(stop_rx));
    let stages = Stages {
        decode: view.decode,
        enrich: Enricher::new(Attribution::Registry(f.registry), true)
            .with_string_sizes(view.string_sizes, view.decode),
        filter: view.filter,
        sink,
        summary: None,
        container: None,
        unfinished: true,
        clock: Clock::shared(),
        lifecycle: Some(life_rx),
        recordings: view.recordings,
    };
    let summary = super::run(Run {
        source: Source::Kernel {
            loaded: Box::new(f.loaded),
            interval: None,
            gauges,
        },
        stages,
        ends: control::Ends {
            duration,
            target: None,
            tasks: None,
        },
        control: Arc::default(),
        output,
    })
    .await;
    let _ = stop_tx.send(true);
    let _ = follower.await;
    summary
}

/// `--seccomp-watch`: the profile, built for each named container's capabilities as its
/// engine gives them when the daemon starts (Docker's defaults for one that does not exist
/// yet, and for pods).
struct Watched {
    default: Option<Arc<Judge>>,
    per_container: Vec<(String, Arc<Judge>)>,
}

impl Watched {
    /// The daemon-wide profile (`--seccomp-watch`) and the containers' own (`seccomp-watch` in
    /// their `[container.NAME]` tables), each judged with the container's capabilities where
    /// the engine says them. `None` when no profile is given at all.
    async fn load(cfg: &DaemonConfig) -> Result<Option<Watched>, Error> {
        let own: Vec<(&String, &PathBuf)> = cfg
            .policies
            .iter()
            .filter_map(|(name, p)| Some((name, p.seccomp_watch.as_ref()?)))
            .collect();
        if cfg.seccomp_watch.is_none() && own.is_empty() {
            return Ok(None);
        }
        let host = Env::host();
        let default = match &cfg.seccomp_watch {
            Some(path) => Some((path, load_profile(path)?)),
            None => None,
        };
        let mut per_container = Vec::new();
        for c in &cfg.containers {
            let (path, profile) = match own.iter().find(|(n, _)| *n == c) {
                Some((_, path)) => (*path, load_profile(path)?),
                None => match &default {
                    Some((path, profile)) => (*path, profile.clone()),
                    None => continue,
                },
            };
            let env = match super::seccomp::container_env(c, Some(cfg.runtime)).await {
                Ok(env) => env,
                Err(e) => {
                    tracing::warn!(
                        "seccomp-watch: cannot read {c}'s capabilities ({e}); Docker's defaults assumed for it"
                    );
                    host.clone()
                }
            };
            let judge = Judge::new(&path.display().to_string(), profile, &env);
            per_container.push((c.clone(), Arc::new(judge)));
        }
        // Pods' containers (by label) with a table of their own: the host's defaults.
        for (name, path) in own {
            if !cfg.containers.contains(name) {
                let judge = Judge::new(&path.display().to_string(), load_profile(path)?, &host);
                per_container.push((name.clone(), Arc::new(judge)));
            }
        }
        let default = default.map(|(path, profile)| {
            Arc::new(Judge::new(&path.display().to_string(), profile, &host))
        });
        Ok(Some(Watched {
            default,
            per_container,
        }))
    }

    /// The watch stage over the daemon's sinks: records and findings into each container's
    /// stream, findings counted in the metrics.
    fn over(self, sink: Box<dyn Sink + Send>) -> Watch {
        let mut w = Watch::new(sink, self.default).with_events();
        for (name, judge) in self.per_container {
            w = w.with_container(&name, judge);
        }
        w
    }
}

/// The containers recorded undecoded: those whose table says `format = "binary"` (with an
/// output of their own, or in the output directory), and with `--format binary` every other
/// one in the output directory. `None` when there are none.
fn recordings(
    cfg: &DaemonConfig,
    clock: Clock,
    bytes: prometheus_client::metrics::family::Family<
        metrics::ContainerLabel,
        prometheus_client::metrics::counter::Counter,
    >,
) -> Option<Recordings> {
    let dir = match &cfg.output {
        Output::Dir(d) => Some(d.clone()),
        _ => None,
    };
    let binary = |f: Option<DaemonFormat>| f.unwrap_or(cfg.format) == DaemonFormat::Binary;
    let syscalls = |p: &policy::Policy| p.syscalls.clone().unwrap_or_else(|| cfg.syscalls.clone());
    let string_size = |p: &policy::Policy| p.string_size.unwrap_or(cfg.string_size);
    let mut plans = Plans {
        dir,
        default_binary: cfg.format == DaemonFormat::Binary,
        rotation: cfg.rotation,
        default_keep: crate::config::DEFAULT_KEEP,
        default_syscalls: cfg.syscalls.clone(),
        default_string_size: cfg.string_size,
        ..Plans::default()
    };
    for (label, p) in &cfg.policies {
        plans.syscalls.insert(label.clone(), syscalls(p));
        plans.string_sizes.insert(label.clone(), string_size(p));
        if let Some(f) = p.format {
            plans
                .formats
                .insert(label.clone(), f == DaemonFormat::Binary);
        }
        if let Some(path) = &p.output
            && binary(p.format)
        {
            let plan = Plan {
                path: path.clone(),
                rotation: p.rotation,
                keep: p.rotation.map_or(crate::config::DEFAULT_KEEP, |r| r.keep),
                syscalls: syscalls(p),
                string_size: string_size(p),
            };
            plans.own.insert(label.clone(), plan);
        }
    }
    if !plans.any() {
        return None;
    }
    let template = bpf::recording::Header {
        tracer: env!("CARGO_PKG_VERSION").into(),
        kernel: super::record::kernel_release(),
        layout: super::record::layout_id(),
        clock_offset_ns: i64::try_from(clock.offset_ns()).unwrap_or_default(),
        started_ktime_ns: 0,
        target: String::new(),
        container: None,
        syscalls: Vec::new(),
        string_size: cfg.string_size,
    };
    Some(Recordings::new(plans, template).with_bytes_metric(bytes))
}

/// Runs `daemon`; `ready` hears the "daemon following …" line once the programs are attached.
pub async fn daemon(cfg: DaemonConfig, ready: &dyn Fn(String)) -> Result<Summary, Error> {
    let listener = match cfg.metrics {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Error::Usage(format!(
                "cannot serve metrics on {addr}: {e}; choose a free address with --metrics"
            ))
        })?),
        None => None,
    };
    let clock = Clock::shared();
    let destinations: HashMap<String, Destination> = cfg
        .policies
        .iter()
        .map(|(name, p)| {
            let d = Destination {
                format: p.format,
                output: p.output.clone(),
                rotation: p.rotation,
            };
            (name.clone(), d)
        })
        .collect();
    let metrics = Metrics::new(cfg.ring_size);
    let outputs = Outputs::open(&cfg.output, cfg.rotation, cfg.format, destinations, clock)
        .map_err(|e| Error::Output {
            path: cfg.output.path(),
            reason: e.to_string(),
        })?
        .with_bytes_metric(metrics.output_bytes.clone());
    let (sink, otlp) = super::with_otlp(Box::new(outputs), cfg.otlp.as_ref(), clock)?;
    let metrics = Arc::new(match &otlp {
        Some(counts) => metrics.with_otlp(counts.clone()),
        None => metrics,
    });
    let policies = &cfg.policies;
    // The kernel reports what any container shows, and captures the longest strings any
    // container asks for; each container's own filter and size apply after.
    let kernel_syscalls = policy::kernel_syscalls(&cfg.syscalls, policies);
    let (kernel_syscalls, left_out) = if cfg.exit_only {
        crate::config::exit_only_set(kernel_syscalls)?
    } else {
        (kernel_syscalls, Vec::new())
    };
    let kernel_string_size = policies
        .values()
        .filter_map(|p| p.string_size)
        .fold(cfg.string_size, u32::max);
    let watched = Watched::load(&cfg).await?;
    let followed = follow(
        Engine::of(cfg.runtime),
        &cfg.containers,
        cfg.pods.clone(),
        Kernel {
            ring_size: cfg.ring_size,
            syscalls: kernel_syscalls.clone(),
            string_size: kernel_string_size,
            // Served only with --metrics.
            counts: cfg.metrics.is_some(),
            gate: !cfg.attach_always,
            exit_only: cfg.exit_only,
        },
        metrics.clone(),
    )
    .await?;
    let gauges = Arc::new(Gauges::default());
    let server = listener.map(|l| tokio::spawn(metrics::serve(l, metrics.clone(), gauges.clone())));
    let followed_names: Vec<String> = cfg
        .containers
        .iter()
        .cloned()
        .chain(cfg.pods.iter().map(|p| p.describe()))
        .collect();
    let exit_only = super::exit_only_note(cfg.exit_only, &left_out);
    ready(format!(
        "daemon following {}{exit_only}; SIGTERM to stop, SIGHUP to reopen output files",
        followed_names.join(", ")
    ));
    let sink: Box<dyn Sink + Send> =
        Box::new(Tee(vec![sink, Box::new(Counting::new(metrics.clone()))]));
    let sink = match watched {
        Some(w) => Box::new(w.over(sink)),
        None => sink,
    };
    let output = match &cfg.output {
        Output::Stdout => "<stdout>".into(),
        o => o.path(),
    };
    let filter_of = |syscalls: &[u32], status, exclude: &[String]| {
        let f = Filter::new(None).exclude_comms(exclude).status(status);
        // The kernel reported more than this container shows.
        if syscalls != kernel_syscalls.as_slice() && !syscalls.is_empty() {
            f.only(syscalls)
        } else {
            f
        }
    };
    let per_container = policies
        .iter()
        .map(|(name, p)| {
            let f = filter_of(
                p.syscalls.as_deref().unwrap_or(&cfg.syscalls),
                p.status.unwrap_or(cfg.status),
                p.exclude_comm.as_deref().unwrap_or(&cfg.exclude_comm),
            );
            (name.clone(), f)
        })
        .collect();
    let text = cfg.format == DaemonFormat::Text
        || policies
            .values()
            .any(|p| p.format == Some(DaemonFormat::Text));
    let view = View {
        decode: args::Options {
            json_only: !text,
            string_size: kernel_string_size,
            ..args::Options::default()
        },
        filter: filter_of(&cfg.syscalls, cfg.status, &cfg.exclude_comm)
            .per_container(per_container),
        string_sizes: policies
            .iter()
            .filter_map(|(name, p)| Some((name.clone(), p.string_size?)))
            .collect(),
        recordings: recordings(&cfg, clock, metrics.output_bytes.clone()),
    };
    let summary = run_followed(followed, sink, gauges, cfg.duration, output, view).await;
    metrics
        .healthy
        .store(false, std::sync::atomic::Ordering::Relaxed);
    if let Some(s) = server {
        s.abort();
    }
    Ok(Summary {
        otlp: otlp.map(|c| c.report()),
        ..summary?
    })
}
