//! End to end on a real kernel and a real Docker engine: what `tracer observe` reports.
use std::time::Instant;

use serde_json::Value;
use tests::{
    Container, Tracer, burst, free_port, host_workload, http_get, nginx_container, workload_calls,
    workload_container,
};

fn count(records: &[Value], pred: impl Fn(&Value) -> bool) -> usize {
    records.iter().filter(|v| pred(v)).count()
}

#[test]
fn nginx_requests_show_up_as_accept4_and_nothing_from_the_host() {
    const N: usize = 2000;
    let port = free_port();
    let (web, _conf) = nginx_container(port);
    let id = web.id();
    // A busy process on the host, outside the container: none of its syscalls may appear.
    let mut busy = host_workload(&["storm", "2000000000"]);
    let tracer = Tracer::start(&["--container", &web.name, "--format", "json"]);
    let start = Instant::now();
    for _ in 0..N {
        assert!(http_get(port).contains("200 OK"));
    }
    let elapsed = start.elapsed();
    let done = tracer.stop();
    let busy_pid = busy.id() as u64;
    let _ = busy.kill();
    let _ = busy.wait();

    assert!(done.status.success(), "{}", done.stderr);
    let records = done.syscalls();
    let accepted = count(&records, |v| {
        v["syscall"] == "accept4" && v["ret"].as_i64().is_some_and(|r| r >= 0)
    });
    assert!(
        accepted >= N,
        "{accepted} successful accept4 for {N} requests"
    );
    let cgroup =
        std::fs::metadata(web.cgroup_dir()).map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    for v in &records {
        assert_eq!(v["container"]["name"], web.name.as_str(), "{v}");
        assert_eq!(v["container"]["id"], id.as_str(), "{v}");
        assert_eq!(v["comm"], "nginx", "{v}");
        assert_eq!(
            v["cgroup_id"].as_u64(),
            cgroup.as_ref().ok().copied(),
            "{v}"
        );
        assert_ne!(
            v["pid"].as_u64(),
            Some(busy_pid),
            "host process traced: {v}"
        );
    }
    assert!(!done.stdout.contains("\"type\":\"lost\""), "events lost");
    eprintln!(
        "event rate: {} records for {N} requests in {:.3} s = {:.0} records/s",
        records.len(),
        elapsed.as_secs_f64(),
        records.len() as f64 / elapsed.as_secs_f64()
    );
}

/// K getppid and M failing openat made by a `docker exec`'d process: exactly K and M records,
/// nothing lost, namespace pid as the process itself saw it, and its exit_group.
fn exact_counts(hook: &str) {
    const K: u32 = 1000;
    const M: u32 = 500;
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json", "--hook", hook]);
    let ns_pid = burst(&c, K, M);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(
        done.stderr.ends_with(", 0 lost") || done.stderr.contains(" records, 0 lost"),
        "{}",
        done.stderr
    );
    let records = done.syscalls();
    let mine = workload_calls(&records, ns_pid);
    let getppid = mine.iter().filter(|v| v["syscall"] == "getppid").count();
    assert_eq!(getppid, K as usize);
    let enoent = mine
        .iter()
        .filter(|v| v["syscall"] == "openat" && v["errno"] == "ENOENT")
        .count();
    assert_eq!(enoent, M as usize);
    assert!(
        mine.iter().all(|v| v["pid"].as_u64() != Some(ns_pid)),
        "host pid differs from ns pid"
    );
    let execve = count(&records, |v| {
        v["ns_pid"].as_u64() == Some(ns_pid) && v["syscall"] == "execve" && v["ret"] == 0
    });
    assert_eq!(execve, 1, "the exec into the workload");
    let exits: Vec<&&Value> = mine
        .iter()
        .filter(|v| v["syscall"] == "exit_group")
        .collect();
    assert_eq!(exits.len(), 1, "one exit_group");
    assert!(exits[0]["ret"].is_null() && exits[0]["duration_ns"].is_null());
    assert_eq!(exits[0]["args"][0]["value"], 0);
    let ok = mine
        .iter()
        .filter(|v| v["syscall"] == "getppid")
        .all(|v| v["enter"] == "seen" && v["duration_ns"].as_u64().is_some() && v["ret"] == 0);
    // The parent of a `docker exec`'d process is outside the container's PID namespace: 0.
    assert!(ok, "getppid paired, returning 0, with a duration");
    assert_eq!(count(&records, |v| v["type"] == "lost"), 0);
}

