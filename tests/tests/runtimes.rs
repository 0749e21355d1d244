//! Engines other than Docker, end to end: a real podman (its API service started by `cargo
//! xtask setup`) and a real containerd (tracer's own, started by setup, and the one dockerd
//! runs) running the exact-count workload, found by name or id, and names that two engines or
//! two containerd namespaces both have.
use std::{
    collections::HashSet,
    process::{Command, Stdio},
    time::Duration,
};

use tests::{
    Container, Tracer, assert_burst, burst, burst_pid,
    daemon::{Daemon, eventually, read_lines},
    env, run_tracer, spec_caps_line, unique,
};

/// tracer's own containerd (xtask/assets/containerd.toml), and the namespace setup imported
/// the workload image into.
const CONTAINERD: &str = "/run/tracer-containerd/containerd.sock";
/// The same, as CONTAINERD_ADDRESS gives it.
const CONTAINERD_ADDRESS: &str = "unix:///run/tracer-containerd/containerd.sock";
const NAMESPACE: &str = "tracer-e2e";

/// podman names images loaded from `docker save` `localhost/IMAGE`.
fn podman_image() -> String {
    format!("localhost/{}", env("TRACER_WORKLOAD_IMAGE"))
}

/// K getppid and M failing openat by the exec'd process, exactly, nothing lost, every record
/// naming the container, its id and its engine.
fn assert_exact(done: &tests::Finished, c: &Container, ns_pid: u64, k: usize, m: usize) {
    assert_exact_as(done, (&c.id(), &c.name, c.cli), ns_pid, k, m);
}

/// `assert_exact` for the container `(id, name, runtime)`.
fn assert_exact_as(
    done: &tests::Finished,
    (id, name, runtime): (&str, &str, &str),
    ns_pid: u64,
    k: usize,
    m: usize,
) {
    let records = assert_burst(done, ns_pid, k, m);
    assert!(
        records.iter().all(|v| v["container"]["id"] == id
            && v["container"]["name"] == name
            && v["container"]["runtime"] == runtime),
        "every record names the {runtime} container {id}"
    );
}

#[test]
fn a_podman_container_is_found_by_name_with_exact_counts() {
    const K: u32 = 700;
    const M: u32 = 300;
    let c = Container::run_on(
        "podman",
        &unique("podman"),
        &["--network", "none", &podman_image()],
    );
    // No --runtime: the name is on podman only.
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json"]);
    let started = tracer.started.clone();
    assert!(
        started.starts_with(&format!("tracer: tracing podman container {}", c.name)),
        "{started}"
    );
    // podman's cgroup v2 directory on this host: /libpod_parent/libpod-ID (a systemd-managed
    // host has machine.slice/libpod-ID.scope).
    assert!(started.contains("libpod-"), "{started}");
    let ns_pid = burst(&c, K, M);
    let done = tracer.stop();
    assert_exact(&done, &c, ns_pid, K as usize, M as usize);
}

#[test]
fn a_name_on_docker_and_on_podman_needs_runtime() {
    const K: u32 = 200;
    const M: u32 = 100;
    let name = unique("twice");
    let on_docker = Container::run_on(
        "docker",
        &name,
        &["--network", "none", &env("TRACER_WORKLOAD_IMAGE")],
    );
    let on_podman = Container::run_on("podman", &name, &["--network", "none", &podman_image()]);

    let out = run_tracer(&["observe", "--container", &name], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(11), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "tracer: container name {name} is on docker and podman: choose one with --runtime docker|podman (or give the container's id)"
        )
    );
    assert!(out.stdout.is_empty());

    for c in [&on_podman, &on_docker] {
        let tracer = Tracer::start(&["--container", &name, "--runtime", c.cli, "--format", "json"]);
        let ns_pid = burst(c, K, M);
        let done = tracer.stop();
        assert_exact(&done, c, ns_pid, K as usize, M as usize);
    }

    // An id is unique: the engine that has it answers.
    let id = on_podman.id();
    let tracer = Tracer::start(&["--container", &id, "--format", "json"]);
    let ns_pid = burst(&on_podman, K, M);
    assert_exact(&tracer.stop(), &on_podman, ns_pid, K as usize, M as usize);
}

/// A container run by `ctr` on tracer's containerd, its task killed and the container removed
/// when dropped.
struct Ctr {
    id: String,
    namespace: String,
}

