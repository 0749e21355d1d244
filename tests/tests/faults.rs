//! Faults around a running tracer: a full disk, a reader that goes away, a container that dies,
//! SIGKILL, and several tracers at once. Real kernel, real Docker.
use std::{
    collections::BTreeSet,
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use tests::{Container, TempDir, Tracer, daemon::eventually, env, wait_exit, workload_container};

/// `docker exec` of `workload burst K M` (K getppid, M failed openat).
fn burst(c: &Container, k: u32, m: u32) {
    c.exec(&["/workload", "burst", &k.to_string(), &m.to_string()]);
}

fn getppids(lines: &[Value]) -> usize {
    lines
        .iter()
        .filter(|v| v["type"] == "syscall" && v["syscall"] == "getppid")
        .count()
}

/// Every line of `text` is a complete JSON record and the text ends with a newline.
fn whole_lines(text: &str) -> Vec<Value> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "output ends in part of a line: {:?}",
        &text[text.len().saturating_sub(80)..]
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    fn new(size: &str) -> SmallDisk {
        let dir = TempDir::new("disk");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tracer-test"])
            .arg(&dir.0)
            .status()
            .expect("mount");
        assert!(ok.success(), "mount tmpfs");
        SmallDisk { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir.0).status();
    }
}

/// Waits for the "tracing" line on a piped stderr, then hands the rest back.
fn wait_tracing(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let rx = tests::stderr_lines(child, None);
    tests::wait_for_line(&rx, "tracer: tracing ", Duration::from_secs(30));
    rx
}

#[test]
fn a_full_disk_stops_with_a_clear_error_and_whole_lines() {
    let c = workload_container();
    let disk = SmallDisk::new("256k");
    // Once through --output, once through a shell-style `> FILE` on standard output.
    for via_stdout in [false, true] {
        let out = disk.path(if via_stdout {
            "stdout.jsonl"
        } else {
            "out.jsonl"
        });
        let mut cmd = Command::new(tests::tracer_bin());
        cmd.args(["observe", "--container", &c.name, "--format", "json"])
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        if via_stdout {
            cmd.stdout(std::fs::File::create(&out).expect("create"));
        } else {
            cmd.arg("--output").arg(&out).stdout(Stdio::null());
        }
        let mut child = cmd.spawn().expect("tracer starts");
        let rx = wait_tracing(&mut child);
        // ~300 bytes a record: 20,000 records are far more than 256 KiB.
        burst(&c, 20_000, 0);
        let status = wait_exit(&mut child, "tracer on a full disk");
        let stderr = tests::rest_of(&rx);
        assert_eq!(status.code(), Some(8), "{stderr}");
        let want = format!(
            "tracer: output file {}: no space left on its file system; free space there or choose another path with --output",
            if via_stdout {
                "<stdout>".to_string()
            } else {
                out.display().to_string()
            }
        );
        assert!(stderr.contains(&want), "{stderr}");
        let text = std::fs::read_to_string(&out).expect("read");
        let lines = whole_lines(&text);
        // Everything up to the last whole line that fitted is kept: the disk is nearly full.
        assert!(
            text.len() > 240 << 10 && getppids(&lines) > 0,
            "records before the disk filled are kept: {} lines, {} bytes",
            lines.len(),
            text.len()
        );
        std::fs::remove_file(&out).expect("free the space");
    }
}

#[test]
fn a_reader_that_goes_away_ends_tracer_quietly_with_0() {
    let c = workload_container();
    // `tracer observe … | head -n 5`
    let mut child = Command::new(tests::tracer_bin())
        .args(["observe", "--container", &c.name, "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracer starts");
    let rx = wait_tracing(&mut child);
    let stdout = child.stdout.take().expect("stdout");
    burst(&c, 50, 0);
    let mut head = Vec::new();
    for line in BufReader::new(stdout).lines().take(5) {
        head.push(line.expect("line"));
    }
    // The pipe is closed here; more calls make tracer write into it.
    for _ in 0..3 {
        burst(&c, 2000, 0);
    }
    let status = wait_exit(&mut child, "tracer after its reader left");
    let stderr = tests::rest_of(&rx);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.to_lowercase().contains("error") && !stderr.contains("pipe"),
        "quiet: {stderr}"
    );
    assert_eq!(head.len(), 5);
    for l in &head {
        serde_json::from_str::<Value>(l).expect("whole lines before the reader left");
    }
}

#[test]
fn observe_says_so_and_ends_when_the_container_dies() {
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json"]);
    burst(&c, 7, 0);
    tests::docker(&["kill", &c.name]);
    let done = tracer.wait();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(
        done.stderr
            .contains(&format!("tracer: container {} (", c.name))
            && done.stderr.contains(" is gone: "),
        "{}",
        done.stderr
    );
    assert_eq!(getppids(&done.json()), 7);
}

/// The ids of the BPF programs, maps and links a process holds, from its fdinfo.
fn bpf_objects(pid: u32) -> BTreeSet<(String, u32)> {
    let mut out = BTreeSet::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        for l in text.lines() {
            for kind in ["prog", "map", "link"] {
                if let Some(id) = l.strip_prefix(&format!("{kind}_id:")) {
                    out.insert((kind.to_string(), id.trim().parse().expect("id")));
                }
            }
        }
    }
    out
}

