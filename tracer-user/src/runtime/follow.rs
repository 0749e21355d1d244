//! Keeps the kernel's target set equal to the cgroups of the named containers.
//!
//! Two sources, whichever comes first wins:
//! - inotify on the directories where Docker creates container cgroups: runc makes the
//!   directory before it moves the container's first process in, so a container whose id is
//!   known (from its `create` event, or an earlier incarnation) is followed before its
//!   entrypoint runs;
//! - the Docker events stream (`create`, `start`, `restart`, `die`, `destroy`, `rename`) and a
//!   re-sync by `inspect` after every (re)connection and every 30 s, for everything else.
//!
//! The engine going away does not stop tracing: the target set is left as it is, and the
//! events stream is re-opened with backoff.
use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use bollard::{Docker, models::EventMessage, query_parameters::EventsOptionsBuilder};
use futures_util::StreamExt as _;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::{io::unix::AsyncFd, sync::watch};

use super::{CgroupTarget, Container, docker, registry::Registry};
use crate::bpf::TargetSet;
use crate::model::{Lifecycle, LifecycleKind, clock::monotonic_ns};

/// What the follower tells whoever reports on it (the daemon's metrics): it knows no sink.
pub trait FollowReport: Send + Sync {
    /// `name` is now in `state` (`waiting`, `following`, `stopped`, `unsupported`).
    fn state(&self, name: &str, state: &str);
    /// A new incarnation of `name` entered the filter; `first`: no earlier one was followed.
    fn started(&self, name: &str, first: bool);
    /// `name` left the filter.
    fn stopped(&self, name: &str);
    /// When the cgroup entered the filter minus when the container's process started.
    fn follow_gap(&self, name: &str, seconds: f64);
    /// The engine's event stream is (dis)connected.
    fn engine_connected(&self, up: bool);
    /// `name` is no longer wanted (a selected pod went away): forget its series.
    fn forget(&self, name: &str);
}

const RESYNC_EVERY: Duration = Duration::from_secs(30);

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Following,
    Stopped,
    Unsupported,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Following => "following",
            State::Stopped => "stopped",
            State::Unsupported => "unsupported",
        }
    }
}

struct Followed {
    cgroup_id: u64,
    at: SystemTime,
    /// When it entered the filter, on the records' clock.
    ktime_ns: u64,
    /// Its `followed`/`started`/`restarted` record, until its init pid is known.
    untold: Option<LifecycleKind>,
    /// Its follow gap was reported (once per incarnation; polls re-apply the same state).
    gap_told: bool,
}

struct Wanted {
    /// The current container with this name, once known.
    id: Option<String>,
    /// Its pod, through CRI.
    pod: Option<crate::model::Pod>,
    /// The engine's name for it, when not the key (a pod selection's `NS/POD/CONTAINER`).
    engine_name: Option<String>,
    following: Option<Followed>,
    state: State,
    /// Found through a pod selection (`NAMESPACE/POD/CONTAINER`): dropped when it goes away.
    selected: bool,
    /// An incarnation was followed before: the next is a restart.
    seen: bool,
    /// The last incarnation's cgroup, until its container is said `destroyed`/`unfollowed`.
    last_cgroup: Option<u64>,
}

impl Wanted {
    fn new(selected: bool) -> Wanted {
        Wanted {
            id: None,
            pod: None,
            engine_name: None,
            following: None,
            state: State::Waiting,
            selected,
            seen: false,
            last_cgroup: None,
        }
    }
}

/// nix's inotify handle, with the raw fd tokio registers.
pub struct Watch(Inotify);

impl std::os::fd::AsRawFd for Watch {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd as _;
        self.0.as_fd().as_raw_fd()
    }
}

pub struct Follower {
    wanted: HashMap<String, Wanted>,
    targets: TargetSet,
    registry: Arc<Registry>,
    metrics: Arc<dyn FollowReport>,
    /// The cgroup levels the kernel filter was loaded for (the second one 0 when none).
    levels: [u32; 2],
    mount: PathBuf,
    inotify: Option<AsyncFd<Watch>>,
    watched: HashSet<PathBuf>,
    /// The engine whose containers these are (Docker's or podman's API).
    engine: super::Engine,
    /// CRI pod selections (`--pod`, `--selector`): their containers come and go.
    selections: Vec<super::cri::PodSpec>,
    /// Where lifecycle records go (the daemon's writer), when anyone reads them.
    lifecycle: Option<tokio::sync::mpsc::Sender<Lifecycle>>,
    /// Until the engine has been asked once: containers found are `followed`, not `started`.
    initial: bool,
}

