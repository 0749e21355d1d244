//! `tracer seccomp` against a real Docker engine: a profile generated from an nginx container's
//! start and load runs a new nginx with zero denials (with argument conditions too); the seed's
//! deny-all profile stops a container and `check` says why; default-no-chmod denies
//! `chmod 777 /`, live and predicted; `watch` reports it without enforcing, alone and in the
//! daemon across a restart; `merge` and `diff` exit as documented.
use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc::Receiver,
    time::{Duration, Instant},
};

use serde_json::Value;
use tests::{
    Container, TempDir, Tracer, burst, burst_pid,
    daemon::{Daemon, eventually, http, metric, read_lines},
    docker, env, free_port, http_get, nginx_named, rest_of, run_tracer, stderr_lines, tracer_bin,
    unique, wait_exit, wait_for_line,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/seccomp")
        .join(name)
}

/// `tracer seccomp profile --from-start …` waiting for `container`; returns once it waits.
fn profile_from_start(container: &str, duration: &str, record: &Path, out: &Path) -> Child {
    profile_from_start_with(container, duration, record, out, &[])
}

/// `profile_from_start` with more options (`--args`).
fn profile_from_start_with(
    container: &str,
    duration: &str,
    record: &Path,
    out: &Path,
    more: &[&str],
) -> Child {
    let mut child = Command::new(tracer_bin())
        .args([
            "seccomp",
            "profile",
            "--container",
            container,
            "--from-start",
        ])
        .args(more)
        .args(["--duration", duration, "--record"])
        .arg(record)
        .arg("--output")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracer seccomp profile");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("tracer: recording container") => break,
            Some(Ok(l)) => eprintln!("{l}"),
            other => panic!("seccomp profile did not start: {other:?}"),
        }
    }
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            eprintln!("profile: {l}");
        }
    });
    child
}

fn wait_ok(mut child: Child, within: Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{status}");
            return;
        }
        assert!(start.elapsed() < within, "did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn check(profile: &Path, events: &Path) -> (i32, Value) {
    let out = Command::new(tracer_bin())
        .args(["seccomp", "check", "--format", "json", "--profile"])
        .arg(profile)
        .arg("--events")
        .arg(events)
        .output()
        .expect("tracer seccomp check");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), report)
}

/// A profile generated (`seccomp profile` with `extra`) from the start of an nginx that serves
/// 200 requests: its directory (also holding the recording), the profile's and the recording's
/// paths, and the profile read back.
fn nginx_profile(tag: &str, extra: &[&str]) -> (TempDir, PathBuf, PathBuf, Value) {
    let dir = TempDir::new(tag);
    let profile = dir.0.join("profile.json");
    let record = dir.0.join("events.jsonl");
    let name = unique(tag);
    let port = free_port();
    let generator = profile_from_start_with(&name, "6s", &record, &profile, extra);
    let (c, _conf) = nginx_named(&name, port, &[]);
    for _ in 0..200 {
        assert!(http_get(port).contains("200"));
    }
    wait_ok(generator, Duration::from_secs(30));
    drop(c);
    let p =
        serde_json::from_str(&std::fs::read_to_string(&profile).expect("profile")).expect("JSON");
    (dir, profile, record, p)
}

#[test]
fn generated_nginx_profile_runs_nginx_with_zero_denials() {
    let (_dir, profile, record, p) = nginx_profile("sc-nginx", &[]);
    assert_eq!(p["defaultAction"], "SCMP_ACT_ERRNO");
    let names: Vec<&str> = p["syscalls"][0]["names"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for needed in [
        "accept4",
        "execve",
        "epoll_wait",
        "writev",
        "exit_group",
        "tgkill",
    ] {
        assert!(names.contains(&needed), "{needed} missing from {names:?}");
    }
    // runc's set-up before its filter (pivot_root, mount) is not in the profile.
    assert!(!names.contains(&"pivot_root"), "{names:?}");
    eprintln!("generated profile: {names:?}");
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);

    // A new nginx under the generated profile starts, serves, and nothing is denied.
    serves_under(&profile, "sc-nginx-confined");
    // And the recording passes its own profile.
    let (code, report) = check(&profile, &record);
    assert_eq!(code, 0, "{report}");
}