#[test]
fn exact_counts_raw_tracepoint() {
    exact_counts("raw");
}

#[test]
fn exact_counts_btf_tracepoint() {
    exact_counts("btf");
}

#[test]
fn exact_counts_classic_tracepoint() {
    exact_counts("tracepoint");
}

#[test]
fn syscall_filter_keeps_only_the_named_syscalls() {
    let c = workload_container();
    let tracer = Tracer::start(&[
        "--container",
        &c.name,
        "--format",
        "json",
        "--syscalls",
        "openat",
    ]);
    let ns_pid = burst(&c, 300, 70);
    let done = tracer.stop();
    let records = done.syscalls();
    assert!(
        records.iter().all(|v| v["syscall"] == "openat"),
        "only openat"
    );
    let mine = count(&records, |v| {
        v["ns_pid"].as_u64() == Some(ns_pid) && v["comm"] == "workload" && v["errno"] == "ENOENT"
    });
    assert_eq!(mine, 70);
}

/// strace's `-Z` and `-z`: with the exact-count workload, only the M failing openat and no
/// getppid (which never fails); then only the K getppid and no failed call.
#[test]
fn status_filters_keep_only_failed_or_successful_calls() {
    const K: u32 = 200;
    const M: u32 = 60;
    let c = workload_container();
    for (flag, getppid, enoent) in [("-Z", 0, M), ("-z", K, 0)] {
        let tracer = Tracer::start(&[
            "--container",
            &c.name,
            "--format",
            "json",
            "-e",
            "trace=openat,getppid",
            flag,
        ]);
        let ns_pid = burst(&c, K, M);
        let done = tracer.stop();
        assert!(done.status.success(), "{flag}: {}", done.stderr);
        let records = done.syscalls();
        assert!(
            records
                .iter()
                .all(|v| v["syscall"] == "openat" || v["syscall"] == "getppid"),
            "{flag}: only the traced set"
        );
        let failed = count(&records, |v| v["errno"].is_string());
        if flag == "-Z" {
            assert_eq!(failed, records.len(), "{flag}: only failed calls");
        } else {
            assert_eq!(failed, 0, "{flag}: no failed call");
            assert!(
                records.iter().all(|v| v["ret"].is_i64()),
                "{flag}: all returned"
            );
        }
        let mine = |name: &str| {
            count(&records, |v| {
                v["ns_pid"].as_u64() == Some(ns_pid)
                    && v["comm"] == "workload"
                    && v["syscall"] == name
            })
        };
        assert_eq!(mine("getppid"), getppid as usize, "{flag}");
        let mine_enoent = count(&records, |v| {
            v["ns_pid"].as_u64() == Some(ns_pid)
                && v["comm"] == "workload"
                && v["syscall"] == "openat"
                && v["errno"] == "ENOENT"
        });
        assert_eq!(mine_enoent, enoent as usize, "{flag}");
    }
}