/// The container id in a cgroup directory's name: `ID` (cgroupfs drivers), `docker-ID.scope`,
/// `libpod-ID(.scope)`, `cri-containerd-ID.scope`, `crio-ID.scope` (systemd drivers, podman).
fn id_in_dir(name: &str) -> &str {
    let bare = ["docker-", "libpod-", "cri-containerd-", "crio-"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    bare.strip_suffix(".scope").unwrap_or(bare)
}

/// Where an engine's drivers create container cgroups below the cgroup2 root (cgroupfs, then
/// systemd). containerd's (`/NAMESPACE/ID`) and the kubelet's (`kubepods…/pod<uid>/ID`) are
/// per namespace or pod: their parents are watched once a container in them is followed.
fn parents(runtime: super::Runtime) -> &'static [&'static str] {
    match runtime {
        super::Runtime::Docker => &["docker", "system.slice"],
        super::Runtime::Podman => &["libpod_parent", "machine.slice"],
        super::Runtime::Containerd | super::Runtime::Cri => &[],
    }
}

/// The names the engine's drivers give container `id`'s cgroup directory.
fn dir_names(runtime: super::Runtime, id: &str) -> Vec<String> {
    match runtime {
        super::Runtime::Docker => vec![id.to_string(), format!("docker-{id}.scope")],
        super::Runtime::Podman => vec![format!("libpod-{id}"), format!("libpod-{id}.scope")],
        super::Runtime::Containerd => vec![id.to_string()],
        super::Runtime::Cri => vec![
            id.to_string(),
            format!("cri-containerd-{id}.scope"),
            format!("crio-{id}.scope"),
        ],
    }
}

/// How often engines without a usable event stream here (containerd, CRI) are asked.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// What a follower follows: containers by name, and CRI pod selections.
pub struct Wants<'a> {
    pub names: &'a [String],
    pub pods: Vec<super::cri::PodSpec>,
}

impl Follower {
    pub fn new(
        engine: super::Engine,
        wants: Wants<'_>,
        targets: TargetSet,
        registry: Arc<Registry>,
        metrics: Arc<dyn FollowReport>,
        levels: [u32; 2],
        mount: PathBuf,
    ) -> Follower {
        let Wants {
            names,
            pods: selections,
        } = wants;
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(|e| tracing::warn!(error = %e, "inotify unavailable: following on the engine's events only"))
            .ok()
            .and_then(|i| {
                // SAFETY: the Watch owns the inotify fd for as long as the AsyncFd owns it.
                unsafe { AsyncFd::register_with_interest(Watch(i), tokio::io::Interest::READABLE) }
                    .ok()
            });
        let wanted = names
            .iter()
            .map(|n| {
                metrics.state(n, State::Waiting.label());
                (n.clone(), Wanted::new(false))
            })
            .collect();
        let mut f = Follower {
            wanted,
            targets,
            registry,
            metrics,
            levels,
            mount,
            inotify,
            watched: HashSet::new(),
            engine,
            selections,
            lifecycle: None,
            initial: true,
        };
        f.watch_parents();
        f
    }

    /// Where the engine creates container cgroups: cgroupfs and systemd drivers' defaults,
    /// plus the parent of every cgroup followed so far (a `--cgroup-parent`).
    fn watch_parents(&mut self) {
        let Some(inotify) = &self.inotify else { return };
        for parent in parents(self.engine.runtime) {
            let dir = self.mount.join(parent);
            if self.watched.contains(&dir) || !dir.is_dir() {
                continue;
            }
            match inotify
                .get_ref()
                .0
                .add_watch(&dir, AddWatchFlags::IN_CREATE | AddWatchFlags::IN_ONLYDIR)
            {
                Ok(wd) => {
                    let _ = wd;
                    tracing::debug!(dir = %dir.display(), "watching for container cgroups");
                    self.watched.insert(dir);
                }
                Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot watch"),
            }
        }
    }

