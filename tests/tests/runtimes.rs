//! Engines other than Docker, end to end: a real podman (its API service started by `cargo
//! xtask setup`) running the exact-count workload, found by name, and a name that two engines
//! both have.
use tests::{Container, Tracer, burst, env, run_tracer, unique, workload_calls};

/// podman names images loaded from `docker save` `localhost/IMAGE`.
fn podman_image() -> String {
    format!("localhost/{}", env("TRACER_WORKLOAD_IMAGE"))
}

/// K getppid and M failing openat by the exec'd process, exactly, nothing lost, every record
/// naming the container, its id and its engine.
fn assert_exact(done: &tests::Finished, c: &Container, ns_pid: u64, k: usize, m: usize) {
    assert!(done.status.success(), "{}", done.stderr);
    assert!(done.stderr.contains(" records, 0 lost"), "{}", done.stderr);
    let records = done.syscalls();
    let mine = workload_calls(&records, ns_pid);
    let getppid = mine.iter().filter(|v| v["syscall"] == "getppid").count();
    let enoent = mine
        .iter()
        .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
        .count();
    assert_eq!((getppid, enoent), (k, m), "{}", done.stderr);
    let id = c.id();
    assert!(
        records.iter().all(|v| v["container"]["id"] == id.as_str()
            && v["container"]["name"] == c.name.as_str()
            && v["container"]["runtime"] == c.cli),
        "every record names the {} container {id}",
        c.cli
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

#[test]
fn an_unreachable_podman_is_named_when_asked_for() {
    let out = run_tracer(
        &["observe", "--container", "web", "--runtime", "podman"],
        &[("CONTAINER_HOST", "unix:///nonexistent/podman.sock")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("cannot reach the podman engine at unix:///nonexistent/podman.sock")
            && stderr.contains("podman system service --time=0")
            && stderr.contains("CONTAINER_HOST=unix://PATH"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