/// `-e trace=%file -e status=failed` gives the failed file calls only: the workload's M
/// failing openat, and nothing else from it (its other file call, the exec, succeeded); runc's
/// own failed lookups, where there are any, are failed calls with a path argument each.
/// `-e trace=!getppid` on the same run: no getppid, and the M openat.
#[test]
fn class_and_negated_sets_with_a_status_filter() {
    const K: u32 = 100;
    const M: u32 = 25;
    let c = workload_container();
    let failed_files = Tracer::start(&[
        "--container",
        &c.name,
        "--format",
        "json",
        "-e",
        "trace=%file",
        "-e",
        "status=failed",
    ]);
    let not_getppid = Tracer::start(&[
        "--container",
        &c.name,
        "--format",
        "json",
        "-e",
        "trace=!getppid",
    ]);
    let ns_pid = burst(&c, K, M);
    let (failed_files, not_getppid) = (failed_files.stop(), not_getppid.stop());
    let records = failed_files.syscalls();
    let mine = |v: &Value| v["ns_pid"].as_u64() == Some(ns_pid) && v["comm"] == "workload";
    let workload: Vec<&Value> = records.iter().filter(|v| mine(v)).collect();
    assert_eq!(workload.len(), M as usize, "{workload:#?}");
    assert!(workload.iter().all(|v| v["syscall"] == "openat"
        && v["errno"] == "ENOENT"
        && v["args"][1]["value"] == "/nonexistent/tracer-workload"));
    for v in &records {
        assert!(v["errno"].is_string(), "failed only: {v}");
        let has_path = v["args"].as_array().is_some_and(|a| {
            a.iter()
                .any(|a| a["type"].as_str().is_some_and(|t| t.contains("char *")))
        });
        assert!(has_path, "a file call: {v}");
    }
    let records = not_getppid.syscalls();
    assert_eq!(count(&records, |v| v["syscall"] == "getppid"), 0);
    assert_eq!(
        count(&records, |v| mine(v)
            && v["syscall"] == "openat"
            && v["errno"] == "ENOENT"),
        M as usize
    );
    assert!(count(&records, |v| mine(v) && v["syscall"] == "exit_group") == 1);
}

/// `-y` with a status set: the fd tables still see the opens and closes the filter hides.
#[test]
fn status_filters_keep_fd_paths_right() {
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "-y", "-z", "-e", "trace=read,lseek"]);
    c.exec(&["/workload", "fdreuse", "/workload"]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let out = &done.stdout;
    assert!(
        out.contains("read(3</workload>, \"\\177ELF\", 4) = 4"),
        "{out}"
    );
    assert!(
        out.contains("lseek(5</etc/hostname>, 0, SEEK_SET) = 0"),
        "{out}"
    );
    assert!(!out.contains(" = -1 "), "-z: no failed call: {out}");
}

#[test]
fn count_stops_after_exactly_n_records() {
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json", "--count", "25"]);
    burst(&c, 100, 0);
    let done = tracer.wait();
    assert!(done.status.success(), "{}", done.stderr);
    // Signals (docker exec's runtime signals itself) are not syscall records: not counted.
    let other = count(&done.json(), |v| {
        v["type"] != "syscall" && v["type"] != "signal"
    });
    assert_eq!(other, 0, "{}", done.stdout);
    assert_eq!(done.syscalls().len(), 25);
}

#[test]
fn duration_ends_the_run_and_text_is_strace_shaped() {
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "--duration", "2s", "-T"]);
    let ns_pid = burst(&c, 3, 2);
    let done = tracer.wait();
    assert!(done.status.success(), "{}", done.stderr);
    let prefix = format!("[pid {ns_pid:>5}] ");
    // From the workload's first syscall on (runc's init runs first under the same pid).
    let lines: Vec<&str> = done
        .stdout
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .skip_while(|l| !l.contains("] getppid() = "))
        .collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("] getppid() = "))
            .count(),
        3,
        "{lines:#?}"
    );
    let openat = format!(
        "{prefix}openat(AT_FDCWD, \"/nonexistent/tracer-workload\", O_RDONLY) = -1 ENOENT (No such file or directory) <"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with(&openat)).count(),
        2,
        "{lines:#?}"
    );
    assert!(
        lines.contains(&format!("{prefix}exit_group(0) = ?").as_str()),
        "{lines:#?}"
    );
    assert!(lines.contains(&format!("{prefix}+++ exited with 0 +++").as_str()));
}

