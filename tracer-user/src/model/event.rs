//! The typed events every stage passes on: a syscall as the kernel reported it, its arguments
//! decoded, and the container it came from. Plain data: no stage's logic lives here.
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How the enter side of a syscall record was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enter {
    /// Enter and exit paired in the kernel.
    Seen,
    /// No enter: the call was in flight when tracing began, or this is the child side of a
    /// fork/clone returning for the first time.
    Missing,
    /// No enter on a thread that was already followed: the kernel skipped `sys_enter`, which is
    /// what a seccomp rejection looks like.
    Skipped,
    /// Entered, and still in progress when tracing stopped (read from the kernel's pending
    /// map at the end): `ret` is `None`.
    Unfinished,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallEvent {
    /// CLOCK_MONOTONIC at exit (at enter for syscalls that never return).
    pub ktime_ns: u64,
    /// CLOCK_MONOTONIC at enter, when seen.
    pub enter_ns: Option<u64>,
    pub nr: u32,
    pub args: [u64; 6],
    /// `None` for syscalls that never return.
    pub ret: Option<i64>,
    pub tgid: u32,
    pub tid: u32,
    pub ns_tgid: Option<u32>,
    pub ns_tid: Option<u32>,
    pub cgroup_id: u64,
    pub comm: [u8; 16],
    pub enter: Enter,
    /// seccomp answered the call with SIGSYS (`SCMP_ACT_KILL*`, `SCMP_ACT_TRAP`): it never ran
    /// (`ret` is `None`), and the thread is killed unless it handles SIGSYS.
    pub sigsys: bool,
    /// Argument contents read by the kernel (enter side merged in by `pairing`).
    pub captures: Vec<Capture>,
    /// With `-k`: the caller's user stack, innermost frame first; the kernel gives the
    /// addresses (decode), the enrich stage what is there (`enrich::stack`). `None` without
    /// `-k`; empty when the kernel's walk failed.
    pub stack: Option<Vec<Frame>>,
}

/// One frame of a user stack: a return address (the first frame: where the call was made) and
/// what the process had mapped there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// The address in the process.
    pub addr: u64,
    /// The file mapped at `addr`, as the process's /proc/PID/maps names it (bytes: a traced
    /// process chooses its file names).
    pub module: Option<Vec<u8>>,
    /// The function containing `addr`, demangled (from the binary: hostile too).
    pub symbol: Option<String>,
    /// `addr`'s offset from the start of `symbol`.
    pub offset: u64,
    /// `addr` as an offset in `module`'s file (strace's bracketed number).
    pub file_offset: Option<u64>,
}

/// Contents of one argument (or one element of it) as the kernel read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub arg: u8,
    /// `tracer_common::capture::CAP_*`.
    pub kind: u8,
    /// `CAPF_*`.
    pub flags: u8,
    pub index: u8,
    pub data: Vec<u8>,
}

impl Capture {
    pub fn truncated(&self) -> bool {
        self.flags & tracer_common::capture::CAPF_TRUNCATED != 0
    }

    pub fn fault(&self) -> bool {
        self.flags & tracer_common::capture::CAPF_FAULT != 0
    }

    /// Read at the syscall's exit (a value the call updated, or a string read again).
    pub fn at_exit(&self) -> bool {
        self.flags & tracer_common::capture::CAPF_AT_EXIT != 0
    }

    /// The whole read faulted but the capture holds the bytes before the first unreadable
    /// page (`CAPF_SHORT`).
    pub fn short(&self) -> bool {
        self.fault() && self.flags & tracer_common::capture::CAPF_SHORT != 0
    }

    /// Bytes readable from the start: all of them, those before the unreadable page
    /// (`short`), or none after a fault.
    pub fn readable_len(&self) -> usize {
        if !self.fault() || self.short() {
            self.data.len()
        } else {
            0
        }
    }
}

/// Enter-side captures of a syscall still in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterEvent {
    pub tid: u32,
    pub nr: u32,
    pub captures: Vec<Capture>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Syscall(SyscallEvent),
    Enter(EnterEvent),
    /// A signal delivered, or a death by signal.
    Signal(super::signal::SignalEvent),
}

