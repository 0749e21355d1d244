//! The Docker Engine API over a unix socket (bollard): container id, name, state and init pid.
//! Docker speaks it, and so does podman's service (`podman system service`), whose
//! Docker-compatible endpoints answer the same inspect with the same fields.
use bollard::{Docker, errors::Error as DockerError};

use super::Container;
use crate::{error::Error, model::Runtime};

/// One engine speaking the Docker API: which, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub runtime: Runtime,
    /// `unix://PATH` or a bare path.
    pub address: String,
}

impl Engine {
    /// The engine's address: its environment variable when set (`DOCKER_HOST`,
    /// `CONTAINER_HOST`), else its default socket.
    pub fn of(runtime: Runtime) -> Engine {
        Engine {
            runtime,
            address: std::env::var(runtime.address_var())
                .unwrap_or_else(|_| runtime.default_address().into()),
        }
    }

    pub fn docker() -> Engine {
        Engine::of(Runtime::Docker)
    }

    /// Whether something listens there, as far as a stat can tell: the socket exists.
    pub fn present(&self) -> bool {
        socket_path(&self.address).is_some_and(|p| std::path::Path::new(p).exists())
    }
}

/// The unix socket path of an address (`unix://PATH` or a bare path).
fn socket_path(addr: &str) -> Option<&str> {
    match addr.strip_prefix("unix://") {
        Some(p) => Some(p),
        None if !addr.contains("://") => Some(addr),
        None => None,
    }
}

fn unreachable(engine: &Engine, reason: impl std::fmt::Display) -> Error {
    let addr = engine.address.clone();
    if let Some(path) = socket_path(&addr)
        && std::path::Path::new(path).exists()
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

/// Connects to the engine's unix socket.
pub fn connect(engine: &Engine) -> Result<Docker, Error> {
    let addr = &engine.address;
    match socket_path(addr) {
        Some(path) => Docker::connect_with_unix(path, 30, bollard::API_DEFAULT_VERSION)
            .map_err(|e| unreachable(engine, e)),
        None => Err(Error::Usage(format!(
            "unsupported {} {addr:?}: tracer talks to the local engine only; use unix://PATH",
            engine.runtime.address_var()
        ))),
    }
}

/// The capabilities Docker gives a container: `(privileged, cap_add, cap_drop)`.
pub async fn capabilities(
    engine: &Engine,
    name: &str,
) -> Result<(bool, Vec<String>, Vec<String>), Error> {
    let docker = connect_negotiated(engine).await?;
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
            e => unreachable(engine, e),
        })?;
    let host = info.host_config.unwrap_or_default();
    Ok((
        host.privileged == Some(true),
        host.cap_add.unwrap_or_default(),
        host.cap_drop.unwrap_or_default(),
    ))
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
pub async fn connect_negotiated(engine: &Engine) -> Result<Docker, Error> {
    connect(engine)?
        .negotiate_version()
        .await
        .map_err(|e| unreachable(engine, e))
}

/// The container named `name_or_id` on `engine` (which `docker` is connected to), `None`
/// when the engine has none by that name.
pub async fn state(
    engine: &Engine,
    docker: &Docker,
    name_or_id: &str,
) -> Result<Option<State>, Error> {
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
                what: format!("{} inspect {name_or_id}", engine.runtime),
                source: Box::new(e),
            });
        }
        Err(e) => return Err(unreachable(engine, e)),
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
            runtime: engine.runtime,
        },
        running: state.running == Some(true) && pid > 0,
        pid,
        started_at,
    }))
}
