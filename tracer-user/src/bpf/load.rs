//! Loads the embedded object, writes the configuration, fills the filter maps and attaches the
//! chosen hook pair.
use std::path::{Path, PathBuf};

use aya::{
    Btf, Ebpf, EbpfLoader,
    maps::{Array, HashMap, MapData, PerCpuArray, PerCpuHashMap, RingBuf},
    programs::{BtfTracePoint, RawTracePoint, TracePoint},
};
use tracer_common::{
    capture::CaptureSpec,
    config::{DEFAULT_PENDING_ENTRIES, FILTER_CGROUP, FILTER_PIDNS, FILTER_TASKS, MAX_SYSCALL_NR},
};

use super::gate::Gate;
use crate::{
    error::Error,
    model::target::{KernelFilter as Filter, PidNs},
};

/// The kernel hook type (docs/design.md has the measured costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hook {
    /// raw_tracepoint/sys_{enter,exit}: cheapest, has the registers.
    #[default]
    RawTracepoint,
    /// tp_btf/sys_{enter,exit}.
    BtfTracepoint,
    /// tracepoint/raw_syscalls/sys_{enter,exit} (needs tracefs).
    Tracepoint,
}

static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/tracer"));

#[derive(Debug, Clone)]
pub struct BpfConfig {
    pub hook: Hook,
    pub ring_size: u32,
    pub syscalls: Vec<u32>,
    pub filter: Filter,
    pub pidns: Option<PidNs>,
    /// With [`Filter::Tasks`]: the processes (host pids) whose threads are followed.
    pub tasks: Vec<u32>,
    /// Attach programs that reject every task at their first instruction (benchmark floor).
    pub follow_nothing: bool,
    /// Bytes of buffers and argv strings captured (`--string-size`).
    pub string_size: u32,
    /// `STATUS_SHOWN`: which returns make a record; 0 for all (tracer_common::config).
    pub status_shown: u32,
    /// Aggregate in the kernel (`--summary`).
    pub summary: bool,
    /// With `summary` and one target: the aggregates in an array by syscall number.
    pub summary_by_nr: bool,
    /// Count calls and failures per target in the kernel beside streaming (the daemon's
    /// metrics; needs [`Filter::CgroupSet`]).
    pub counts: bool,
    /// Emit per-syscall records.
    pub stream: bool,
    /// What the kernel reads of each syscall's arguments, by syscall number (written into the
    /// `CAPTURE_SPEC` array before attaching).
    pub capture_specs: Vec<(u32, CaptureSpec)>,
    /// Records carry the caller's user stack (`-k`).
    pub stack: bool,
    /// The syscalls whose exit wakes the reader at once (`-y`, `-yy`: the calls that create
    /// fds or change a socket), so that /proc and sock_diag are asked while the fd is most
    /// likely still open; empty: records wake it in batches only.
    pub wake_syscalls: Vec<u32>,
    /// With [`Filter::CgroupSet`] and raw tracepoints: the syscall programs are attached only
    /// while the set holds a target (bpf/gate.rs).
    pub gate: bool,
    /// `--exit-only`: no `sys_enter` program; each call is reported from its exit
    /// (`syscalls` then holds only calls that allow it: `capture_spec::needs_enter`).
    pub exit_only: bool,
}

/// The attached programs and the maps the reader needs. Dropping `ebpf` detaches the programs;
/// the maps taken out of it stay usable, so the ring buffer can be drained after detaching.
pub struct Loaded {
    pub ebpf: Ebpf,
    pub events: RingBuf<MapData>,
    pub stats: PerCpuArray<MapData, u64>,
    pub summary: Option<super::summary::SummaryMaps>,
    /// Per-target counts, with [`BpfConfig::counts`].
    pub counts: Option<super::summary::CountMaps>,
    /// The kernel's target set, with [`Filter::CgroupSet`].
    pub targets: Option<TargetSet>,
    /// The followed threads, with [`Filter::Tasks`].
    pub tasks: Option<TaskSet>,
    /// Per-thread enter state: what is still in flight when tracing stops.
    pub pending: HashMap<MapData, u32, tracer_common::config::Pending>,
}

