//! containerd's own gRPC API (`containerd-client`): containers in every namespace (`moby` for
//! Docker's, `k8s.io` for Kubernetes', `default` for `ctr`'s, any other), their tasks' state
//! and init pids. containerd has no container names: a container is its id, or the name
//! nerdctl keeps in the `nerdctl/name` label.
use containerd_client::{
    services::v1::{
        GetContainerRequest, GetRequest, ListContainersRequest, ListNamespacesRequest,
        containers_client::ContainersClient, namespaces_client::NamespacesClient,
        tasks_client::TasksClient,
    },
    types::v1::Status,
};
use tonic::{Code, Request, transport::Channel};

use super::{
    Container,
    engine::{Engine, State, cgroups_path, spec_caps, unreachable},
};
use crate::error::Error;

/// The label nerdctl keeps a container's name in.
const NAME_LABEL: &str = "nerdctl/name";

/// The environment variable that names the namespace, as for `ctr`.
pub const NAMESPACE_VAR: &str = "CONTAINERD_NAMESPACE";

pub async fn connect(engine: &Engine) -> Result<Channel, Error> {
    super::engine::grpc_channel(engine).await
}

/// `req` for the namespace `ns`, as containerd reads it (the `containerd-namespace` header).
fn in_ns<T>(req: T, ns: &str) -> Result<Request<T>, Error> {
    let mut req = Request::new(req);
    let value = ns
        .parse()
        .map_err(|_| Error::Usage(format!("containerd namespace {ns:?} is not a valid name")))?;
    req.metadata_mut().insert("containerd-namespace", value);
    Ok(req)
}

fn failed(engine: &Engine, what: &str, status: tonic::Status) -> Error {
    match status.code() {
        // The socket is there but answers another API (or none).
        Code::Unimplemented => unreachable(
            engine,
            format!(
                "it does not answer containerd's {what} API ({})",
                status.message()
            ),
        ),
        _ => unreachable(engine, format!("{what}: {}", status.message())),
    }
}

/// The namespaces asked: `CONTAINERD_NAMESPACE` when set, else every namespace.
async fn namespaces(engine: &Engine, channel: &Channel) -> Result<Vec<String>, Error> {
    if let Ok(ns) = std::env::var(NAMESPACE_VAR) {
        return Ok(vec![ns]);
    }
    let list = NamespacesClient::new(channel.clone())
        .list(ListNamespacesRequest::default())
        .await
        .map_err(|s| failed(engine, "namespaces", s))?;
    Ok(list
        .into_inner()
        .namespaces
        .into_iter()
        .map(|n| n.name)
        .collect())
}

/// How well a container answers to `name`: its id or its nerdctl name (exact), or a prefix of
/// its id (as Docker accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Match {
    Prefix,
    Exact,
}

fn matches(id: &str, label: Option<&str>, name: &str) -> Option<Match> {
    if id == name || label == Some(name) {
        Some(Match::Exact)
    } else if !name.is_empty() && id.starts_with(name) {
        Some(Match::Prefix)
    } else {
        None
    }
}

/// The container that `name` (an id, an id prefix or a nerdctl name) designates, in the
/// namespaces asked; `None` when there is none. Exact matches win over prefixes; two matches
/// of the same kind are an error that says how to choose.
pub async fn state(engine: &Engine, channel: &Channel, name: &str) -> Result<Option<State>, Error> {
    let mut found: Vec<(Match, String, Container, Option<std::path::PathBuf>)> = Vec::new();
    for ns in namespaces(engine, channel).await? {
        let list = ContainersClient::new(channel.clone())
            .list(in_ns(ListContainersRequest::default(), &ns)?)
            .await
            .map_err(|s| failed(engine, "containers", s))?;
        for c in list.into_inner().containers {
            let label = c.labels.get(NAME_LABEL).map(String::as_str);
            if let Some(m) = matches(&c.id, label, name) {
                let shown = label.unwrap_or(&c.id).to_string();
                let cgroup = c
                    .spec
                    .as_ref()
                    .and_then(|s| serde_json::from_slice::<serde_json::Value>(&s.value).ok())
                    .and_then(|s| s["linux"]["cgroupsPath"].as_str().and_then(cgroups_path));
                found.push((
                    m,
                    ns.clone(),
                    Container {
                        id: c.id.clone(),
                        name: shown,
                        runtime: engine.runtime,
                        pod: None,
                    },
                    cgroup,
                ));
            }
        }
    }
    let Some(best) = found.iter().map(|f| f.0).max() else {
        return Ok(None);
    };
    found.retain(|f| f.0 == best);
    if found.len() > 1 {
        return Err(Error::Ambiguous {
            what: format!("container {name}"),
            matches: found
                .iter()
                .map(|(_, ns, c, _)| format!("{ns}/{}", c.id))
                .collect(),
            hint: "choose a namespace with CONTAINERD_NAMESPACE=NS or give the whole id",
        });
    }
    let (_, ns, container, cgroup) = found.remove(0);
    let task = TasksClient::new(channel.clone())
        .get(in_ns(
            GetRequest {
                container_id: container.id.clone(),
                exec_id: String::new(),
            },
            &ns,
        )?)
        .await;
    let (status, pid) = match task {
        Ok(t) => match t.into_inner().process {
            Some(p) if p.pid > 0 => (p.status, p.pid),
            _ => (Status::Unknown as i32, 0),
        },
        // A container without a task: created, or its task deleted after it stopped.
        Err(s) if s.code() == Code::NotFound => (Status::Unknown as i32, 0),
        Err(s) => return Err(failed(engine, "tasks", s)),
    };
    Ok(Some(State {
        container,
        namespace: Some(ns),
        running: status == Status::Running as i32,
        starting: status == Status::Created as i32,
        pid,
        started_at: None,
        exit_code: None,
        cgroup,
    }))
}

