//! One pipeline for every command: the cases that used to differ between observe, the daemon
//! and the seccomp commands, each run end to end.
use std::{process::Command, time::Duration};

use tests::{TempDir, Tracer, env, run_tracer, tracer_bin, unique, workload_container};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn summary_mode_prints_no_unfinished_records() {
    let c = workload_container();
    for format in ["text", "json"] {
        let t = Tracer::start(&["--container", &c.name, "--summary", "--format", format]);
        c.exec(&["/workload", "burst", "50", "0"]);
        let done = t.stop();
        assert!(done.status.success(), "{}", done.stderr);
        assert!(
            !done.stdout.contains("unfinished"),
            "{format}: {}",
            done.stdout
        );
        if format == "json" {
            let kinds: Vec<String> = done
                .json()
                .iter()
                .map(|v| v["type"].as_str().unwrap_or_default().to_string())
                .collect();
            assert_eq!(kinds, ["summary"], "{format}: {}", done.stdout);
        } else {
            assert!(done.stdout.contains("getppid"), "{}", done.stdout);
        }
    }
}

#[test]
fn summary_count_is_refused_without_stream_and_counts_with_it() {
    let c = workload_container();
    let out = run_tracer(
        &[
            "observe",
            "--container",
            &c.name,
            "--summary",
            "--count",
            "5",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("add --stream"),
        "{}",
        stderr_of(&out)
    );
    let t = Tracer::start(&[
        "--container",
        &c.name,
        "--summary",
        "--stream",
        "--count",
        "2",
        "--format",
        "json",
        "--syscalls",
        "getppid",
    ]);
    c.exec(&["/workload", "burst", "20", "0"]);
    let done = t.wait();
    assert!(done.status.success(), "{}", done.stderr);
    let lines = done.json();
    assert_eq!(done.syscalls().len(), 2, "{}", done.stdout);
    let totals: Vec<_> = lines
        .iter()
        .filter(|v| v["type"] == "summary" && v["total"] == true)
        .collect();
    assert_eq!(totals.len(), 1, "the totals are printed: {}", done.stdout);
    assert!(
        done.stderr.contains("tracer: 2 records, 0 lost"),
        "{}",
        done.stderr
    );
}

#[test]
fn the_closing_line_counts_in_the_singular() {
    let c = workload_container();
    let t = Tracer::start(&[
        "--container",
        &c.name,
        "--count",
        "1",
        "--syscalls",
        "getppid",
    ]);
    c.exec(&["/workload", "burst", "3", "0"]);
    let done = t.wait();
    assert!(
        done.stderr.contains("tracer: 1 record, 0 lost"),
        "{}",
        done.stderr
    );
}

#[test]
fn daemon_writes_to_a_device() {
    let name = unique("devnull");
    let out = run_tracer(
        &[
            "daemon",
            "--container",
            &name,
            "-o",
            "/dev/null",
            "--duration",
            "1s",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn events_files_without_records_are_refused() {
    let dir = TempDir::new("events");
    let empty = dir.0.join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    let lost_only = dir.0.join("lost.jsonl");
    std::fs::write(&lost_only, "{\"type\":\"lost\",\"count\":1,\"total\":1}\n").expect("write");
    let binary = dir.0.join("binary");
    std::fs::write(&binary, b"\x7fELF\x02\x01\x01\0\xff\xfe\0\0\n\x01\x02").expect("write");
    let profile = dir.0.join("profile.json");
    for (file, why) in [
        (&empty, "it holds no syscall record"),
        (&lost_only, "it holds no syscall record"),
        (&binary, "line 1 is not a JSON record of tracer's"),
    ] {
        let out = Command::new(tracer_bin())
            .args(["seccomp", "profile", "-o"])
            .arg(&profile)
            .arg("--events")
            .arg(file)
            .output()
            .expect("runs");
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot use events file {}: {why}", file.display())),
            "{stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            !profile.exists(),
            "no profile is written from {}",
            file.display()
        );
    }
}

#[test]
fn a_docker_socket_that_refuses_us_is_a_privilege_error() {
    // /var/run/docker.sock is root:docker 0660: nobody may not connect.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(tracer_bin())
        .args(["observe", "--container", "web"])
        .output()
        .expect("setpriv runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("to use the Docker socket /var/run/docker.sock: permission denied"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn the_root_cgroup_is_refused_and_cgroup_targets_are_named_once() {
    let mount = std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .find_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            post.starts_with("cgroup2 ")
                .then(|| pre.split_whitespace().nth(4).map(str::to_string))?
        })
        .expect("cgroup2 mount");
    let out = run_tracer(&["observe", "--cgroup", &mount], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("is the root cgroup"),
        "{}",
        stderr_of(&out)
    );

    let c = workload_container();
    let dir = c.cgroup_dir();
    let mut child = Command::new(tracer_bin())
        .args(["observe", "--cgroup"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let lines = tests::stderr_lines(&mut child, None);
    let line = tests::wait_for_line(&lines, "tracer: tracing", Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        line,
        format!("tracer: tracing cgroup {}; Ctrl-C to stop", dir.display())
    );
}

#[test]
fn seccomp_from_start_has_its_own_banner() {
    let name = unique("banner");
    let mut child = Command::new(tracer_bin())
        .args(["seccomp", "profile", "--container", &name, "--from-start"])
        .args(["--duration", "2s", "-o", "/dev/null"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let lines = tests::stderr_lines(&mut child, None);
    let first = lines.recv_timeout(Duration::from_secs(30)).expect("a line");
    assert_eq!(
        first,
        format!("tracer: recording container {name} from its start; start or restart it now")
    );
    let rest = tests::rest_of(&lines);
    let _ = tests::wait_exit(&mut child, "seccomp profile");
    assert!(!rest.contains("daemon following"), "{rest}");
}

#[test]
fn the_ebpf_build_replays_no_warnings() {
    // The release binary is built already: a second build is a no-op and says nothing.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("cargo")
        .current_dir(&root)
        .args(["build", "--release", "--bins", "-p", "tracer-user"])
        .output()
        .expect("cargo runs");
    let stderr = stderr_of(&out);
    assert!(out.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let _ = env("TRACER_BIN");
}