/// The cgroup ids the kernel follows, changed while the programs run; with a gate, the
/// syscall programs are attached only while it holds any (bpf/gate.rs).
pub struct TargetSet {
    map: HashMap<MapData, u64, u8>,
    ids: std::collections::HashSet<u64>,
    gate: Option<Gate>,
}

impl TargetSet {
    /// Attaches the gated programs first: the filter never holds a target they do not see.
    pub fn insert(&mut self, cgroup_id: u64) -> Result<(), Error> {
        if let Some(g) = &self.gate {
            g.open()
                .map_err(|e| Error::Internal(format!("attaching the syscall programs: {e}")))?;
        }
        self.map
            .insert(cgroup_id, 1, 0)
            .map_err(|e| bpf_error("TARGET_CGROUPS insert", e))?;
        self.ids.insert(cgroup_id);
        Ok(())
    }

    /// Removes `cgroup_id`; absent ids are not an error. The last one out detaches the gated
    /// programs, after a linger.
    pub fn remove(&mut self, cgroup_id: u64) {
        let _ = self.map.remove(&cgroup_id);
        if self.ids.remove(&cgroup_id)
            && self.ids.is_empty()
            && let Some(g) = &self.gate
        {
            g.close_later();
        }
    }

    /// Whether the syscall programs are attached now (always, without a gate).
    pub fn attached(&self) -> bool {
        self.gate.as_ref().is_none_or(Gate::is_open)
    }
}

/// The threads the kernel follows with [`Filter::Tasks`]; the fork and exit hooks keep it.
pub struct TaskSet(HashMap<MapData, u32, u8>);

impl TaskSet {
    /// No followed thread runs: every process of `-p` and its descendants exited (some may
    /// be zombies still, followed for their death notice).
    pub fn is_empty(&self) -> bool {
        !self
            .0
            .iter()
            .filter_map(Result::ok)
            .any(|(_, v)| v == tracer_common::config::TASK_RUNNING)
    }

    /// Adds every thread of `pids`, again until a pass finds none new: a thread created by
    /// one not yet in the set is found by the next pass, one created by a thread already in
    /// it by the fork hook. Processes that are gone are skipped (they raced with the start).
    fn fill(&mut self, pids: &[u32]) -> Result<(), Error> {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..16 {
            let mut new = false;
            for pid in pids {
                let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
                    continue;
                };
                for tid in dir.filter_map(|d| d.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
                    if seen.insert(tid) {
                        new = true;
                        self.0
                            .insert(tid, tracer_common::config::TASK_RUNNING, 0)
                            .map_err(|e| bpf_error("FOLLOWED_TASKS insert", e))?;
                    }
                }
            }
            if !new {
                break;
            }
        }
        Ok(())
    }
}

/// The offset of `field` in the record of tracepoint `sched/EVENT`, from its format file: the
/// comm fields before the pids changed from `char[16]` to `__data_loc` strings in 6.x kernels.
fn sched_field_offset(tracefs: &Path, event: &str, field: &str) -> Result<u32, Error> {
    let path = tracefs.join(format!("events/sched/{event}/format"));
    let format = std::fs::read_to_string(&path).map_err(|e| {
        Error::KernelSupport(format!(
            "cannot read {} ({e}): -p follows forks with this tracepoint; trace the container instead (--container, --cgroup)",
            path.display()
        ))
    })?;
    let needle = format!(" {field};");
    format
        .lines()
        .find(|l| l.contains(&needle))
        .and_then(|l| {
            l.split("offset:")
                .nth(1)?
                .split(';')
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .ok_or_else(|| {
            Error::KernelSupport(format!(
                "no {field} field in {}; trace the container instead (--container, --cgroup)",
                path.display()
            ))
        })
}

/// The way out of a refused BPF operation.
const BPF_CAPS_FIX: &str =
    "run as root or grant CAP_BPF and CAP_PERFMON (plus CAP_SYS_RESOURCE on kernels before 5.11)";

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Checks the effective capabilities before the kernel refuses with a bare EPERM.
fn check_capabilities() -> Result<(), Error> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let Some(eff) = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
    else {
        return Ok(());
    };
    let has = |cap: u32| eff & (1 << cap) != 0;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return Ok(());
    }
    let missing: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
        .into_iter()
        .filter(|(c, _)| !has(*c))
        .map(|(_, n)| n)
        .collect();
    Err(Error::Privilege(format!(
        "to load BPF programs: missing {}; {BPF_CAPS_FIX}",
        missing.join(" and ")
    )))
}