    fn watch_parent_of(&mut self, path: &Path) {
        let Some(parent) = path.parent() else { return };
        if self.watched.contains(parent) {
            return;
        }
        if let Some(inotify) = &self.inotify
            && inotify
                .get_ref()
                .0
                .add_watch(parent, AddWatchFlags::IN_CREATE | AddWatchFlags::IN_ONLYDIR)
                .is_ok()
        {
            self.watched.insert(parent.to_path_buf());
        }
    }

    fn set_state(&mut self, name: &str, state: State) {
        if let Some(w) = self.wanted.get_mut(name)
            && w.state != state
        {
            w.state = state;
            self.metrics.state(name, state.label());
        }
    }

    /// Puts the container's cgroup at `path` into the kernel filter (after the registry, so no
    /// record arrives unattributed), replacing the previous incarnation's.
    /// True when it entered the filter now (a new incarnation).
    fn follow(&mut self, name: &str, id: &str, path: &Path, pid: Option<u32>, via: &str) -> bool {
        let cg = match CgroupTarget::from_dir(path) {
            Ok(cg) => cg,
            Err(_) => return false, // gone already, or not yet a cgroup: a later event retries
        };
        let Some(w) = self.wanted.get(name) else {
            return false;
        };
        if w.following.as_ref().is_some_and(|f| f.cgroup_id == cg.id) {
            return false;
        }
        if !self.levels.contains(&cg.level) {
            tracing::error!(
                container = name,
                cgroup = %cg.path.display(),
                level = cg.level,
                expected = ?self.levels,
                "container cgroup is at another depth than the one the daemon was started for; restart the daemon while the container runs"
            );
            self.set_state(name, State::Unsupported);
            return false;
        }
        self.registry.insert(
            cg.id,
            Container {
                id: id.to_string(),
                name: w.engine_name.clone().unwrap_or_else(|| name.to_string()),
                runtime: self.engine.runtime,
                pod: w.pod.clone(),
            },
            cg.path.clone(),
        );
        if let Err(e) = self.targets.insert(cg.id) {
            tracing::error!(container = name, error = %e, "cannot add the cgroup to the kernel filter");
            return false;
        }
        let kind = match (w.following.is_some() || w.seen, self.initial) {
            (true, _) => LifecycleKind::Restarted,
            (false, true) => LifecycleKind::Followed,
            (false, false) => LifecycleKind::Started,
        };
        let previous = self.wanted.get_mut(name).and_then(|w| {
            w.id = Some(id.to_string());
            w.seen = true;
            w.last_cgroup = Some(cg.id);
            w.following.replace(Followed {
                cgroup_id: cg.id,
                at: SystemTime::now(),
                gap_told: false,
                ktime_ns: monotonic_ns(),
                untold: Some(kind),
            })
        });
        let first = previous.is_none();
        if let Some(p) = previous {
            // Replaced without a stop seen first (a poll found the new instance): the old one
            // is over.
            self.targets.remove(p.cgroup_id);
            self.tell_untold(name, &p);
            self.tell(Lifecycle {
                ktime_ns: monotonic_ns(),
                kind: LifecycleKind::Died,
                container: self.container_of(p.cgroup_id, name),
                pid: None,
                cgroup_id: Some(p.cgroup_id),
                exit_code: None,
                old_name: None,
            });
        }
        if let Some(pid) = pid.filter(|&p| p > 0) {
            self.tell_start(name, pid);
        }
        self.metrics.started(name, first);
        self.set_state(name, State::Following);
        self.watch_parent_of(&cg.path);
        tracing::info!(
            container = name,
            id = super::short_id(id),
            cgroup = cg.id,
            via,
            "following"
        );
        true
    }

    /// Takes the cgroup out of the filter (the container stopped or went away), and says so in
    /// its stream (`kind`, with the exit code when the engine gave it).
    fn unfollow(&mut self, name: &str, state: State, kind: LifecycleKind, exit_code: Option<i64>) {
        let previous = self.wanted.get_mut(name).and_then(|w| w.following.take());
        let ends = kind != LifecycleKind::Died;
        // A container gone for good: said once, whether it was still followed or had died.
        let last = self.wanted.get_mut(name).and_then(|w| {
            if ends {
                w.last_cgroup.take()
            } else {
                w.last_cgroup
            }
        });
        let told = match previous {
            Some(p) => {
                self.targets.remove(p.cgroup_id);
                self.metrics.stopped(name);
                tracing::info!(container = name, state = state.label(), "not following");
                self.tell_untold(name, &p);
                Some(p.cgroup_id)
            }
            None if ends => last,
            None => None,
        };
        if let Some(cgroup_id) = told {
            self.tell(Lifecycle {
                ktime_ns: monotonic_ns(),
                kind,
                container: self.container_of(cgroup_id, name),
                pid: None,
                cgroup_id: Some(cgroup_id),
                exit_code,
                old_name: None,
            });
        }
        self.set_state(name, state);
    }

