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
    let docker = connect()?.negotiate_version().await.map_err(unreachable)?;
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
        }) => {
            return Err(Error::NoSuchContainer(name_or_id.to_string()));
        }
        Err(e @ DockerError::DockerResponseServerError { .. }) => {
            return Err(Error::Internal(format!("docker inspect {name_or_id}: {e}")));
        }
        Err(e) => return Err(unreachable(e)),
    };
    let id = info.id.unwrap_or_default();
    let name = info
        .name
        .as_deref()
        .unwrap_or(name_or_id)
        .trim_start_matches('/')
        .to_string();
    let state = info.state.unwrap_or_default();
    let pid = state.pid.unwrap_or(0);
    if state.running != Some(true) || pid <= 0 {
        return Err(Error::ContainerNotRunning(name));
    }
    Ok(Inspected {
        container: Container { id, name },
        pid: pid as u32,
    })
}