/// A new nginx under `profile` starts, serves 100 requests (each accepted) and nothing of it
/// is denied, as `tracer observe` sees it.
fn serves_under(profile: &Path, what: &str) {
    let name = unique(what);
    let port = free_port();
    let opt = format!("seccomp={}", profile.display());
    let (c, _conf) = nginx_named(&name, port, &["--security-opt", &opt]);
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json"]);
    for _ in 0..100 {
        assert!(http_get(port).contains("200"));
    }
    let records = tracer.stop().syscalls();
    let accepts = records
        .iter()
        .filter(|v| v["syscall"] == "accept4" && v["ret"].as_i64().is_some_and(|r| r >= 0))
        .count();
    assert!(accepts >= 100, "{accepts} accept4");
    let denied: Vec<&Value> = records.iter().filter(|v| !v["seccomp"].is_null()).collect();
    assert!(
        denied.is_empty(),
        "{} calls denied under {}, first: {:?}",
        denied.len(),
        profile.display(),
        denied.first()
    );
}

#[test]
fn deny_all_stops_the_container_and_check_says_why() {
    let dir = TempDir::new("seccomp-deny");
    let record = dir.0.join("events.jsonl");
    let name = unique("sc-deny");
    let generator = profile_from_start(&name, "3s", &record, &dir.0.join("p.json"));
    let image = env("TRACER_WORKLOAD_IMAGE");
    let c = Container {
        name: name.clone(),
        cli: "docker",
    };
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "none",
        &image,
        "/workload",
        "burst",
        "3",
        "0",
    ]);
    wait_ok(generator, Duration::from_secs(20));
    drop(c);

    // Under the seed's deny-all profile the container does not start.
    let deny = fixture("deny.json");
    let opt = format!("seccomp={}", deny.display());
    let denied_name = unique("sc-deny-run");
    let _guard = Container {
        name: denied_name.clone(),
        cli: "docker",
    };
    let out = Command::new("docker")
        .args([
            "run",
            "--name",
            &denied_name,
            "--network",
            "none",
            "--security-opt",
            &opt,
            &image,
            "/workload",
            "burst",
            "3",
            "0",
        ])
        .output()
        .expect("docker run");
    assert!(
        !out.status.success(),
        "the container started under deny-all"
    );

    // The check of the recorded start: the runtime's own calls after it loads the filter come
    // first, so the container cannot even start.
    let (code, report) = check(&deny, &record);
    assert_eq!(code, 9, "{report}");
    let first = &report["denied"][0];
    assert!(
        first["first"]["comm"]
            .as_str()
            .is_some_and(|c| c.starts_with("runc")),
        "{report}"
    );
    assert_eq!(first["action"], "SCMP_ACT_ERRNO");
    assert_eq!(first["errno"], "EPERM");
    assert!(report["runtime_setup"].as_u64().is_some_and(|n| n > 0));
    let listed: Vec<&str> = report["denied"]
        .as_array()
        .expect("denied")
        .iter()
        .filter_map(|f| f["syscall"].as_str())
        .collect();
    assert!(
        listed.contains(&"execve") && listed.contains(&"getppid"),
        "{listed:?}"
    );
}

