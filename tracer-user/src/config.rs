//! Checked configurations, built once from the command line (`cli`) or the daemon's config
//! file; the rest of the code never validates again. Each default is defined here, once, and
//! each kind of value has one parser.
use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use serde::Deserialize;

pub mod policy;
pub mod signal_set;
pub mod status;
pub mod syscall_set;

use crate::{
    bpf::Hook,
    decode::escape::Hex,
    error::Error,
    model::summary::SortBy,
    runtime::{TargetSpec, cri::PodSpec},
    sink::{file::Rotation, otlp::Endpoint, route::Output},
};

/// Ring buffer size when none is given.
pub const DEFAULT_RING_SIZE: &str = "8M";
/// Bytes of each buffer and argv string shown: strace's default `-s`.
pub const DEFAULT_STRING_SIZE: u32 = crate::decode::args::DEFAULT_STRING_SIZE;
/// Rotated files kept when `--rotate-keep` is not given.
pub const DEFAULT_KEEP: u32 = 5;

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

/// Bytes with an optional K/M/G (binary) suffix (`B` and `iB` allowed after it).
fn bytes(s: &str) -> Option<u64> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n = u64::from_str(digits).ok()?;
    n.checked_shl(shift).filter(|b| b >> shift == n)
}

/// A positive size such as `64M` (`--rotate-size`).
pub fn parse_size(what: &str, s: &str) -> Result<u64, Error> {
    bytes(s)
        .filter(|&b| b > 0)
        .ok_or_else(|| usage(format!("bad {what} {s:?}: give a size such as 64M or 1G")))
}

/// `--ring-size`: the kernel wants a power of two multiple of the page size.
pub fn parse_ring_size(s: &str) -> Result<u32, Error> {
    let bad = |why: &str| {
        usage(format!(
            "bad --ring-size {s:?}: {why}; give a power of two such as 256K, 8M or 64M"
        ))
    };
    let bytes = bytes(s).ok_or_else(|| bad("not a size"))?;
    let page = page_size();
    if bytes < page || !bytes.is_power_of_two() {
        return Err(bad(&format!("not a power of two of at least {page} bytes")));
    }
    u32::try_from(bytes).map_err(|_| bad("at most 2G"))
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(p).unwrap_or(4096)
}

/// Syscall sets in strace's `-e trace=` syntax (names, `%classes`, `/regex`, `!`, `?name`,
/// `all`, `none`: see `syscall_set`) → sorted, unique numbers; empty means all. Given several
/// times, the last one counts, as strace's repeated `-e trace=`.
pub fn parse_syscalls(what: &str, specs: &[String]) -> Result<Vec<u32>, Error> {
    syscall_set::parse_last(what, specs)
}

/// A positive duration (`--duration`, `--interval`), at least `min`.
pub fn check_duration(
    what: &str,
    d: Option<Duration>,
    min: Duration,
) -> Result<Option<Duration>, Error> {
    match d {
        Some(d) if d.is_zero() || d < min => Err(usage(format!(
            "bad {what} {}: give a positive duration of at least {}, such as 10s",
            humantime::format_duration(d),
            humantime::format_duration(min.max(Duration::from_nanos(1)))
        ))),
        d => Ok(d),
    }
}

/// `-s`/`--string-size`: at most what the kernel captures.
pub fn check_string_size(n: u32) -> Result<u32, Error> {
    let max = tracer_common::capture::MAX_STRING_SIZE;
    if n > max {
        return Err(usage(format!(
            "bad --string-size {n}: at most {max} bytes are captured; give a smaller size"
        )));
    }
    Ok(n)
}

