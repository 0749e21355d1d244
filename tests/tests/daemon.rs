//! `tracer daemon` against a real Docker engine: restarts, re-creation, a container that does
//! not exist yet, an engine restart, rotation (size and SIGHUP) and shutdown.
use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use tests::{
    Container,
    daemon::{Daemon, complete_lines, eventually, http, metric, read_lines, restart_dockerd},
    docker, env, free_port, raw_tracepoints, unique,
};

/// `docker run -d --name NAME --network none IMAGE /workload ARGS…`, removed when dropped.
fn run_workload(name: &str, args: &[&str]) -> Container {
    let image = env("TRACER_WORKLOAD_IMAGE");
    let mut all = vec![
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        &image,
        "/workload",
    ];
    all.extend_from_slice(args);
    docker(&all);
    Container {
        name: name.to_string(),
        cli: "docker",
    }
}

fn is_call(v: &Value, comm: &str, syscall: &str) -> bool {
    v["type"] == "syscall" && v["comm"] == comm && v["syscall"] == syscall
}

fn count(lines: &[Value], comm: &str, syscall: &str) -> usize {
    lines.iter().filter(|v| is_call(v, comm, syscall)).count()
}

/// The output file and its rotated predecessors, oldest first.
fn all_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut rotated: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let f = p.file_name()?.to_str()?.to_string();
            let n = f.strip_prefix(&format!("{name}.jsonl."))?.parse().ok()?;
            Some((n, p))
        })
        .collect();
    rotated.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
    files.push(dir.join(format!("{name}.jsonl")));
    files
}

#[test]
fn follows_a_container_through_20_restarts() {
    let name = unique("restarts");
    let c = run_workload(&name, &["tick", "20"]);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut d = Daemon::start(&["--container", &name, "--metrics", &addr]);
    let file = d.file(&name);
    let seen = |pid: u32| {
        let file = file.clone();
        move || {
            complete_lines(&file)
                .iter()
                .any(|v| v["pid"] == pid && is_call(v, "workload", "getppid"))
        }
    };
    let mut pids = vec![c.pid()];
    eventually(
        "records of the first incarnation",
        Duration::from_secs(10),
        seen(pids[0]),
    );
    let mut after_5 = (0, 0);
    for i in 1..=20 {
        docker(&["restart", "-t", "2", &name]);
        let pid = c.pid();
        eventually(
            &format!("records of incarnation {i} (pid {pid})"),
            Duration::from_secs(10),
            seen(pid),
        );
        pids.push(pid);
        if i == 5 {
            after_5 = (d.fd_count(), d.rss_kib());
        }
    }
    let after_20 = (d.fd_count(), d.rss_kib());
    eprintln!("fds and RSS (KiB) after 5 restarts {after_5:?}, after 20 {after_20:?}");
    assert_eq!(
        pids.iter().collect::<HashSet<_>>().len(),
        21,
        "host pids {pids:?}"
    );
    assert_eq!(after_20.0, after_5.0, "open fds grew across restarts");
    assert!(
        after_20.1 <= after_5.1 + 4096,
        "RSS grew by more than 4 MiB: {after_5:?} → {after_20:?}"
    );

    let (status, body) = http(port, "/metrics");
    assert!(status.contains("200"), "{status}");
    let label = format!("{{container=\"{name}\"}}");
    assert_eq!(
        metric(&body, &format!("tracer_target_starts_total{label}")),
        Some(21.0),
        "{body}"
    );
    assert_eq!(
        metric(
            &body,
            &format!("tracer_target_state{{container=\"{name}\",state=\"following\"}}")
        ),
        Some(1.0)
    );
    assert_eq!(metric(&body, "tracer_targets_followed"), Some(1.0));
    assert_eq!(metric(&body, "tracer_lost_events_total"), Some(0.0));
    assert!(
        metric(
            &body,
            &format!("tracer_records_total{{container=\"{name}\",syscall=\"getppid\"}}")
        )
        .is_some_and(|n| n >= 21.0),
        "{body}"
    );
    let (health, _) = http(port, "/healthz");
    assert!(health.contains("200"), "{health}");

    let (status, _) = d.stop();
    assert!(status.success(), "{status}");
    let lines = read_lines(&file);
    let id = c.id();
    assert!(lines
        .iter()
        .filter(|v| v["type"] == "syscall")
        .all(|v| v["container"]["name"] == name.as_str() && v["container"]["id"] == id.as_str()));
}

