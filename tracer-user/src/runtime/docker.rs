//! The Docker Engine API over a unix socket (bollard): container id, name, state and init pid.
//! Docker speaks it, and so does podman's service (`podman system service`), whose
//! Docker-compatible endpoints answer the same inspect with the same fields.

use bollard::{Docker, errors::Error as DockerError};

use super::{
    Container,
    engine::{Engine, State, socket_path, unreachable},
};
use crate::error::Error;

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

/// podman 4's Docker-compatible API version: it serves every path prefix alike.
const PODMAN_API: bollard::ClientVersion = bollard::ClientVersion {
    major_version: 1,
    minor_version: 41,
};

/// Connects and agrees on an API version with the engine. podman's `/version` gathers host
/// information and takes 0.5–0.7 s here, against 10 ms for `/_ping`: podman is pinged at the
/// version it speaks instead (`tracer observe --container X` with podman's socket present took
/// 750 ms to say there was no X, 24 ms after).
pub async fn connect_negotiated(engine: &Engine) -> Result<Docker, Error> {
    match engine.runtime {
        crate::model::Runtime::Podman => {
            let path = engine.socket()?;
            let docker = Docker::connect_with_unix(path, 30, &PODMAN_API)
                .map_err(|e| unreachable(engine, e))?;
            docker.ping().await.map_err(|e| unreachable(engine, e))?;
            Ok(docker)
        }
        _ => connect(engine)?
            .negotiate_version()
            .await
            .map_err(|e| unreachable(engine, e)),
    }
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
            pod: None,
        },
        namespace: None,
        running: state.running == Some(true) && pid > 0,
        pid,
        started_at,
        exit_code: (state.running != Some(true))
            .then_some(state.exit_code)
            .flatten(),
        starting: false,
        cgroup: None,
    }))
}