/// `--exit-only` (observe, record, daemon): the syscall set (empty: all) without the calls
/// whose record needs the call's entry, and those calls. A set of nothing but such calls is an
/// error: nothing would be shown.
pub fn exit_only_set(set: Vec<u32>) -> Result<(Vec<u32>, Vec<u32>), Error> {
    let set = if set.is_empty() {
        (0..tracer_common::config::MAX_SYSCALL_NR).collect()
    } else {
        set
    };
    let (left_out, kept): (Vec<u32>, Vec<u32>) = set
        .into_iter()
        .partition(|&nr| crate::decode::capture_spec::needs_enter(nr));
    if kept.is_empty() {
        let names: Vec<_> = left_out
            .iter()
            .map(|&n| crate::decode::syscalls::display_name(n))
            .collect();
        return Err(Error::Usage(format!(
            "--exit-only cannot show {}: a record of them needs the call's entry (sys_enter); leave out --exit-only",
            names.join(", ")
        )));
    }
    Ok((kept, left_out))
}

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// strace-like lines.
    #[default]
    Text,
    /// One JSON object per line (docs/events.md).
    Json,
}

/// `observe`, checked.
#[derive(Debug, Clone)]
pub struct ObserveConfig {
    pub target: TargetSpec,
    /// Syscall numbers to keep; empty means all.
    pub syscalls: Vec<u32>,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub ring_size: u32,
    pub hook: Hook,
    pub follow_nothing: bool,
    pub string_size: u32,
    pub host_pids: bool,
    pub fd_paths: bool,
    /// `-yy`: sockets' addresses and devices' numbers too.
    pub fd_details: bool,
    /// `-k`: each call's user stack.
    pub stack: bool,
    pub no_abbrev: bool,
    pub hex: Hex,
    /// Text: `-t`, `-tt`, `-ttt`, `-r`.
    pub stamps: crate::sink::text::Stamps,
    /// Calls shown by status (`-e status=`, `-z`, `-Z`); in user space, and not applied to
    /// the summary's counts (strace 6.1's `-c` counts every call too).
    pub status: crate::filter::StatusSet,
    /// Signals shown (`-e signal=`, `--signals`): deliveries and deaths by signal.
    pub signals: crate::filter::signal::SignalSet,
    pub summary: Option<SummaryConfig>,
    /// Text: each call's time after it (`-T`).
    pub syscall_times: bool,
    /// `-q`: no status lines on stderr; `-qq`: no `+++ exited` lines either.
    pub quiet: u8,
    /// Process names whose calls are left out.
    pub exclude_comm: Vec<String>,
    /// `-P`: only the calls that touch these paths.
    pub trace_paths: Vec<PathBuf>,
    /// `--otlp`: every record as an OpenTelemetry log record to this receiver too.
    pub otlp: Option<Endpoint>,
    /// `--exit-only`: no `sys_enter` program; `syscalls` then holds the calls that do not
    /// need it.
    pub exit_only: bool,
    /// With `exit_only`: the calls asked for (or all) that it leaves out.
    pub left_out: Vec<u32>,
}

/// `record`, checked: observe's target, syscall set and kernel options; the file to write.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    pub observe: ObserveConfig,
    pub output: PathBuf,
}

/// `show`, checked: the recording to read and observe's options for what to print.
#[derive(Debug, Clone)]
pub struct ShowConfig {
    pub input: PathBuf,
    /// Its target is unused: the recording names what it followed.
    pub view: ObserveConfig,
}

/// strace's `-U`: column names (its `count.c` aliases) → columns, each at most once, the name
/// column added last when not given.
pub fn parse_columns(s: &str) -> Result<Vec<crate::model::summary::Column>, Error> {
    use crate::model::summary::Column as C;
    let mut out: Vec<C> = Vec::new();
    for item in s.split(',') {
        let c = match item {
            "time" | "time_percent" | "time-percent" => C::TimePercent,
            "time_total" | "time-total" | "total_time" | "total-time" => C::TotalTime,
            "min_time" | "min-time" | "shortest" | "time_min" | "time-min" => C::MinTime,
            "longest" | "max_time" | "max-time" | "time_max" | "time-max" => C::MaxTime,
            "avg_time" | "avg-time" | "time_avg" | "time-avg" => C::AvgTime,
            "calls" | "count" => C::Calls,
            "error" | "errors" => C::Errors,
            "name" | "syscall" | "syscall_name" | "syscall-name" => C::Name,
            _ => {
                return Err(usage(format!(
                    "unknown column {item:?} in -U; give time-percent, total-time, min-time, max-time, avg-time, calls, errors or name, comma-separated"
                )));
            }
        };
        if out.contains(&c) {
            return Err(usage(format!(
                "column {item:?} given twice in -U; give each column once"
            )));
        }
        out.push(c);
    }
    if !out.contains(&C::Name) {
        out.push(C::Name);
    }
    Ok(out)
}

