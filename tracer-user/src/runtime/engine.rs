//! Which engine runs a container and where its API listens, and what every engine tells about
//! a container: identity, state and init pid.
use std::path::{Path, PathBuf};

use super::Container;
use crate::{error::Error, model::Runtime};

/// One engine's API socket: which engine, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub runtime: Runtime,
    /// `unix://PATH` or a bare path.
    pub address: String,
}

impl Engine {
    /// The engine's address: its environment variable when set (`DOCKER_HOST`,
    /// `CONTAINER_HOST`, `CONTAINERD_ADDRESS`), else the first of its usual sockets that
    /// exists, else its default socket.
    pub fn of(runtime: Runtime) -> Engine {
        let address = std::env::var(runtime.address_var()).unwrap_or_else(|_| {
            runtime
                .usual_addresses()
                .iter()
                .find(|a| socket_path(a).is_some_and(|p| Path::new(p).exists()))
                .unwrap_or(&runtime.usual_addresses()[0])
                .to_string()
        });
        Engine { runtime, address }
    }

    pub fn docker() -> Engine {
        Engine::of(Runtime::Docker)
    }

    /// Whether something listens there, as far as a stat can tell: the socket exists.
    pub fn present(&self) -> bool {
        socket_path(&self.address).is_some_and(|p| Path::new(p).exists())
    }

    /// The unix socket path, or a usage error for an address tracer cannot use.
    pub fn socket(&self) -> Result<&str, Error> {
        socket_path(&self.address).ok_or_else(|| {
            Error::Usage(format!(
                "unsupported {} {:?}: tracer talks to the local engine only; use unix://PATH",
                self.runtime.address_var(),
                self.address
            ))
        })
    }
}

/// The unix socket path of an address (`unix://PATH` or a bare path).
pub fn socket_path(addr: &str) -> Option<&str> {
    match addr.strip_prefix("unix://") {
        Some(p) => Some(p),
        None if !addr.contains("://") => Some(addr),
        None => None,
    }
}

/// A gRPC channel over the engine's unix socket (containerd's API, and CRI on containerd's or
/// CRI-O's socket): containerd's client opens it, and nothing in it is containerd's.
pub async fn grpc_channel(engine: &Engine) -> Result<tonic::transport::Channel, Error> {
    containerd_client::connect(engine.socket()?)
        .await
        .map_err(|e| unreachable(engine, std::error::Error::source(&e).unwrap_or(&e)))
}

/// The engine did not answer: a privilege error when its socket refuses us, else unreachable.
pub fn unreachable(engine: &Engine, reason: impl std::fmt::Display) -> Error {
    let addr = engine.address.clone();
    if let Some(path) = socket_path(&addr)
        && Path::new(path).exists()
        && let Err(nix::errno::Errno::EACCES) = nix::unistd::access(
            path,
            nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK,
        )
    {
        return Error::Privilege(format!(
            "to use the {} socket {path}: permission denied; run as root or as a member of the socket's group",
            engine.runtime.title()
        ));
    }
    engine.runtime.unreachable(addr, reason.to_string())
}

/// The capabilities an OCI runtime spec gives the container's processes (their bounding set:
/// what a root process in it holds), as `CAP_…` names.
pub fn spec_caps(spec: &serde_json::Value) -> Option<Vec<String>> {
    let caps = spec["process"]["capabilities"]["bounding"].as_array()?;
    Some(
        caps.iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect(),
    )
}

/// What tracer needs to know about a container at one moment.
#[derive(Debug, Clone)]
pub struct State {
    pub container: Container,
    /// containerd's namespace (`moby`, `k8s.io`, `default`, …) on containerd.
    pub namespace: Option<String>,
    pub running: bool,
    /// Created but not started yet: its init process (`pid`) exists in its cgroup, blocked
    /// before the entrypoint's execve (runc's `create`). The daemon follows it from there.
    pub starting: bool,
    pub pid: u32,
    /// When its process started (Docker's `State.StartedAt`), when the engine says.
    pub started_at: Option<time::OffsetDateTime>,
    /// Its last exit code, once it has exited, when the engine says.
    pub exit_code: Option<i64>,
    /// Its cgroup below the cgroup2 root, from its OCI spec (`linux.cgroupsPath`), when the
    /// engine gives it: found without /proc/PID/cgroup, which names it only relative to
    /// tracer's own cgroup namespace (a pod's on a cgroup v2 node).
    pub cgroup: Option<PathBuf>,
}

/// The cgroup directory an OCI `linux.cgroupsPath` names, below the cgroup2 root: a path
/// (cgroupfs driver: `/kubepods/besteffort/pod<uid>/<id>`) or systemd's
/// `SLICE:PREFIX:NAME` (`kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>`, a scope in
/// the slice, which systemd nests by its dashes: `kubepods.slice/kubepods-besteffort.slice/…`).
pub fn cgroups_path(spec: &str) -> Option<PathBuf> {
    if let Some(path) = spec.strip_prefix('/') {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let mut parts = spec.split(':');
    let (slice, prefix, name) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || name.is_empty() {
        return None;
    }
    let mut dir = PathBuf::new();
    let slice = slice.strip_suffix(".slice").unwrap_or(slice);
    if !slice.is_empty() && slice != "-" {
        let mut upto = String::new();
        for part in slice.split('-') {
            if part.is_empty() {
                return None;
            }
            if !upto.is_empty() {
                upto.push('-');
            }
            upto.push_str(part);
            dir.push(format!("{upto}.slice"));
        }
    }
    dir.push(match prefix {
        "" => format!("{name}.scope"),
        p => format!("{p}-{name}.scope"),
    });
    Some(dir)
}

impl State {
    /// How the user starts it again, in the engine's own command line.
    pub fn start_command(&self) -> String {
        let name = &self.container.name;
        match (self.container.runtime, &self.namespace) {
            (Runtime::Containerd, Some(ns)) => format!("ctr -n {ns} task start -d {name}"),
            (r, _) => format!("{} start {name}", r.cli()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_cgroups_paths_of_both_drivers() {
        let id = "4f1c";
        assert_eq!(
            cgroups_path(&format!("/kubepods/besteffort/podu1/{id}")),
            Some(PathBuf::from("kubepods/besteffort/podu1/4f1c"))
        );
        assert_eq!(
            cgroups_path(&format!(
                "kubepods-besteffort-podu1.slice:cri-containerd:{id}"
            )),
            Some(PathBuf::from(
                "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podu1.slice/cri-containerd-4f1c.scope"
            ))
        );
        assert_eq!(
            cgroups_path(&format!("kubepods-podu2.slice:crio:{id}")),
            Some(PathBuf::from(
                "kubepods.slice/kubepods-podu2.slice/crio-4f1c.scope"
            ))
        );
        assert_eq!(
            cgroups_path(&format!("system.slice:docker:{id}")),
            Some(PathBuf::from("system.slice/docker-4f1c.scope"))
        );
        for bad in ["", "/", "a:b", "a:b:c:d", "a--b.slice:p:x", "s.slice:p:"] {
            assert_eq!(cgroups_path(bad), None, "{bad}");
        }
    }
}
