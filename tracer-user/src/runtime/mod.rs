//! Container runtimes, cgroups and PID namespaces: what to follow, resolved to what the kernel
//! filter needs (a container, a process or a cgroup), and, for the daemon, followed as
//! containers come and go.
pub mod cgroup;
pub mod containerd;
pub mod cri;
pub mod docker;
pub mod end;
pub mod engine;
pub mod follow;
pub mod registry;

use std::path::PathBuf;

pub use crate::model::{Container, Runtime};
use crate::{error::Error, model::target::KernelFilter};
pub use cgroup::{CgroupTarget, PidNs};
pub use cri::PodSpec;
pub use engine::{Engine, State};

/// The target as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A container by name or id, on the engine given or on whichever engine has it.
    Container {
        name: String,
        runtime: Option<Runtime>,
    },
    /// A Kubernetes pod's container, through CRI (`--pod`, `--selector`).
    Pod(PodSpec),
    /// Everything in the cgroup (or PID namespace) of this process (`--container-of`).
    Pid(u32),
    Cgroup(PathBuf),
    /// These processes, their threads and what they create from now on (strace's `-f -p`).
    Processes(Vec<u32>),
}

/// How the kernel decides that a task belongs to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The task's cgroup v2 (or its ancestor at the target's level) is the target's.
    Cgroup(CgroupTarget),
    /// The task lives in the target's PID namespace (no cgroup v2 on this host).
    PidNs,
    /// The task's cgroup v2 ancestor at `level` is in the kernel's target set, which user space
    /// changes while tracing (the daemon: containers come and go).
    /// `also`: a second level tried when the first misses (0: none).
    CgroupSet { level: u32, also: u32 },
    /// The threads of these processes (host pids) and every task they create (`-p`).
    Tasks(Vec<u32>),
}