fn ctr(namespace: &str, args: &[&str]) -> std::process::Output {
    Command::new("ctr")
        .args(["-a", CONTAINERD, "-n", namespace])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ctr runs")
}

fn ctr_ok(namespace: &str, args: &[&str]) -> String {
    let out = ctr(namespace, args);
    assert!(
        out.status.success(),
        "ctr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Ctr {
    fn image() -> String {
        format!("docker.io/library/{}", env("TRACER_WORKLOAD_IMAGE"))
    }

    /// `ctr run -d --net-host IMAGE ID /workload sleep`: host network, its own cgroup
    /// (`/NAMESPACE/ID`).
    fn run(namespace: &str, id: &str) -> Ctr {
        Ctr::new(namespace, id, &["run", "-d", "--net-host"])
    }

    /// A container without a task: it exists and does not run.
    fn create(namespace: &str, id: &str) -> Ctr {
        Ctr::new(namespace, id, &["containers", "create"])
    }

    /// `ctr COMMAND… IMAGE ID /workload sleep`; the guard exists before ctr is asked.
    fn new(namespace: &str, id: &str, command: &[&str]) -> Ctr {
        let c = Ctr {
            id: id.to_string(),
            namespace: namespace.to_string(),
        };
        let image = Ctr::image();
        let mut args = command.to_vec();
        args.extend_from_slice(&[&image, id, "/workload", "sleep"]);
        ctr_ok(namespace, &args);
        c
    }

    fn burst(&self, k: u32, m: u32) -> u64 {
        let exec = unique("x");
        burst_pid(&ctr_ok(
            &self.namespace,
            &[
                "task",
                "exec",
                "--exec-id",
                &exec,
                &self.id,
                "/workload",
                "burst",
                &k.to_string(),
                &m.to_string(),
            ],
        ))
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        let _ = ctr(&self.namespace, &["task", "kill", "-s", "KILL", &self.id]);
        // The task is deleted once it has exited; `rm -f` waits for nothing and kills what is
        // left.
        let _ = ctr(&self.namespace, &["task", "rm", "-f", &self.id]);
        let _ = ctr(&self.namespace, &["containers", "rm", &self.id]);
    }
}

#[test]
fn a_ctr_container_in_its_own_namespace_is_found_with_exact_counts() {
    const K: u32 = 600;
    const M: u32 = 200;
    let c = Ctr::run(NAMESPACE, &unique("ctr"));
    let tracer = Tracer::start_with_env(
        "observe",
        &[
            "--runtime",
            "containerd",
            "--container",
            &c.id,
            "--format",
            "json",
        ],
        &[("CONTAINERD_ADDRESS", CONTAINERD_ADDRESS)],
    );
    assert!(
        tracer.started.starts_with(&format!(
            "tracer: tracing containerd container {} in namespace {NAMESPACE}, cgroup ",
            c.id
        )) && tracer.started.contains(&format!("/{NAMESPACE}/{}", c.id)),
        "{}",
        tracer.started
    );
    let ns_pid = c.burst(K, M);
    let done = tracer.stop();
    assert_exact_as(
        &done,
        (&c.id, &c.id, "containerd"),
        ns_pid,
        K as usize,
        M as usize,
    );

    // Without --runtime: containerd is asked too, since its address is set.
    let tracer = Tracer::start_with_env(
        "observe",
        &["--container", &c.id, "--format", "json"],
        &[("CONTAINERD_ADDRESS", CONTAINERD_ADDRESS)],
    );
    let ns_pid = c.burst(K, M);
    assert_exact_as(
        &tracer.stop(),
        (&c.id, &c.id, "containerd"),
        ns_pid,
        K as usize,
        M as usize,
    );
}

#[test]
fn docker_containers_are_containerds_in_namespace_moby() {
    const K: u32 = 300;
    const M: u32 = 100;
    let c = Container::run(
        "moby",
        &["--network", "none", &env("TRACER_WORKLOAD_IMAGE")],
    );
    let id = c.id();
    // No CONTAINERD_ADDRESS and no system containerd: the one dockerd runs is found.
    let tracer = Tracer::start(&[
        "--runtime",
        "containerd",
        "--container",
        &id[..12],
        "--format",
        "json",
    ]);
    assert!(
        tracer.started.starts_with(&format!(
            "tracer: tracing containerd container {} in namespace moby, cgroup ",
            &id[..12]
        )),
        "{}",
        tracer.started
    );
    let ns_pid = burst(&c, K, M);
    assert_exact_as(
        &tracer.stop(),
        (&id, &id, "containerd"),
        ns_pid,
        K as usize,
        M as usize,
    );

    // Without --runtime the id is on Docker and on its containerd: one container, Docker's.
    let tracer = Tracer::start(&["--container", &id, "--format", "json"]);
    assert!(
        tracer
            .started
            .starts_with(&format!("tracer: tracing container {} (", c.name)),
        "{}",
        tracer.started
    );
    let ns_pid = burst(&c, K, M);
    assert_exact(&tracer.stop(), &c, ns_pid, K as usize, M as usize);
}

#[test]
fn a_containerd_id_in_two_namespaces_needs_containerd_namespace() {
    let id = unique("twice");
    // A second namespace, kept between runs (a namespace goes only once containerd's garbage
    // collector has removed its content); the image imported into it as setup did the first.
    let other = format!("{NAMESPACE}-other");
    let mut save = Command::new("docker")
        .args(["save", &env("TRACER_WORKLOAD_IMAGE")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("docker save runs");
    let import = Command::new("ctr")
        .args(["-a", CONTAINERD, "-n", &other, "images", "import", "-"])
        .stdin(save.stdout.take().expect("docker save's output"))
        .stdout(Stdio::null())
        .status()
        .expect("ctr import runs");
    assert!(save.wait().expect("docker save").success() && import.success());
    let _first = Ctr::run(NAMESPACE, &id);
    let second = Ctr::create(&other, &id);
    let env = [("CONTAINERD_ADDRESS", CONTAINERD_ADDRESS)];

    let out = run_tracer(
        &["observe", "--runtime", "containerd", "--container", &id],
        &env,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(11), "{stderr}");
    let places = [format!("{NAMESPACE}/{id}"), format!("{other}/{id}")];
    assert!(
        stderr.starts_with(&format!("tracer: container {id} matches "))
            && places.iter().all(|p| stderr.contains(p.as_str()))
            && stderr
                .trim_end()
                .ends_with("choose a namespace with CONTAINERD_NAMESPACE=NS or give the whole id"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    // The second namespace's container has no task: not running, and how to start it.
    let out = run_tracer(
        &["observe", "--runtime", "containerd", "--container", &id],
        &[env[0], ("CONTAINERD_NAMESPACE", &other)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "tracer: container {id} is not running; start it with `ctr -n {other} task start -d {id}`"
        )
    );
    drop(second);
}

#[test]
fn an_unreachable_engine_is_named_when_asked_for() {
    for (runtime, var, addr, service) in [
        (
            "podman",
            "CONTAINER_HOST",
            "unix:///nonexistent/podman.sock",
            "podman system service --time=0",
        ),
        (
            "containerd",
            "CONTAINERD_ADDRESS",
            "/nonexistent/containerd.sock",
            "containerd",
        ),
    ] {
        let out = run_tracer(
            &["observe", "--container", "web", "--runtime", runtime],
            &[(var, addr)],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot reach the {runtime} engine at {addr}"))
                && stderr.contains(&format!("start it ({service})"))
                && stderr.contains(&format!("{var}=unix://PATH")),
            "{stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn the_daemon_follows_a_podman_container_across_restarts() {
    let name = unique("podman-daemon");
    // Running before the daemon starts: found by the first re-sync.
    let c = Container::run_on(
        "podman",
        &name,
        &[
            "--network",
            "none",
            &podman_image(),
            "/workload",
            "tick",
            "20",
        ],
    );
    let mut d = Daemon::start(&["--runtime", "podman", "--container", &name]);
    let file = d.file(&name);
    let seen = |pid: u32| {
        let file = file.clone();
        move || {
            std::fs::read_to_string(&file)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .any(|v| v["pid"] == pid && v["comm"] == "workload" && v["syscall"] == "getppid")
        }
    };
    let mut pids = vec![c.pid()];
    eventually(
        "the first incarnation's records",
        Duration::from_secs(10),
        seen(pids[0]),
    );
    for i in 1..=2 {
        tests::engine("podman", &["restart", "-t", "1", &name]);
        let pid = c.pid();
        eventually(
            &format!("incarnation {i}'s records (pid {pid})"),
            Duration::from_secs(10),
            seen(pid),
        );
        pids.push(pid);
    }
    let id = c.id();
    stop_with_three_incarnations(
        &mut d,
        &pids,
        &file,
        serde_json::json!({"id": id, "name": name, "runtime": "podman"}),
    );
}

#[test]
fn seccomp_check_reads_a_containerd_containers_capabilities_from_its_spec() {
    let plain = Ctr::run(NAMESPACE, &unique("caps"));
    let privileged = Ctr::new(
        NAMESPACE,
        &unique("caps"),
        &["run", "-d", "--net-host", "--privileged"],
    );
    let envs = [("CONTAINERD_ADDRESS", CONTAINERD_ADDRESS)];
    let caps = spec_caps_line(&plain.id, &envs);
    // containerd's default set: Docker's 14.
    assert_eq!(caps.split(',').count(), 14, "{caps}");
    assert!(
        caps.contains("CAP_NET_RAW") && !caps.contains("CAP_SYS_ADMIN"),
        "{caps}"
    );
    let caps = spec_caps_line(&privileged.id, &envs);
    assert!(
        caps.contains("CAP_SYS_ADMIN") && caps.contains("CAP_BPF"),
        "{caps}"
    );
}

#[test]
fn the_daemon_follows_a_containerd_container_across_restarts() {
    const K: [u32; 3] = [3, 5, 7];
    let c = Ctr::run(NAMESPACE, &unique("ctr-daemon"));
    let task_pid = || -> u32 {
        ctr_ok(&c.namespace, &["task", "ls"])
            .lines()
            .find_map(|l| {
                let mut f = l.split_whitespace();
                (f.next() == Some(c.id.as_str())).then(|| f.next()?.parse().ok())?
            })
            .expect("the task's pid")
    };
    let mut d = Daemon::start_with_env(
        &["--runtime", "containerd", "--container", &c.id],
        &[("CONTAINERD_ADDRESS", CONTAINERD_ADDRESS)],
    );
    let file = d.file(&c.id);
    let mut pids = Vec::new();
    for i in 0..3 {
        if i > 0 {
            // A restart, as containerd has it: the task killed and deleted, a new one started.
            ctr_ok(&c.namespace, &["task", "kill", "-s", "KILL", &c.id]);
            eventually("the task to stop", Duration::from_secs(10), || {
                ctr_ok(&c.namespace, &["task", "ls"])
                    .lines()
                    .any(|l| l.starts_with(c.id.as_str()) && l.contains("STOPPED"))
            });
            ctr_ok(&c.namespace, &["task", "rm", &c.id]);
            ctr_ok(&c.namespace, &["task", "start", "-d", &c.id]);
        }
        let pid = task_pid();
        if i == 0 {
            // Running before the daemon: found by its first poll.
            d.wait_for_log(
                &format!("following container=\"{}\"", c.id),
                Duration::from_secs(10),
            );
        }
        // `workload sleep` makes no call while it sleeps: an exec makes the records, K_i
        // getppid each time, so that the totals say which incarnations were seen.
        c.burst(K[i], 1);
        let total: usize = K[..=i].iter().map(|&k| k as usize).sum();
        eventually(
            &format!("incarnation {i}'s records (task pid {pid}): {total} getppid in all"),
            Duration::from_secs(10),
            || getppids(&file) == total,
        );
        pids.push(pid);
    }
    stop_with_three_incarnations(
        &mut d,
        &pids,
        &file,
        serde_json::json!({"id": c.id, "name": c.id, "runtime": "containerd"}),
    );
}

/// The getppid records of the workload in the daemon's file.
fn getppids(file: &std::path::Path) -> usize {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["comm"] == "workload" && v["syscall"] == "getppid")
        .count()
}

/// Stops the daemon: it exits 0, the three incarnations had distinct host pids, and every
/// record names `container`.
fn stop_with_three_incarnations(
    d: &mut Daemon,
    pids: &[u32],
    file: &std::path::Path,
    container: serde_json::Value,
) {
    let (status, _) = d.stop();
    assert!(status.success(), "{status}");
    assert_eq!(
        pids.iter().collect::<HashSet<_>>().len(),
        3,
        "host pids {pids:?}"
    );
    let lines = read_lines(file);
    assert!(
        lines
            .iter()
            .filter(|v| v["type"] == "syscall")
            .all(|v| v["container"] == container),
        "every record names {container}"
    );
}
