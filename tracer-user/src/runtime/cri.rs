//! The Kubernetes Container Runtime Interface (v1, `k8s-cri`) on containerd's or CRI-O's
//! socket: pods (name, Kubernetes namespace, uid, labels) and their containers (Kubernetes
//! name, id, state), and a container's init pid from its verbose status.
use std::collections::HashMap;

use k8s_cri::v1::{
    Container as CriContainer, ContainerFilter, ContainerState, ContainerStatusRequest,
    ListContainersRequest, ListPodSandboxRequest, PodSandbox, PodSandboxFilter, PodSandboxState,
    PodSandboxStateValue, runtime_service_client::RuntimeServiceClient,
};
use tonic::{Code, transport::Channel};

use super::{
    Container,
    engine::{Engine, State, spec_caps, unreachable},
};
use crate::{error::Error, model::Pod};

/// What the user asked for with `--pod`, `--namespace`, `--selector` and `--container`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodSpec {
    pub pod: Option<String>,
    pub namespace: Option<String>,
    /// Pod labels, all of which must match.
    pub selector: Vec<(String, String)>,
    /// The Kubernetes name of one of the pod's containers.
    pub container: Option<String>,
}

impl PodSpec {
    /// How the user named it, for messages: `pod shop/web`, `pods app=web`.
    pub fn describe(&self) -> String {
        let ns = self
            .namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        match (&self.pod, &self.selector[..]) {
            (Some(p), _) => format!("pod {ns}{p}"),
            (None, sel) => {
                let sel: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("pods {ns}{}", sel.join(","))
            }
        }
    }
}

pub type Client = RuntimeServiceClient<Channel>;

pub async fn connect(engine: &Engine) -> Result<Client, Error> {
    Ok(RuntimeServiceClient::new(
        super::engine::grpc_channel(engine).await?,
    ))
}

fn failed(engine: &Engine, status: tonic::Status) -> Error {
    match status.code() {
        // containerd without its CRI plugin (dockerd's), or another API.
        Code::Unimplemented => unreachable(
            engine,
            format!("it does not answer the CRI v1 API ({})", status.message()),
        ),
        _ => unreachable(engine, format!("CRI: {}", status.message())),
    }
}

/// The ready pods whose labels include `selector`.
async fn pods(
    engine: &Engine,
    client: &mut Client,
    selector: &[(String, String)],
) -> Result<Vec<PodSandbox>, Error> {
    let filter = PodSandboxFilter {
        state: Some(PodSandboxStateValue {
            state: PodSandboxState::SandboxReady as i32,
        }),
        label_selector: selector.iter().cloned().collect(),
        ..Default::default()
    };
    let list = client
        .list_pod_sandbox(ListPodSandboxRequest {
            filter: Some(filter),
        })
        .await
        .map_err(|s| failed(engine, s))?;
    Ok(list.into_inner().items)
}

async fn containers(engine: &Engine, client: &mut Client) -> Result<Vec<CriContainer>, Error> {
    let list = client
        .list_containers(ListContainersRequest {
            filter: Some(ContainerFilter::default()),
        })
        .await
        .map_err(|s| failed(engine, s))?;
    Ok(list.into_inner().containers)
}

fn pod_of(p: &PodSandbox) -> Pod {
    let m = p.metadata.clone().unwrap_or_default();
    Pod {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
    }
}

fn k8s_name(c: &CriContainer) -> &str {
    c.metadata.as_ref().map_or("", |m| m.name.as_str())
}

fn running(c: &CriContainer) -> bool {
    c.state == ContainerState::ContainerRunning as i32
}

/// Running, or created and about to start (a restart's new instance, for a moment).
fn live(c: &CriContainer) -> bool {
    running(c) || c.state == ContainerState::ContainerCreated as i32
}

/// Where a match is, for messages: `NAMESPACE/POD/CONTAINER`.
fn place(pods: &HashMap<&str, Pod>, c: &CriContainer) -> String {
    match pods.get(c.pod_sandbox_id.as_str()) {
        Some(p) => format!("{}/{}/{}", p.namespace, p.name, k8s_name(c)),
        None => format!("{}/{}", k8s_name(c), super::short_id(&c.id)),
    }
}