impl Filter {
    /// What the kernel programs are told.
    pub fn kernel(&self) -> KernelFilter {
        match self {
            Filter::Cgroup(cg) => KernelFilter::Cgroup {
                id: cg.id,
                level: cg.level,
            },
            Filter::PidNs => KernelFilter::PidNs,
            Filter::CgroupSet { level, also } => KernelFilter::CgroupSet {
                level: *level,
                also: *also,
            },
            Filter::Tasks(_) => KernelFilter::Tasks,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub filter: Filter,
    /// The target's PID namespace: filter in `PidNs` mode, namespace-relative ids otherwise.
    pub pidns: Option<PidNs>,
    pub container: Option<Container>,
    /// The initial process of the target, when there is one.
    pub pid: Option<u32>,
    /// For the "tracing started" line.
    pub label: String,
}

impl Target {
    /// The "tracing …" line's object: the target and how the kernel recognises it.
    pub fn describe(&self) -> String {
        match &self.filter {
            Filter::Cgroup(cg) if self.label.starts_with("cgroup ") => self.label.clone(),
            Filter::Cgroup(cg) => format!("{}, cgroup {}", self.label, cg.path.display()),
            Filter::PidNs => format!("{}, PID namespace filter", self.label),
            Filter::CgroupSet { .. } | Filter::Tasks(_) => self.label.clone(),
        }
    }
}

pub async fn resolve(spec: &TargetSpec) -> Result<Target, Error> {
    match spec {
        TargetSpec::Container { name, runtime } => of_container(find(name, *runtime).await?.1),
        TargetSpec::Pod(spec) => {
            of_container(cri::pod_state(&Engine::of(Runtime::Cri), spec).await?)
        }
        TargetSpec::Pid(pid) => of_pid(*pid),
        TargetSpec::Processes(pids) => processes(pids),
        TargetSpec::Cgroup(path) => {
            let cg = cgroup::CgroupTarget::from_dir(path)?;
            if cg.level == 0 {
                return Err(Error::Usage(format!(
                    "--cgroup {} is the root cgroup: following it would trace the whole host; give a container's cgroup, e.g. {}/docker/ID",
                    cg.path.display(),
                    cg.path.display()
                )));
            }
            let pid = cgroup::first_pid(&cg.path);
            let pidns = pid.and_then(|p| cgroup::pidns_of(p).ok());
            Ok(Target {
                label: format!("cgroup {}", cg.path.display()),
                filter: Filter::Cgroup(cg),
                pidns,
                container: None,
                pid,
            })
        }
    }
}

/// A running container's target: its init pid's cgroup, labelled with what the engine says.
fn of_container(c: State) -> Result<Target, Error> {
    if !c.running {
        return Err(Error::ContainerNotRunning(
            c.container.name.clone(),
            c.start_command(),
        ));
    }
    let mut t = of_pid(c.pid)?;
    // The spec's cgroup, where the engine gives it: /proc/PID/cgroup names it only relative to
    // tracer's own cgroup namespace.
    if let Some(cg) = c
        .cgroup
        .as_ref()
        .zip(cgroup::cgroup2_mount())
        .and_then(|(rel, mount)| cgroup::CgroupTarget::from_dir(&mount.join(rel)).ok())
        .filter(|cg| cg.level > 0)
    {
        t.filter = Filter::Cgroup(cg);
    }
    // Docker is the default engine: others are named.
    let engine = match c.container.runtime {
        Runtime::Docker => String::new(),
        other => format!("{} ", other.title()),
    };
    let ns = match (&c.namespace, &c.container.pod) {
        (Some(ns), _) => format!(" in namespace {ns}"),
        (None, Some(pod)) => format!(" of pod {}/{}", pod.namespace, pod.name),
        (None, None) => String::new(),
    };
    let (name, id) = (&c.container.name, short_id(&c.container.id));
    t.label = if name == &c.container.id {
        // containerd's containers are known by id only.
        format!("{engine}container {id}{ns}")
    } else {
        format!("{engine}container {name} ({id}){ns}")
    };
    t.container = Some(c.container);
    Ok(t)
}

/// The container `name` (or id) on `runtime`, or, when none is given, on the one engine among
/// those whose socket exists that has it. When no engine has it and one did not answer, that
/// engine's error is returned.
pub async fn find(name: &str, runtime: Option<Runtime>) -> Result<(Engine, State), Error> {
    let engines: Vec<Engine> = match runtime {
        Some(r) => vec![Engine::of(r)],
        None => {
            // An engine whose address the environment names is asked even when its socket is
            // missing: the user meant it, and the error should say so.
            let present: Vec<Engine> = Runtime::ALL
                .into_iter()
                .map(Engine::of)
                .filter(|e| e.present() || std::env::var_os(e.runtime.address_var()).is_some())
                .collect();
            if present.is_empty() {
                // Nothing listens: say so about the default engine.
                vec![Engine::docker()]
            } else {
                present
            }
        }
    };
    let mut found: Vec<(Engine, State)> = Vec::new();
    let mut failed = None;
    for engine in engines {
        match state(&engine, name).await {
            // The same container through two engines (Docker's, and containerd's under it in
            // namespace `moby`) is one container: the first engine, which names it, keeps it.
            Ok(Some(s)) if found.iter().any(|(_, f)| f.container.id == s.container.id) => {}
            Ok(Some(s)) => found.push((engine, s)),
            Ok(None) => {}
            Err(e @ (Error::Ambiguous { .. } | Error::Usage(_))) => return Err(e),
            Err(e) => {
                tracing::debug!("{} engine: {e}", engine.runtime);
                failed.get_or_insert(e);
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        // The container may be on the engine that did not answer.
        0 => Err(failed.unwrap_or_else(|| Error::NoSuchContainer(name.to_string()))),
        _ => Err(Error::AmbiguousContainer {
            name: name.to_string(),
            runtimes: found.iter().map(|(e, _)| e.runtime.as_str()).collect(),
        }),
    }
}

/// The container `name` on one engine, through the API that engine speaks.
pub async fn state(engine: &Engine, name: &str) -> Result<Option<State>, Error> {
    match engine.runtime {
        Runtime::Docker | Runtime::Podman => {
            let client = docker::connect_negotiated(engine).await?;
            docker::state(engine, &client, name).await
        }
        Runtime::Containerd => {
            let channel = containerd::connect(engine).await?;
            containerd::state(engine, &channel, name).await
        }
        Runtime::Cri => cri::state(engine, &mut cri::connect(engine).await?, name).await,
    }
}

/// `-p`: the processes must exist and not be the tracer. Host pids are shown, as the user
/// named them (strace's `-p` too).
fn processes(pids: &[u32]) -> Result<Target, Error> {
    let me = std::process::id();
    for &pid in pids {
        if pid == me {
            return Err(Error::Usage(format!(
                "-p {pid} is the tracer itself; give the pid of the process to trace"
            )));
        }
        if !std::path::Path::new(&format!("/proc/{pid}/task")).is_dir() {
            return Err(Error::NoSuchProcess(pid));
        }
    }
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    let label = match pids {
        [one] => format!("process {one} and its children"),
        _ => format!("processes {} and their children", list.join(", ")),
    };
    Ok(Target {
        filter: Filter::Tasks(pids.to_vec()),
        pidns: None,
        container: None,
        pid: pids.first().copied(),
        label,
    })
}

/// The cgroup v2 of `pid`, or its PID namespace where the host has no cgroup v2 for it.
fn of_pid(pid: u32) -> Result<Target, Error> {
    let pidns = cgroup::pidns_of(pid);
    let label = format!("pid {pid}");
    match cgroup::of_pid(pid)? {
        Some(cg) if cg.level > 0 => Ok(Target {
            filter: Filter::Cgroup(cg),
            pidns: best_effort(pidns)?,
            container: None,
            pid: Some(pid),
            label,
        }),
        // Root cgroup: following it would follow the whole host. A process in its own PID
        // namespace is still a usable target; otherwise refuse.
        _ => match pidns? {
            pidns if !pidns.is_initial() => Ok(Target {
                filter: Filter::PidNs,
                pidns: Some(pidns),
                container: None,
                pid: Some(pid),
                label,
            }),
            _ => Err(Error::Usage(format!(
                "process {pid} is in the root cgroup and the host PID namespace, so following it would trace the whole host; target a container, or a process in its own cgroup"
            ))),
        },
    }
}

/// The PID namespace only names pids as the container sees them: without the privilege to
/// read it (CAP_SYS_PTRACE when running with CAP_BPF and CAP_PERFMON only), trace on and show
/// host pids.
fn best_effort(pidns: Result<PidNs, Error>) -> Result<Option<PidNs>, Error> {
    match pidns {
        Ok(ns) => Ok(Some(ns)),
        Err(Error::Privilege(what)) => {
            tracing::warn!("not enough privilege {what}; pids are shown as the host sees them");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The 12-digit form engines show of a 64-digit hex id; any other id (containerd's are often
/// names) whole.
pub fn short_id(id: &str) -> &str {
    match id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => &id[..12],
        false => id,
    }
}