/// Summary mode, checked.
#[derive(Debug, Clone)]
pub struct SummaryConfig {
    /// The table's columns (`-U`).
    pub columns: Vec<crate::model::summary::Column>,
    pub stream: bool,
    pub interval: Option<Duration>,
    pub sort: SortBy,
    /// Syscall number whose histogram is printed.
    pub histogram: Option<u32>,
    /// Benchmarks: the kernel's hash by (target, syscall) instead of its array by syscall.
    pub by_key: bool,
}

/// `daemon`, checked: the command line over the config file.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub containers: Vec<String>,
    /// CRI pod selections (`--pod`, `--selector`): every container of the pods they select.
    pub pods: Vec<PodSpec>,
    /// The engine that runs them (Docker or podman).
    pub runtime: crate::model::Runtime,
    pub output: Output,
    pub rotation: Option<Rotation>,
    pub metrics: Option<SocketAddr>,
    pub syscalls: Vec<u32>,
    pub ring_size: u32,
    pub string_size: u32,
    pub duration: Option<Duration>,
    /// Process names whose calls are left out; by default the runtime's own set-up
    /// ([`DEFAULT_DAEMON_EXCLUDE_COMM`]).
    pub exclude_comm: Vec<String>,
    /// Which returns are shown (`--status`); all by default.
    pub status: crate::filter::StatusSet,
    pub format: policy::DaemonFormat,
    /// `[container.NAME]` tables, by container name (`NS/POD/NAME` in a pod).
    pub policies: BTreeMap<String, policy::Policy>,
    /// `--otlp`: every record as an OpenTelemetry log record to this receiver too.
    pub otlp: Option<Endpoint>,
    /// `--seccomp-watch`: the profile every followed container's calls are judged by.
    pub seccomp_watch: Option<PathBuf>,
    /// The syscall programs stay attached while nothing is followed (benchmarks).
    pub attach_always: bool,
    /// `--exit-only`: no `sys_enter` program (the calls whose record needs it are left out of
    /// the kernel's set: `capture_spec::needs_enter`).
    pub exit_only: bool,
}

/// What the daemon leaves out unless told otherwise: runc's and crun's set-up of a container
/// and of each `docker exec` (runc's nsexec names its stages `runc:[0:PARENT]`,
/// `runc:[1:CHILD]`, `runc:[2:INIT]`). The container's own processes start at their execve,
/// which the kernel reports under the new name.
pub const DEFAULT_DAEMON_EXCLUDE_COMM: [&str; 5] = [
    "runc",
    "runc:[0:PARENT]",
    "runc:[1:CHILD]",
    "runc:[2:INIT]",
    "crun",
];

/// Where the seccomp commands' observed calls come from.
#[derive(Debug, Clone)]
pub enum SeccompSource {
    /// Observe this container now; from its start (runc's set-up included) with `from_start`.
    Container {
        name: String,
        from_start: bool,
        duration: Option<Duration>,
        /// Keep the observed JSON lines here too.
        record: Option<PathBuf>,
    },
    /// Recorded JSON lines, in order.
    Events(Vec<PathBuf>),
}

#[derive(Debug, Clone)]
pub struct ProfileConfig {
    pub source: SeccompSource,
    pub output: Option<PathBuf>,
    /// `--args`: conditions on the selector arguments' observed values.
    pub args: bool,
}

/// `seccomp watch`, checked.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub source: SeccompSource,
    pub profile: PathBuf,
    pub format: Format,
    pub output: Option<PathBuf>,
    /// As `check`'s.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
}