/// Of several matches, the running ones when there are any (a restarted container leaves its
/// exited instances behind under the same name); then exactly one, or an error saying how to
/// choose.
fn one(
    mut found: Vec<CriContainer>,
    pods: &HashMap<&str, Pod>,
    what: String,
    hint: &'static str,
) -> Result<Option<CriContainer>, Error> {
    if found.iter().any(running) {
        found.retain(running);
    } else if found.iter().any(live) {
        found.retain(live);
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(Error::Ambiguous {
            what,
            matches: found.iter().map(|c| place(pods, c)).collect(),
            hint,
        }),
    }
}

/// `--container NAME|ID` through CRI: a container id, an id prefix, or a Kubernetes container
/// name (unique on this node, or an error listing the pods).
pub async fn state(
    engine: &Engine,
    client: &mut Client,
    name: &str,
) -> Result<Option<State>, Error> {
    let sandboxes = pods(engine, client, &[]).await?;
    let by_id: HashMap<&str, Pod> = sandboxes
        .iter()
        .map(|p| (p.id.as_str(), pod_of(p)))
        .collect();
    let all = containers(engine, client).await?;
    let exact: Vec<CriContainer> = all
        .iter()
        .filter(|c| c.id == name || k8s_name(c) == name)
        .cloned()
        .collect();
    let found = if exact.is_empty() {
        all.into_iter()
            .filter(|c| !name.is_empty() && c.id.starts_with(name))
            .collect()
    } else {
        exact
    };
    let Some(c) = one(
        found,
        &by_id,
        format!("container {name}"),
        "choose one with --pod NAME (and --namespace NS), or give its id",
    )?
    else {
        return Ok(None);
    };
    let pod = by_id.get(c.pod_sandbox_id.as_str()).cloned();
    status(engine, client, c, pod).await.map(Some)
}

/// `--pod`/`--selector` (with `--namespace`, `--container`): the one container they designate.
pub async fn pod_state(engine: &Engine, spec: &PodSpec) -> Result<State, Error> {
    let mut client = connect(engine).await?;
    let sandboxes: Vec<PodSandbox> = pods(engine, &mut client, &spec.selector)
        .await?
        .into_iter()
        .filter(|p| {
            let m = p.metadata.clone().unwrap_or_default();
            spec.pod.as_ref().is_none_or(|n| *n == m.name)
                && spec.namespace.as_ref().is_none_or(|n| *n == m.namespace)
        })
        .collect();
    if sandboxes.is_empty() {
        return Err(Error::NoSuchPod(spec.describe()));
    }
    let by_id: HashMap<&str, Pod> = sandboxes
        .iter()
        .map(|p| (p.id.as_str(), pod_of(p)))
        .collect();
    let found: Vec<CriContainer> = containers(engine, &mut client)
        .await?
        .into_iter()
        .filter(|c| by_id.contains_key(c.pod_sandbox_id.as_str()))
        .filter(|c| spec.container.as_ref().is_none_or(|n| n == k8s_name(c)))
        .collect();
    let what = spec.describe();
    let hint = match (&spec.container, by_id.len()) {
        (None, 1) => "choose one with --container NAME",
        _ => "narrow it with --namespace NS, --pod NAME or --container NAME",
    };
    let Some(c) = one(found, &by_id, what.clone(), hint)? else {
        return Err(Error::NoSuchContainer(match &spec.container {
            Some(n) => format!("{n} in {what}"),
            None => format!("any in {what}"),
        }));
    };
    let pod = by_id.get(c.pod_sandbox_id.as_str()).cloned();
    status(engine, &mut client, c, pod).await
}

impl PodSpec {
    /// Whether pod `p` is one this spec selects (its name, namespace and labels).
    fn selects(&self, p: &PodSandbox) -> bool {
        let m = p.metadata.as_ref();
        let name = m.map_or("", |m| m.name.as_str());
        let namespace = m.map_or("", |m| m.namespace.as_str());
        self.pod.as_ref().is_none_or(|n| n == name)
            && self.namespace.as_ref().is_none_or(|n| n == namespace)
            && self
                .selector
                .iter()
                .all(|(k, v)| p.labels.get(k).is_some_and(|l| l == v))
    }
}

