//! End to end on a real kernel and a real Docker engine: `tracer record` beside `tracer
//! observe` on the same workload, then `tracer show` of the recording prints what observe did.
use std::{collections::BTreeMap, path::Path, time::Duration};

use serde_json::Value;
use tests::{Container, TempDir, Tracer, daemon::Daemon, run_tracer, workload_container};

/// docs/cli.md's exit code for a recording that cannot be read on.
const EXIT_RECORDING: i32 = 10;
const K: u32 = 1000;
const M: u32 = 500;

/// `docker exec` of `workload burst K M`; returns its pid as it sees it.
fn burst(c: &Container) -> u64 {
    let out = c.exec(&["/workload", "burst", &K.to_string(), &M.to_string()]);
    out.strip_prefix("pid ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("workload printed {out:?}"))
}

/// observe ARGS and record, attached to the same container at once, over one burst: observe's
/// output, the recording (in `dir`), and the burst's pid.
fn observe_and_record(
    c: &Container,
    args: &[&str],
    dir: &TempDir,
) -> (String, std::path::PathBuf, u64) {
    observe_and_record_with(c, args, &[], dir)
}

/// As `observe_and_record`, `record` given `rec_args` too.
fn observe_and_record_with(
    c: &Container,
    args: &[&str],
    rec_args: &[&str],
    dir: &TempDir,
) -> (String, std::path::PathBuf, u64) {
    let mut a = vec!["--container", c.name.as_str()];
    a.extend_from_slice(args);
    let live = Tracer::start(&a);
    let mut r = vec!["--container", c.name.as_str()];
    r.extend_from_slice(rec_args);
    let rec = Tracer::start_as("record", &r);
    let pid = burst(c);
    // observe stops on SIGINT; record on SIGTERM, which must end it as cleanly (its trailer
    // written: `show` of the whole file succeeds).
    let rec_pid = rec.pid();
    let live = live.stop();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(rec_pid as i32, libc::SIGTERM) };
    let rec = rec.wait();
    assert!(live.status.success(), "observe: {}", live.stderr);
    assert!(rec.status.success(), "record: {}", rec.stderr);
    assert!(
        rec.stderr.contains(" records, 0 lost"),
        "record: {}",
        rec.stderr
    );
    let path = dir.0.join("cap.bin");
    std::fs::write(&path, &rec.output).expect("recording copied");
    (live.stdout, path, pid)
}

fn show(path: &Path, args: &[&str]) -> std::process::Output {
    let mut a = vec!["show", path.to_str().expect("utf-8 path")];
    a.extend_from_slice(args);
    run_tracer(&a, &[])
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The kernel time of a record's `ts`, in ns since the epoch.
fn ts_ns(v: &Value) -> i128 {
    let ts = v["ts"].as_str().unwrap_or_else(|| panic!("no ts: {v}"));
    // 2026-12-02T06:14:04.146013173Z: only the time of day matters within one run.
    let (_, time) = ts.split_once('T').expect("RFC 3339");
    let time = time.trim_end_matches('Z');
    let mut parts = time.split([':', '.']);
    let mut next = || -> i128 { parts.next().and_then(|p| p.parse().ok()).expect("digits") };
    let (h, m, s, ns) = (next(), next(), next(), next());
    ((h * 60 + m) * 60 + s) * 1_000_000_000 + ns
}

/// Each thread's records in order. Two attachments of the same tracepoints (observe's and
/// record's) each have their own ring buffer, which takes the records of threads running on
/// different CPUs at the same moment in its own order: within a thread the order is the
/// kernel's, the same for both.
fn by_thread<T>(items: &[T], key: impl Fn(&T) -> String) -> BTreeMap<String, Vec<&T>> {
    let mut out: BTreeMap<String, Vec<&T>> = BTreeMap::new();
    for v in items {
        out.entry(key(v)).or_default().push(v);
    }
    out
}

/// Two attachments of the same tracepoints each read the clock themselves: `ts` and
/// `duration_ns` differ by the other attachment's run time (docs/cli.md), nothing else may.
fn without_times(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("ts");
        o.remove("duration_ns");
    }
    v
}

#[test]
fn show_json_equals_observe_json_record_for_record() {
    let c = workload_container();
    let dir = TempDir::new("record-json");
    let (live, cap, pid) = observe_and_record(&c, &["--format", "json"], &dir);
    let shown = same_records(&live, &cap);
    let mine = |name: &str, errno: Option<&str>| workload_calls(&shown, pid, name, errno);
    assert_eq!(mine("getppid", None), K as usize);
    assert_eq!(mine("openat", Some("ENOENT")), M as usize);
    assert_eq!(mine("exit_group", None), 1);
}