/// containerd's task and container events, in every namespace (CRI's pods are in `k8s.io`),
/// as their topics on `tx`, from a task of their own: containerd sends a subscription's
/// response headers with its first event, so waiting for them would stall the caller. Re-
/// subscribes 5 s after the stream ends; gives up when the socket is not containerd's (CRI-O
/// answers Unimplemented) or `tx` is closed.
pub async fn forward_events(engine: Engine, tx: tokio::sync::mpsc::Sender<String>) {
    // A task's create (its cgroup exists), start, exit and delete; a container's delete.
    // Not exec's events: a `kubectl exec` storm does not make the daemon poll.
    let filters: Vec<String> = [
        "/tasks/create",
        "/tasks/start",
        "/tasks/exit",
        "/tasks/delete",
        "/containers/delete",
    ]
    .iter()
    .map(|t| format!("topic=={t:?}"))
    .collect();
    loop {
        if let Ok(channel) = connect(&engine).await {
            let request = containerd_client::services::v1::SubscribeRequest {
                filters: filters.clone(),
            };
            let mut client =
                containerd_client::services::v1::events_client::EventsClient::new(channel);
            match client.subscribe(request).await {
                Ok(reply) => {
                    tracing::info!("following containerd's task events");
                    let mut stream = reply.into_inner();
                    while let Ok(Some(envelope)) = stream.message().await {
                        if tx.send(envelope.topic).await.is_err() {
                            return;
                        }
                    }
                    tracing::warn!("containerd's events stream ended; polling until it is back");
                }
                Err(s) if s.code() == Code::Unimplemented => {
                    tracing::info!("no containerd events on this socket (CRI-O?): polling only");
                    return;
                }
                Err(s) => tracing::debug!(error = %s.message(), "containerd events"),
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}

/// The capabilities of container `name`, from its OCI spec.
pub async fn capabilities(engine: &Engine, name: &str) -> Result<Vec<String>, Error> {
    let channel = connect(engine).await?;
    let st = state(engine, &channel, name)
        .await?
        .ok_or_else(|| Error::NoSuchContainer(name.to_string()))?;
    let ns = st.namespace.unwrap_or_default();
    let reply = ContainersClient::new(channel)
        .get(in_ns(
            GetContainerRequest {
                id: st.container.id.clone(),
            },
            &ns,
        )?)
        .await
        .map_err(|s| failed(engine, "containers", s))?;
    reply
        .into_inner()
        .container
        .and_then(|c| c.spec)
        .and_then(|spec| serde_json::from_slice(&spec.value).ok())
        .and_then(|spec| spec_caps(&spec))
        .ok_or_else(|| {
            Error::Usage(format!(
                "container {name}'s OCI spec names no capabilities; give them with --cap-add/--cap-drop"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_an_id_a_nerdctl_name_or_an_id_prefix() {
        assert_eq!(matches("web", None, "web"), Some(Match::Exact));
        assert_eq!(matches("0123abcd", Some("web"), "web"), Some(Match::Exact));
        assert_eq!(
            matches("0123abcd", Some("web"), "0123"),
            Some(Match::Prefix)
        );
        assert_eq!(matches("0123abcd", Some("web"), "we"), None);
        assert_eq!(matches("0123abcd", None, ""), None);
        assert!(Match::Exact > Match::Prefix);
    }
}