#[test]
fn pid_and_cgroup_targets_follow_the_same_container() {
    let c = workload_container();
    let dir = c.cgroup_dir();
    for args in [
        vec!["--container-of".to_string(), c.pid().to_string()],
        vec!["--cgroup".to_string(), dir.display().to_string()],
    ] {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(["--format", "json", "--syscalls", "getppid"]);
        let tracer = Tracer::start(&a);
        let ns_pid = burst(&c, 42, 0);
        let done = tracer.stop();
        let records = done.syscalls();
        assert_eq!(
            count(&records, |v| v["ns_pid"].as_u64() == Some(ns_pid)),
            42,
            "{args:?}"
        );
        assert!(
            records.iter().all(|v| v["container"].is_null()),
            "no container info for {args:?}"
        );
    }
}

/// A cgroup v2 directory made for one test, removed when dropped (once empty).
struct Cgroup(std::path::PathBuf);

impl Drop for Cgroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

#[test]
fn the_tracer_never_traces_itself() {
    // Put the tracer inside the cgroup it follows, next to a workload: only the workload shows.
    let c = workload_container();
    let mount = c
        .cgroup_dir()
        .ancestors()
        .nth(2)
        .expect("cgroup2 mount")
        .to_path_buf();
    let dir = Cgroup(mount.join(tests::unique("self")));
    std::fs::create_dir(&dir.0).expect("mkdir cgroup");
    let tracer = Tracer::start(&["--cgroup", &dir.0.display().to_string(), "--format", "json"]);
    let own = tracer.pid();
    std::fs::write(dir.0.join("cgroup.procs"), own.to_string()).expect("move tracer");
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec {} burst 10 0",
        dir.0.display(),
        tests::workload_bin().display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("workload");
    let pid: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .strip_prefix("pid ")
        .and_then(|p| p.parse().ok())
        .expect("workload pid");
    let done = tracer.stop();
    let records = done.syscalls();
    assert_eq!(
        count(&records, |v| v["pid"].as_u64() == Some(pid)
            && v["syscall"] == "getppid"),
        10
    );
    assert_eq!(
        count(&records, |v| v["pid"].as_u64() == Some(u64::from(own))),
        0
    );
}

/// getppid of container `name` as JSON through one page of ring buffer (32 records).
fn small_ring(name: &str) -> Vec<&str> {
    vec![
        "--container",
        name,
        "--format",
        "json",
        "--syscalls",
        "getppid",
        "--ring-size",
        "4K",
    ]
}

#[test]
fn a_full_ring_buffer_is_reported_and_every_call_accounted_for() {
    // One page of ring buffer (32 records) against a burst of getppid: the kernel drops what
    // does not fit and counts it; records plus reported losses add up to the calls made.
    const K: u64 = 200_000;
    let c = workload_container();
    let tracer = Tracer::start(&small_ring(&c.name));
    burst(&c, K as u32, 0);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let lines = done.json();
    let records = count(&lines, |v| {
        v["type"] == "syscall" && v["syscall"] == "getppid"
    }) as u64;
    let lost: Vec<&Value> = lines.iter().filter(|v| v["type"] == "lost").collect();
    assert!(
        !lost.is_empty(),
        "a 4K ring buffer kept up with {K} calls: make the burst larger"
    );
    let total = lost.last().and_then(|v| v["total"].as_u64()).unwrap_or(0);
    let sum: u64 = lost.iter().filter_map(|v| v["count"].as_u64()).sum();
    assert_eq!(sum, total, "lost counts add up to the running total");
    assert_eq!(records + total, K, "{records} records + {total} lost");
    assert!(
        done.stderr.contains(&format!(" records, {total} lost")),
        "{}",
        done.stderr
    );
}