#[test]
fn no_chmod_denial_is_seen_live_and_predicted_by_check() {
    let image = env("TRACER_WORKLOAD_IMAGE");
    let no_chmod = fixture("no-chmod.json");
    // Live: `chmod 777 /` under the profile fails with EPERM, and the record says so.
    let opt = format!("seccomp={}", no_chmod.display());
    let confined = Container::run(
        "sc-nochmod",
        &["--network", "none", "--security-opt", &opt, &image],
    );
    let tracer = Tracer::start(&["--container", &confined.name, "--format", "json"]);
    let out = Command::new("docker")
        .args(["exec", &confined.name, "/workload", "chmod", "/", "777"])
        .output()
        .expect("docker exec");
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("-{}", libc::EPERM)
    );
    let live = tracer.stop();
    let chmods: Vec<Value> = live
        .syscalls()
        .into_iter()
        .filter(|v| {
            v["comm"] == "workload" && v["syscall"].as_str().is_some_and(|s| s.contains("chmod"))
        })
        .collect();
    assert_eq!(chmods.len(), 1, "{chmods:?}");
    assert_eq!(chmods[0]["seccomp"], "denied");
    assert_eq!(chmods[0]["errno"], "EPERM");
    assert_eq!(chmods[0]["enter"], "skipped");
    assert_eq!(
        live.syscalls()
            .iter()
            .filter(|v| v["seccomp"] == "denied")
            .count(),
        1
    );

    // Predicted: the same call recorded without the profile, checked against it.
    let free = Container::run("sc-chmod", &["--network", "none", &image]);
    let tracer = Tracer::start(&["--container", &free.name, "--format", "json"]);
    let out = Command::new("docker")
        .args(["exec", &free.name, "/workload", "chmod", "/", "777"])
        .output()
        .expect("docker exec");
    assert!(out.status.success(), "chmod without the profile: {out:?}");
    let recorded = tracer.stop();
    let dir = TempDir::new("seccomp-chmod");
    let events = dir.0.join("events.jsonl");
    std::fs::write(&events, &recorded.stdout).expect("write events");
    let (code, report) = check(&no_chmod, &events);
    assert_eq!(code, 9, "{report}");
    let denied = report["denied"].as_array().expect("denied");
    assert_eq!(denied.len(), 1, "{report}");
    assert_eq!(denied[0]["syscall"], "fchmodat");
    assert_eq!(denied[0]["calls"], 1);
    assert_eq!(denied[0]["errno"], "EPERM");
    assert_eq!(denied[0]["first"]["comm"], "workload");
}

#[test]
fn sigsys_from_kill_and_trap_is_seen_live_and_predicted_by_check() {
    let image = env("TRACER_WORKLOAD_IMAGE");
    // SCMP_ACT_KILL_PROCESS, and SCMP_ACT_TRAP (the workload has no SIGSYS handler: killed too).
    let kill = fixture("kill-chmod.json");
    let dir = TempDir::new("seccomp-trap");
    let trap = dir.0.join("trap-chmod.json");
    let text = std::fs::read_to_string(&kill)
        .expect("fixture")
        .replace("SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP");
    std::fs::write(&trap, text).expect("write");
    for (profile, action) in [(&kill, "SCMP_ACT_KILL_PROCESS"), (&trap, "SCMP_ACT_TRAP")] {
        let opt = format!("seccomp={}", profile.display());
        let confined = Container::run(
            "sc-kill",
            &["--network", "none", "--security-opt", &opt, &image],
        );
        let json = Tracer::start(&["--container", &confined.name, "--format", "json"]);
        let text = Tracer::start(&["--container", &confined.name, "--format", "text"]);
        let out = Command::new("docker")
            .args(["exec", &confined.name, "/workload", "chmod", "/", "777"])
            .output()
            .expect("docker exec");
        // 128 + SIGSYS: the process died of the signal.
        assert_eq!(
            out.status.code(),
            Some(128 + libc::SIGSYS),
            "{action}: {out:?}"
        );
        let (json, text) = (json.stop(), text.stop());
        let marked: Vec<Value> = json
            .syscalls()
            .into_iter()
            .filter(|v| !v["seccomp"].is_null())
            .collect();
        assert_eq!(marked.len(), 1, "{action}: {marked:?}");
        let call = &marked[0];
        assert_eq!(call["syscall"], "fchmodat", "{call}");
        assert_eq!(call["seccomp"], "sigsys");
        assert_eq!(call["comm"], "workload");
        assert_eq!(call["ret"], Value::Null, "it never ran");
        assert_eq!(call["args"][2]["value"], 0o777);
        assert_eq!(
            text.stdout
                .lines()
                .filter(|l| l.contains("] fchmodat(AT_FDCWD, ")
                    && l.ends_with(", 0777) = ? (seccomp SIGSYS)"))
                .count(),
            1,
            "{}",
            text.stdout
        );

        // The recording, checked against the same profile, names the call and the action.
        let events = dir.0.join("events.jsonl");
        std::fs::write(&events, &json.stdout).expect("write events");
        let (code, report) = check(profile, &events);
        assert_eq!(code, 9, "{report}");
        let denied = report["denied"].as_array().expect("denied");
        assert_eq!(denied.len(), 1, "{report}");
        assert_eq!(denied[0]["syscall"], "fchmodat");
        assert_eq!(denied[0]["action"], action);
    }
}