    /// The container a followed cgroup was registered as.
    fn container_of(&self, cgroup_id: u64, name: &str) -> Arc<Container> {
        self.registry
            .get(cgroup_id)
            .map(|e| e.container)
            .unwrap_or_else(|| {
                Arc::new(Container {
                    id: String::new(),
                    name: name.to_string(),
                    runtime: self.engine.runtime,
                    pod: None,
                })
            })
    }

    /// Sends a lifecycle record to the writer; dropped (and logged) when it lags 256 behind.
    fn tell(&self, l: Lifecycle) {
        if let Some(tx) = &self.lifecycle
            && tx.try_send(l).is_err()
        {
            tracing::warn!("lifecycle record dropped: the writer is behind");
        }
    }

    /// The current incarnation's start record, now that its init pid is known.
    fn tell_start(&mut self, name: &str, pid: u32) {
        let Some(f) = self.wanted.get_mut(name).and_then(|w| w.following.as_mut()) else {
            return;
        };
        let Some(kind) = f.untold.take() else { return };
        let (cgroup_id, ktime_ns) = (f.cgroup_id, f.ktime_ns);
        self.tell(Lifecycle {
            ktime_ns,
            kind,
            container: self.container_of(cgroup_id, name),
            pid: Some(pid),
            cgroup_id: Some(cgroup_id),
            exit_code: None,
            old_name: None,
        });
    }

    /// An incarnation's start record that never learnt its pid (it ended first).
    fn tell_untold(&self, name: &str, f: &Followed) {
        if let Some(kind) = f.untold {
            self.tell(Lifecycle {
                ktime_ns: f.ktime_ns,
                kind,
                container: self.container_of(f.cgroup_id, name),
                pid: None,
                cgroup_id: Some(f.cgroup_id),
                exit_code: None,
                old_name: None,
            });
        }
    }

    /// Attaches the lifecycle records' channel (the daemon's writer reads it).
    pub fn with_lifecycle(mut self, tx: tokio::sync::mpsc::Sender<Lifecycle>) -> Follower {
        self.lifecycle = Some(tx);
        self
    }

    /// The container's cgroup directory: from its OCI spec, else from its process when
    /// running, else where the drivers put it (it may exist before the process is moved in).
    fn cgroup_dir(&self, id: &str, spec: Option<&Path>, pid: Option<u32>) -> Option<PathBuf> {
        if let Some(dir) = spec.map(|p| self.mount.join(p))
            && dir.join("cgroup.procs").exists()
        {
            return Some(dir);
        }
        if let Some(pid) = pid.filter(|&p| p > 0)
            && let Ok(Some(cg)) = super::cgroup::of_pid(pid)
        {
            return Some(cg.path);
        }
        let names = dir_names(self.engine.runtime, id);
        parents(self.engine.runtime)
            .iter()
            .map(|p| self.mount.join(p))
            .chain(self.watched.iter().cloned())
            .flat_map(|parent| names.iter().map(move |n| parent.join(n)))
            .find(|p| p.join("cgroup.procs").exists())
    }

    /// Applies what `inspect` says about `name`.
    fn apply(&mut self, name: &str, state: Option<super::State>, via: &str) {
        match state {
            None => {
                if let Some(w) = self.wanted.get_mut(name) {
                    w.id = None;
                }
                self.unfollow(name, State::Waiting, LifecycleKind::Destroyed, None);
            }
            Some(s) if s.running || s.starting => {
                if let Some(w) = self.wanted.get_mut(name) {
                    w.pod = s.container.pod.clone();
                    if w.selected {
                        w.engine_name = Some(s.container.name.clone());
                    }
                }
                if let Some(dir) =
                    self.cgroup_dir(&s.container.id, s.cgroup.as_deref(), Some(s.pid))
                {
                    self.follow(name, &s.container.id, &dir, Some(s.pid), via);
                }
                if s.pid > 0 {
                    self.tell_start(name, s.pid);
                }
                self.record_gap(name, s.started_at);
            }
            Some(s) => {
                if let Some(w) = self.wanted.get_mut(name) {
                    w.id = Some(s.container.id);
                }
                self.unfollow(name, State::Stopped, LifecycleKind::Died, s.exit_code);
            }
        }
    }

