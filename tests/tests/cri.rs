//! Kubernetes pods through CRI, end to end: the test creates a pod sandbox and its containers
//! through the CRI API of tracer's containerd (its CRI plugin; `cargo xtask setup` starts it),
//! as the kubelet would, then traces them by pod, label and container name.
use std::collections::HashMap;

use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, CreateContainerRequest, ExecSyncRequest, ImageSpec,
    LinuxContainerConfig, LinuxContainerSecurityContext, LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext, NamespaceMode, NamespaceOption, PodSandboxConfig,
    PodSandboxMetadata, RemovePodSandboxRequest, RunPodSandboxRequest, StartContainerRequest,
    StopContainerRequest, StopPodSandboxRequest, runtime_service_client::RuntimeServiceClient,
};
use std::time::Duration;

use tests::{
    Tracer, assert_burst, burst_pid,
    daemon::{Daemon, eventually, read_lines},
    env, run_tracer, spec_caps_line, unique,
};
use tonic::transport::Channel;

const SOCKET: &str = "/run/tracer-containerd/containerd.sock";
const ENDPOINT: (&str, &str) = (
    "CONTAINER_RUNTIME_ENDPOINT",
    "unix:///run/tracer-containerd/containerd.sock",
);

/// A pod sandbox and its containers, stopped and removed when dropped.
struct Pod {
    rt: tokio::runtime::Runtime,
    client: RuntimeServiceClient<Channel>,
    name: String,
    namespace: String,
    uid: String,
    sandbox: String,
    /// Kubernetes container name → container id.
    containers: HashMap<String, String>,
    sandbox_config: Option<PodSandboxConfig>,
}

/// Host network, a PID namespace per container, as a pod with `hostNetwork: true`.
fn namespaces() -> Option<NamespaceOption> {
    Some(NamespaceOption {
        network: NamespaceMode::Node as i32,
        pid: NamespaceMode::Container as i32,
        ipc: NamespaceMode::Pod as i32,
        ..Default::default()
    })
}

