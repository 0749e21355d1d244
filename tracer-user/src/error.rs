//! Every failure a user can act on, with its exit code. Messages are one line: the problem, then
//! the way out.
use std::path::PathBuf;

/// Exit codes, documented in docs/cli.md.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NO_SUCH_TARGET: u8 = 3;
    pub const NOT_RUNNING: u8 = 4;
    pub const RUNTIME_UNREACHABLE: u8 = 5;
    pub const PRIVILEGE: u8 = 6;
    pub const KERNEL_SUPPORT: u8 = 7;
    pub const OUTPUT: u8 = 8;
    pub const WOULD_DENY: u8 = 9;
    pub const RECORDING: u8 = 10;
    pub const AMBIGUOUS: u8 = 11;
    pub const PROFILE_CONFLICT: u8 = 12;
    pub const PROFILES_DIFFER: u8 = 13;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error(
        "no such container: {0}; list running containers with `docker ps`, `podman ps` or `ctr -n NAMESPACE task ls`, or choose the engine with --runtime and its socket with DOCKER_HOST, CONTAINER_HOST or CONTAINERD_ADDRESS"
    )]
    NoSuchContainer(String),
    #[error(
        "no such pod: {0}; list this node's pods with `crictl pods`, and check --namespace and --selector"
    )]
    NoSuchPod(String),
    #[error("no such process: {0}; check the pid with `ps -p {0}`")]
    NoSuchProcess(u32),
    #[error("no such cgroup v2 directory: {0}; pass a directory under the cgroup2 mount")]
    NoSuchCgroup(PathBuf),
    #[error("container {0} is not running; start it with `{1}`")]
    /// The container's name and the engine's command that starts it.
    ContainerNotRunning(String, String),
    #[error(
        "cannot reach the {} engine at {addr}: {reason}; start it ({}), set {}=unix://PATH, or target processes with -p PID, --container-of PID or --cgroup",
        .title,
        .service,
        .var
    )]
    RuntimeUnreachable {
        title: &'static str,
        /// How its service is started.
        service: &'static str,
        /// The environment variable that moves its socket.
        var: &'static str,
        addr: String,
        reason: String,
    },
    /// One name, containers on several engines.
    #[error(
        "container name {name} is on {}: choose one with --runtime {} (or give the container's id)",
        .runtimes.join(" and "),
        .runtimes.join("|")
    )]
    AmbiguousContainer {
        name: String,
        /// The engines' names (docker, podman).
        runtimes: Vec<&'static str>,
    },
    /// One name, several containers of one engine: containerd namespaces, pods in several
    /// Kubernetes namespaces, a pod's containers.
    #[error("{what} matches {}: {hint}", .matches.join(" and "))]
    Ambiguous {
        /// `container web`, `pod web`.
        what: String,
        matches: Vec<String>,
        /// How to choose.
        hint: &'static str,
    },
    /// `{0}` says what was refused and the capability that allows it.
    #[error("not enough privilege {0}")]
    Privilege(String),
    #[error("kernel support missing: {0}")]
    KernelSupport(String),
    #[error("cannot write output file {path}: {reason}; choose a writable path with --output")]
    Output { path: PathBuf, reason: String },
    #[error(
        "output file {0}: no space left on its file system; free space there or choose another path with --output (the lines written so far are complete)"
    )]
    OutputFull(PathBuf),
    #[error(
        "the profile would deny {0} observed syscall(s), listed above; allow them in the profile, or change what the container does"
    )]
    WouldDeny(usize),
    /// `seccomp watch` found calls the profile would not simply have allowed.
    #[error(
        "the profile would not have allowed {calls} observed call(s) ({by}), each in the findings written; allow them in the profile, or change what the container does"
    )]
    WouldReject {
        calls: u64,
        /// `1 would_deny, 2 would_kill`.
        by: String,
    },
    /// `seccomp merge`: profiles that cannot be combined; the message names both sides and
    /// what to change.
    #[error("{0}")]
    ProfileConflict(String),
    /// `seccomp diff`: the profiles differ (the differences are on standard output).
    #[error("the profiles differ in {0} place(s), listed above")]
    ProfilesDiffer(usize),
    /// An input file (recorded events) that cannot be used.
    #[error(
        "cannot use events file {path}: {why}; give JSON lines written by `tracer observe --format json` or `tracer daemon`"
    )]
    Input { path: PathBuf, why: String },
    /// A recording (`tracer show FILE`) that cannot be read on from a byte offset: cut,
    /// corrupt, another format version, not a recording. Reported after every whole record
    /// before that offset was written.
    #[error("recording {path}: {why}")]
    Recording { path: PathBuf, why: String },
    /// An operation of our own that failed for a reason outside the user's input.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The kernel refused an operation on the BPF object (other than for privilege).
    #[error("{what}: {source}")]
    Bpf {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The Docker engine answered a request with an error.
    #[error("{what}: {source}")]
    Docker {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A task of the pipeline panicked or was cancelled.
    #[error("{what}: {source}")]
    Task {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A failed write to `path` (`<stdout>` for standard output).
    pub fn write_failed(path: PathBuf, e: &std::io::Error) -> Error {
        match e.raw_os_error() {
            Some(libc::ENOSPC | libc::EDQUOT) => Error::OutputFull(path),
            _ => Error::Output {
                path,
                reason: e.to_string(),
            },
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Input { .. } => exit::USAGE,
            Error::NoSuchContainer(_)
            | Error::NoSuchPod(_)
            | Error::NoSuchProcess(_)
            | Error::NoSuchCgroup(_) => exit::NO_SUCH_TARGET,
            Error::ContainerNotRunning(..) => exit::NOT_RUNNING,
            Error::RuntimeUnreachable { .. } => exit::RUNTIME_UNREACHABLE,
            Error::AmbiguousContainer { .. } | Error::Ambiguous { .. } => exit::AMBIGUOUS,
            Error::Privilege(_) => exit::PRIVILEGE,
            Error::KernelSupport(_) => exit::KERNEL_SUPPORT,
            Error::Output { .. } | Error::OutputFull(_) => exit::OUTPUT,
            Error::WouldDeny(_) | Error::WouldReject { .. } => exit::WOULD_DENY,
            Error::ProfileConflict(_) => exit::PROFILE_CONFLICT,
            Error::ProfilesDiffer(_) => exit::PROFILES_DIFFER,
            Error::Recording { .. } => exit::RECORDING,
            Error::Io { .. }
            | Error::Bpf { .. }
            | Error::Docker { .. }
            | Error::Task { .. }
            | Error::Internal(_) => exit::INTERNAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_exit_code() {
        let errors = [
            Error::Usage(String::new()),
            Error::NoSuchContainer(String::new()),
            Error::ContainerNotRunning(String::new(), String::new()),
            Error::RuntimeUnreachable {
                title: "podman",
                service: "podman system service --time=0",
                var: "CONTAINER_HOST",
                addr: String::new(),
                reason: String::new(),
            },
            Error::Privilege(String::new()),
            Error::KernelSupport(String::new()),
            Error::Output {
                path: PathBuf::new(),
                reason: String::new(),
            },
            Error::WouldDeny(1),
            Error::ProfileConflict(String::new()),
            Error::ProfilesDiffer(1),
            Error::Recording {
                path: PathBuf::new(),
                why: String::new(),
            },
            Error::AmbiguousContainer {
                name: "web".into(),
                runtimes: vec!["docker", "podman"],
            },
            Error::Internal(String::new()),
        ];
        let mut codes: Vec<u8> = errors.iter().map(Error::exit_code).collect();
        assert!(!codes.contains(&exit::OK));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(Error::NoSuchProcess(1).exit_code(), exit::NO_SUCH_TARGET);
        assert_eq!(Error::OutputFull(PathBuf::new()).exit_code(), exit::OUTPUT);
        let watch = Error::WouldReject {
            calls: 1,
            by: "1 would_deny".into(),
        };
        assert_eq!(watch.exit_code(), exit::WOULD_DENY);
        let input = Error::Input {
            path: "e.jsonl".into(),
            why: "it holds no syscall record".into(),
        };
        assert_eq!(input.exit_code(), exit::USAGE);
        assert!(
            input
                .to_string()
                .contains("e.jsonl: it holds no syscall record;")
        );
    }

    #[test]
    fn messages_are_one_line_and_name_the_way_out() {
        let e = Error::ContainerNotRunning("web".into(), "podman start web".into());
        assert_eq!(
            e.to_string(),
            "container web is not running; start it with `podman start web`"
        );
        assert!(!e.to_string().contains('\n'));
        let e = Error::AmbiguousContainer {
            name: "web".into(),
            runtimes: vec!["docker", "podman"],
        };
        assert_eq!(
            e.to_string(),
            "container name web is on docker and podman: choose one with --runtime docker|podman (or give the container's id)"
        );
        let e = Error::RuntimeUnreachable {
            title: "podman",
            service: "podman system service --time=0",
            var: "CONTAINER_HOST",
            addr: "unix:///run/podman/podman.sock".into(),
            reason: "refused".into(),
        };
        assert!(
            e.to_string().contains(
                "start it (podman system service --time=0), set CONTAINER_HOST=unix://PATH"
            ),
            "{e}"
        );
    }
}
