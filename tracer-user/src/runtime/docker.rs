//! Docker Engine API over its unix socket (bollard): container id, name, state and init pid.
use bollard::{Docker, errors::Error as DockerError};

use super::Container;
use crate::error::Error;

pub struct Inspected {
    pub container: Container,
    pub pid: u32,
}

/// The address bollard connects to: `DOCKER_HOST` when set, else the default socket.
fn address() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// The unix socket path of an address (`unix://PATH` or a bare path).
fn socket_path(addr: &str) -> Option<&str> {
    match addr.strip_prefix("unix://") {
        Some(p) => Some(p),
        None if !addr.contains("://") => Some(addr),
        None => None,
    }
}

fn unreachable(reason: impl std::fmt::Display) -> Error {
    let addr = address();
    if let Some(path) = socket_path(&addr)
        && std::path::Path::new(path).exists()
        && let Err(nix::errno::Errno::EACCES) = nix::unistd::access(
            path,
            nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK,
        )
    {
        return Error::Privilege(format!(
            "to use the Docker socket {path}: permission denied; run as root or as a member of the socket's group (usually docker)"
        ));
    }
    Error::DockerUnreachable {
        addr,
        reason: reason.to_string(),
    }
}

/// Connects to the engine named by `DOCKER_HOST` (`unix://PATH`), else /var/run/docker.sock.
pub fn connect() -> Result<Docker, Error> {
    let addr = address();
    match socket_path(&addr) {
        Some(path) => {
            Docker::connect_with_unix(path, 30, bollard::API_DEFAULT_VERSION).map_err(unreachable)
        }
        None => Err(Error::Usage(format!(
            "unsupported DOCKER_HOST {addr:?}: tracer talks to the local engine only; use unix://PATH"
        ))),
    }
}

/// The capabilities Docker gives a container: `(privileged, cap_add, cap_drop)`.
pub async fn capabilities(name: &str) -> Result<(bool, Vec<String>, Vec<String>), Error> {
    let docker = connect_negotiated().await?;
    let info = docker
        .inspect_container(
            name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .map_err(|e| match e {
            DockerError::DockerResponseServerError {
                status_code: 404, ..
            } => Error::NoSuchContainer(name.to_string()),
            e => unreachable(e),
        })?;
    let host = info.host_config.unwrap_or_default();
    Ok((
        host.privileged == Some(true),
        host.cap_add.unwrap_or_default(),
        host.cap_drop.unwrap_or_default(),
    ))
}

/// A running container by name or id.
pub async fn inspect(name_or_id: &str) -> Result<Inspected, Error> {
    // The engine may be older than bollard's default API version: agree on one first.
    let docker = connect_negotiated().await?;
    match state(&docker, name_or_id).await? {
        None => Err(Error::NoSuchContainer(name_or_id.to_string())),
        Some(s) if !s.running => Err(Error::ContainerNotRunning(s.container.name)),
        Some(s) => Ok(Inspected {
            container: s.container,
            pid: s.pid,
        }),
    }
}

/// What the daemon needs to know about a container at one moment.
#[derive(Debug, Clone)]
pub struct State {
    pub container: Container,
    pub running: bool,
    pub pid: u32,
    /// When its process started (Docker's `State.StartedAt`), when running.
    pub started_at: Option<time::OffsetDateTime>,
}

/// Connects and agrees on an API version with the engine.
pub async fn connect_negotiated() -> Result<Docker, Error> {
    connect()?.negotiate_version().await.map_err(unreachable)
}

/// The container named `name_or_id`, `None` when the engine has none by that name.
pub async fn state(docker: &Docker, name_or_id: &str) -> Result<Option<State>, Error> {
    let info = match docker
        .inspect_container(
            name_or_id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
    {
        Ok(info) => info,
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => return Ok(None),
        Err(e @ DockerError::DockerResponseServerError { .. }) => {
            return Err(Error::Docker {
                what: format!("docker inspect {name_or_id}"),
                source: Box::new(e),
            });
        }
        Err(e) => return Err(unreachable(e)),
    };
    let state = info.state.unwrap_or_default();
    let started_at = state.started_at.as_deref().and_then(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    });
    let pid = state.pid.unwrap_or(0).max(0) as u32;
    Ok(Some(State {
        container: Container {
            id: info.id.unwrap_or_default(),
            name: info
                .name
                .as_deref()
                .unwrap_or(name_or_id)
                .trim_start_matches('/')
                .to_string(),
        },
        running: state.running == Some(true) && pid > 0,
        pid,
        started_at,
    }))
}