impl SyscallEvent {
    /// Rejected by seccomp: no `sys_enter` on a thread already followed (seccomp runs before
    /// the tracepoint), and an error return (docs/seccomp.md).
    pub fn seccomp_denied(&self) -> bool {
        self.enter == Enter::Skipped && self.ret.is_some_and(|r| r < 0)
    }

    /// What seccomp did to the call, as the record shows it: `"sigsys"` (killed or trapped),
    /// `"denied"` (failed with an errno), or nothing seen.
    pub fn seccomp(&self) -> Option<&'static str> {
        if self.sigsys {
            Some("sigsys")
        } else if self.seccomp_denied() {
            Some("denied")
        } else {
            None
        }
    }

    pub fn duration_ns(&self) -> Option<u64> {
        match (self.enter_ns, self.ret) {
            (Some(enter), Some(_)) => Some(self.ktime_ns.saturating_sub(enter)),
            _ => None,
        }
    }

    /// The comm up to its first NUL.
    pub fn comm_bytes(&self) -> &[u8] {
        let end = self
            .comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.comm.len());
        &self.comm[..end]
    }
}

/// An argument's JSON `value`, typed: numbers, names and the hot structures (argv, iovecs,
/// socket addresses) are written into the line as they are, without a `serde_json::Value`
/// and without an allocation for a number or a name; the other structures stay serde_json
/// values. Equal when their JSON is.
#[derive(Debug, Clone, Default)]
pub enum ArgValue {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A name from a table (`AT_FDCWD`, `SIGTERM`, `O_RDONLY`).
    Name(&'static str),
    /// A string made for this call (a set of flags, captured text).
    Str(String),
    Array(Vec<ArgValue>),
    /// An object with fixed keys, in this order.
    Object(Vec<(&'static str, ArgValue)>),
    Json(Box<serde_json::Value>),
}

impl ArgValue {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ArgValue::Null => serde_json::Value::Null,
            ArgValue::Bool(b) => (*b).into(),
            ArgValue::Int(n) => (*n).into(),
            ArgValue::UInt(n) => (*n).into(),
            ArgValue::Name(s) => (*s).into(),
            ArgValue::Str(s) => s.as_str().into(),
            ArgValue::Array(a) => a.iter().map(ArgValue::to_json).collect(),
            ArgValue::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_json()))
                    .collect(),
            ),
            ArgValue::Json(v) => (**v).clone(),
        }
    }

    pub fn into_json(self) -> serde_json::Value {
        match self {
            ArgValue::Str(s) => s.into(),
            ArgValue::Array(a) => a.into_iter().map(ArgValue::into_json).collect(),
            ArgValue::Object(o) => serde_json::Value::Object(
                o.into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into_json()))
                    .collect(),
            ),
            ArgValue::Json(v) => *v,
            v => v.to_json(),
        }
    }

    /// The string, for a name or a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ArgValue::Name(s) => Some(s),
            ArgValue::Str(s) => Some(s),
            ArgValue::Json(v) => v.as_str(),
            _ => None,
        }
    }
}

impl PartialEq for ArgValue {
    fn eq(&self, other: &ArgValue) -> bool {
        match (self.as_str(), other.as_str()) {
            (Some(a), Some(b)) => a == b,
            _ => self.to_json() == other.to_json(),
        }
    }
}

/// Scalars typed, the rest kept as it is.
impl From<serde_json::Value> for ArgValue {
    fn from(v: serde_json::Value) -> ArgValue {
        match v {
            serde_json::Value::Null => ArgValue::Null,
            serde_json::Value::Bool(b) => ArgValue::Bool(b),
            serde_json::Value::String(s) => ArgValue::Str(s),
            serde_json::Value::Number(n) if n.is_u64() => ArgValue::UInt(n.as_u64().unwrap_or(0)),
            serde_json::Value::Number(n) if n.is_i64() => ArgValue::Int(n.as_i64().unwrap_or(0)),
            v => ArgValue::Json(Box::new(v)),
        }
    }
}

impl From<bool> for ArgValue {
    fn from(b: bool) -> ArgValue {
        ArgValue::Bool(b)
    }
}