/// `seccomp merge`.
#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub profiles: Vec<PathBuf>,
    pub output: Option<PathBuf>,
}

/// `seccomp diff`.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    pub old: PathBuf,
    pub new: PathBuf,
    pub json: bool,
}

#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub source: SeccompSource,
    pub profile: PathBuf,
    pub json: bool,
    /// Capabilities added to and dropped from Docker's default set (`--events` only; a live
    /// container's are read from its engine).
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
}

/// The daemon's config file: keys as the long options (kebab-case).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DaemonFile {
    #[serde(default)]
    pub containers: Vec<String>,
    /// `NAMESPACE/NAME` or `NAME`.
    #[serde(default)]
    pub pods: Vec<String>,
    /// `LABEL=VALUE[,LABEL=VALUE…]`, one selection each.
    #[serde(default)]
    pub selectors: Vec<String>,
    pub namespace: Option<String>,
    pub runtime: Option<crate::model::Runtime>,
    pub output: Option<PathBuf>,
    pub output_dir: Option<PathBuf>,
    pub rotate_size: Option<String>,
    pub rotate_keep: Option<u32>,
    pub metrics: Option<String>,
    /// A syscall set as `--syscalls` takes it (`"%file,!openat"`… as one string), or a list
    /// of items (joined with commas: `["openat", "%network"]`).
    #[serde(default, deserialize_with = "set_or_list")]
    pub syscalls: Option<String>,
    pub ring_size: Option<String>,
    pub string_size: Option<u32>,
    /// Process names left out; `[]` keeps everything.
    pub exclude_comm: Option<Vec<String>>,
    pub status: Option<String>,
    pub format: Option<policy::DaemonFormat>,
    /// `[container.NAME]`: one container's policy.
    #[serde(default)]
    pub container: BTreeMap<String, policy::PolicyFile>,
    /// An OTLP/gRPC receiver, as `--otlp` takes it.
    pub otlp: Option<String>,
    pub seccomp_watch: Option<PathBuf>,
    /// As `--exit-only`.
    pub exit_only: Option<bool>,
}

/// `syscalls = "SET"` or `syscalls = ["ITEM", …]`.
fn set_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum SetOrList {
        Set(String),
        List(Vec<String>),
    }
    Ok(Some(match SetOrList::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "give a syscall set as a string (\"%file,connect\") or a list of names ([\"openat\", \"connect\"])",
        )
    })? {
        SetOrList::Set(s) => s,
        SetOrList::List(v) => v.join(","),
    }))
}

impl DaemonFile {
    /// Reads and parses `path`; an error names the line and the key.
    pub fn read(path: &PathBuf) -> Result<DaemonFile, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            usage(format!(
                "cannot read config file {}: {e}; check the path given to --config",
                path.display()
            ))
        })?;
        Self::parse(&text).map_err(|why| {
            usage(format!(
                "bad config file {}: {why}; see docs/daemon.md for the keys",
                path.display()
            ))
        })
    }

    /// Parses the text of a config file; the error says where (`line N, key K: …`).
    pub fn parse(text: &str) -> Result<DaemonFile, String> {
        toml::from_str(text).map_err(|e| {
            let msg = e.message().replace('\n', " ");
            let Some(span) = e.span() else {
                return msg;
            };
            let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let line = text.lines().nth(line_no - 1).unwrap_or_default();
            match line.split_once('=') {
                Some((key, _)) if !key.trim().is_empty() => {
                    format!("line {line_no}, key {}: {msg}", key.trim())
                }
                _ => format!("line {line_no}: {msg}"),
            }
        })
    }
}

/// `PORT` (loopback only: metrics name containers and syscalls) or `ADDR:PORT`.
pub fn metrics_addr(m: &str) -> Result<SocketAddr, Error> {
    match m.parse::<u16>() {
        Ok(port) => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
        Err(_) => m.parse().map_err(|_| {
            usage(format!(
                "bad --metrics {m:?}: give a port (served on 127.0.0.1) or an address and port such as 127.0.0.1:9464"
            ))
        }),
    }
}