/// tracefs root: `TRACER_TRACEFS` when set, else /sys/kernel/tracing (mounted when absent).
fn tracefs() -> Result<PathBuf, Error> {
    if let Some(p) = std::env::var_os("TRACER_TRACEFS") {
        let p = PathBuf::from(p);
        return if p.join("events/raw_syscalls").is_dir() {
            Ok(p)
        } else {
            Err(Error::KernelSupport(format!(
                "no tracefs at {} (TRACER_TRACEFS); unset it or point it at a mounted tracefs",
                p.display()
            )))
        };
    }
    let p = PathBuf::from("/sys/kernel/tracing");
    if !p.join("events/raw_syscalls").is_dir() {
        let _ = nix::mount::mount(
            Some("tracefs"),
            &p,
            Some("tracefs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        );
    }
    if p.join("events/raw_syscalls").is_dir() {
        Ok(p)
    } else {
        Err(Error::KernelSupport(
            "tracefs is not mounted at /sys/kernel/tracing; mount it with `mount -t tracefs nodev /sys/kernel/tracing` or use --hook raw".into(),
        ))
    }
}

/// Kernel BTF: `TRACER_BTF` when set, else /sys/kernel/btf/vmlinux.
fn btf() -> Result<Btf, Error> {
    let path = std::env::var_os("TRACER_BTF")
        .map_or_else(|| PathBuf::from("/sys/kernel/btf/vmlinux"), PathBuf::from);
    Btf::parse_file(Path::new(&path), aya::Endianness::default()).map_err(|e| {
        Error::KernelSupport(format!(
            "no kernel BTF at {} ({e}); use a kernel built with CONFIG_DEBUG_INFO_BTF or use --hook raw",
            path.display()
        ))
    })
}

fn is_permission(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(io.raw_os_error(), Some(libc::EPERM | libc::EACCES))
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn bpf_error(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    if is_permission(&e) {
        Error::Privilege(format!("to load BPF programs: {what}: {e}; {BPF_CAPS_FIX}"))
    } else {
        Error::Bpf {
            what: what.to_string(),
            source: Box::new(e),
        }
    }
}

/// Records wake the reader once this much is waiting: an eighth of the ring, at most 64 KiB
/// (500 records), so a wakeup is paid per batch and the ring keeps room while the reader runs.
fn wakeup_bytes(ring_size: u32) -> u64 {
    u64::from(ring_size / 8).min(64 << 10)
}

/// aya-log's level for the kernel side's diagnostics, from tracer's own log level: 0 (off,
/// and removed by the verifier) unless `-v`; `-v` shows the kernel's warnings, `-vv` also its
/// failed reads of user memory. Values: aya-log-common's `Level` (Warn 2, Debug 4).
fn kernel_log_level() -> u8 {
    if tracing::enabled!(tracing::Level::DEBUG) {
        4
    } else if tracing::enabled!(tracing::Level::INFO) {
        LOG_WARN
    } else {
        0
    }
}

/// Forwards the kernel side's aya-log records to tracer's log (as `log` records, which
/// tracing-subscriber takes in) for as long as the programs are loaded.
fn forward_kernel_logs(ebpf: &mut Ebpf) -> Result<(), Error> {
    let logger = aya_log::EbpfLogger::init(ebpf)
        .map_err(|e| Error::Internal(format!("kernel log reader: {e}")))?;
    // SAFETY: the logger owns its ring buffer's fd for as long as the AsyncFd owns the logger.
    let mut fd = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(logger, tokio::io::Interest::READABLE)
    }
    .map_err(|e| Error::Internal(format!("kernel log reader: {e}")))?;
    tokio::spawn(async move {
        while let Ok(mut ready) = fd.readable_mut().await {
            ready.get_inner_mut().flush();
            ready.clear_ready();
        }
    });
    Ok(())
}

/// Sets `map[nr]` to 1 for each syscall number in `nrs` (a by-number `Array<u8>`).
fn mark_syscalls(ebpf: &mut Ebpf, map: &str, nrs: &[u32]) -> Result<(), Error> {
    if nrs.is_empty() {
        return Ok(());
    }
    let mut marks: Array<_, u8> = Array::try_from(
        ebpf.map_mut(map)
            .ok_or_else(|| Error::Internal(format!("map {map} missing")))?,
    )
    .map_err(|e| bpf_error(map, e))?;
    for &nr in nrs.iter().filter(|&&nr| nr < MAX_SYSCALL_NR) {
        marks.set(nr, 1, 0).map_err(|e| bpf_error(map, e))?;
    }
    Ok(())
}

/// aya-log's `Warn`: what `-v` shows of the kernel side.
const LOG_WARN: u8 = 2;

pub fn load_and_attach(cfg: &BpfConfig) -> Result<Loaded, Error> {
    let level = kernel_log_level();
    match load_and_attach_at(cfg, level) {
        // The classic tracepoint's programs with every debug statement kept are more than the
        // verifier takes (E2BIG): the kernel's warnings still fit.
        Err(Error::Bpf { source, .. })
            if level > LOG_WARN
                && std::error::Error::source(source.as_ref())
                    .into_iter()
                    .chain(std::iter::once(source.as_ref() as &dyn std::error::Error))
                    .any(|e| e.to_string().contains("os error 7")) =>
        {
            tracing::warn!(
                "the verifier refused the kernel side's debug logs with this hook (the programs grow too large); showing its warnings only"
            );
            load_and_attach_at(cfg, LOG_WARN)
        }
        r => r,
    }
}

fn load_and_attach_at(cfg: &BpfConfig, log_level: u8) -> Result<Loaded, Error> {
    if OBJECT.is_empty() {
        return Err(Error::KernelSupport(
            "this tracer binary was built without its BPF programs (bpf-linker or the nightly toolchain was missing); install it with `cargo xtask setup` and rebuild".into(),
        ));
    }
    check_capabilities()?;
    let tracefs = if cfg.hook == Hook::Tracepoint || cfg.filter == Filter::Tasks {
        Some(tracefs()?)
    } else {
        None
    };
    let (fork_off, free_off) = match (&tracefs, cfg.filter) {
        (Some(t), Filter::Tasks) => (
            sched_field_offset(t, "sched_process_fork", "child_pid")?,
            sched_field_offset(t, "sched_process_free", "pid")?,
        ),
        _ => (0, 0),
    };
    let btf = match cfg.hook {
        Hook::BtfTracepoint => Some(btf()?),
        _ => None,
    };
    let (mode, level, single, also) = match cfg.filter {
        _ if cfg.follow_nothing => (0, 0, 0, 0),
        Filter::Cgroup { id, level } => (FILTER_CGROUP, level, id, 0),
        Filter::PidNs => (FILTER_PIDNS, 0, 0, 0),
        Filter::CgroupSet { level, also } => (FILTER_CGROUP, level, 0, also),
        Filter::Tasks => (FILTER_TASKS, 0, 0, 0),
    };
    let (dev, ino) = cfg.pidns.map_or((0, 0), |ns| (ns.dev, ns.ino));
    let own = std::process::id();
    let filter_on = u32::from(!cfg.syscalls.is_empty());
    // One target (not the daemon's set): summary aggregates by syscall number in an array.
    let by_nr = cfg.summary && cfg.summary_by_nr && !matches!(cfg.filter, Filter::CgroupSet { .. });
    let mut ebpf = EbpfLoader::new()
        .override_global("FILTER_MODE", &mode, true)
        .override_global("CGROUP_LEVEL", &level, true)
        .override_global("CGROUP_LEVEL_ALT", &also, true)
        .override_global("SINGLE_CGROUP", &single, true)
        .override_global("PIDNS_DEV", &dev, true)
        .override_global("PIDNS_INO", &ino, true)
        .override_global("OWN_TGID", &own, true)
        .override_global("SYSCALL_FILTER_ON", &filter_on, true)
        .override_global("STATUS_SHOWN", &cfg.status_shown, true)
        .override_global("FORK_CHILD_PID_OFF", &fork_off, true)
        .override_global("FREE_PID_OFF", &free_off, true)
        .override_global("STRING_SIZE", &cfg.string_size, true)
        .override_global("WAKEUP_BYTES", &wakeup_bytes(cfg.ring_size), true)
        .override_global("WAKE_ON", &u32::from(!cfg.wake_syscalls.is_empty()), true)
        .override_global("SUMMARY_ON", &u32::from(cfg.summary), true)
        .override_global("SUMMARY_SINGLE", &u32::from(by_nr), true)
        .override_global("COUNTS_ON", &u32::from(cfg.counts && !cfg.summary), true)
        .override_global("STREAM_ON", &u32::from(cfg.stream), true)
        .override_global("STACK_ON", &u32::from(cfg.stack), true)
        .override_global("AYA_LOG_LEVEL", &log_level, true)
        .map_max_entries("EVENTS", cfg.ring_size)
        .map_max_entries("PENDING", DEFAULT_PENDING_ENTRIES)
        .load(OBJECT)
        .map_err(|e| bpf_error("loading the BPF object", e))?;
    if log_level > 0 {
        forward_kernel_logs(&mut ebpf)?;
    }

    if let Filter::Cgroup { id, .. } = cfg.filter {
        let mut targets: HashMap<_, u64, u8> = HashMap::try_from(
            ebpf.map_mut("TARGET_CGROUPS")
                .ok_or_else(|| Error::Internal("map TARGET_CGROUPS missing".into()))?,
        )
        .map_err(|e| bpf_error("TARGET_CGROUPS", e))?;
        targets
            .insert(id, 1, 0)
            .map_err(|e| bpf_error("TARGET_CGROUPS insert", e))?;
    }
    mark_syscalls(&mut ebpf, "SYSCALL_FILTER", &cfg.syscalls)?;
    mark_syscalls(&mut ebpf, "WAKE_SYSCALLS", &cfg.wake_syscalls)?;

    let mut specs: Array<_, CaptureSpec> = Array::try_from(
        ebpf.map_mut("CAPTURE_SPEC")
            .ok_or_else(|| Error::Internal("map CAPTURE_SPEC missing".into()))?,
    )
    .map_err(|e| bpf_error("CAPTURE_SPEC", e))?;
    for &(nr, spec) in &cfg.capture_specs {
        specs
            .set(nr, spec, 0)
            .map_err(|e| bpf_error("CAPTURE_SPEC set", e))?;
    }

    // Forks are followed before the set is filled, and the set is full before a syscall is
    // traced: no child of a followed thread is missed.
    let tasks = if cfg.filter == Filter::Tasks && !cfg.follow_nothing {
        for name in [
            "tp_sched_process_fork",
            "tp_sched_process_exit",
            "tp_sched_process_free",
        ] {
            let p: &mut TracePoint = program(&mut ebpf, name)?;
            p.load().map_err(|e| bpf_error(name, e))?;
            p.attach("sched", name.trim_start_matches("tp_"))
                .map_err(|e| bpf_error(name, e))?;
        }
        let mut set = TaskSet(
            HashMap::try_from(
                ebpf.take_map("FOLLOWED_TASKS")
                    .ok_or_else(|| Error::Internal("map FOLLOWED_TASKS missing".into()))?,
            )
            .map_err(|e| bpf_error("FOLLOWED_TASKS", e))?,
        );
        set.fill(&cfg.tasks)?;
        Some(set)
    } else {
        None
    };

    // The daemon's set starts empty: its syscall programs wait for a target (bpf/gate.rs).
    let gated = cfg.gate
        && matches!(cfg.filter, Filter::CgroupSet { .. })
        && cfg.hook == Hook::RawTracepoint;
    let gate = attach(&mut ebpf, cfg.hook, btf.as_ref(), gated, cfg.exit_only)?;

    let events = RingBuf::try_from(
        ebpf.take_map("EVENTS")
            .ok_or_else(|| Error::Internal("map EVENTS missing".into()))?,
    )
    .map_err(|e| bpf_error("EVENTS", e))?;
    let stats = PerCpuArray::try_from(
        ebpf.take_map("STATS")
            .ok_or_else(|| Error::Internal("map STATS missing".into()))?,
    )
    .map_err(|e| bpf_error("STATS", e))?;
    // With the set, the reader's own view of it: which targets' counts can be retired.
    let (targets, live) = match cfg.filter {
        Filter::CgroupSet { .. } => {
            let map = ebpf
                .take_map("TARGET_CGROUPS")
                .ok_or_else(|| Error::Internal("map TARGET_CGROUPS missing".into()))?;
            let live = match &map {
                aya::maps::Map::HashMap(data) => Some(view(data)?),
                _ => None,
            };
            let set = HashMap::try_from(map).map_err(|e| bpf_error("TARGET_CGROUPS", e))?;
            let set = TargetSet {
                map: set,
                ids: std::collections::HashSet::new(),
                gate,
            };
            (Some(set), live)
        }
        _ => (None, None),
    };
    let take = |ebpf: &mut Ebpf, name: &str| {
        ebpf.take_map(name)
            .ok_or_else(|| Error::Internal(format!("map {name} missing")))
    };
    let summary = if cfg.summary {
        Some(super::summary::SummaryMaps {
            by_nr: match by_nr {
                true => Some(
                    PerCpuArray::try_from(take(&mut ebpf, "SUMMARY_BY_NR")?)
                        .map_err(|e| bpf_error("SUMMARY_BY_NR", e))?,
                ),
                false => None,
            },
            summary: PerCpuHashMap::try_from(take(&mut ebpf, "SUMMARY")?)
                .map_err(|e| bpf_error("SUMMARY", e))?,
            errnos: PerCpuHashMap::try_from(take(&mut ebpf, "ERRNOS")?)
                .map_err(|e| bpf_error("ERRNOS", e))?,
        })
    } else {
        None
    };
    let counts = match live {
        Some(live) if cfg.counts && !cfg.summary => Some(super::summary::CountMaps::new(
            PerCpuHashMap::try_from(take(&mut ebpf, "COUNTS")?)
                .map_err(|e| bpf_error("COUNTS", e))?,
            PerCpuHashMap::try_from(take(&mut ebpf, "ERRNOS")?)
                .map_err(|e| bpf_error("ERRNOS", e))?,
            live,
        )),
        _ => None,
    };
    let pending = HashMap::try_from(
        ebpf.take_map("PENDING")
            .ok_or_else(|| Error::Internal("map PENDING missing".into()))?,
    )
    .map_err(|e| bpf_error("PENDING", e))?;
    Ok(Loaded {
        ebpf,
        events,
        stats,
        summary,
        counts,
        targets,
        tasks,
        pending,
    })
}

/// A second handle on a kernel hash map (its fd duplicated), for reading.
fn view(data: &MapData) -> Result<HashMap<MapData, u64, u8>, Error> {
    use std::os::fd::AsFd as _;
    let fd = data
        .fd()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| Error::Internal(format!("TARGET_CGROUPS fd: {e}")))?;
    let data = MapData::from_fd(fd).map_err(|e| bpf_error("TARGET_CGROUPS view", e))?;
    HashMap::try_from(aya::maps::Map::HashMap(data))
        .map_err(|e| bpf_error("TARGET_CGROUPS view", e))
}

/// Loads and attaches the programs; `gated`: the raw syscall programs are loaded only, and
/// handed back as a gate that attaches them while a target is followed; `exit_only`: the
/// `sys_enter` program is neither loaded nor attached.
fn attach(
    ebpf: &mut Ebpf,
    hook: Hook,
    btf: Option<&Btf>,
    gated: bool,
    exit_only: bool,
) -> Result<Option<Gate>, Error> {
    let mut gated_progs = Vec::new();
    // Enter first: an exit seen before its enter is reported as `enter: missing`, never lost.
    let sides = [
        ("enter", "sys_enter", c"sys_enter"),
        ("exit", "sys_exit", c"sys_exit"),
    ];
    let sides = if exit_only {
        &[("exit_only", "sys_exit", c"sys_exit")][..]
    } else {
        &sides[..]
    };
    for &(side, tp, tp_c) in sides {
        match hook {
            Hook::RawTracepoint => {
                let name = format!("raw_sys_{side}");
                let p: &mut RawTracePoint = program(ebpf, &name)?;
                p.load().map_err(|e| bpf_error(&name, e))?;
                if gated {
                    let fd = p
                        .fd()
                        .map_err(|e| bpf_error(&name, e))?
                        .try_clone()
                        .map_err(|e| Error::Internal(format!("{name} fd: {e}")))?;
                    gated_progs.push((fd, tp_c));
                } else {
                    p.attach(tp).map_err(|e| bpf_error(&name, e))?;
                }
            }
            Hook::BtfTracepoint => {
                let name = format!("btf_sys_{side}");
                let btf = btf.ok_or_else(|| Error::Internal("BTF not loaded".into()))?;
                let p: &mut BtfTracePoint = program(ebpf, &name)?;
                p.load(tp, btf).map_err(|e| bpf_error(&name, e))?;
                p.attach().map_err(|e| bpf_error(&name, e))?;
            }
            Hook::Tracepoint => {
                let name = format!("tp_sys_{side}");
                let p: &mut TracePoint = program(ebpf, &name)?;
                p.load().map_err(|e| bpf_error(&name, e))?;
                p.attach("raw_syscalls", tp)
                    .map_err(|e| bpf_error(&name, e))?;
            }
        }
    }
    // seccomp's SIGSYS (SCMP_ACT_KILL*, SCMP_ACT_TRAP): before the exit it marks, and for every
    // hook type (raw tracepoints exist wherever the others do).
    let name = "raw_signal_generate";
    let p: &mut RawTracePoint = program(ebpf, name)?;
    p.load().map_err(|e| bpf_error(name, e))?;
    p.attach("signal_generate")
        .map_err(|e| bpf_error(name, e))?;
    // Signals delivered to followed tasks (`--- SIGUSR1 {...} ---`).
    let name = "raw_signal_deliver";
    let p: &mut RawTracePoint = program(ebpf, name)?;
    p.load().map_err(|e| bpf_error(name, e))?;
    p.attach("signal_deliver").map_err(|e| bpf_error(name, e))?;
    if exit_only {
        // `exit` and `exit_group` have no `sys_exit`: seen as the task ends (a rare event,
        // attached for as long as tracer runs).
        let name = "raw_sched_process_exit_call";
        let p: &mut RawTracePoint = program(ebpf, name)?;
        p.load().map_err(|e| bpf_error(name, e))?;
        p.attach("sched_process_exit")
            .map_err(|e| bpf_error(name, e))?;
    }
    Ok(gated.then(|| Gate::new(gated_progs)))
}

fn program<'a, T>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut T, Error>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = aya::programs::ProgramError>,
{
    let p = ebpf
        .program_mut(name)
        .ok_or_else(|| Error::Internal(format!("program {name} missing from the object")))?;
    p.try_into().map_err(|e| bpf_error(name, e))
}