#[test]
fn follows_a_recreated_container_under_its_new_id() {
    let name = unique("recreate");
    let first = run_workload(&name, &["tick", "20"]);
    let old_id = first.id();
    let mut d = Daemon::start(&["--container", &name]);
    let file = d.file(&name);
    let has_id = |id: String| {
        let file = file.clone();
        move || {
            complete_lines(&file)
                .iter()
                .any(|v| v["container"]["id"] == id.as_str() && is_call(v, "workload", "getppid"))
        }
    };
    eventually(
        "records of the first container",
        Duration::from_secs(10),
        has_id(old_id.clone()),
    );
    drop(first);
    let second = run_workload(&name, &["tick", "20"]);
    let new_id = second.id();
    assert_ne!(old_id, new_id);
    eventually(
        "records of the re-created container",
        Duration::from_secs(10),
        has_id(new_id),
    );
    let (status, _) = d.stop();
    assert!(status.success());
}

/// The syscall tracepoints (`sys_enter`, `sys_exit`) `pid` holds a link to.
fn syscall_links(pid: u32) -> Vec<String> {
    raw_tracepoints(pid)
        .into_iter()
        .filter(|t| t.starts_with("sys_"))
        .collect()
}

/// Runs container `name` with `workload burst 7 3` as its entrypoint (7 getppid, 3 failing
/// openat) and waits until the daemon has written its exit_group; the container and the file.
fn burst_to_its_exit(d: &Daemon, name: &str) -> (Container, PathBuf) {
    let c = run_workload(name, &["burst", "7", "3"]);
    let file = d.file(name);
    eventually(
        "the entrypoint's exit_group",
        Duration::from_secs(10),
        || count(&complete_lines(&file), "workload", "exit_group") == 1,
    );
    (c, file)
}

/// Stops the daemon (exit 0) and reads `file`, in which the burst's entrypoint made exactly 7
/// getppid and 3 openat, each failing with ENOENT.
fn stop_with_the_burst(mut d: Daemon, file: &Path) -> Vec<Value> {
    let (status, _) = d.stop();
    assert!(status.success());
    let lines = read_lines(file);
    assert_eq!(count(&lines, "workload", "getppid"), 7);
    let openat: Vec<&Value> = lines
        .iter()
        .filter(|v| is_call(v, "workload", "openat"))
        .collect();
    assert_eq!(openat.len(), 3);
    assert!(openat.iter().all(|v| v["errno"] == "ENOENT"));
    lines
}

#[test]
fn waits_for_a_container_and_sees_its_entrypoint_start() {
    let name = unique("later");
    let d = Daemon::start(&["--container", &name]);
    std::thread::sleep(Duration::from_millis(500));
    // Waiting, the daemon leaves the host's syscalls alone: its syscall programs are loaded,
    // not attached (its signal hooks are: rare events).
    let syscalls = || syscall_links(d.pid());
    assert_eq!(syscalls(), Vec::<String>::new());
    // The entrypoint makes 7 getppid and 3 failing openat, then exits.
    let (c, file) = burst_to_its_exit(&d, &name);
    // The container stopped: detached once the linger (5 s) has passed with nothing followed.
    d.wait_for_log("syscall programs detached", Duration::from_secs(15));
    assert_eq!(syscalls(), Vec::<String>::new());
    let lines = stop_with_the_burst(d, &file);
    // Followed before the entrypoint ran: runc's exec of it is in the stream.
    let exec = lines.iter().find(|v| {
        v["syscall"] == "execve" && v["ret"] == 0 && v["args"][0]["value"] == "/workload"
    });
    assert!(
        exec.is_some(),
        "no execve of /workload among {} records",
        lines.len()
    );
    // runc's own set-up is left out by default (--exclude-comm).
    let runc: Vec<&Value> = lines
        .iter()
        .filter(|v| v["comm"].as_str().is_some_and(|c| c.starts_with("runc")))
        .collect();
    assert!(runc.is_empty(), "{runc:#?}");
    drop(c);
}