/// `--otlp`: `http://HOST:PORT`, `HOST:PORT` or a port on 127.0.0.1.
pub fn parse_otlp(s: &str) -> Result<Endpoint, Error> {
    Endpoint::parse(s).map_err(|why| {
        usage(format!(
            "bad --otlp {s:?}: {why}; give the OTLP/gRPC receiver as http://HOST:PORT, e.g. http://127.0.0.1:4317"
        ))
    })
}

/// Docker's container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
/// A label selector as kubectl's `-l` takes equality ones: `LABEL=VALUE[,LABEL=VALUE…]`, all of
/// which must match.
pub fn parse_selector(flag: &str, s: &str) -> Result<Vec<(String, String)>, Error> {
    s.split(',')
        .map(|item| match item.trim().split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(usage(format!(
                "bad {flag} {s:?}: give LABEL=VALUE (commas between several), e.g. {flag} app=web"
            ))),
        })
        .collect()
}

/// A pod as `--pod` names it in the daemon: `NAMESPACE/NAME`, or `NAME` in `namespace` (every
/// namespace when `None`).
pub fn parse_pod(s: &str, namespace: Option<&str>) -> Result<PodSpec, Error> {
    let (ns, name) = match s.split_once('/') {
        Some((ns, name)) => (Some(ns.to_string()), name),
        None => (namespace.map(str::to_string), s),
    };
    if name.is_empty() || name.contains('/') || ns.as_deref() == Some("") {
        return Err(usage(format!(
            "bad --pod {s:?}: give NAME or NAMESPACE/NAME, e.g. --pod shop/web"
        )));
    }
    Ok(PodSpec {
        pod: Some(name.to_string()),
        namespace: ns,
        ..PodSpec::default()
    })
}

