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

fn unreachable(reason: impl std::fmt::Display) -> Error {
    Error::DockerUnreachable {
        addr: address(),
        reason: reason.to_string(),
    }
}

/// Connects to the engine named by `DOCKER_HOST` (`unix://PATH`), else /var/run/docker.sock.
pub fn connect() -> Result<Docker, Error> {
    let addr = address();
    if let Some(path) = addr.strip_prefix("unix://") {
        Docker::connect_with_unix(path, 30, bollard::API_DEFAULT_VERSION).map_err(unreachable)
    } else if addr.contains("://") {
        Err(Error::Usage(format!(
            "unsupported DOCKER_HOST {addr:?}: tracer talks to the local engine only; use unix://PATH"
        )))
    } else {
        Docker::connect_with_unix(&addr, 30, bollard::API_DEFAULT_VERSION).map_err(unreachable)
    }
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
            return Err(Error::Internal(format!("docker inspect {name_or_id}: {e}")));
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