/// Whether `bpftool KIND show id ID` still finds the object.
fn exists(kind: &str, id: u32) -> bool {
    Command::new("bpftool")
        .args([kind, "show", "id", &id.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("bpftool runs")
        .success()
}

#[test]
fn sigkill_leaves_no_bpf_programs_maps_or_links_behind() {
    let c = workload_container();
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json"]);
    let held = bpf_objects(tracer.pid());
    let kinds: BTreeSet<&str> = held.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["link", "map", "prog"]),
        "tracer holds its objects by fd: {held:?}"
    );
    assert!(held.iter().all(|(k, id)| exists(k, *id)));
    // SAFETY: plain signal to our child.
    unsafe { libc::kill(tracer.pid() as i32, libc::SIGKILL) };
    let done = tracer.wait();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&done.status),
        Some(9)
    );
    eventually(
        "the kernel to free every object",
        Duration::from_secs(20),
        || held.iter().all(|(k, id)| !exists(k, *id)),
    );
}

#[test]
fn three_tracers_side_by_side_each_see_exactly_their_own() {
    let a = workload_container();
    let b = workload_container();
    let one = Tracer::start(&["--container", &a.name, "--format", "json"]);
    let two = Tracer::start(&["--container", &a.name, "--format", "text"]);
    let three = Tracer::start(&["--container", &b.name, "--format", "json"]);
    burst(&a, 1000, 3);
    burst(&b, 700, 5);
    // One of them killed mid-way does not disturb the others.
    let extra = Tracer::start(&["--container", &b.name, "--format", "json"]);
    // SAFETY: plain signal to our child.
    unsafe { libc::kill(extra.pid() as i32, libc::SIGKILL) };
    drop(extra);
    burst(&a, 10, 0);
    let (one, two, three) = (one.stop(), two.stop(), three.stop());
    for d in [&one, &two, &three] {
        assert!(d.status.success(), "{}", d.stderr);
        assert!(d.stderr.contains(" 0 lost"), "{}", d.stderr);
    }
    assert_eq!(getppids(&one.json()), 1010);
    let text_getppid = two
        .stdout
        .lines()
        .filter(|l| l.contains("] getppid() = "))
        .count();
    assert_eq!(text_getppid, 1010);
    let three = three.json();
    assert_eq!(getppids(&three), 700);
    let enoent = |lines: &[Value]| {
        lines
            .iter()
            .filter(|v| {
                v["syscall"] == "openat"
                    && v["args"][1]["value"] == "/nonexistent/tracer-workload"
                    && v["errno"] == "ENOENT"
            })
            .count()
    };
    assert_eq!(enoent(&one.json()), 3);
    assert_eq!(enoent(&three), 5);
}

#[test]
fn observe_keeps_tracing_while_the_docker_socket_is_gone() {
    // One getppid every 20 ms, before, during and after the engine's absence.
    let c = Container::run(
        "ticker",
        &[
            "--network",
            "none",
            &env("TRACER_WORKLOAD_IMAGE"),
            "/workload",
            "tick",
            "20",
        ],
    );
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json"]);
    let start = std::time::Instant::now();
    tests::daemon::restart_dockerd();
    std::thread::sleep(Duration::from_millis(500));
    let done = tracer.stop();
    let traced = start.elapsed();
    assert!(done.status.success(), "{}", done.stderr);
    assert!(!done.stderr.contains("is gone"), "{}", done.stderr);
    let ticks = getppids(&done.json()) as f64;
    eprintln!("{ticks} ticks in {traced:?}");
    let expected = traced.as_millis() as f64 / 20.0;
    assert!(
        ticks > expected * 0.8,
        "{ticks} ticks in {traced:?}: tracing stopped while the engine was away"
    );
}

/// A recording on a disk that filled: it ends at its last whole frame, and `show` reads every
/// record before it, then names the missing trailer at the file's end (exit 10).
fn check_cut_recording(rec: &Path, dir: &TempDir) {
    let kept = std::fs::metadata(rec).expect("recording").len();
    let copy = dir.0.join("copy.trec");
    std::fs::copy(rec, &copy).expect("copy");
    let shown = tests::run_tracer(
        &["show", copy.to_str().expect("path"), "--format", "json"],
        &[],
    );
    let err = String::from_utf8_lossy(&shown.stderr);
    assert_eq!(shown.status.code(), Some(10), "{err}");
    assert!(
        err.contains(&format!("byte {kept}: the file ends without its trailer")),
        "{err}"
    );
    let lines = whole_lines(&String::from_utf8_lossy(&shown.stdout));
    assert!(
        getppids(&lines) > 0,
        "records before the disk filled are shown"
    );
}

#[test]
fn a_full_disk_under_a_recording_keeps_every_whole_frame() {
    let c = workload_container();
    let dir = TempDir::new("recording-full");
    // `tracer record -o FILE`, then the daemon's recording of a container (--format binary).
    for daemon in [false, true] {
        // Recordings are written through a 1 MiB buffer: a disk a few times larger.
        let disk = SmallDisk::new("4m");
        let mut cmd = Command::new(tests::tracer_bin());
        let rec = disk.path(&format!("{}.trec", c.name));
        if daemon {
            cmd.args(["daemon", "--container", &c.name, "--format", "binary"])
                .arg("--output-dir")
                .arg(&disk.dir.0);
        } else {
            cmd.args(["record", "--container", &c.name, "-o"]).arg(&rec);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracer starts");
        let rx = tests::stderr_lines(&mut child, None);
        let ready = if daemon {
            "daemon following "
        } else {
            "tracer: tracing "
        };
        tests::wait_for_line(&rx, ready, Duration::from_secs(30));
        // ~150 bytes a call recorded: 80,000 calls are far more than 4 MiB.
        burst(&c, 80_000, 0);
        let status = wait_exit(&mut child, "tracer on a full disk");
        let stderr = tests::rest_of(&rx);
        assert_eq!(status.code(), Some(8), "daemon {daemon}: {stderr}");
        assert!(
            stderr.contains("no space left on its file system"),
            "daemon {daemon}: {stderr}"
        );
        check_cut_recording(&rec, &dir);
    }
}