/// The nginx profile with `--args`: some calls are allowed only with the values nginx's start
/// used, and nginx still starts and serves under it; the recording passes `check` and `watch`
/// against it.
#[test]
fn generated_nginx_profile_with_args_runs_nginx() {
    let (_dir, profile, record, p) = nginx_profile("sc-nginx-args", &["--args"]);
    let rules = p["syscalls"].as_array().expect("rules");
    let conditioned: Vec<String> = rules
        .iter()
        .filter(|r| r["args"].as_array().is_some_and(|a| !a.is_empty()))
        .map(|r| format!("{}{}", r["names"], r["args"]))
        .collect();
    eprintln!("argument conditions: {conditioned:#?}");
    assert!(!conditioned.is_empty(), "{p}");
    // A conditioned call is not also allowed by name.
    let by_name: Vec<&str> = rules[0]["names"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for r in &rules[1..] {
        let n = r["names"][0].as_str().expect("name");
        assert!(!by_name.contains(&n), "{n} both ways");
        assert_eq!(r["action"], "SCMP_ACT_ALLOW");
    }
    assert!(
        conditioned.iter().any(|c| c.contains("\"socket\"")),
        "{conditioned:?}"
    );

    // nginx under it: starts, serves, nothing denied.
    serves_under(&profile, "sc-nginx-args-confined");
    // The recording against its own profile: check passes, watch finds nothing.
    let (code, report) = check(&profile, &record);
    assert_eq!(code, 0, "{report}");
    let out = run_tracer(
        &[
            "seccomp",
            "watch",
            "--profile",
            &profile.display().to_string(),
            "--events",
            &record.display().to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A running `tracer seccomp watch`: the child, its stderr lines, and its output file.
struct Watcher {
    child: Child,
    stderr: Receiver<String>,
    output: PathBuf,
}

impl Watcher {
    /// `tracer seccomp watch --profile PROFILE --container NAME -o FILE ARGS…`, once it says
    /// it is watching.
    fn start(profile: &Path, container: &str, dir: &TempDir, args: &[&str]) -> Watcher {
        let output = dir.0.join(unique("findings"));
        let mut child = Command::new(tracer_bin())
            .args(["seccomp", "watch", "--profile"])
            .arg(profile)
            .args(["--container", container, "-o"])
            .arg(&output)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracer seccomp watch");
        let stderr = stderr_lines(&mut child, Some("watch"));
        wait_for_line(&stderr, "tracer: watching ", Duration::from_secs(30));
        Watcher {
            child,
            stderr,
            output,
        }
    }

    /// Lets the ring buffer drain, stops it with SIGINT: (exit code, output, stderr).
    fn stop(mut self) -> (Option<i32>, String, String) {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = wait_exit(&mut self.child, "seccomp watch");
        let out = std::fs::read_to_string(&self.output).unwrap_or_default();
        (status.code(), out, rest_of(&self.stderr))
    }
}

/// Complain mode on a container running without the profile: `chmod 777 /` succeeds, and is
/// the one call reported, with the profile's verdict; the other calls of a burst are not.
#[test]
fn watch_reports_chmod_without_enforcing_it() {
    let image = env("TRACER_WORKLOAD_IMAGE");
    let dir = TempDir::new("seccomp-watch");
    for (profile, verdict, action, errno) in [
        (
            "no-chmod.json",
            "would_deny",
            "SCMP_ACT_ERRNO",
            Value::from("EPERM"),
        ),
        (
            "kill-chmod.json",
            "would_kill",
            "SCMP_ACT_KILL_PROCESS",
            Value::Null,
        ),
    ] {
        let c = Container::run("sc-watch", &["--network", "none", &image]);
        let json = Watcher::start(&fixture(profile), &c.name, &dir, &[]);
        let text = Watcher::start(&fixture(profile), &c.name, &dir, &["--format", "text"]);
        let before = burst_pid(&c.exec(&["/workload", "burst", "50", "20"]));
        let out = Command::new("docker")
            .args(["exec", &c.name, "/workload", "chmod", "/", "777"])
            .output()
            .expect("docker exec");
        assert!(
            out.status.success(),
            "{profile}: the chmod was enforced: {out:?}"
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
        let after = burst(&c, 50, 20);
        let (code, found, stderr) = json.stop();
        assert_eq!(code, Some(9), "{profile}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "would not have allowed 1 observed call(s) (1 {verdict})"
            )),
            "{stderr}"
        );
        let lines: Vec<Value> = found
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 1, "{profile}: {found}");
        let f = &lines[0];
        assert_eq!(f["type"], "seccomp");
        assert_eq!(f["verdict"], verdict);
        assert_eq!(f["action"], action);
        assert_eq!(f["errno"], errno);
        assert_eq!(f["rule"], 0);
        assert_eq!(f["syscall"], "fchmodat");
        assert_eq!(f["container"]["name"], c.name.as_str());
        let call = &f["call"];
        assert_eq!(call["type"], "syscall");
        assert_eq!(call["syscall"], "fchmodat");
        assert_eq!(call["comm"], "workload");
        assert_eq!(call["args"][2]["value"], 0o777);
        assert_eq!(call["ret"], 0, "it ran");
        assert!(call["seccomp"].is_null());
        assert_ne!(call["ns_pid"], before);
        assert_ne!(call["ns_pid"], after);
        let (code, text, stderr) = text.stop();
        assert_eq!(code, Some(9), "{stderr}");
        let lines: Vec<&str> = text.lines().collect();
        let suffix = match errno.as_str() {
            Some(e) => format!(" = 0 (seccomp {verdict}: {action}({e}))"),
            None => format!(" = 0 (seccomp {verdict}: {action})"),
        };
        assert_eq!(lines.len(), 1, "{text}");
        assert!(
            lines[0].contains("] fchmodat(AT_FDCWD, \"/\", 0777)") && lines[0].ends_with(&suffix),
            "{text}"
        );
    }
}

/// `findings_total` for `container` and `verdict` on fchmodat, from the metrics endpoint.
fn findings_metric(port: u16, container: &str) -> Option<f64> {
    let (_, body) = http(port, "/metrics");
    metric(
        &body,
        &format!(
            "tracer_seccomp_findings_total{{container=\"{container}\",syscall=\"fchmodat\",verdict=\"would_deny\"}}"
        ),
    )
}

/// The daemon in complain mode: each incarnation's chmods, and nothing else, give a finding
/// after their record in the container's stream, and the metric counts them.
#[test]
fn daemon_watch_reports_each_chmod_across_a_restart() {
    let image = env("TRACER_WORKLOAD_IMAGE");
    let name = unique("sc-daemon-watch");
    let c = Container::run_on("docker", &name, &["--network", "none", &image]);
    let port = free_port();
    let no_chmod = fixture("no-chmod.json");
    let mut d = Daemon::start(&[
        "--container",
        &name,
        "--seccomp-watch",
        &no_chmod.display().to_string(),
        "--metrics",
        &port.to_string(),
    ]);
    d.wait_following(&name);
    let file = d.file(&name);
    let chmod = || {
        let out = c.exec(&["/workload", "chmod", "/", "777"]);
        assert_eq!(out, "0", "not enforced");
    };
    let findings = |file: &Path| -> Vec<Value> {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "seccomp")
            .collect()
    };
    // One chmod in the first incarnation, two in the second; bursts around them.
    burst(&c, 20, 5);
    chmod();
    eventually("the first finding", Duration::from_secs(10), || {
        findings(&file).len() == 1
    });
    assert_eq!(findings_metric(port, &name), Some(1.0));
    docker(&["restart", "-t", "1", &name]);
    eventually("the restarted record", Duration::from_secs(20), || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("\"event\":\"restarted\"")
    });
    chmod();
    burst(&c, 20, 5);
    chmod();
    eventually("three findings", Duration::from_secs(10), || {
        findings(&file).len() == 3
    });
    assert_eq!(findings_metric(port, &name), Some(3.0));
    let (status, _) = d.stop();
    assert!(status.success(), "{status}");
    let lines = read_lines(&file);
    let restarted = lines
        .iter()
        .position(|v| v["type"] == "container" && v["event"] == "restarted")
        .expect("restarted");
    let at: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, v)| v["type"] == "seccomp")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 3, "exactly one finding per chmod");
    assert_eq!(
        at.iter().filter(|&&i| i < restarted).count(),
        1,
        "one in the first incarnation"
    );
    for &i in &at {
        let f = &lines[i];
        assert_eq!(
            (&f["verdict"], &f["syscall"], &f["errno"]),
            (
                &Value::from("would_deny"),
                &Value::from("fchmodat"),
                &Value::from("EPERM")
            )
        );
        // Right after the call's own record, which it embeds.
        assert_eq!(f["call"], lines[i - 1], "{f}");
        assert_eq!(f["call"]["comm"], "workload");
    }
    // Three distinct processes (one per exec).
    let pids: std::collections::HashSet<String> = at
        .iter()
        .map(|&i| lines[i]["call"]["pid"].to_string())
        .collect();
    assert_eq!(pids.len(), 3);
}

