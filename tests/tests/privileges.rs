//! Running with the least privilege: CAP_BPF and CAP_PERFMON only (as root, or as an
//! unprivileged user), every missing capability named, output files private and never through
//! a planted symlink, metrics on loopback unless told otherwise.
use std::{
    os::unix::fs::{MetadataExt as _, PermissionsExt as _},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use tests::{
    Container, TempDir, daemon::Daemon, free_port, rest_of, stderr_lines, wait_exit,
    workload_container,
};

/// What a `setpriv … tracer …` run ended with.
struct Done {
    status: std::process::ExitStatus,
    stderr: String,
}

/// `setpriv SETPRIV… -- tracer ARGS…`, while `during` runs once tracer has said it is
/// attached (its "tracer: tracing" line; loading the programs takes a variable time).
fn tracer_with(setpriv: &[&str], args: &[&str], during: impl FnOnce()) -> Done {
    let mut child = Command::new("setpriv")
        .args(setpriv)
        .arg("--")
        .arg(tests::tracer_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv runs");
    let rx = stderr_lines(&mut child, None);
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if l.starts_with("tracer: tracing ") => {
                lines.push(l);
                break;
            }
            Ok(l) => lines.push(l),
            Err(e) => {
                let _ = child.kill();
                panic!("tracer did not report tracing ({e}): {lines:?}");
            }
        }
    }
    during();
    let status = wait_exit(&mut child, "tracer");
    lines.push(rest_of(&rx));
    Done {
        status,
        stderr: lines.join("\n"),
    }
}

fn getppid_records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("output written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .filter(|v: &Value| v["syscall"] == "getppid")
        .collect()
}

fn burst(c: &Container, k: u32) -> u64 {
    let out = c.exec(&["/workload", "burst", &k.to_string(), "0"]);
    out.trim()
        .strip_prefix("pid ")
        .and_then(|p| p.parse().ok())
        .expect("pid")
}

const BPF_PERFMON: &[&str] = &[
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--bounding-set=-all,+bpf,+perfmon",
];

#[test]
fn root_with_only_cap_bpf_and_cap_perfmon_traces_a_container() {
    let c = workload_container();
    let dir = TempDir::new("caps");
    let out = dir.0.join("out.jsonl");
    let o = out.to_str().expect("path");
    let args = [
        "observe",
        "--container",
        &c.name,
        "--format",
        "json",
        "--output",
        o,
        "--duration",
        "4s",
    ];
    let done = tracer_with(BPF_PERFMON, &args, || {
        burst(&c, 5);
    });
    let stderr = &done.stderr;
    assert!(done.status.success(), "{stderr}");
    // Reading the container's PID namespace needs CAP_SYS_PTRACE: said once, host pids shown.
    assert!(
        stderr
            .contains("run as root or grant CAP_SYS_PTRACE; pids are shown as the host sees them"),
        "{stderr}"
    );
    let records = getppid_records(&out);
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|v| v["ns_pid"].is_null()));

    // With CAP_SYS_PTRACE too: pids as the container sees them.
    let mut with_ptrace = BPF_PERFMON.to_vec();
    with_ptrace[2] = "--bounding-set=-all,+bpf,+perfmon,+sys_ptrace";
    let mut ns_pid = 0;
    let done = tracer_with(&with_ptrace, &args, || ns_pid = burst(&c, 5));
    let stderr = &done.stderr;
    assert!(done.status.success(), "{stderr}");
    assert!(!stderr.contains("note:"), "{stderr}");
    let records = getppid_records(&out);
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|v| v["ns_pid"] == ns_pid), "{records:?}");
}

#[test]
fn an_unprivileged_user_with_cap_bpf_and_cap_perfmon_traces_a_cgroup() {
    let c = workload_container();
    let dir = TempDir::new("nobody");
    std::os::unix::fs::chown(&dir.0, Some(65534), Some(65534)).expect("chown");
    let out = dir.0.join("out.jsonl");
    let cgroup = c.cgroup_dir();
    let done = tracer_with(
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all,+bpf,+perfmon",
            "--ambient-caps=-all,+bpf,+perfmon",
            "--bounding-set=-all,+bpf,+perfmon",
        ],
        &[
            "observe",
            "--cgroup",
            cgroup.to_str().expect("path"),
            "--format",
            "json",
            "--output",
            out.to_str().expect("path"),
            "--duration",
            "4s",
        ],
        || {
            burst(&c, 6);
        },
    );
    let stderr = &done.stderr;
    assert!(done.status.success(), "{stderr}");
    assert_eq!(getppid_records(&out).len(), 6);
    let meta = std::fs::metadata(&out).expect("output");
    assert_eq!(meta.uid(), 65534);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "private output");
}

#[test]
fn each_missing_capability_is_named() {
    let c = workload_container();
    for (caps, missing) in [
        ("-all,+bpf", "missing CAP_PERFMON;"),
        ("-all,+perfmon", "missing CAP_BPF;"),
        ("-all", "missing CAP_BPF and CAP_PERFMON;"),
    ] {
        let bounding = format!("--bounding-set={caps}");
        let done = Command::new("setpriv")
            .args(["--inh-caps=-all", "--ambient-caps=-all", &bounding, "--"])
            .arg(tests::tracer_bin())
            .args(["observe", "--cgroup"])
            .arg(c.cgroup_dir())
            .stdin(Stdio::null())
            .output()
            .expect("setpriv runs");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(6), "{caps}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "tracer: not enough privilege to load BPF programs: {missing} run as root or grant CAP_BPF and CAP_PERFMON"
            )),
            "{caps}: {stderr}"
        );
        assert!(done.stdout.is_empty());
    }
}

#[test]
fn a_symlink_planted_in_a_shared_directory_is_not_followed() {
    let c = workload_container();
    // /tmp-like: world-writable and sticky.
    let shared = TempDir::new("shared");
    std::fs::set_permissions(&shared.0, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let victim = shared.0.join("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let link = shared.0.join("out.jsonl");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let out = tests::run_tracer(
        &[
            "observe",
            "--container",
            &c.name,
            "--output",
            link.to_str().expect("path"),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert!(
        stderr.contains("Too many levels of symbolic links"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "precious\n"
    );
}

#[test]
fn metrics_given_a_bare_port_listen_on_loopback_only() {
    let c = workload_container();
    let port = free_port();
    let mut d = Daemon::start(&["--container", &c.name, "--metrics", &port.to_string()]);
    let tcp = std::fs::read_to_string("/proc/net/tcp").expect("tcp table");
    let listening: Vec<&str> = tcp
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1)
                .is_some_and(|a| a.ends_with(&format!(":{port:04X}")))
                && f.get(3) == Some(&"0A")
        })
        .collect();
    // 0100007F: 127.0.0.1 in the kernel's byte order.
    assert_eq!(listening.len(), 1, "{listening:?}");
    assert!(
        listening[0].split_whitespace().nth(1) == Some(&format!("0100007F:{port:04X}")),
        "{listening:?}"
    );
    let (status, _) = tests::daemon::http(port, "/healthz");
    assert!(status.ends_with("200 OK"), "{status}");
    let (status, stderr) = d.stop();
    assert!(status.success(), "{stderr}");
}