pub fn valid_container_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode::syscalls, error::exit};

    #[test]
    fn exit_only_leaves_out_what_needs_the_entry() {
        let number = |n: &str| crate::decode::syscalls::number(n).expect("known");
        let (kept, left) =
            exit_only_set(vec![number("openat"), number("accept4")]).expect("openat is kept");
        assert_eq!(
            (kept, left),
            (vec![number("openat")], vec![number("accept4")])
        );
        let (all, left) = exit_only_set(Vec::new()).expect("all");
        assert!(all.contains(&number("exit_group")) && left.contains(&number("execve")));
        let err = exit_only_set(vec![number("execve")]).expect_err("nothing left");
        assert!(
            err.to_string().contains("--exit-only cannot show execve"),
            "{err}"
        );
    }

    #[test]
    fn ring_sizes() {
        assert_eq!(parse_ring_size("8M").ok(), Some(8 << 20));
        assert_eq!(parse_ring_size("256KiB").ok(), Some(256 << 10));
        assert_eq!(parse_ring_size("65536").ok(), Some(65536));
        assert_eq!(parse_ring_size("1G").ok(), Some(1 << 30));
        for bad in ["", "3M", "12", "x", "4G", "99999999999999G", "-1"] {
            let err = parse_ring_size(bad).expect_err(bad);
            assert_eq!(err.exit_code(), exit::USAGE);
            assert!(err.to_string().contains("--ring-size"), "{err}");
        }
        assert_eq!(parse_size("--rotate-size", "1M").ok(), Some(1 << 20));
        assert!(parse_size("--rotate-size", "0").is_err());
    }

    #[test]
    fn syscall_lists_and_durations() {
        let specs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let got = parse_syscalls("--syscalls", &specs(&["openat, getppid,openat,"]));
        assert_eq!(got.map(|v| v.len()).ok(), Some(2));
        // The last set counts, as strace's repeated -e trace=.
        let got = parse_syscalls("--syscalls", &specs(&["%file", "getppid"]));
        assert_eq!(got.ok(), syscalls::number("getppid").map(|n| vec![n]));
        assert_eq!(parse_syscalls("--syscalls", &[]).ok(), Some(Vec::new()));
        let e = parse_syscalls("--syscalls", &specs(&["nosuch"])).expect_err("unknown");
        assert!(e.to_string().contains("\"nosuch\""), "{e}");
        assert!(check_duration("--duration", Some(Duration::ZERO), Duration::ZERO).is_err());
        let e = check_duration(
            "--interval",
            Some(Duration::from_millis(5)),
            Duration::from_millis(10),
        )
        .expect_err("too short");
        assert!(e.to_string().contains("--interval 5ms"), "{e}");
        assert!(check_string_size(10_000).is_err());
    }

    #[test]
    fn config_file_errors_name_the_line_and_key() {
        let e = DaemonFile::parse("containers = [\"web\"]\nring-size = 1000\n").expect_err("bad");
        assert!(
            e.starts_with("line 2, key ring-size: invalid type: integer"),
            "{e}"
        );
        let e = DaemonFile::parse("containers = [\"web\"]\n\nbogus = 1\n").expect_err("bad");
        assert!(e.starts_with("line 3, key bogus: unknown field"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn config_file_syscalls_as_set_or_list() {
        let f = DaemonFile::parse("syscalls = \"%file,!openat\"\n").expect("string");
        assert_eq!(f.syscalls.as_deref(), Some("%file,!openat"));
        let f = DaemonFile::parse("syscalls = [\"openat\", \"%network\"]\n").expect("list");
        assert_eq!(f.syscalls.as_deref(), Some("openat,%network"));
        assert_eq!(DaemonFile::parse("").expect("empty").syscalls, None);
        let e = DaemonFile::parse("syscalls = 3\n").expect_err("bad");
        assert!(
            e.starts_with("line 1, key syscalls: give a syscall set"),
            "{e}"
        );
    }

    #[test]
    fn the_packaged_example_config_parses() {
        let text = include_str!("../../packaging/daemon.toml");
        let f = DaemonFile::parse(text).expect("packaging/daemon.toml");
        assert_eq!(f.containers, ["web"]);
        assert_eq!(f.output_dir, Some(PathBuf::from("/var/log/tracer")));
        assert_eq!(f.metrics.as_deref(), Some("127.0.0.1:9464"));
    }

    #[test]
    fn otlp_endpoints() {
        let ok = |s: &str| parse_otlp(s).map(|e| e.to_string()).ok();
        assert_eq!(
            ok("http://127.0.0.1:4317").as_deref(),
            Some("http://127.0.0.1:4317")
        );
        assert_eq!(
            ok("http://127.0.0.1:4317/").as_deref(),
            Some("http://127.0.0.1:4317")
        );
        assert_eq!(
            ok("collector:4317").as_deref(),
            Some("http://collector:4317")
        );
        assert_eq!(ok("4317").as_deref(), Some("http://127.0.0.1:4317"));
        assert_eq!(
            ok("http://[::1]:4317").as_deref(),
            Some("http://[::1]:4317")
        );
        for (bad, why) in [
            ("https://127.0.0.1:4317", "https (TLS) is not supported"),
            ("http://127.0.0.1", "no port"),
            ("http://127.0.0.1:4317/v1/logs", "a path"),
            ("grpc://127.0.0.1:4317", "scheme grpc"),
            ("http://user:pw@127.0.0.1:4317", "credentials"),
            ("0", "port 0"),
            ("", "bad --otlp"),
            ("http://a b:1", "not an address"),
        ] {
            let e = parse_otlp(bad).expect_err(bad);
            assert_eq!(e.exit_code(), exit::USAGE);
            let msg = e.to_string();
            assert!(msg.contains(why), "{bad}: {msg}");
            assert!(
                msg.starts_with("bad --otlp") && !msg.contains('\n'),
                "{msg}"
            );
        }
    }

    #[test]
    fn metrics_addresses() {
        assert_eq!(metrics_addr("9464").ok(), "127.0.0.1:9464".parse().ok());
        assert_eq!(metrics_addr("[::1]:9464").ok(), "[::1]:9464".parse().ok());
        assert!(metrics_addr("localhost").is_err());
    }
}