impl From<i32> for ArgValue {
    fn from(n: i32) -> ArgValue {
        ArgValue::Int(n.into())
    }
}

impl From<u32> for ArgValue {
    fn from(n: u32) -> ArgValue {
        ArgValue::UInt(n.into())
    }
}

impl From<u16> for ArgValue {
    fn from(n: u16) -> ArgValue {
        ArgValue::UInt(n.into())
    }
}

impl From<i64> for ArgValue {
    fn from(n: i64) -> ArgValue {
        ArgValue::Int(n)
    }
}

impl From<u64> for ArgValue {
    fn from(n: u64) -> ArgValue {
        ArgValue::UInt(n)
    }
}

impl From<&'static str> for ArgValue {
    fn from(s: &'static str) -> ArgValue {
        ArgValue::Name(s)
    }
}

impl From<String> for ArgValue {
    fn from(s: String) -> ArgValue {
        ArgValue::Str(s)
    }
}

/// The JSON of an argument: its `value`, plus `hex` (captured bytes that are not UTF-8: every
/// byte, so nothing is lost), `truncated` (the data was cut) and `path` (`-y`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArgJson {
    pub value: ArgValue,
    pub hex: Option<String>,
    pub truncated: bool,
    pub path: Option<String>,
}

impl ArgJson {
    pub fn of(value: impl Into<ArgValue>) -> Self {
        ArgJson {
            value: value.into(),
            ..ArgJson::default()
        }
    }

    /// The fields as an object (value, hex, truncated, path), for nesting.
    pub fn into_object(self) -> ArgValue {
        let mut o = vec![("value", self.value)];
        if let Some(h) = self.hex {
            o.push(("hex", ArgValue::Str(h)));
        }
        if self.truncated {
            o.push(("truncated", ArgValue::Bool(true)));
        }
        if let Some(p) = self.path {
            o.push(("path", ArgValue::Str(p)));
        }
        ArgValue::Object(o)
    }

    /// The fields as a JSON object (value, hex, truncated, path), for nesting.
    pub fn to_object(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("value".into(), self.value.to_json());
        if let Some(h) = &self.hex {
            m.insert("hex".into(), h.clone().into());
        }
        if self.truncated {
            m.insert("truncated".into(), true.into());
        }
        if let Some(p) = &self.path {
            m.insert("path".into(), p.clone().into());
        }
        m
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedArg {
    pub name: &'static str,
    pub ty: &'static str,
    pub raw: u64,
    /// strace's rendering.
    pub text: String,
    /// `value` and any extra fields (`hex`, `truncated`, `path`) for the JSON argument object.
    pub json: ArgJson,
    /// strace leaves some arguments out (openat's mode without O_CREAT); JSON keeps them all.
    pub shown: bool,
    /// Position in strace's text, where it differs from the kernel's order (clone).
    pub text_pos: u8,
    /// An fd argument: what it refers to, from the enrich stage's fd tables (`-y`, `-P`).
    pub fd_path: Option<std::sync::Arc<[u8]>>,
}

impl DecodedArg {
    /// The argument's object in a JSON record: name, type, value (and hex, truncated, path),
    /// raw, in docs/events.md's order.
    pub fn to_json(&self) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        o.insert("name".into(), self.name.into());
        o.insert("type".into(), self.ty.into());
        o.extend(self.json.to_object());
        o.insert("raw".into(), self.raw.into());
        serde_json::Value::Object(o)
    }
}

/// A container's identity, copied into every record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    pub name: String,
    /// The engine that runs it (recordings and records from before this field: Docker).
    #[serde(default)]
    pub runtime: Runtime,
    /// The Kubernetes pod it is in, when CRI found it (`name` is then the Kubernetes
    /// container name): `pod`, `namespace` and `pod_uid` beside the other fields.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Pod>,
}