/// `--exit-only`: one syscall program (on sys_exit) while the container runs, its calls counted
/// exactly, none with a duration, exit_group read as the task ends, execve left out.
#[test]
fn exit_only_follows_a_container_with_one_program() {
    let name = unique("exit-only");
    let d = Daemon::start(&["--container", &name, "--exit-only"]);
    assert!(
        d.started.contains("at exits only") && d.started.contains("execve"),
        "{}",
        d.started
    );
    let (c, file) = burst_to_its_exit(&d, &name);
    // Within the linger (5 s) after the container stopped: still attached, exit program only.
    assert_eq!(syscall_links(d.pid()), ["sys_exit"]);
    let lines = stop_with_the_burst(d, &file);
    let calls: Vec<&Value> = lines.iter().filter(|v| v["type"] == "syscall").collect();
    assert!(calls.iter().all(|v| v["duration_ns"].is_null()));
    assert!(calls.iter().all(|v| v["syscall"] != "execve"));
    let exit = calls
        .iter()
        .find(|v| is_call(v, "workload", "exit_group"))
        .expect("exit_group");
    assert!(
        exit["ret"].is_null() && exit["args"][0]["value"] == 0,
        "{exit}"
    );
    drop(c);
}

#[test]
fn keeps_tracing_across_a_docker_engine_restart() {
    let name = unique("engine");
    let later = unique("engine-later");
    let c = run_workload(&name, &["tick", "20"]);
    let mut d = Daemon::start(&["--container", &name, "--container", &later]);
    let file = d.file(&name);
    eventually("records", Duration::from_secs(10), || {
        count(&complete_lines(&file), "workload", "getppid") > 0
    });
    let before = count(&complete_lines(&file), "workload", "getppid");
    restart_dockerd();
    let during = count(&complete_lines(&file), "workload", "getppid");
    // One call per 20 ms went on while the engine was down and came back.
    assert!(
        during >= before + 10,
        "{before} → {during} getppid across the restart"
    );
    // The first line is from the start; the second from the reconnection.
    d.wait_for_log("connected to the Docker engine", Duration::from_secs(30));
    d.wait_for_log("connected to the Docker engine", Duration::from_secs(30));
    // A container started after the restart is picked up.
    let second = run_workload(&later, &["burst", "5", "0"]);
    let later_file = d.file(&later);
    eventually(
        "the new container's exit_group",
        Duration::from_secs(15),
        || count(&complete_lines(&later_file), "workload", "exit_group") == 1,
    );
    assert_eq!(count(&read_lines(&later_file), "workload", "getppid"), 5);
    assert!(count(&complete_lines(&file), "workload", "getppid") > during);
    let (status, _) = d.stop();
    assert!(status.success());
    drop((c, second));
}

#[test]
fn rotates_by_size_and_on_sighup_without_losing_or_splitting_a_line() {
    let name = unique("rotate");
    let c = run_workload(&name, &["sleep"]);
    let mut d = Daemon::start(&[
        "--container",
        &name,
        "--rotate-size",
        "64K",
        "--rotate-keep",
        "100",
    ]);
    d.wait_following(&name);
    let dir = d.dir.0.clone();
    let total = |files: &[PathBuf]| -> Vec<Value> {
        files.iter().flat_map(|f| complete_lines(f)).collect()
    };

    c.exec(&["/workload", "burst", "3000", "0"]);
    eventually("3000 getppid", Duration::from_secs(10), || {
        count(&total(&all_files(&dir, &name)), "workload", "getppid") == 3000
    });
    let files = all_files(&dir, &name);
    assert!(files.len() >= 3, "expected rotated files, got {files:?}");

    // logrotate's way: move the file away, then SIGHUP.
    let moved = dir.join("moved.jsonl");
    std::fs::rename(d.file(&name), &moved).expect("mv");
    let in_moved = count(&read_lines(&moved), "workload", "getppid");
    d.signal(libc::SIGHUP);
    d.wait_for_log("output files reopened", Duration::from_secs(5));
    c.exec(&["/workload", "burst", "500", "0"]);
    let with_moved = || {
        let mut files = all_files(&dir, &name);
        files.push(moved.clone());
        files
    };
    eventually("3500 getppid", Duration::from_secs(10), || {
        count(&total(&with_moved()), "workload", "getppid") == 3500
    });
    let (status, _) = d.stop();
    assert!(status.success());
    // After SIGHUP nothing more went to the moved file.
    assert_eq!(count(&read_lines(&moved), "workload", "getppid"), in_moved);

    // Every line of every file parses; 3,500 getppid in all, none twice.
    let files = with_moved();
    let mut keys = HashSet::new();
    let mut getppid = 0;
    for f in &files {
        for v in read_lines(f) {
            if is_call(&v, "workload", "getppid") {
                getppid += 1;
                assert!(
                    keys.insert((v["tid"].to_string(), v["ts"].to_string())),
                    "duplicate {v}"
                );
            }
        }
    }
    assert_eq!(getppid, 3500);
}

