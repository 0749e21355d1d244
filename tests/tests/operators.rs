//! The daemon for operators (issue 17), against a real Docker engine and kernel: syscall metrics
//! counted in the kernel, read by the Prometheus project's own parser, equal to the streamed
//! records; per-container policy (syscall set, status, process names, string size, format,
//! output of its own).
use std::{collections::BTreeMap, path::Path, time::Duration};

use serde_json::Value;
use tests::{
    burst, burst_pid,
    daemon::{Daemon, Sample, eventually, read_lines, sample, scrape},
    free_port, workload_container,
};

/// The syscall records of `container` in `lines`.
fn calls<'a>(lines: &'a [Value], container: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|v| v["type"] == "syscall" && v["container"]["name"] == container)
        .collect()
}

/// Records by syscall, and failed ones by (syscall, errno).
fn tally(calls: &[&Value]) -> (BTreeMap<String, u64>, BTreeMap<(String, String), u64>) {
    let mut by_syscall = BTreeMap::new();
    let mut by_errno = BTreeMap::new();
    for v in calls {
        let name = v["syscall"].as_str().unwrap_or_default().to_string();
        *by_syscall.entry(name.clone()).or_default() += 1;
        if let Some(e) = v["errno"].as_str() {
            *by_errno.entry((name, e.to_string())).or_default() += 1;
        }
    }
    (by_syscall, by_errno)
}

/// The series of `metric` for `container`, by their other label(s).
fn series(samples: &[Sample], metric: &str, container: &str) -> BTreeMap<String, u64> {
    samples
        .iter()
        .filter(|s| s.name == metric && s.has(&[("container", container)]))
        .map(|s| {
            let mut rest: Vec<&str> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "container")
                .filter_map(|(_, v)| v.as_str())
                .collect();
            rest.sort();
            (rest.join("/"), s.value as u64)
        })
        .collect()
}

/// Whether the kernel's counts of `name` equal the records in its file, syscall by syscall and
/// errno by errno (nothing is filtered out, nothing lost).
fn counts_match_records(d: &Daemon, port: u16, name: &str) -> bool {
    let lines = read_lines(&d.file(name));
    let (records, failed) = tally(&calls(&lines, name));
    let samples = scrape(port);
    let counted = series(&samples, "tracer_syscalls_total", name);
    let errors = series(&samples, "tracer_syscall_errors_total", name);
    let failed: BTreeMap<String, u64> = failed
        .into_iter()
        .map(|((s, e), n)| {
            // The parser's labels, sorted by value: errno names are upper case.
            let mut k = [s, e];
            k.sort();
            (k.join("/"), n)
        })
        .collect();
    if counted != records || errors != failed {
        eprintln!(
            "kernel counts {counted:?}\nrecords {records:?}\nerrors {errors:?}\nfailed records {failed:?}"
        );
        return false;
    }
    true
}

#[test]
fn kernel_counts_are_the_metrics_and_equal_the_stream_across_a_restart() {
    const K: u64 = 37;
    const M: u64 = 11;
    let c = workload_container();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    // Nothing left out: every call the kernel counts is also a record.
    let mut d = Daemon::start(&[
        "--container",
        &c.name,
        "--metrics",
        &addr,
        "--exclude-comm",
        "",
    ]);
    d.wait_following(&c.name);
    let getppid = |samples: &[Sample]| {
        sample(
            samples,
            "tracer_syscalls_total",
            &[("container", &c.name), ("syscall", "getppid")],
        )
    };
    let pid = burst(&c, K as u32, M as u32);
    eventually("the kernel's counts", Duration::from_secs(15), || {
        getppid(&scrape(port)) == Some(K as f64) && counts_match_records(&d, port, &c.name)
    });
    // The workload's own failures, among the container's.
    let lines = read_lines(&d.file(&c.name));
    let mine = tests::workload_calls(&lines, pid);
    let enoent = mine
        .iter()
        .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
        .count();
    assert_eq!(enoent as u64, M);
    // A restart: a new cgroup, the old one's counts read a last time and retired in the kernel;
    // the series go on adding up under the container's name.
    tests::docker(&["restart", "-t", "1", &c.name]);
    eventually("the restart in the stream", Duration::from_secs(30), || {
        read_lines(&d.file(&c.name))
            .iter()
            .any(|v| v["type"] == "container" && v["event"] == "restarted")
    });
    let pid2 = burst(&c, K as u32, M as u32);
    eventually(
        "the counts after the restart",
        Duration::from_secs(15),
        || {
            getppid(&scrape(port)).is_some_and(|n| n >= 2.0 * K as f64)
                && counts_match_records(&d, port, &c.name)
        },
    );
    // Exactly: both bursts' K, and the new incarnation's own start (followed from its first
    // call), which the stream shows too.
    let lines = read_lines(&d.file(&c.name));
    let all: Vec<&Value> = calls(&lines, &c.name)
        .into_iter()
        .filter(|v| v["syscall"] == "getppid")
        .collect();
    // (The two bursts' processes may have the same pid in the container: ns pids start over.)
    let bursts = all
        .iter()
        .filter(|v| {
            v["comm"] == "workload" && [pid, pid2].contains(&v["ns_pid"].as_u64().unwrap_or(0))
        })
        .count() as u64;
    assert_eq!(bursts, 2 * K);
    assert_eq!(getppid(&scrape(port)), Some(all.len() as f64));
    let samples = scrape(port);
    let bytes = sample(
        &samples,
        "tracer_output_bytes_total",
        &[("container", &c.name)],
    );
    let size = std::fs::metadata(d.file(&c.name)).map_or(0, |m| m.len());
    assert_eq!(bytes, Some(size as f64), "bytes written");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    let build = samples
        .iter()
        .find(|s| s.name == "tracer_build_info")
        .expect("build info");
    assert_eq!(build.value, 1.0);
    assert!(build.has(&[("kernel", release.trim())]), "{build:?}");
    let (status, stderr) = d.stop();
    assert!(status.success(), "{stderr}");
}