#[test]
fn hostile_strings_are_captured_whole_and_escaped() {
    let c = workload_container();
    for format in ["json", "text"] {
        let tracer = Tracer::start(&["--container", &c.name, "--format", format, "-s", "256"]);
        c.exec(&["/workload", "hostile"]);
        let done = tracer.stop();
        assert!(done.status.success(), "{}", done.stderr);
        if format == "json" {
            let records = done.syscalls();
            let long = "/".to_string() + &"a".repeat(4094);
            let opened: Vec<&Value> = records
                .iter()
                .filter(|v| v["syscall"] == "openat")
                .collect();
            assert!(
                opened.iter().any(|v| v["args"][1]["value"] == long.as_str()
                    && v["errno"] == "ENAMETOOLONG"),
                "4095-byte path captured whole"
            );
            let evil = opened
                .iter()
                .find(|v| v["args"][1]["hex"].is_string())
                .expect("the invalid UTF-8 path carries hex");
            let want: String = b"\x1b]0;pwned\x07\x1b[2J\xff\xfe/etc/\"x\""
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(evil["args"][1]["hex"], want.as_str());
            let w = records
                .iter()
                .find(|v| v["syscall"] == "write" && v["args"][2]["value"] == 256)
                .expect("write of 256 bytes");
            let hex = w["args"][1]["hex"]
                .as_str()
                .expect("every byte value is not UTF-8");
            let want: String = (0..=255u8).map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, want);
        } else {
            assert!(
                done.stdout.chars().all(|c| c == '\n' || !c.is_control()),
                "raw control character in text output"
            );
            assert!(done.stdout.contains(
                r#"openat(AT_FDCWD, "\33]0;pwned\7\33[2J\377\376/etc/\"x\"", O_RDONLY) = -1 ENOENT"#
            ));
            assert!(
                done.stdout
                    .contains(r#"write(3, "\0\1\2\3\4\5\6\7\10\t\n\v\f\r\16\17"#)
            );
        }
    }
}

/// `-y` without strace slowing the workload down: every fd number is reused microseconds after
/// its close, long before tracer decodes the records (10 ms batches), and what /proc shows by
/// then must not be printed for the call that opened the earlier file.
#[test]
fn fd_paths_name_what_the_trace_opened_when_numbers_are_reused() {
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "-y"]);
    c.exec(&["/workload", "fdreuse", "/workload"]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let lines: Vec<&str> = done
        .stdout
        .lines()
        .filter(|l| l.contains("/workload") || l.contains("pipe") || l.contains("hostname"))
        .collect();
    let all = lines.join("\n");
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        has("openat(AT_FDCWD</>, \"/workload\", O_RDONLY|O_CLOEXEC) = 3</workload>"),
        "{all}"
    );
    assert!(has("read(3</workload>, \"\\177ELF\", 4) = 4"), "{all}");
    assert!(has("close(3</workload>) = 0"), "{all}");
    assert!(has("pipe2([3<pipe:["), "{all}");
    assert!(has("dup(4<pipe:["), "{all}");
    assert!(has("close(5<pipe:["), "{all}");
    assert!(
        has("openat(AT_FDCWD</>, \"/etc/hostname\", O_RDONLY) = 5</etc/hostname>"),
        "{all}"
    );
    assert!(has("lseek(5</etc/hostname>, 0, SEEK_SET) = 0"), "{all}");
    assert!(!has("= 3<pipe") && !has("= 5</workload"), "{all}");
}

/// `-y` with `--syscalls`: the opens and closes outside the subset still reach the fd tables
/// (and are not printed), so the subset's fds are named as the trace opened them.
#[test]
fn fd_paths_with_a_syscall_subset_still_follow_opens_and_closes() {
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "-y", "--syscalls", "read,lseek"]);
    c.exec(&["/workload", "fdreuse", "/workload"]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let out = &done.stdout;
    assert!(
        out.contains("read(3</workload>, \"\\177ELF\", 4) = 4"),
        "{out}"
    );
    assert!(out.contains("read(3<pipe:["), "{out}");
    assert!(
        out.contains("lseek(5</etc/hostname>, 0, SEEK_SET) = 0"),
        "{out}"
    );
    for l in out.lines().filter(|l| l.starts_with("[pid ")) {
        let call = l.split_once("] ").map_or(l, |(_, c)| c);
        // Signals are shown whatever the syscall set, as strace shows them (docker exec's
        // runtime signals itself).
        assert!(
            [
                "read(",
                "lseek(",
                "<... read resumed>",
                "<... lseek resumed>",
                "--- SIG",
            ]
            .iter()
            .any(|p| call.starts_with(p)),
            "{l}"
        );
    }
}