/// The daemon's pod selections: every container of every ready pod that one of `specs`
/// selects (and whose name matches the spec's `container`, when it has one), by
/// `NAMESPACE/POD/CONTAINER`. Of a container's instances (a restart leaves the exited ones),
/// the running one, else the last created.
pub async fn selected(engine: &Engine, specs: &[PodSpec]) -> Result<Vec<(String, State)>, Error> {
    let mut client = connect(engine).await?;
    let sandboxes = pods(engine, &mut client, &[]).await?;
    let by_id: HashMap<&str, (Pod, &PodSpec)> = sandboxes
        .iter()
        .filter_map(|p| {
            Some((
                p.id.as_str(),
                (pod_of(p), specs.iter().find(|s| s.selects(p))?),
            ))
        })
        .collect();
    let mut chosen: HashMap<String, CriContainer> = HashMap::new();
    for c in containers(engine, &mut client).await? {
        let Some((pod, spec)) = by_id.get(c.pod_sandbox_id.as_str()) else {
            continue;
        };
        if spec.container.as_ref().is_some_and(|n| n != k8s_name(&c)) {
            continue;
        }
        let key = format!("{}/{}/{}", pod.namespace, pod.name, k8s_name(&c));
        let better = chosen
            .get(&key)
            .is_none_or(|old| (running(&c), c.created_at) > (running(old), old.created_at));
        if better {
            chosen.insert(key, c);
        }
    }
    let mut out = Vec::with_capacity(chosen.len());
    for (key, c) in chosen {
        let pod = by_id.get(c.pod_sandbox_id.as_str()).map(|(p, _)| p.clone());
        out.push((key, status(engine, &mut client, c, pod).await?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The capabilities of container `name`, from the OCI spec its verbose status carries
/// (`info.runtimeSpec`, containerd's).
pub async fn capabilities(engine: &Engine, name: &str) -> Result<Vec<String>, Error> {
    let mut client = connect(engine).await?;
    let st = state(engine, &mut client, name)
        .await?
        .ok_or_else(|| Error::NoSuchContainer(name.to_string()))?;
    let reply = client
        .container_status(ContainerStatusRequest {
            container_id: st.container.id,
            verbose: true,
        })
        .await
        .map_err(|s| failed(engine, s))?
        .into_inner();
    reply
        .info
        .get("info")
        .and_then(|i| serde_json::from_str::<serde_json::Value>(i).ok())
        .and_then(|v| spec_caps(&v["runtimeSpec"]))
        .ok_or_else(|| {
            Error::Usage(format!(
                "the CRI runtime gives no OCI spec for container {name}; give its capabilities with --cap-add/--cap-drop"
            ))
        })
}

/// The container's state and init pid (its verbose status: `info.pid`, as containerd and
/// CRI-O both give it).
async fn status(
    engine: &Engine,
    client: &mut Client,
    c: CriContainer,
    pod: Option<Pod>,
) -> Result<State, Error> {
    let reply = client
        .container_status(ContainerStatusRequest {
            container_id: c.id.clone(),
            verbose: true,
        })
        .await
        .map_err(|s| failed(engine, s))?
        .into_inner();
    let info = reply
        .info
        .get("info")
        .and_then(|i| serde_json::from_str::<serde_json::Value>(i).ok())
        .unwrap_or_default();
    let pid = info["pid"].as_u64().unwrap_or(0) as u32;
    let cgroup = info["runtimeSpec"]["linux"]["cgroupsPath"]
        .as_str()
        .and_then(super::engine::cgroups_path);
    let st = reply.status.unwrap_or_default();
    let running = st.state == ContainerState::ContainerRunning as i32 && pid > 0;
    // Its cgroup exists from runc's `create` on, before CRI knows the task's pid.
    let starting = st.state == ContainerState::ContainerCreated as i32;
    let started_at = (st.started_at > 0)
        .then(|| time::OffsetDateTime::from_unix_timestamp_nanos(st.started_at as i128).ok())
        .flatten();
    Ok(State {
        container: Container {
            name: k8s_name(&c).to_string(),
            id: c.id,
            runtime: engine.runtime,
            pod,
        },
        namespace: None,
        running,
        starting,
        pid,
        started_at,
        exit_code: (st.state == ContainerState::ContainerExited as i32)
            .then_some(i64::from(st.exit_code)),
        cgroup,
    })
}