#[test]
fn sigterm_drains_and_exits_0_with_complete_lines() {
    let name = unique("term");
    let c = run_workload(&name, &["sleep"]);
    let mut d = Daemon::start(&["--container", &name]);
    d.wait_following(&name);
    let mut exec = Command::new("docker")
        .args(["exec", &c.name, "/workload", "burst", "200000", "0"])
        .stdout(Stdio::null())
        .spawn()
        .expect("docker exec");
    let file = d.file(&name);
    eventually("the burst under way", Duration::from_secs(10), || {
        count(&complete_lines(&file), "workload", "getppid") > 1000
    });
    let (status, stderr) = d.stop();
    let _ = exec.wait();
    assert!(status.success(), "{status}: {stderr}");
    let lines = read_lines(&file);
    let syscalls = lines.iter().filter(|v| v["type"] == "syscall").count();
    // The closing line counts exactly what reached the file.
    assert!(
        stderr.contains(&format!("tracer: {syscalls} records, ")),
        "{syscalls} syscall lines; stderr: {stderr}"
    );
}

/// `docker logs` standard output (the JSON lines) of a container.
fn docker_stdout(name: &str) -> String {
    let out = Command::new("docker")
        .args(["logs", name])
        .stderr(Stdio::null())
        .output()
        .expect("docker logs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn runs_as_a_sidecar_container_without_ptrace() {
    let name = unique("sidecar-target");
    let target = run_workload(&name, &["sleep"]);
    let sidecar = Container {
        name: unique("sidecar"),
        cli: "docker",
    };
    let image = env("TRACER_IMAGE");
    docker(&[
        "run",
        "-d",
        "--name",
        &sidecar.name,
        "--network",
        "none",
        // Docker 20.10 knows neither CAP_BPF nor CAP_PERFMON (packaging/Dockerfile).
        "--cap-add",
        "SYS_ADMIN",
        "--cgroupns",
        "host",
        "-v",
        "/sys/fs/cgroup:/sys/fs/cgroup:ro",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        &image,
        "-v",
        "daemon",
        "--container",
        &name,
    ]);
    eventually(
        "the sidecar to follow its target",
        Duration::from_secs(20),
        || {
            let out = Command::new("docker")
                .args(["logs", &sidecar.name])
                .output()
                .expect("docker logs");
            String::from_utf8_lossy(&out.stderr).contains("following")
        },
    );
    target.exec(&["/workload", "burst", "9", "4"]);
    let lines = || -> Vec<Value> {
        docker_stdout(&sidecar.name)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    eventually(
        "9 getppid in the sidecar's output",
        Duration::from_secs(10),
        || count(&lines(), "workload", "getppid") == 9,
    );
    docker(&["stop", "-t", "20", &sidecar.name]);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.ExitCode}}", &sidecar.name]),
        "0"
    );
    let out = docker_stdout(&sidecar.name);
    assert!(out.ends_with('\n'), "last line incomplete");
    let all: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect();
    assert_eq!(count(&all, "workload", "getppid"), 9);
    let openat: Vec<&Value> = all
        .iter()
        .filter(|v| is_call(v, "workload", "openat"))
        .collect();
    assert_eq!(openat.len(), 4);
    assert!(
        openat
            .iter()
            .all(|v| v["errno"] == "ENOENT" && v["container"]["name"] == name.as_str())
    );
}

