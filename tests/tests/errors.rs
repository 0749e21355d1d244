//! Every error case: one line on stderr naming the problem and the way out, its own exit code.
use tests::{Container, env, run_tracer, workload_container};

fn expect_error(args: &[&str], envs: &[(&str, &str)], code: i32, needle: &str) {
    let out = run_tracer(args, envs);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} lacks {needle:?}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout for an error");
    // clap's errors too: one line in tracer's style.
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("tracer: "), "{stderr:?}");
}

#[test]
fn no_such_container() {
    let name = tests::unique("absent");
    expect_error(
        &["observe", "--container", &name],
        &[],
        3,
        &format!("no such container: {name}; list running containers with `docker ps`"),
    );
}

#[test]
fn container_not_running() {
    let c = Container::create(
        "stopped",
        &["--network", "none", &env("TRACER_WORKLOAD_IMAGE")],
    );
    expect_error(
        &["observe", "--container", &c.name],
        &[],
        4,
        &format!(
            "container {} is not running; start it with `docker start {}`",
            c.name, c.name
        ),
    );
}

#[test]
fn docker_socket_unreachable() {
    expect_error(
        &["observe", "--container", "web"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        5,
        "cannot reach the Docker engine at unix:///nonexistent/docker.sock",
    );
    let out = run_tracer(
        &["observe", "--container", "web"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("-p PID, --container-of PID or --cgroup")
    );
}

#[test]
fn no_such_process_or_cgroup() {
    expect_error(
        &["observe", "--container-of", "999999999"],
        &[],
        3,
        "no such process: 999999999",
    );
    expect_error(
        &["observe", "-p", "999999999"],
        &[],
        3,
        "no such process: 999999999",
    );
    expect_error(
        &["observe", "--cgroup", "/nonexistent/cgroup"],
        &[],
        3,
        "no such cgroup v2 directory: /nonexistent/cgroup",
    );
}

#[test]
fn whole_host_target_is_refused() {
    // This test process sits in the root cgroup and the host PID namespace.
    let me = std::process::id().to_string();
    expect_error(
        &["observe", "--container-of", &me],
        &[],
        2,
        "would trace the whole host",
    );
}

#[test]
fn missing_capabilities() {
    let c = workload_container();
    let dir = c.cgroup_dir();
    let out = std::process::Command::new("setpriv")
        .args([
            "--inh-caps=-all",
            "--ambient-caps=-all",
            "--bounding-set=-all",
            "--",
        ])
        .arg(tests::tracer_bin())
        .args(["observe", "--cgroup"])
        .arg(&dir)
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("not enough privilege to load BPF programs: missing CAP_BPF and CAP_PERFMON; run as root or grant CAP_BPF and CAP_PERFMON"), "{stderr}");
}

#[test]
fn tracefs_or_btf_missing() {
    let c = workload_container();
    expect_error(
        &["observe", "--container", &c.name, "--hook", "tracepoint"],
        &[("TRACER_TRACEFS", "/nonexistent/tracefs")],
        7,
        "kernel support missing: no tracefs at /nonexistent/tracefs",
    );
    expect_error(
        &["observe", "--container", &c.name, "--hook", "btf"],
        &[("TRACER_BTF", "/nonexistent/vmlinux")],
        7,
        "kernel support missing: no kernel BTF at /nonexistent/vmlinux",
    );
}

#[test]
fn output_not_writable() {
    let c = workload_container();
    expect_error(
        &[
            "observe",
            "--container",
            &c.name,
            "--output",
            "/nonexistent/dir/out.json",
        ],
        &[],
        8,
        "cannot write output file /nonexistent/dir/out.json: No such file or directory (os error 2); choose a writable path with --output",
    );
}

#[test]
fn bad_option_values() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["observe", "--container-of", "1", "--ring-size", "3M"],
            "bad --ring-size \"3M\"",
        ),
        (
            &[
                "observe",
                "--container-of",
                "1",
                "--syscalls",
                "openat,nosuch",
            ],
            "unknown syscall in --syscalls: \"nosuch\"",
        ),
        (
            &["observe", "--container-of", "1", "--count", "0"],
            "bad --count 0",
        ),
        (
            &["observe", "--container-of", "1", "--duration", "0s"],
            "bad --duration 0",
        ),
        (
            &["observe", "--container-of", "1", "--duration", "soon"],
            "invalid value 'soon' for '--duration <DUR>'",
        ),
        (
            &["observe", "--container-of", "1", "--format", "xml"],
            "invalid value 'xml' for '--format <FORMAT>'",
        ),
        (
            &["observe"],
            "the following required arguments were not provided",
        ),
        (
            &["observe", "--container-of", "1", "--container", "web"],
            "cannot be used with",
        ),
    ];
    for (args, needle) in cases {
        expect_error(args, &[], 2, needle);
    }
}