/// `[pid     N] ` as strace prints it.
fn pid_prefix(ns_pid: u64) -> String {
    format!("[pid {ns_pid:>5}] ")
}

#[test]
fn each_container_gets_its_own_syscalls_status_names_string_size_and_format() {
    const K: u32 = 13;
    const M: u32 = 5;
    let a = workload_container();
    let b = workload_container();
    let c = workload_container();
    let no_chmod = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seccomp/no-chmod.json");
    let dir = tests::TempDir::new("policy");
    let text = dir.0.join("a.txt");
    let config = dir.0.join("daemon.toml");
    std::fs::write(
        &config,
        format!(
            "containers = [{a:?}, {b:?}, {c:?}]\n\
             [container.{a:?}]\nsyscalls = \"getppid,write\"\nstring-size = 4\nformat = \"text\"\noutput = {text:?}\n\
             [container.{b:?}]\nstatus = \"failed\"\nexclude-comm = []\n\
             [container.{c:?}]\nseccomp-watch = {no_chmod:?}\n",
            a = a.name,
            b = b.name,
            c = c.name,
        ),
    )
    .expect("config");
    let mut d = Daemon::start(&["--config", config.to_str().expect("utf-8 path")]);
    // They come in any order.
    for _ in 0..3 {
        d.wait_for_log("following container=", Duration::from_secs(30));
    }
    let out = a.exec(&["/workload", "burst", &K.to_string(), &M.to_string()]);
    let pa = burst_pid(&out);
    let pb = burst(&b, K, M);
    // Not enforced (the container runs without the profile), judged for c alone.
    for x in [&a, &b, &c] {
        assert_eq!(x.exec(&["/workload", "chmod", "/", "777"]), "0");
    }
    let (status, stderr) = d.stop();
    assert!(status.success(), "{stderr}");

    // a: text in its own file, getppid and write only, strings cut at 4, runc left out.
    let a_text = std::fs::read_to_string(&text).expect("a's text");
    let prefix = pid_prefix(pa);
    let lines: Vec<&str> = a_text.lines().collect();
    let a_calls: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("[pid "))
        .collect();
    let getppid = format!("{prefix}getppid() = ");
    assert_eq!(
        a_calls.iter().filter(|l| l.starts_with(&getppid)).count(),
        K as usize,
        "{a_text}"
    );
    // The workload prints `pid N\n` in one write: 4 bytes of it shown, then `...`.
    let written = out.len() + 1;
    let write = format!("{prefix}write(1, \"pid \"..., {written}) = {written}");
    assert_eq!(
        a_calls.iter().filter(|l| **l == write).count(),
        1,
        "{write:?} in {a_text}"
    );
    assert!(
        a_calls
            .iter()
            .all(|l| l.contains("] getppid(") || l.contains("] write(")),
        "only getppid and write: {a_text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| *l == format!("+++ container {} followed (pid {}) +++", a.name, a.pid())),
        "the lifecycle line: {a_text}"
    );
    assert!(
        !Path::new(&d.file(&a.name)).exists(),
        "a's records are in its own file only"
    );

    // b: JSON lines in the output directory, failed calls only, runc's included.
    let b_lines = read_lines(&d.file(&b.name));
    let b_calls = calls(&b_lines, &b.name);
    assert!(!b_calls.is_empty());
    assert!(
        b_calls.iter().all(|v| v["errno"].is_string()),
        "failed calls only"
    );
    assert!(
        b_calls
            .iter()
            .any(|v| v["comm"].as_str().is_some_and(|c| c.starts_with("runc"))),
        "runc's failed calls are kept"
    );
    let mine = tests::workload_calls(&b_lines, pb);
    assert_eq!(
        mine.iter()
            .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
            .count(),
        M as usize
    );
    assert!(mine.iter().all(|v| v["syscall"] != "getppid"));

    // c: its own profile, in complain mode: exactly the one chmod would have been denied.
    let c_lines = read_lines(&d.file(&c.name));
    let findings: Vec<&Value> = c_lines.iter().filter(|v| v["type"] == "seccomp").collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["verdict"], "would_deny");
    assert_eq!(findings[0]["syscall"], "fchmodat");
    assert_eq!(findings[0]["errno"], "EPERM");
    let others: Vec<&Value> = [&b_lines]
        .iter()
        .flat_map(|l| l.iter())
        .filter(|v| v["type"] == "seccomp")
        .collect();
    assert!(others.is_empty(), "no profile for b: {others:?}");
    drop(dir);
}