fn write_profile(dir: &TempDir, name: &str, text: &str) -> String {
    let p = dir.0.join(name);
    std::fs::write(&p, text).expect("write profile");
    p.display().to_string()
}

/// `merge` and `diff` through the binary: outputs and exit codes.
#[test]
fn merge_and_diff_exit_codes() {
    let dir = TempDir::new("seccomp-merge");
    let a = write_profile(
        &dir,
        "a.json",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["write", "read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    let b = write_profile(
        &dir,
        "b.json",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [
            {"names": ["openat", "read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    let allow = write_profile(
        &dir,
        "allow.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}"#,
    );
    let merged = dir.0.join("merged.json").display().to_string();
    let out = run_tracer(&["seccomp", "merge", &a, &b, "-o", &merged], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(&merged).expect("merged")).expect("JSON");
    assert_eq!(
        m["syscalls"][0]["names"],
        serde_json::json!(["openat", "read", "write"])
    );
    assert_eq!(m["syscalls"].as_array().map(Vec::len), Some(3));

    // Conflicting defaults: exit 12, one line naming both files.
    let out = run_tracer(&["seccomp", "merge", &a, &allow], &[]);
    assert_eq!(out.status.code(), Some(12), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "tracer: cannot merge {a} and {allow}: their default actions differ"
        )),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // diff: equal (a profile and itself merged), different (text and JSON), unreadable.
    let self_merged = dir.0.join("aa.json").display().to_string();
    let out = run_tracer(&["seccomp", "merge", &a, &a, "-o", &self_merged], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run_tracer(&["seccomp", "diff", &a, &self_merged], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run_tracer(&["seccomp", "diff", &a, &merged], &[]);
    assert_eq!(out.status.code(), Some(13), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\n+ openat "), "{text}");
    assert!(text.contains("\n+ socket if arg0 == 10 "), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the profiles differ in 2 place(s)"),
        "{out:?}"
    );
    let out = run_tracer(&["seccomp", "diff", &merged, &a, "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(13), "{out:?}");
    let d: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(d["equal"], false);
    assert_eq!(d["only_new"], serde_json::json!([]));
    assert_eq!(d["only_old"].as_array().map(Vec::len), Some(2));
    let out = run_tracer(&["seccomp", "diff", &a, "/nonexistent/p.json"], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read profile /nonexistent/p.json")
    );
}