/// Host pids of the processes whose command line is exactly `args`, once there are `n`.
fn host_pids_running(args: &[&str], n: usize) -> Vec<u32> {
    let want: Vec<u8> = args
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let pids: Vec<u32> = std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|d| d.ok()?.file_name().to_str()?.parse().ok())
            .filter(|pid: &u32| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want)
            })
            .collect();
        if pids.len() >= n || Instant::now() > deadline {
            assert_eq!(pids.len(), n, "processes running {args:?}");
            return pids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// strace's `-p`: one of two processes in the same container, and the children it forks after
/// tracing starts; nothing of the other process or its children. The run ends by itself when
/// the process and its children have exited.
#[test]
fn p_follows_one_process_and_its_new_children_only() {
    const N: usize = 3; // children of the traced process
    const K: usize = 5; // getppid per child
    let c = workload_container();
    let traced = ["/workload", "forks-on-usr1", "3", "5"];
    let other = ["/workload", "forks-on-usr1", "2", "7"];
    tests::docker(&[&["exec", "-d", &c.name][..], &traced[..]].concat());
    tests::docker(&[&["exec", "-d", &c.name][..], &other[..]].concat());
    let a = host_pids_running(&traced, 1)[0];
    let b = host_pids_running(&other, 1)[0];
    let tracer = Tracer::start(&["-p", &a.to_string(), "--format", "json"]);
    for pid in [a, b] {
        // SAFETY: signalling a process we started.
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGUSR1) }, 0);
    }
    let done = tracer.wait();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(
        done.stderr.contains("every followed process exited"),
        "{}",
        done.stderr
    );
    let records = done.syscalls();
    let tgid = |v: &Value| v["pid"].as_u64().expect("pid") as u32;
    let mut tgids: Vec<u32> = records.iter().map(tgid).collect();
    tgids.sort_unstable();
    tgids.dedup();
    assert!(tgids.contains(&a), "{tgids:?}");
    assert!(!tgids.contains(&b), "the other process: {tgids:?}");
    let children: Vec<u32> = tgids.iter().copied().filter(|&t| t != a).collect();
    assert_eq!(children.len(), N, "{tgids:?}");
    for child in &children {
        let calls: Vec<&Value> = records.iter().filter(|v| tgid(v) == *child).collect();
        assert_eq!(
            count(&records, |v| tgid(v) == *child && v["syscall"] == "getppid"),
            K,
            "child {child}: {calls:#?}"
        );
        assert!(
            calls.iter().any(|v| v["syscall"] == "exit_group"),
            "{calls:#?}"
        );
        // The child's first record is its side of the fork returning 0.
        assert_eq!(calls[0]["syscall"], "clone", "{calls:#?}");
        assert_eq!(calls[0]["ret"], 0, "{calls:#?}");
    }
    // The traced process: N forks returning the children, N waits, its own exit.
    let forks: Vec<&Value> = records
        .iter()
        .filter(|v| tgid(v) == a && v["syscall"] == "clone")
        .collect();
    assert_eq!(forks.len(), N, "{forks:#?}");
    assert_eq!(
        count(&records, |v| tgid(v) == a && v["syscall"] == "wait4"),
        N
    );
    assert_eq!(
        count(&records, |v| tgid(v) == a && v["syscall"] == "getppid"),
        0
    );
    // Host pids, as the user named the process: no namespace ids.
    assert!(
        records.iter().all(|v| v["ns_pid"].is_null()),
        "{records:#?}"
    );
}