impl Container {
    /// How metrics and per-container files name it: its name, or `NAMESPACE/POD/NAME` in a
    /// pod (one Kubernetes container name is in many pods).
    pub fn label(&self) -> std::borrow::Cow<'_, str> {
        match &self.pod {
            Some(p) => format!("{}/{}/{}", p.namespace, p.name, self.name).into(),
            None => self.name.as_str().into(),
        }
    }

    /// Its file name stem: the label with `/` as `_` (`NAMESPACE_POD_NAME`, as the kubelet
    /// names pod logs; Kubernetes names have no `_`).
    pub fn file_stem(&self) -> std::borrow::Cow<'_, str> {
        match self.label() {
            std::borrow::Cow::Owned(l) => l.replace('/', "_").into(),
            b => b,
        }
    }
}

/// A Kubernetes pod, as the CRI runtime knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    #[serde(rename = "pod")]
    pub name: String,
    pub namespace: String,
    #[serde(rename = "pod_uid")]
    pub uid: String,
}

/// A container engine tracer asks for names, ids and init pids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    #[default]
    Docker,
    Podman,
    Containerd,
    /// The Kubernetes Container Runtime Interface, on containerd's or CRI-O's socket.
    Cri,
}

impl Runtime {
    /// In the order they are asked when the user names no engine: the engines that name
    /// containers first, so that a Docker container is reported as Docker's, not as the
    /// containerd container under it (namespace `moby`), and a Kubernetes container as CRI's,
    /// with its pod, not as containerd's (namespace `k8s.io`).
    pub const ALL: [Runtime; 4] = [
        Runtime::Docker,
        Runtime::Podman,
        Runtime::Cri,
        Runtime::Containerd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "containerd",
            Runtime::Cri => "cri",
        }
    }

    /// The engine's name in a sentence.
    pub fn title(self) -> &'static str {
        match self {
            Runtime::Docker => "Docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "containerd",
            Runtime::Cri => "CRI",
        }
    }

    /// Its command line, as users type it.
    pub fn cli(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "ctr",
            Runtime::Cri => "crictl",
        }
    }

    /// The environment variable that moves the engine's socket.
    pub fn address_var(self) -> &'static str {
        match self {
            Runtime::Docker => "DOCKER_HOST",
            Runtime::Podman => "CONTAINER_HOST",
            Runtime::Containerd => "CONTAINERD_ADDRESS",
            // crictl's.
            Runtime::Cri => "CONTAINER_RUNTIME_ENDPOINT",
        }
    }

    /// Where the engine's socket usually is, the default first. containerd: the system's, then
    /// the one dockerd starts for itself when there is none.
    pub fn usual_addresses(self) -> &'static [&'static str] {
        match self {
            Runtime::Docker => &["unix:///var/run/docker.sock"],
            Runtime::Podman => &["unix:///run/podman/podman.sock"],
            Runtime::Containerd => &[
                "unix:///run/containerd/containerd.sock",
                "unix:///var/run/docker/containerd/containerd.sock",
            ],
            Runtime::Cri => &[
                "unix:///run/containerd/containerd.sock",
                "unix:///run/crio/crio.sock",
            ],
        }
    }

    /// The engine at `addr` did not answer.
    pub fn unreachable(self, addr: String, reason: String) -> crate::error::Error {
        crate::error::Error::RuntimeUnreachable {
            title: self.title(),
            service: self.service(),
            var: self.address_var(),
            addr,
            reason,
        }
    }

    /// How the engine's API service is started.
    pub fn service(self) -> &'static str {
        match self {
            Runtime::Docker => "dockerd",
            Runtime::Podman => "podman system service --time=0",
            Runtime::Containerd => "containerd",
            Runtime::Cri => "containerd with its CRI plugin, or crio",
        }
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Runtime::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown runtime {s:?}: give docker, podman, containerd or cri"))
    }
}

/// One syscall, decoded once and enriched: what every sink renders.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub call: SyscallEvent,
    /// Every argument, in the kernel's order.
    pub args: Vec<DecodedArg>,
    /// With `-y`: what the returned fd refers to.
    pub ret_path: Option<Vec<u8>>,
    /// With `-yy`: how the returned fd is shown instead (`TCP:[…]`), already escaped.
    pub ret_shown: Option<String>,
    /// strace's text after the return value, without its parentheses (`Timeout`).
    pub ret_note: Option<String>,
    /// The followed container the call came from.
    pub container: Option<Arc<Container>>,
}