#[test]
fn a_policy_for_a_container_not_followed_is_refused() {
    let dir = tests::TempDir::new("policy");
    let config = dir.0.join("daemon.toml");
    std::fs::write(
        &config,
        "containers = [\"web\"]\n[container.db]\nstatus = \"failed\"\n",
    )
    .expect("config");
    let out = tests::run_tracer(
        &["daemon", "--config", config.to_str().expect("utf-8")],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[container.\"db\"]") && stderr.contains("names no followed container"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

/// `tracer daemon ARGS --duration 4s -o /dev/null`, running `work` once its start line is on
/// stderr (`None`: its log goes elsewhere): (pid, status, stderr).
fn daemon_for_a_while(
    args: &[&str],
    work: Option<&dyn Fn()>,
) -> (u32, std::process::ExitStatus, String) {
    let mut child = std::process::Command::new(tests::tracer_bin())
        .arg("daemon")
        .args(args)
        .args(["--duration", "4s", "-o", "/dev/null"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tracer daemon starts");
    let pid = child.id();
    let lines = tests::stderr_lines(&mut child, Some("daemon"));
    if let Some(work) = work {
        tests::wait_for_line(&lines, "daemon following", Duration::from_secs(30));
        work();
    }
    let status = tests::wait_exit(&mut child, "daemon");
    (pid, status, tests::rest_of(&lines))
}

#[test]
fn logs_are_json_lines_when_asked() {
    let c = workload_container();
    let (_, status, rest) = daemon_for_a_while(
        &[
            "--container",
            &c.name,
            "--log-format",
            "json",
            "--log-level",
            "info",
        ],
        Some(&|| {
            burst(&c, 3, 1);
        }),
    );
    assert!(status.success(), "{rest}");
    let lines: Vec<Value> = rest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}")))
        .collect();
    let following = lines
        .iter()
        .find(|v| v["fields"]["message"] == "following")
        .expect("the follow line");
    assert_eq!(following["fields"]["container"], c.name.as_str());
    assert_eq!(following["level"], "INFO");
    let last = lines.last().expect("a closing line");
    assert_eq!(last["target"], "tracer_status");
    assert!(
        last["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with(" records, 0 lost")),
        "{last}"
    );
}

/// systemd-journald, started for the test when none runs, stopped after it.
struct Journald(Option<std::process::Child>);

impl Journald {
    /// A journal answers on its socket (a socket file left by one that died refuses).
    fn answers() -> bool {
        std::os::unix::net::UnixDatagram::unbound()
            .and_then(|s| s.connect("/run/systemd/journal/socket"))
            .is_ok()
    }

    fn ensure() -> Journald {
        if Journald::answers() {
            return Journald(None);
        }
        let child = std::process::Command::new("/lib/systemd/systemd-journald")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("systemd-journald starts (package systemd)");
        eventually(
            "the journal's socket",
            Duration::from_secs(10),
            Journald::answers,
        );
        Journald(Some(child))
    }
}

impl Drop for Journald {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
    }
}

#[test]
fn logs_go_to_the_journal_with_their_fields() {
    let _journal = Journald::ensure();
    let c = workload_container();
    let (pid, status, rest) = daemon_for_a_while(
        &["--container", &c.name, "--log-format", "journald", "-v"],
        None,
    );
    assert!(status.success(), "{rest}");
    assert_eq!(rest, "", "the journal has it all");
    let mut entries = Vec::new();
    eventually(
        "the daemon's journal entries",
        Duration::from_secs(10),
        || {
            let out = std::process::Command::new("journalctl")
                .args(["-o", "json", "--no-pager", &format!("_PID={pid}")])
                .output()
                .expect("journalctl");
            entries = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect();
            entries.iter().any(|e| {
                e["MESSAGE"]
                    .as_str()
                    .is_some_and(|m| m.ends_with(" records, 0 lost"))
            })
        },
    );
    assert!(
        entries.iter().all(|e| e["SYSLOG_IDENTIFIER"] == "tracer"),
        "{entries:?}"
    );
    let following = entries
        .iter()
        .find(|e| e["MESSAGE"] == "following")
        .expect("the follow entry");
    assert_eq!(following["F_CONTAINER"], c.name.as_str());
    assert!(
        entries.iter().any(|e| e["MESSAGE"]
            .as_str()
            .is_some_and(|m| m.starts_with(&format!("daemon following {}", c.name)))),
        "{entries:?}"
    );
}