/// `--exit-only` on both sides: the recording shows what observe printed, every call without a
/// duration, exit_group read as the task ended, execve left out.
#[test]
fn an_exit_only_recording_shows_what_exit_only_observe_printed() {
    let c = workload_container();
    let dir = TempDir::new("record-exit-only");
    let (live, cap, pid) = observe_and_record_with(
        &c,
        &["--format", "json", "--exit-only"],
        &["--exit-only"],
        &dir,
    );
    let shown = same_records(&live, &cap);
    let mine = |name: &str, errno: Option<&str>| workload_calls(&shown, pid, name, errno);
    assert_eq!(mine("getppid", None), K as usize);
    assert_eq!(mine("openat", Some("ENOENT")), M as usize);
    assert_eq!(mine("exit_group", None), 1);
    let calls: Vec<&Value> = shown.iter().filter(|v| v["type"] == "syscall").collect();
    assert!(calls.iter().all(|v| v["duration_ns"].is_null()));
    assert!(calls.iter().all(|v| v["syscall"] != "execve"));
}

/// The burst process's calls named `name` (failed with `errno`, when given).
fn workload_calls(shown: &[Value], pid: u64, name: &str, errno: Option<&str>) -> usize {
    shown
        .iter()
        .filter(|v| {
            v["type"] == "syscall"
                && v["ns_pid"].as_u64() == Some(pid)
                && v["comm"] == "workload"
                && v["syscall"] == name
                && errno.is_none_or(|e| v["errno"] == e)
        })
        .count()
}