    /// Follow gap of the current incarnation: when the cgroup entered the filter minus when
    /// the container's process started (negative: followed before it started).
    fn record_gap(&mut self, name: &str, started: Option<time::OffsetDateTime>) {
        let Some(started) = started else { return };
        let Some(f) = self
            .wanted
            .get_mut(name)
            .and_then(|w| w.following.as_mut())
            .filter(|f| !f.gap_told)
        else {
            return;
        };
        f.gap_told = true;
        let at = time::OffsetDateTime::from(f.at);
        let gap = (at - started).as_seconds_f64();
        // Only for a start that just happened; re-syncs of an old incarnation say nothing new.
        if gap.abs() < 60.0 {
            self.metrics.follow_gap(name, gap);
            tracing::info!(container = name, gap_ms = gap * 1e3, "follow gap");
        }
    }

    async fn resync(&mut self, docker: &Docker) {
        self.watch_parents();
        let names: Vec<String> = self.wanted.keys().cloned().collect();
        for name in names {
            match docker::state(&self.engine, docker, &name).await {
                Ok(s) => self.apply(&name, s, "resync"),
                Err(e) => {
                    tracing::warn!(container = %name, error = %e, "inspect failed");
                    return;
                }
            }
        }
        self.initial = false;
    }

    /// `renamed`: the container now called `name` (followed), and what it was called.
    fn tell_renamed(&self, name: &str, old: Option<&String>) {
        let Some(f) = self.wanted.get(name).and_then(|w| w.following.as_ref()) else {
            return;
        };
        self.tell(Lifecycle {
            ktime_ns: monotonic_ns(),
            kind: LifecycleKind::Renamed,
            container: self.container_of(f.cgroup_id, name),
            pid: None,
            cgroup_id: Some(f.cgroup_id),
            exit_code: None,
            old_name: old.map(|o| o.trim_start_matches('/').to_string()),
        });
    }

    async fn on_event(&mut self, docker: &Docker, ev: EventMessage) {
        let action = ev.action.unwrap_or_default();
        let Some(actor) = ev.actor else { return };
        let id = actor.id.unwrap_or_default();
        let attrs = actor.attributes.unwrap_or_default();
        let Some(name) = attrs.get("name").cloned() else {
            return;
        };
        let current = |f: &Follower, n: &str| f.wanted.get(n).and_then(|w| w.id.clone());
        match action.as_str() {
            "create" if self.wanted.contains_key(&name) => {
                self.watch_parents();
                if let Some(w) = self.wanted.get_mut(&name) {
                    w.id = Some(id.clone());
                }
                // The cgroup may already be there (inotify saw it before we knew the id).
                if let Some(dir) = self.cgroup_dir(&id, None, None) {
                    self.follow(&name, &id, &dir, None, "create");
                }
            }
            "start" | "restart" if self.wanted.contains_key(&name) => {
                if let Some(w) = self.wanted.get_mut(&name) {
                    w.id = Some(id.clone());
                }
                match docker::state(&self.engine, docker, &id).await {
                    Ok(s) => self.apply(&name, s, "start"),
                    Err(e) => tracing::warn!(container = %name, error = %e, "inspect failed"),
                }
            }
            "die" if current(self, &name).as_deref() == Some(id.as_str()) => {
                let code = attrs.get("exitCode").and_then(|c| c.parse().ok());
                self.unfollow(&name, State::Stopped, LifecycleKind::Died, code);
            }
            "destroy" if current(self, &name).as_deref() == Some(id.as_str()) => {
                if let Some(w) = self.wanted.get_mut(&name) {
                    w.id = None;
                }
                self.unfollow(&name, State::Waiting, LifecycleKind::Destroyed, None);
            }
            "rename" => {
                let old = attrs
                    .get("oldName")
                    .map(|o| o.trim_start_matches('/').to_string());
                if let Some(old) = old.filter(|o| current(self, o).as_deref() == Some(id.as_str()))
                {
                    if let Some(w) = self.wanted.get_mut(&old) {
                        w.id = None;
                    }
                    self.unfollow(&old, State::Waiting, LifecycleKind::Unfollowed, None);
                }
                if self.wanted.contains_key(&name) {
                    match docker::state(&self.engine, docker, &id).await {
                        Ok(s) => self.apply(&name, s, "rename"),
                        Err(e) => tracing::warn!(container = %name, error = %e, "inspect failed"),
                    }
                    self.tell_renamed(&name, attrs.get("oldName"));
                }
            }
            _ => {}
        }
    }