/// `--exclude-comm`: a `docker exec` is mostly runc's set-up (`runc:[2:INIT]` and its
/// parents); left out, the exact-count workload remains, exactly. A second tracer without the
/// option, on the same run, sees runc's calls: the option is what removed them.
#[test]
fn exclude_comm_leaves_out_the_runtime_s_set_up() {
    const K: u32 = 20;
    const M: u32 = 10;
    let c = workload_container();
    let all = Tracer::start(&["--container", &c.name, "--format", "json"]);
    let some = Tracer::start(&[
        "--container",
        &c.name,
        "--format",
        "json",
        "--exclude-comm",
        "runc,runc:[0:PARENT],runc:[1:CHILD]",
        "--exclude-comm",
        "runc:[2:INIT]",
    ]);
    let ns_pid = burst(&c, K, M);
    let (all, some) = (all.stop(), some.stop());
    let runc = |v: &Value| v["comm"].as_str().is_some_and(|c| c.starts_with("runc"));
    let (all, some) = (all.syscalls(), some.syscalls());
    assert!(
        count(&all, runc) > 0,
        "runc's set-up is traced without the option"
    );
    assert_eq!(count(&some, runc), 0);
    let mine = |v: &Value| v["ns_pid"].as_u64() == Some(ns_pid);
    assert_eq!(
        count(&some, |v| mine(v) && v["syscall"] == "getppid"),
        K as usize
    );
    assert_eq!(
        count(&some, |v| mine(v)
            && v["syscall"] == "openat"
            && v["errno"] == "ENOENT"),
        M as usize
    );
    // The exec into the workload is reported under its new name: kept.
    assert_eq!(
        count(&some, |v| mine(v)
            && v["syscall"] == "execve"
            && v["ret"] == 0),
        1
    );
}

/// strace's `-P`: only the calls naming the paths, by a path argument (the M failing openat)
/// or by an fd that refers to one (the write and close of the fd an openat returned), from the
/// trace's own fd tables; with no -y, nothing is annotated.
#[test]
fn trace_path_keeps_the_calls_that_touch_the_paths() {
    const K: u32 = 30;
    const M: u32 = 7;
    let c = workload_container();
    let tracer = Tracer::start(&[
        "--container",
        &c.name,
        "--format",
        "json",
        "-P",
        "/nonexistent/tracer-workload",
        "--trace-path",
        "/tmp/trace-path",
    ]);
    let ns_pid = burst(&c, K, M);
    c.exec(&["/workload", "touch", "/tmp/trace-path"]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let records = done.syscalls();
    let missing = |v: &Value| {
        v["syscall"] == "openat"
            && v["args"][1]["value"] == "/nonexistent/tracer-workload"
            && v["errno"] == "ENOENT"
    };
    assert_eq!(
        count(&records, |v| v["ns_pid"].as_u64() == Some(ns_pid)
            && missing(v)),
        M as usize
    );
    let touched: Vec<&Value> = records.iter().filter(|v| !missing(v)).collect();
    let names: Vec<&str> = touched
        .iter()
        .filter_map(|v| v["syscall"].as_str())
        .collect();
    assert_eq!(names, ["openat", "write", "close"], "{touched:#?}");
    assert_eq!(touched[0]["args"][1]["value"], "/tmp/trace-path");
    let fd = touched[0]["ret"].clone();
    assert!(
        touched[1..].iter().all(|v| v["args"][0]["raw"] == fd),
        "{touched:#?}"
    );
    assert!(
        touched.iter().all(|v| v["args"][0].get("path").is_none()),
        "no -y: {touched:#?}"
    );
}

/// The kernel side's own diagnostics (aya-log): with `-v`, a full ring buffer is reported by
/// the kernel program itself (`tracer::diag`); without, the verifier removed the statement and
/// nothing of it is printed, while the losses are still counted.
#[test]
fn v_shows_the_kernel_side_s_diagnostics_and_only_with_v() {
    const K: u32 = 100_000;
    let c = workload_container();
    let run = |verbose: bool| {
        let mut args = small_ring(&c.name);
        if verbose {
            args.push("-v");
        }
        let tracer = Tracer::start(&args);
        burst(&c, K, 0);
        let done = tracer.stop();
        assert!(done.status.success(), "{}", done.stderr);
        let lost = done
            .json()
            .iter()
            .filter(|v| v["type"] == "lost")
            .filter_map(|v| v["count"].as_u64())
            .sum::<u64>();
        assert!(lost > 0, "a 4K ring kept up with {K} calls");
        done.stderr
    };
    let quiet = run(false);
    assert!(!quiet.contains("tracer::diag"), "{quiet}");
    let verbose = run(true);
    assert!(
        verbose
            .lines()
            .any(|l| l.contains("tracer::diag") && l.contains("ring buffer full")),
        "no kernel diagnostic with -v:\n{verbose}"
    );
}

/// Runs `f` on a thread inside the network namespace of process `pid`.
fn in_netns<T: Send + 'static>(pid: u32, f: impl FnOnce() -> T + Send + 'static) -> T {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("netns");
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        // SAFETY: setns on this thread only.
        let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("netns thread")
}