/// The last field of `KEY:` in /proc/PID/status: the id in the innermost PID namespace.
fn innermost(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

#[test]
fn records_carry_the_containers_own_pids_across_a_restart() {
    let name = unique("nspid");
    let c = run_workload(&name, &["tick", "20"]);
    let mut d = Daemon::start(&["--container", &name, "--syscalls", "getppid"]);
    let file = d.file(&name);
    let mut incarnations = Vec::new();
    for i in 0..2 {
        if i > 0 {
            docker(&["restart", "-t", "2", &name]);
        }
        let pid = c.pid();
        let ns = (innermost(pid, "NStgid:"), innermost(pid, "NSpid:"));
        eventually(
            &format!("records of pid {pid}"),
            Duration::from_secs(10),
            || {
                complete_lines(&file)
                    .iter()
                    .filter(|v| v["pid"] == pid && is_call(v, "workload", "getppid"))
                    .count()
                    >= 3
            },
        );
        incarnations.push((pid, ns));
    }
    let (status, _) = d.stop();
    assert!(status.success(), "{status}");
    let lines = read_lines(&file);
    for (pid, (ns_pid, ns_tid)) in incarnations {
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|v| v["pid"] == pid && is_call(v, "workload", "getppid"))
            .collect();
        assert!(mine.len() >= 3, "pid {pid}: {} records", mine.len());
        for v in mine {
            assert_eq!(
                (v["ns_pid"].as_u64(), v["ns_tid"].as_u64()),
                (Some(ns_pid), Some(ns_tid)),
                "pid {pid}: {v}"
            );
        }
    }
}

/// `docker inspect -f FORMAT NAME`, trimmed.
fn inspect(name: &str, format: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "-f", format, name])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_stream_tells_a_containers_lifecycle_in_order() {
    let name = unique("life");
    let before = unique("life-before");
    // One already running when the daemon starts: `followed`.
    let running = run_workload(&before, &["tick", "50"]);
    let mut d = Daemon::start(&["--container", &name, "--container", &before]);
    d.wait_following(&before);
    // One started while it runs, restarted twice, killed (exit 137) and removed.
    let c = run_workload(&name, &["tick", "50"]);
    let mut pids = vec![inspect(&name, "{{.State.Pid}}")];
    for _ in 0..2 {
        docker(&["restart", "-t", "0", &name]);
        pids.push(inspect(&name, "{{.State.Pid}}"));
    }
    docker(&["kill", &name]);
    let code = inspect(&name, "{{.State.ExitCode}}");
    docker(&["rm", &name]);
    let file = d.file(&name);
    let lifecycle = |path: &Path| -> Vec<Value> {
        complete_lines(path)
            .into_iter()
            .filter(|v| v["type"] == "container")
            .collect()
    };
    eventually("the destroyed record", Duration::from_secs(10), || {
        lifecycle(&file).iter().any(|v| v["event"] == "destroyed")
    });
    let (status, _) = d.stop();
    assert!(status.success(), "{status}");
    let events = lifecycle(&file);
    let kinds: Vec<&str> = events.iter().filter_map(|v| v["event"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "started",
            "died",
            "restarted",
            "died",
            "restarted",
            "died",
            "destroyed"
        ],
        "{events:#?}"
    );
    let started: Vec<String> = events
        .iter()
        .filter(|v| v["event"] != "died" && v["event"] != "destroyed")
        .map(|v| v["pid"].to_string())
        .collect();
    assert_eq!(started, pids, "each incarnation's init pid, in order");
    assert_eq!(pids.iter().collect::<HashSet<_>>().len(), 3, "{pids:?}");
    assert_eq!(events[5]["exit_code"].to_string(), code, "{:#?}", events[5]);
    let id = &events[0]["container"]["id"];
    assert!(
        events
            .iter()
            .all(|v| &v["container"]["id"] == id && v["container"]["name"] == name.as_str()),
        "{events:#?}"
    );
    // Each incarnation's records come after its start record, on the same clock.
    let lines = complete_lines(&file);
    let first_restart = lines
        .iter()
        .position(|v| v["event"] == "restarted")
        .expect("restarted");
    assert!(
        lines[first_restart..]
            .iter()
            .any(|v| v["type"] == "syscall" && v["ts"].as_str() > events[2]["ts"].as_str()),
        "records of the second incarnation follow its record"
    );
    // The container that ran before the daemon: `followed`, with its pid.
    let earlier = lifecycle(&d.file(&before));
    assert_eq!(earlier[0]["event"], "followed", "{earlier:#?}");
    assert_eq!(
        earlier[0]["pid"].to_string(),
        inspect(&before, "{{.State.Pid}}")
    );
    drop((c, running));
}