    /// New directories under the watched cgroup parents.
    fn on_inotify(&mut self) {
        let events = match &self.inotify {
            Some(i) => match i.get_ref().0.read_events() {
                Ok(ev) => ev,
                Err(_) => return,
            },
            None => return,
        };
        let wd_dirs: Vec<PathBuf> = self.watched.iter().cloned().collect();
        for ev in events {
            let Some(dir_name) = ev.name.as_ref().and_then(|n| n.to_str()) else {
                continue;
            };
            let id = id_in_dir(dir_name);
            let Some(name) = self
                .wanted
                .iter()
                .find(|(_, w)| w.id.as_deref() == Some(id))
                .map(|(n, _)| n.clone())
            else {
                continue;
            };
            if let Some(path) = wd_dirs
                .iter()
                .map(|d| d.join(dir_name))
                .find(|p| p.is_dir())
            {
                self.follow(&name, id, &path, None, "inotify");
            }
        }
    }

    /// Waits for inotify readiness (forever when there is no inotify).
    async fn inotify_ready(inotify: Option<&AsyncFd<Watch>>) {
        match inotify {
            Some(fd) => {
                if let Ok(mut guard) = fd.readable().await {
                    guard.clear_ready();
                }
            }
            None => std::future::pending().await,
        }
    }