/// strace's -yy for an nginx in its own network namespace (not the host's, where strace from
/// a sidecar would look): the listening socket's address, and the accepted connection's two
/// ends, which the test's client knows from its own socket.
#[test]
fn yy_shows_tcp_addresses_from_the_container_s_network_namespace() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;
    let port = free_port();
    let dir = tests::TempDir::new("nginx-yy");
    let conf = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/nginx.conf"))
        .expect("nginx.conf")
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    std::fs::write(dir.0.join("nginx.conf"), conf).expect("conf");
    let mount = format!(
        "{}:/etc/nginx/nginx.conf:ro",
        dir.0.join("nginx.conf").display()
    );
    let image = tests::env("TRACER_NGINX_IMAGE");
    let web = Container::run("nginx-yy", &["--network", "none", "-v", &mount, &image]);
    let pid = web.pid();
    in_netns(pid, move || {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "nginx did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    // The host's namespace has no such listener: only the container's can answer.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());

    let tracer = Tracer::start(&[
        "--container",
        &web.name,
        "-yy",
        "-e",
        "trace=accept4,recvfrom,read",
    ]);
    let client = in_netns(pid, move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .expect("send");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0, "nginx closed");
            got.extend_from_slice(&buf[..n]);
        }
        // Held open while tracer reads the events: sock_diag answers for live sockets only.
        std::thread::sleep(Duration::from_millis(1500));
        s.local_addr().expect("local").port()
    });
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let listener = format!("<TCP:[127.0.0.1:{port}]>");
    let conn = format!("<TCP:[127.0.0.1:{port}->127.0.0.1:{client}]>");
    let accept = done
        .stdout
        .lines()
        .find(|l| l.contains("accept4(") && l.contains(&conn))
        .unwrap_or_else(|| panic!("no accept4 returning {conn}:\n{}", done.stdout));
    assert!(accept.contains(&listener), "{accept}");
    assert!(
        accept.contains(&format!("sin_port=htons({client})")),
        "the kernel's sockaddr and sock_diag disagree: {accept}"
    );
    let fd = accept
        .rsplit_once(" = ")
        .and_then(|(_, r)| r.split('<').next())
        .expect("accept4's fd");
    assert!(
        done.stdout
            .lines()
            .any(|l| (l.contains("recvfrom(") || l.contains("read("))
                && l.contains(&format!("({fd}{conn}, \"GET / HTTP/1.1\\r\\n"))),
        "no read of the request on {fd}{conn}:\n{}",
        done.stdout
    );
}