impl Pod {
    /// `RunPodSandbox` then, for each name, `CreateContainer` and `StartContainer` of the
    /// workload image sleeping.
    fn run(labels: &[(&str, &str)], containers: &[&str]) -> Pod {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio");
        let channel = rt
            .block_on(containerd_client::connect(SOCKET))
            .expect("CRI socket answers");
        let name = unique("pod");
        let uid = unique("uid");
        let mut pod = Pod {
            rt,
            client: RuntimeServiceClient::new(channel),
            namespace: "tracer-e2e".into(),
            name,
            uid,
            sandbox: String::new(),
            containers: HashMap::new(),
            sandbox_config: None,
        };
        let config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: pod.name.clone(),
                uid: pod.uid.clone(),
                namespace: pod.namespace.clone(),
                attempt: 0,
            }),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            linux: Some(LinuxPodSandboxConfig {
                // Where the kubelet puts a BestEffort pod (cgroupfs driver).
                cgroup_parent: format!("/kubepods/besteffort/pod{}", pod.uid),
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: namespaces(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        pod.sandbox = pod
            .rt
            .block_on(pod.client.run_pod_sandbox(RunPodSandboxRequest {
                config: Some(config.clone()),
                runtime_handler: String::new(),
            }))
            .expect("RunPodSandbox")
            .into_inner()
            .pod_sandbox_id;
        pod.sandbox_config = Some(config);
        for c in containers {
            pod.start_container(c, 0);
        }
        pod
    }

    /// `CreateContainer` and `StartContainer` of container `c` (its `attempt`-th instance, as
    /// the kubelet counts restarts) running the workload image sleeping.
    fn start_container(&mut self, c: &str, attempt: u32) {
        let create = CreateContainerRequest {
            pod_sandbox_id: self.sandbox.clone(),
            config: Some(ContainerConfig {
                metadata: Some(ContainerMetadata {
                    name: c.to_string(),
                    attempt,
                }),
                image: Some(ImageSpec {
                    image: format!("docker.io/library/{}", env("TRACER_WORKLOAD_IMAGE")),
                    ..Default::default()
                }),
                command: vec!["/workload".into()],
                args: vec!["sleep".into()],
                linux: Some(LinuxContainerConfig {
                    security_context: Some(LinuxContainerSecurityContext {
                        namespace_options: namespaces(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            sandbox_config: self.sandbox_config.clone(),
        };
        let id = self
            .rt
            .block_on(self.client.create_container(create))
            .expect("CreateContainer")
            .into_inner()
            .container_id;
        self.rt
            .block_on(self.client.start_container(StartContainerRequest {
                container_id: id.clone(),
            }))
            .expect("StartContainer");
        self.containers.insert(c.to_string(), id);
    }

    /// What the kubelet does when a container dies: a new instance under the same name (the
    /// old one stays, exited).
    fn restart(&mut self, c: &str, attempt: u32) {
        let old = self.containers[c].clone();
        self.rt
            .block_on(self.client.stop_container(StopContainerRequest {
                container_id: old,
                timeout: 0,
            }))
            .expect("StopContainer");
        self.start_container(c, attempt);
    }

    /// `ExecSync` of `workload burst K M` in container `c`; its pid as it sees it.
    fn burst(&mut self, c: &str, k: u32, m: u32) -> u64 {
        let reply = self
            .rt
            .block_on(self.client.exec_sync(ExecSyncRequest {
                container_id: self.containers[c].clone(),
                cmd: vec![
                    "/workload".into(),
                    "burst".into(),
                    k.to_string(),
                    m.to_string(),
                ],
                timeout: 30,
            }))
            .expect("ExecSync")
            .into_inner();
        assert_eq!(reply.exit_code, 0, "{:?}", reply);
        burst_pid(&String::from_utf8_lossy(&reply.stdout))
    }

    /// K getppid and M failing openat by the exec'd process in `c`, exactly, nothing lost,
    /// every record naming the container, its pod and CRI.
    fn assert_exact(&self, done: &tests::Finished, c: &str, ns_pid: u64, k: usize, m: usize) {
        let records = assert_burst(done, ns_pid, k, m);
        let expected = serde_json::json!({
            "id": self.containers[c], "name": c, "runtime": "cri",
            "pod": self.name, "namespace": self.namespace, "pod_uid": self.uid,
        });
        assert!(
            records.iter().all(|v| v["container"] == expected),
            "every record names {expected}; first: {}",
            records
                .first()
                .map(|v| v["container"].to_string())
                .unwrap_or_default()
        );
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        if self.sandbox.is_empty() {
            return;
        }
        let id = self.sandbox.clone();
        let _ = self
            .rt
            .block_on(self.client.stop_pod_sandbox(StopPodSandboxRequest {
                pod_sandbox_id: id.clone(),
            }));
        let _ = self.rt.block_on(
            self.client
                .remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: id }),
        );
    }
}

#[test]
fn a_pods_containers_are_found_by_pod_label_and_name() {
    const K: u32 = 400;
    const M: u32 = 150;
    let label = unique("app");
    let mut pod = Pod::run(&[("app", &label)], &["main", "side"]);

    // Two containers: which one?
    let out = run_tracer(
        &["observe", "--pod", &pod.name, "--namespace", &pod.namespace],
        &[ENDPOINT],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(11), "{stderr}");
    let (ns, name) = (pod.namespace.clone(), pod.name.clone());
    let a = format!("tracer: pod {ns}/{name} matches {ns}/{name}/main and {ns}/{name}/side");
    let b = format!("tracer: pod {ns}/{name} matches {ns}/{name}/side and {ns}/{name}/main");
    assert!(
        (stderr.starts_with(&a) || stderr.starts_with(&b))
            && stderr
                .trim_end()
                .ends_with(": choose one with --container NAME")
            && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );

    // By pod and container name.
    let tracer = Tracer::start_with_env(
        "observe",
        &[
            "--pod",
            &name,
            "--namespace",
            &ns,
            "--container",
            "main",
            "--format",
            "json",
        ],
        &[ENDPOINT],
    );
    let id = pod.containers["main"].clone();
    assert!(
        tracer.started.starts_with(&format!(
            "tracer: tracing CRI container main ({}) of pod {ns}/{name}, cgroup ",
            &id[..12]
        )) && tracer
            .started
            .contains(&format!("/kubepods/besteffort/pod{}/{id}", pod.uid)),
        "{}",
        tracer.started
    );
    let ns_pid = pod.burst("main", K, M);
    let done = tracer.stop();
    pod.assert_exact(&done, "main", ns_pid, K as usize, M as usize);

    // By label, the other container; no --namespace: every namespace.
    let tracer = Tracer::start_with_env(
        "observe",
        &[
            "--selector",
            &format!("app={label}"),
            "--container",
            "side",
            "--format",
            "json",
        ],
        &[ENDPOINT],
    );
    let ns_pid = pod.burst("side", K, M);
    let done = tracer.stop();
    pod.assert_exact(&done, "side", ns_pid, K as usize, M as usize);

    // seccomp check reads the container's capabilities from the spec CRI gives.
    let caps = spec_caps_line(&id, &[ENDPOINT]);
    assert!(
        caps.contains("CAP_CHOWN") && !caps.contains("CAP_SYS_ADMIN"),
        "{caps}"
    );

    // No such pod: exit 3.
    let out = run_tracer(
        &["observe", "--pod", &unique("none"), "--namespace", &ns],
        &[ENDPOINT],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("tracer: no such pod: pod tracer-e2e/"),
        "{stderr}"
    );
}

#[test]
fn a_containerd_without_cri_is_named() {
    // dockerd's containerd runs without its CRI plugin.
    let out = run_tracer(
        &["observe", "--pod", "web"],
        &[(
            "CONTAINER_RUNTIME_ENDPOINT",
            "unix:///var/run/docker/containerd/containerd.sock",
        )],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("cannot reach the CRI engine at unix:///var/run/docker/containerd/containerd.sock: it does not answer the CRI v1 API")
            && stderr.contains("CONTAINER_RUNTIME_ENDPOINT=unix://PATH")
            && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn the_daemon_follows_a_pods_container_across_restarts() {
    const K: [u32; 3] = [3, 5, 7];
    let c = unique("main");
    let mut pod = Pod::run(&[], &[&c]);
    let mut d = Daemon::start_with_env(&["--runtime", "cri", "--container", &c], &[ENDPOINT]);
    let file = d.file(&c);
    let getppids = || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["comm"] == "workload" && v["syscall"] == "getppid")
            .count()
    };
    let mut ids = Vec::new();
    for i in 0..3 {
        if i > 0 {
            pod.restart(&c, i as u32);
        }
        let id = pod.containers[&c].clone();
        // Found by a poll (containerd 1.6 has no CRI events), once a second.
        d.wait_for_log(
            &format!("following container=\"{c}\" id=\"{}\"", &id[..12]),
            Duration::from_secs(10),
        );
        pod.burst(&c, K[i], 1);
        let total: usize = K[..=i].iter().map(|&k| k as usize).sum();
        eventually(
            &format!("instance {i}'s records: {total} getppid in all"),
            Duration::from_secs(10),
            || getppids() == total,
        );
        ids.push(id);
    }
    let (status, _) = d.stop();
    assert!(status.success(), "{status}");
    for v in read_lines(&file).iter().filter(|v| v["type"] == "syscall") {
        let id = v["container"]["id"].as_str().unwrap_or_default();
        assert!(ids.iter().any(|i| i == id), "{v}");
        assert_eq!(
            v["container"],
            serde_json::json!({"id": id, "name": c, "runtime": "cri",
                "pod": pod.name, "namespace": pod.namespace, "pod_uid": pod.uid}),
        );
    }
}