    /// Runs until `stop` turns true.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        match self.engine.runtime {
            super::Runtime::Docker | super::Runtime::Podman => self.run_events(stop).await,
            super::Runtime::Containerd | super::Runtime::Cri => self.run_polling(stop).await,
        }
    }

    /// containerd and CRI: a re-sync every `POLL_EVERY` (CRI has no events before containerd
    /// 1.7), another at once on each of containerd's task and container events (CRI's pods
    /// on containerd too; not CRI-O), and inotify on the parents of followed cgroups, which sees a
    /// restart's new cgroup before its process runs. A task's `create` event comes once runc
    /// has made its cgroup and before the entrypoint's execve: the poll it triggers follows the
    /// new instance from there.
    async fn run_polling(mut self, mut stop: watch::Receiver<bool>) {
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut connected = None;
        let (tx, mut events) = tokio::sync::mpsc::channel(64);
        let forwarder = tokio::spawn(super::containerd::forward_events(self.engine.clone(), tx));
        loop {
            let inotify = self.inotify.as_ref();
            tokio::select! {
                _ = poll.tick() => {
                    let up = self.poll("poll").await;
                    if connected != Some(up) {
                        connected = Some(up);
                        self.metrics.engine_connected(up);
                        match up {
                            true => tracing::info!("connected to the {} engine", self.engine.runtime.title()),
                            false => tracing::warn!("{} engine unreachable; retrying", self.engine.runtime.title()),
                        }
                    }
                }
                Some(topic) = events.recv() => {
                    // Those that came meanwhile are answered by the same poll.
                    while events.try_recv().is_ok() {}
                    tracing::debug!(topic, "containerd event");
                    self.poll("event").await;
                }
                () = Self::inotify_ready(inotify) => self.on_inotify(),
                _ = stop.changed() => {
                    forwarder.abort();
                    return;
                }
            }
        }
    }

    /// Asks the engine about every name and every pod selection; false when it did not answer.
    async fn poll(&mut self, via: &str) -> bool {
        if !self.selections.is_empty() {
            match super::cri::selected(&self.engine, &self.selections).await {
                Ok(found) => self.apply_selected(found, via),
                Err(e @ crate::error::Error::RuntimeUnreachable { .. }) => {
                    tracing::debug!(error = %e, "poll");
                    return false;
                }
                Err(e) => tracing::warn!(error = %e, "pod lookup failed"),
            }
        }
        let names: Vec<String> = self
            .wanted
            .iter()
            .filter(|(_, w)| !w.selected)
            .map(|(k, _)| k.clone())
            .collect();
        for name in names {
            match super::state(&self.engine, &name).await {
                Ok(s) => self.apply(&name, s, via),
                Err(e @ crate::error::Error::RuntimeUnreachable { .. }) => {
                    tracing::debug!(error = %e, "poll");
                    return false;
                }
                Err(e) => tracing::warn!(container = %name, error = %e, "lookup failed"),
            }
        }
        self.initial = false;
        true
    }

    /// The containers the pod selections designate now: new ones are wanted, those gone are
    /// unfollowed and forgotten.
    fn apply_selected(&mut self, found: Vec<(String, super::State)>, via: &str) {
        let now: HashSet<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        let gone: Vec<String> = self
            .wanted
            .iter()
            .filter(|(k, w)| w.selected && !now.contains(k.as_str()))
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            self.unfollow(&key, State::Waiting, LifecycleKind::Unfollowed, None);
            self.wanted.remove(&key);
            self.metrics.forget(&key);
            tracing::info!(container = %key, "no longer selected");
        }
        for (key, st) in found {
            if !self.wanted.contains_key(&key) {
                tracing::info!(container = %key, "selected");
                self.metrics.state(&key, State::Waiting.label());
                self.wanted.insert(key.clone(), Wanted::new(true));
            }
            self.apply(&key, Some(st), via);
        }
    }

    async fn run_events(mut self, mut stop: watch::Receiver<bool>) {
        let mut backoff = BACKOFF_MIN;
        let filters: HashMap<&str, Vec<&str>> = HashMap::from([
            ("type", vec!["container"]),
            (
                "event",
                vec!["create", "start", "restart", "die", "destroy", "rename"],
            ),
        ]);
        while !*stop.borrow() {
            match docker::connect_negotiated(&self.engine).await {
                Ok(client) => {
                    let mut events =
                        client.events(Some(EventsOptionsBuilder::new().filters(&filters).build()));
                    self.metrics.engine_connected(true);
                    tracing::info!("connected to the {} engine", self.engine.runtime.title());
                    self.resync(&client).await;
                    let mut resync = tokio::time::interval(RESYNC_EVERY);
                    resync.reset();
                    loop {
                        let inotify = self.inotify.as_ref();
                        tokio::select! {
                            ev = events.next() => match ev {
                                Some(Ok(ev)) => {
                                    backoff = BACKOFF_MIN;
                                    self.on_event(&client, ev).await;
                                }
                                Some(Err(e)) => {
                                    tracing::warn!(error = %e, "{} events stream failed; reconnecting", self.engine.runtime.title());
                                    break;
                                }
                                None => {
                                    tracing::warn!("{} events stream ended; reconnecting", self.engine.runtime.title());
                                    break;
                                }
                            },
                            () = Self::inotify_ready(inotify) => self.on_inotify(),
                            _ = resync.tick() => self.resync(&client).await,
                            _ = stop.changed() => return,
                        }
                    }
                    self.metrics.engine_connected(false);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "{} engine unreachable; retrying", self.engine.runtime.title())
                }
            }
            // Back off, still following cgroups that inotify reports.
            let sleep = tokio::time::sleep(backoff);
            tokio::pin!(sleep);
            loop {
                let inotify = self.inotify.as_ref();
                tokio::select! {
                    () = &mut sleep => break,
                    () = Self::inotify_ready(inotify) => self.on_inotify(),
                    _ = stop.changed() => return,
                }
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_from_cgroup_dir_names() {
        let id = "520d0ff64099753d76dbbc4ce5dc8a16ad47ed5f4abc79fb6e74587451219c94";
        for dir in [
            id.to_string(),
            format!("docker-{id}.scope"),
            format!("libpod-{id}"),
            format!("libpod-{id}.scope"),
            format!("cri-containerd-{id}.scope"),
            format!("crio-{id}.scope"),
        ] {
            assert_eq!(id_in_dir(&dir), id);
        }
        assert_eq!(id_in_dir("web"), "web");
        for r in super::super::Runtime::ALL {
            assert!(dir_names(r, id).iter().all(|n| id_in_dir(n) == id), "{r}");
        }
    }
}
