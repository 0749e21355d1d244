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

/// Host network, a PID namespace per container (or the node's), as a pod with
/// `hostNetwork: true` (and `hostPID: true`).
fn namespaces(host_pid: bool) -> Option<NamespaceOption> {
    Some(NamespaceOption {
        network: NamespaceMode::Node as i32,
        pid: match host_pid {
            true => NamespaceMode::Node as i32,
            false => NamespaceMode::Container as i32,
        },
        ipc: NamespaceMode::Pod as i32,
        ..Default::default()
    })
}

impl Pod {
    /// `RunPodSandbox` then, for each name, `CreateContainer` and `StartContainer` of the
    /// workload image sleeping.
    fn run(labels: &[(&str, &str)], containers: &[&str]) -> Pod {
        Pod::run_qos(labels, containers, false)
    }

    /// As `run`; `guaranteed`: where the kubelet puts a Guaranteed pod (`/kubepods/pod<uid>`,
    /// one level above the others).
    fn run_qos(labels: &[(&str, &str)], containers: &[&str], guaranteed: bool) -> Pod {
        let mut pod = Pod::sandbox(labels, guaranteed, false, String::new());
        for c in containers {
            pod.start_container(c, 0);
        }
        pod
    }

    /// `RunPodSandbox` alone; `host_pid`: the node's PID namespace (`hostPID: true`);
    /// `log_directory`: where CRI writes its containers' logs.
    fn sandbox(
        labels: &[(&str, &str)],
        guaranteed: bool,
        host_pid: bool,
        log_directory: String,
    ) -> Pod {
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
            log_directory,
            linux: Some(LinuxPodSandboxConfig {
                // Where the kubelet puts a BestEffort or Guaranteed pod (cgroupfs driver).
                cgroup_parent: match guaranteed {
                    false => format!("/kubepods/besteffort/pod{}", pod.uid),
                    true => format!("/kubepods/pod{}", pod.uid),
                },
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: namespaces(host_pid),
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
        pod
    }

    /// `CreateContainer` and `StartContainer` of container `c` (its `attempt`-th instance, as
    /// the kubelet counts restarts) running the workload image sleeping.
    fn start_container(&mut self, c: &str, attempt: u32) {
        self.start_config(ContainerConfig {
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
                    namespace_options: namespaces(false),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }

    /// The host pid of container `c`'s process (its verbose status, `info.pid`).
    fn pid(&mut self, c: &str) -> u32 {
        let reply = self
            .rt
            .block_on(
                self.client
                    .container_status(k8s_cri::v1::ContainerStatusRequest {
                        container_id: self.containers[c].clone(),
                        verbose: true,
                    }),
            )
            .expect("ContainerStatus")
            .into_inner();
        let info: serde_json::Value =
            serde_json::from_str(reply.info.get("info").map_or("{}", |s| s.as_str()))
                .expect("info JSON");
        info["pid"].as_u64().expect("pid") as u32
    }

    /// `CreateContainer` and `StartContainer` of `config` in this pod.
    fn start_config(&mut self, config: ContainerConfig) {
        let c = config
            .metadata
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let create = CreateContainerRequest {
            pod_sandbox_id: self.sandbox.clone(),
            config: Some(config),
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
        self.containers.insert(c, id);
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
        self.remove();
    }
}

impl Pod {
    /// Stops and removes the sandbox and its containers, as `kubectl delete pod` ends.
    fn remove(&mut self) {
        if self.sandbox.is_empty() {
            return;
        }
        let id = std::mem::take(&mut self.sandbox);
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
    // A pod's container writes NAMESPACE_POD_CONTAINER.jsonl.
    let file = d.file(&format!("{}_{}_{c}", pod.namespace, pod.name));
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
        // The first instance by the first poll; a restart's on containerd's task event.
        d.wait_for_log(
            &format!("following container=\"{c}\" id=\"{}\" cgroup=", &id[..12]),
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
    let lines = read_lines(&file);
    // The stream tells it: running before the daemon, then two kubelet-style restarts.
    let events: Vec<&serde_json::Value> =
        lines.iter().filter(|v| v["type"] == "container").collect();
    let kinds: Vec<&str> = events.iter().filter_map(|v| v["event"].as_str()).collect();
    assert_eq!(
        kinds,
        ["followed", "died", "restarted", "died", "restarted"],
        "{events:#?}"
    );
    let started_ids: Vec<&str> = events
        .iter()
        .filter(|v| v["event"] != "died")
        .filter_map(|v| v["container"]["id"].as_str())
        .collect();
    assert_eq!(started_ids, ids, "each instance's id, in order");
    // Each restart's new instance was followed from its task's creation (containerd's event),
    // before its entrypoint ran: its execve of /workload is in the stream.
    for id in &ids[1..] {
        assert!(
            lines.iter().any(|v| v["container"]["id"] == id.as_str()
                && v["syscall"] == "execve"
                && v["ret"] == 0
                && v["args"][0]["value"] == "/workload"),
            "no execve of /workload by instance {id}"
        );
    }
    for v in lines.iter().filter(|v| v["type"] == "syscall") {
        let id = v["container"]["id"].as_str().unwrap_or_default();
        assert!(ids.iter().any(|i| i == id), "{v}");
        assert_eq!(
            v["container"],
            serde_json::json!({"id": id, "name": c, "runtime": "cri",
                "pod": pod.name, "namespace": pod.namespace, "pod_uid": pod.uid}),
        );
    }
}

/// A cgroup on the cgroup2 hierarchy for the daemon to sit in, removed when dropped.
struct OwnCgroup(std::path::PathBuf);

impl OwnCgroup {
    fn new() -> OwnCgroup {
        let mount = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
            .into_iter()
            .find(|m| std::path::Path::new(m).join("cgroup.procs").exists())
            .expect("a cgroup2 mount");
        let dir = std::path::Path::new(mount).join(unique("tracer-e2e-ns"));
        std::fs::create_dir(&dir).expect("mkdir cgroup");
        OwnCgroup(dir)
    }
}

impl Drop for OwnCgroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn the_daemon_follows_selected_pods_as_they_come_and_go() {
    const K: [u32; 3] = [11, 13, 17];
    let label = unique("app");
    let selector = format!("app={label},tier=web");
    let labels = [("app", label.as_str()), ("tier", "web")];
    // A BestEffort pod with two containers, running before the daemon.
    let mut a = Pod::run(&labels, &["main", "side"]);
    // Not selected: one label differs.
    let mut other = Pod::run(&[("app", &label), ("tier", "db")], &["main"]);
    // The daemon as in a pod on a cgroup v2 node: in its own cgroup namespace, so
    // /proc/PID/cgroup names the pods' cgroups as ../kubepods/…; it finds them from CRI's
    // spec instead.
    let cg = OwnCgroup::new();
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec unshare --cgroup \"$@\"",
        cg.0.display()
    );
    let mut d = Daemon::start_wrapped(
        &["sh", "-c", &script, "sh"],
        &["--runtime", "cri", "--selector", &selector],
        &[ENDPOINT],
    );
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/cgroup")).expect("ns link");
    assert_ne!(
        ns(&d.pid().to_string()),
        ns("self"),
        "the daemon is in its own cgroup namespace"
    );
    let key = |p: &Pod, c: &str| format!("{}/{}/{c}", p.namespace, p.name);
    for c in ["main", "side"] {
        d.wait_for_log(
            &format!("following container=\"{}\"", key(&a, c)),
            Duration::from_secs(10),
        );
    }
    // A Guaranteed pod (one cgroup level higher) created while the daemon runs.
    let mut b = Pod::run_qos(&labels, &["main"], true);
    d.wait_for_log(
        &format!("following container=\"{}\"", key(&b, "main")),
        Duration::from_secs(10),
    );
    let pids = [
        a.burst("main", K[0], 1),
        a.burst("side", K[1], 2),
        b.burst("main", K[2], 3),
    ];
    other.burst("main", 5, 1);
    let dir = d.dir.0.clone();
    let file = |p: &Pod, c: &str| dir.join(format!("{}_{}_{c}.jsonl", p.namespace, p.name));
    // Each selected container: its file, what its records say it is, its burst's index.
    let cases: Vec<(std::path::PathBuf, serde_json::Value, usize)> =
        [(&a, "main"), (&a, "side"), (&b, "main")]
            .iter()
            .enumerate()
            .map(|(i, (p, c))| {
                let expected = serde_json::json!({"id": p.containers[*c], "name": c,
                    "runtime": "cri", "pod": p.name, "namespace": p.namespace,
                    "pod_uid": p.uid});
                (file(p, c), expected, i)
            })
            .collect();
    let getppids = |f: &std::path::Path| {
        read_lines(f)
            .iter()
            .filter(|v| v["comm"] == "workload" && v["syscall"] == "getppid")
            .count()
    };
    eventually(
        "every selected container's records",
        Duration::from_secs(10),
        || {
            cases
                .iter()
                .all(|(f, _, i)| f.exists() && getppids(f) == K[*i] as usize)
        },
    );
    // Pod b goes away: its container is no longer selected.
    b.remove();
    d.wait_for_log("no longer selected", Duration::from_secs(10));
    let (status, _) = d.stop();
    assert!(status.success(), "{status}");
    for (f, expected, i) in &cases {
        let lines = read_lines(f);
        // The burst's process: ns_pid is null for a process gone before its first record
        // was read (docs/daemon.md), so the comm and the pid it printed where known.
        let burst: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|v| v["type"] == "syscall" && v["comm"] == "workload")
            .filter(|v| v["ns_pid"].is_null() || v["ns_pid"] == pids[*i])
            .collect();
        let n = |name: &str| burst.iter().filter(|v| v["syscall"] == name).count();
        assert_eq!(n("getppid"), K[*i] as usize, "{}", f.display());
        assert_eq!(
            burst
                .iter()
                .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
                .filter(|v| v.to_string().contains("/nonexistent/tracer-workload"))
                .count(),
            i + 1,
            "{}",
            f.display()
        );
        for v in lines.iter().filter(|v| v["type"] == "syscall") {
            assert_eq!(&v["container"], expected, "{}", f.display());
        }
    }
    assert!(
        !file(&other, "main").exists(),
        "the pod with tier=db is not selected"
    );
    // The streams tell it: a's containers ran before the daemon; b's started after it and
    // went away with its pod.
    let kinds = |f: &std::path::Path| -> Vec<String> {
        read_lines(f)
            .iter()
            .filter(|v| v["type"] == "container")
            .filter_map(|v| v["event"].as_str().map(String::from))
            .collect()
    };
    assert_eq!(kinds(&cases[0].0), ["followed"]);
    assert_eq!(kinds(&cases[1].0), ["followed"]);
    // Its container stops before its sandbox: a poll in between sees it die; else its pod is
    // gone at once.
    let b_kinds = kinds(&cases[2].0);
    assert!(
        b_kinds == ["started", "died", "unfollowed"] || b_kinds == ["started", "unfollowed"],
        "{b_kinds:?}"
    );
    drop(d);
    drop(cg);
}

/// The documents of a YAML file of packaging/kubernetes, as JSON (Debian's python3-yaml).
fn manifest(file: &str) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../packaging/kubernetes")
        .join(file);
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_daemonsets_pod_traces_labelled_pods_through_cri() {
    use k8s_cri::v1::{Capability, Int64Value, KeyValue, Mount, SecurityProfile};
    const K: u32 = 23;
    const M: u32 = 4;
    let ds = &manifest("daemonset.yaml")[0];
    let spec = &ds["spec"]["template"]["spec"];
    let c = &spec["containers"][0];
    let security = &c["securityContext"];
    let config = manifest("configmap.yaml")[0]["data"]["daemon.toml"]
        .as_str()
        .expect("daemon.toml in the ConfigMap")
        .to_string();
    assert!(config.contains("tracer.dev/trace=true"), "{config}");
    assert_eq!(spec["hostPID"], true);

    // The pod as the kubelet would run it from the manifest, on the test's containerd: its
    // volumes' host paths are the test's (its CRI socket, a fresh output directory, the
    // ConfigMap as a directory); host network, since this containerd has no CNI.
    let scratch = tests::TempDir::new("daemonset");
    let (out, conf, logs) = (
        scratch.0.join("out"),
        scratch.0.join("config"),
        scratch.0.join("logs"),
    );
    for d in [&out, &conf, &logs] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(conf.join("daemon.toml"), &config).expect("config");
    let volumes = spec["volumes"].as_array().expect("volumes");
    let mounts: Vec<Mount> = c["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap_or_default();
            let volume = volumes
                .iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("volume {name}"));
            let host_path = match (name, volume["hostPath"]["path"].as_str()) {
                ("cri-socket", _) => SOCKET.to_string(),
                ("output", _) => out.display().to_string(),
                (_, None) => conf.display().to_string(), // the ConfigMap
                (_, Some(p)) => p.to_string(),
            };
            Mount {
                container_path: m["mountPath"].as_str().unwrap_or_default().to_string(),
                host_path,
                readonly: m["readOnly"] == true,
                ..Default::default()
            }
        })
        .collect();
    let image = c["image"].as_str().expect("image");
    let config = ContainerConfig {
        metadata: Some(ContainerMetadata {
            name: c["name"].as_str().unwrap_or_default().to_string(),
            attempt: 0,
        }),
        image: Some(ImageSpec {
            image: format!("docker.io/library/{image}"),
            ..Default::default()
        }),
        args: strings(&c["args"]),
        envs: c["env"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| KeyValue {
                key: e["name"].as_str().unwrap_or_default().to_string(),
                value: e["value"].as_str().unwrap_or_default().to_string(),
            })
            .collect(),
        mounts,
        log_path: "tracer.log".into(),
        linux: Some(LinuxContainerConfig {
            security_context: Some(LinuxContainerSecurityContext {
                namespace_options: namespaces(true),
                capabilities: Some(Capability {
                    add_capabilities: strings(&security["capabilities"]["add"]),
                    drop_capabilities: strings(&security["capabilities"]["drop"]),
                    ..Default::default()
                }),
                privileged: security["privileged"] == true,
                run_as_user: security["runAsUser"]
                    .as_i64()
                    .map(|value| Int64Value { value }),
                readonly_rootfs: security["readOnlyRootFilesystem"] == true,
                no_new_privs: security["allowPrivilegeEscalation"] == false,
                seccomp: Some(SecurityProfile {
                    profile_type: match security["seccompProfile"]["type"].as_str() {
                        Some("RuntimeDefault") => 0,
                        Some("Unconfined") => 1,
                        other => panic!("seccompProfile {other:?}"),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut tracer = Pod::sandbox(&[], false, true, logs.display().to_string());
    tracer.start_config(config);
    let log = logs.join("tracer.log");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    eventually(
        "the DaemonSet's tracer starts",
        Duration::from_secs(20),
        || read_log().contains("daemon following pods tracer.dev/trace=true"),
    );

    // It runs with the manifest's privileges only: CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE
    // (38, 39, 19), under the runtime's default seccomp filter, as root.
    let status = std::fs::read_to_string(format!("/proc/{}/status", tracer.pid("tracer")))
        .expect("tracer's status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let caps = (1u64 << 38) | (1 << 39) | (1 << 19);
    assert_eq!(field("CapEff:"), format!("{caps:016x}"), "{status}");
    assert_eq!(field("CapBnd:"), format!("{caps:016x}"), "{status}");
    assert_eq!(field("Seccomp:"), "2", "{status}");
    assert_eq!(field("NoNewPrivs:"), "1", "{status}");
    assert!(field("Uid:").starts_with("0\t"), "{status}");
    // A labelled pod started afterwards, and one without the label.
    let mut web = Pod::run(&[("tracer.dev/trace", "true")], &["main"]);
    let mut plain = Pod::run(&[], &["main"]);
    let file = out.join(format!("{}_{}_main.jsonl", web.namespace, web.name));
    eventually(
        "the labelled pod is followed",
        Duration::from_secs(10),
        || {
            read_log().contains(&format!(
                "following container=\"{}/{}/main\"",
                web.namespace, web.name
            ))
        },
    );
    let pid = web.burst("main", K, M);
    plain.burst("main", 5, 1);
    let workload = |v: &&serde_json::Value| {
        v["type"] == "syscall"
            && v["comm"] == "workload"
            && (v["ns_pid"].is_null() || v["ns_pid"] == pid)
    };
    eventually("its burst's records", Duration::from_secs(10), || {
        read_lines(&file)
            .iter()
            .filter(workload)
            .filter(|v| v["syscall"] == "getppid")
            .count()
            == K as usize
    });
    let lines = read_lines(&file);
    let enoent = lines
        .iter()
        .filter(workload)
        .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
        .filter(|v| v.to_string().contains("/nonexistent/tracer-workload"))
        .count();
    assert_eq!(enoent, M as usize);
    assert!(lines.iter().filter(|v| v["type"] == "syscall").all(|v| {
        v["container"]["pod"] == web.name.as_str() && v["container"]["runtime"] == "cri"
    }));
    assert!(
        !out.join(format!("{}_{}_main.jsonl", plain.namespace, plain.name))
            .exists(),
        "an unlabelled pod is not traced"
    );
    // Its health and metrics port, as the probes and Prometheus reach it.
    let port = c["ports"][0]["containerPort"].as_u64().expect("port") as u16;
    let (status, _) = tests::daemon::http(port, "/healthz");
    assert!(status.contains("200"), "{status}");
    let (_, body) = tests::daemon::http(port, "/metrics");
    let series = format!(
        "tracer_records_total{{container=\"{}/{}/main\",syscall=\"getppid\"}}",
        web.namespace, web.name
    );
    assert!(
        tests::daemon::metric(&body, &series).is_some_and(|n| n >= f64::from(K)),
        "{series} in {body}"
    );
    tracer.remove();
    web.remove();
}