/// `show --format json` of the recording `cap` prints the records of `live` (observe's JSON),
/// thread by thread, times aside; returns them.
fn same_records(live: &str, cap: &Path) -> Vec<Value> {
    let shown = show(cap, &["--format", "json"]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(String::from_utf8_lossy(&shown.stderr).contains(" records, 0 lost"));
    let (live, shown) = (
        json_lines(live),
        json_lines(&String::from_utf8_lossy(&shown.stdout)),
    );
    assert_eq!(live.len(), shown.len(), "record counts");
    let (live_threads, shown_threads) = (
        by_thread(&live, |v| v["tid"].to_string()),
        by_thread(&shown, |v| v["tid"].to_string()),
    );
    assert_eq!(live_threads.len(), shown_threads.len(), "threads");
    for ((lt, l), (st, s)) in live_threads.iter().zip(&shown_threads) {
        assert_eq!(lt, st, "threads");
        assert_eq!(l.len(), s.len(), "thread {lt}: records");
    }
    let pairs = live_threads
        .values()
        .flatten()
        .zip(shown_threads.values().flatten());
    for (i, (l, s)) in pairs.enumerate() {
        assert_eq!(without_times(l), without_times(s), "record {i}");
        if l.get("ts").is_some() {
            let skew = (ts_ns(l) - ts_ns(s)).abs();
            assert!(
                skew < 5_000_000,
                "record {i}: ts {} vs {}",
                l["ts"],
                s["ts"]
            );
        }
        assert_eq!(
            l["duration_ns"].is_null(),
            s["duration_ns"].is_null(),
            "record {i}"
        );
    }
    shown
}

#[test]
fn show_text_equals_observe_text_and_filters_as_observe_does() {
    let c = workload_container();
    let dir = TempDir::new("record-text");
    let (live, cap, _) = observe_and_record(&c, &[], &dir);
    let shown = show(&cap, &[]);
    assert!(shown.status.success());
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert_eq!(live.lines().count(), shown.lines().count());
    let pid = |l: &&str| {
        l.split_once(']')
            .map_or(String::new(), |(p, _)| p.to_string())
    };
    let (live_lines, shown_lines): (Vec<&str>, Vec<&str>) =
        (live.lines().collect(), shown.lines().collect());
    assert_eq!(by_thread(&live_lines, pid), by_thread(&shown_lines, pid));
    let getppid = shown
        .lines()
        .filter(|l| l.contains("] getppid() = 0"))
        .count();
    assert_eq!(getppid, K as usize);
    // show's own filters on the same recording: -Z keeps the M failed openat (and no getppid),
    // -e trace=getppid only the K getppid (signal and exit lines stay, as in strace).
    let failed = show(&cap, &["-Z", "-e", "trace=openat,getppid"]);
    let failed = String::from_utf8_lossy(&failed.stdout).into_owned();
    assert_eq!(failed.lines().filter(|l| l.contains("getppid")).count(), 0);
    let enoent = failed
        .lines()
        .filter(|l| {
            l.contains("openat(AT_FDCWD, \"/nonexistent/tracer-workload\"")
                && l.ends_with("ENOENT (No such file or directory)")
        })
        .count();
    assert_eq!(enoent, M as usize, "{failed}");
    let only = show(&cap, &["-e", "trace=getppid"]);
    let only = String::from_utf8_lossy(&only.stdout).into_owned();
    assert!(
        only.lines()
            .all(|l| l.contains("getppid") || l.contains("+++") || l.contains("--- SIG")),
        "{only}"
    );
    assert_eq!(
        only.lines().filter(|l| l.contains("getppid")).count(),
        K as usize
    );
}

#[test]
fn a_cut_recording_shows_every_record_before_the_cut_then_one_error_line() {
    let c = workload_container();
    let dir = TempDir::new("record-cut");
    let (_, cap, _) = observe_and_record(&c, &["--format", "json"], &dir);
    let whole = show(&cap, &["--format", "json"]);
    assert!(whole.status.success());
    let whole = String::from_utf8_lossy(&whole.stdout).into_owned();
    let bytes = std::fs::read(&cap).expect("recording");
    let cut = dir.0.join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("cut copy");
    let out = show(&cut, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(EXIT_RECORDING));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = stderr.trim_end();
    assert!(!line.contains('\n'), "one line: {stderr}");
    let offset: usize = line
        .split_once(": byte ")
        .and_then(|(_, rest)| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {line:?}"));
    assert!(line.contains("cut short"), "{line}");
    assert!(offset > 0 && offset <= bytes.len() * 2 / 3, "{line}");
    // Every whole record before the cut, and the same records as the whole recording's first.
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.lines().count() > 0, "nothing before the cut");
    assert!(
        whole.starts_with(&stdout),
        "not a prefix of the whole recording's output"
    );
    // Cut at that offset (a frame boundary): the same records, then "without its trailer".
    std::fs::write(&cut, &bytes[..offset]).expect("cut copy");
    let at = show(&cut, &["--format", "json"]);
    assert_eq!(at.status.code(), Some(EXIT_RECORDING));
    assert_eq!(String::from_utf8_lossy(&at.stdout), stdout);
    assert!(String::from_utf8_lossy(&at.stderr).contains("without its trailer"));
    // Not a recording at all: observe's JSON lines.
    std::fs::write(&cut, whole.as_bytes()).expect("json copy");
    let not = show(&cut, &[]);
    assert_eq!(not.status.code(), Some(EXIT_RECORDING));
    assert!(not.stdout.is_empty());
    assert!(String::from_utf8_lossy(&not.stderr).contains("byte 0: not a recording"));
}

/// `workload` calls of `ns_pid` in `lines`, each thread's in order, times left out.
fn workload_records(lines: &[Value], ns_pid: u64) -> Vec<Value> {
    tests::workload_calls(lines, ns_pid)
        .into_iter()
        .map(without_times)
        .collect()
}

#[test]
fn the_daemon_records_a_container_undecoded_and_show_prints_what_observe_printed() {
    let a = workload_container();
    let b = workload_container();
    let dir = TempDir::new("daemon-binary");
    let config = dir.0.join("daemon.toml");
    std::fs::write(
        &config,
        format!(
            "containers = [{a:?}, {b:?}]\n[container.{a:?}]\nformat = \"binary\"\n",
            a = a.name,
            b = b.name
        ),
    )
    .expect("config");
    let mut d = Daemon::start(&["--config", config.to_str().expect("utf-8 path")]);
    for _ in 0..2 {
        d.wait_for_log("following container=", Duration::from_secs(30));
    }
    let live = Tracer::start(&["--container", &a.name, "--format", "json"]);
    let first = burst(&a);
    let pb = burst(&b);
    let live = live.stop();
    assert!(live.status.success(), "observe: {}", live.stderr);
    // SIGHUP: the recording ends with its trailer; the file, not moved away by anyone, is
    // moved aside to NAME.trec.1 when the next one starts.
    d.signal(libc::SIGHUP);
    d.wait_for_log("output files reopened", Duration::from_secs(10));
    let second = burst(&a);
    let (status, stderr) = d.stop();
    assert!(status.success(), "{stderr}");

    let rec = d.dir.0.join(format!("{}.trec", a.name));
    let older = d.dir.0.join(format!("{}.trec.1", a.name));
    assert!(
        !d.file(&a.name).exists(),
        "a's records are in its recording only"
    );
    let shown = |path: &Path| {
        let out = show(path, &["--format", "json"]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{}: {err}", path.display());
        assert!(err.contains(" records, 0 lost"), "{err}");
        json_lines(&String::from_utf8_lossy(&out.stdout))
    };
    let (older, newer) = (shown(&older), shown(&rec));
    // The first burst as observe printed it, record for record (the ids in the container's
    // PID namespace included: the daemon's user side wrote them in, as it would have shown
    // them).
    let live = json_lines(&live.stdout);
    let expected = workload_records(&live, first);
    assert!(!expected.is_empty());
    assert_eq!(workload_records(&older, first), expected);
    let count = |lines: &[Value], pid: u64, name: &str| {
        tests::workload_calls(lines, pid)
            .iter()
            .filter(|v| v["syscall"] == name)
            .count()
    };
    assert_eq!(count(&older, first, "getppid"), K as usize);
    assert_eq!(count(&older, second, "getppid"), 0);
    // The second burst in the new recording only.
    assert_eq!(count(&newer, second, "getppid"), K as usize);
    assert_eq!(count(&newer, second, "exit_group"), 1);
    assert_eq!(count(&newer, first, "getppid"), 0);
    // b, decoded as usual beside it.
    let b_lines = tests::daemon::read_lines(&d.file(&b.name));
    assert_eq!(count(&b_lines, pb, "getppid"), K as usize);
}
