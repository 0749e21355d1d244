//! The oracle: the same run watched by strace (ptrace, from the host, by pid) and by tracer
//! (eBPF, by container). Per thread, the syscall lines must be identical: names, return values,
//! and every decoded argument (paths, flags, socket addresses, buffers, structs).
//! Deliberate differences are listed in docs/decoding.md.
use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tests::{
    Container, TempDir, Tracer, docker, env, free_port, http_get, nginx_container,
    strace::{PerThread, name, parse_strace, parse_tracer, result},
    workload_container,
};

/// Host pids of the container's processes whose command line starts with `args`.
fn pids_running(c: &Container, args: &[&str]) -> Vec<u32> {
    let procs = std::fs::read_to_string(c.cgroup_dir().join("cgroup.procs")).unwrap_or_default();
    procs
        .lines()
        .filter_map(|l| l.trim().parse::<u32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let words: Vec<&[u8]> = cmd.split(|&b| b == 0).collect();
            args.iter()
                .enumerate()
                .all(|(i, a)| words.get(i) == Some(&a.as_bytes()))
        })
        .collect()
}

struct Strace {
    child: Child,
    out: std::path::PathBuf,
    _dir: TempDir,
}

impl Strace {
    /// `strace -f -s 64 -p PID…`, returned once every pid is attached.
    fn attach(pids: &[u32]) -> Strace {
        Strace::attach_with(pids, &[])
    }

    /// `strace -f -s 64 EXTRA… -p PID…`.
    fn attach_with(pids: &[u32], extra: &[&str]) -> Strace {
        let dir = TempDir::new("strace");
        let out = dir.0.join("strace.out");
        let mut cmd = Command::new("strace");
        cmd.args(["-f", "-s", "64", "-e", "signal=none"])
            .args(extra)
            .arg("-o")
            .arg(&out);
        for p in pids {
            cmd.args(["-p", &p.to_string()]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strace runs (installed by cargo xtask setup)");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut attached = 0;
        while attached < pids.len() {
            match lines.next() {
                Some(Ok(l)) if l.contains("attached") => attached += 1,
                Some(Ok(_)) => {}
                other => panic!("strace did not attach: {other:?}"),
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Strace {
            child,
            out,
            _dir: dir,
        }
    }

    fn wait(mut self, stop: bool) -> String {
        if stop {
            // SAFETY: signalling our own child; strace detaches on SIGINT.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        }
        let start = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "strace did not end"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::read_to_string(&self.out).expect("strace output")
    }
}

/// From the first line containing `start` on (every line when none does).
fn from<'a>(lines: &'a [String], start: &str) -> &'a [String] {
    let i = lines.iter().position(|l| l.contains(start)).unwrap_or(0);
    &lines[i..]
}

fn assert_same(label: &str, strace: &[String], tracer: &[String]) {
    let names = |v: &[String]| {
        v.iter()
            .map(|l| format!("{} {}", name(l), result(l)))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(tracer),
        names(strace),
        "{label}: syscall names and return values differ\nstrace:\n{}\ntracer:\n{}",
        strace.join("\n"),
        tracer.join("\n")
    );
    for (s, t) in strace.iter().zip(tracer) {
        assert_eq!(t, s, "{label}: decoded arguments differ");
    }
}

/// `docker exec -d` of the workload with `args`; its host pid once it runs.
fn start_workload(c: &Container, args: &[&str]) -> u32 {
    let mut all = vec!["exec", "-d", &c.name, "/workload"];
    all.extend_from_slice(args);
    docker(&all);
    let mut cmd = vec!["/workload"];
    cmd.extend_from_slice(args);
    let start = Instant::now();
    loop {
        if let Some(&p) = pids_running(c, &cmd).first() {
            return p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{args:?} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The oracle workload watched by strace and by `tracer observe --container C -s 64
/// --host-pids EXTRA…` at once; `attached` looks at tracer once it traces. Both sides' lines
/// per thread, the workload's host pid and tracer's "tracing" line.
fn oracle_run(
    extra: &[&str],
    attached: impl FnOnce(&Tracer),
) -> (PerThread, PerThread, u32, String) {
    let c = workload_container();
    let pid = start_workload(&c, &["oracle"]);
    let mut args = vec!["--container", c.name.as_str(), "-s", "64", "--host-pids"];
    args.extend_from_slice(extra);
    let tracer = Tracer::start(&args);
    attached(&tracer);
    let started = tracer.started.clone();
    let strace = Strace::attach(&[pid]);
    c.exec(&["/workload", "touch", "/tmp/oracle-go"]);
    let strace = parse_strace(&strace.wait(false));
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    (strace, parse_tracer(&done.stdout), pid, started)
}

#[test]
fn a_workload_looks_the_same_to_strace_and_tracer() {
    let (strace, tracer, pid, _) = oracle_run(&[], |_| {});
    let main = from(&strace[&pid], "/oracle-start");
    assert!(main.len() > 50, "strace saw {} calls", main.len());
    assert_same("main", main, from(&tracer[&pid], "/oracle-start"));
    let children: Vec<&u32> = strace.keys().filter(|&&p| p != pid).collect();
    assert_eq!(children.len(), 1, "one forked child");
    let child = *children[0];
    assert_same("child", &strace[&child], &tracer[&child]);
}

/// `--exit-only` (no program on sys_enter): the same run, and every call it keeps decoded as
/// strace decodes it, though the arguments are read at exit. The calls it leaves out (its
/// start line names them) are absent; the oracle makes several (getsockname, accept4,
/// recvfrom, recvmsg), so the comparison skips some of strace's lines. exit_group, which has
/// no exit, is read as the task ends.
#[test]
fn exit_only_shows_the_calls_it_keeps_as_strace_does() {
    let (strace, tracer, pid, started) = oracle_run(&["--exit-only"], |t| {
        assert_eq!(
            tests::raw_tracepoints(t.pid()),
            [
                "sched_process_exit",
                "signal_deliver",
                "signal_generate",
                "sys_exit"
            ],
            "one syscall program, on sys_exit; exit_group's as tasks end"
        );
    });
    let left_out: Vec<String> = started
        .split_once("need the entry: ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(names, _)| names.split(", ").map(str::to_string).collect())
        .unwrap_or_else(|| panic!("no calls left out in {started:?}"));
    let kept = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| !left_out.iter().any(|n| n == name(l)))
            .cloned()
            .collect()
    };
    let all = from(&strace[&pid], "/oracle-start");
    let main = kept(all);
    for gone in ["getsockname", "accept4", "recvfrom", "recvmsg"] {
        assert!(
            all.iter().any(|l| name(l) == gone) && !main.iter().any(|l| name(l) == gone),
            "strace shows {gone}, --exit-only leaves it out"
        );
    }
    // exit_group has no exit: read as the task ends, it is kept (compared below).
    assert!(
        main.iter().any(|l| name(l) == "exit_group"),
        "exit_group kept"
    );
    assert!(main.len() > 40, "{} calls compared", main.len());
    let ours = from(&tracer[&pid], "/oracle-start");
    assert_same("main, exit only", &main, ours);
    let children: Vec<&u32> = strace.keys().filter(|&&p| p != pid).collect();
    assert_eq!(children.len(), 1, "one forked child");
    let child = *children[0];
    assert_same("child, exit only", &kept(&strace[&child]), &tracer[&child]);
}

/// `-y` on both sides: fd numbers reused at once (a file's number for a pipe, the pipe's for
/// another file) name what the trace opened, as strace names them, not what /proc shows by
/// the time tracer decodes the records.
#[test]
fn fd_paths_look_the_same_to_strace_and_tracer() {
    let c = workload_container();
    let pid = start_workload(&c, &["fdreuse", "/tmp/fd-go"]);
    let tracer = Tracer::start(&["--container", &c.name, "-s", "64", "--host-pids", "-y"]);
    let strace = Strace::attach_with(&[pid], &["-y"]);
    c.exec(&["/workload", "touch", "/tmp/fd-go"]);
    let strace = parse_strace(&strace.wait(false));
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let tracer = parse_tracer(&done.stdout);
    let start = "\"/workload\"";
    let s = from(&strace[&pid], start);
    assert_eq!(
        s.first().map(String::as_str),
        Some("openat(AT_FDCWD</>, \"/workload\", O_RDONLY|O_CLOEXEC) = 3</workload>"),
        "strace -y:\n{}",
        s.join("\n")
    );
    assert!(
        s.iter().any(|l| l.starts_with("read(3<pipe:[")),
        "fd 3 reused for the pipe:\n{}",
        s.join("\n")
    );
    assert_same("fdreuse", s, from(&tracer[&pid], start));
}

#[test]
fn an_nginx_request_looks_the_same_to_strace_and_tracer() {
    let port = free_port();
    let (web, _conf) = nginx_container(port);
    let pids = pids_running(&web, &[]);
    assert!(pids.len() >= 2, "nginx master and workers: {pids:?}");
    let tracer = Tracer::start(&["--container", &web.name, "-s", "64", "--host-pids"]);
    let strace = Strace::attach(&pids);
    for _ in 0..3 {
        assert!(http_get(port).contains("200 OK"));
    }
    std::thread::sleep(Duration::from_millis(500));
    let strace: PerThread = parse_strace(&strace.wait(true));
    let done = tracer.stop();
    let tracer = parse_tracer(&done.stdout);
    let mut compared = 0;
    for (pid, lines) in &strace {
        let Some(first) = lines.iter().position(|l| l.starts_with("accept4(")) else {
            continue;
        };
        let last = lines
            .iter()
            .rposition(|l| l.starts_with("close("))
            .unwrap_or(first);
        let ours = tracer.get(pid).map(Vec::as_slice).unwrap_or_default();
        let t_first = ours
            .iter()
            .position(|l| l.starts_with("accept4("))
            .unwrap_or(0);
        let t_last = ours
            .iter()
            .rposition(|l| l.starts_with("close("))
            .unwrap_or(t_first);
        assert_same(
            &format!("nginx worker {pid}"),
            &lines[first..=last],
            &ours[t_first..=t_last.max(t_first).min(ours.len().saturating_sub(1))],
        );
        compared += last - first + 1;
    }
    assert!(
        compared >= 3 * 10,
        "compared {compared} lines for 3 requests"
    );
}

/// tests/fixtures/capture.c, built static into a directory a container mounts at /cap.
fn capture_container() -> (Container, TempDir) {
    let dir = TempDir::new("capture");
    let ok = Command::new("gcc")
        .args(["-static", "-O2", "-Wall", "-Werror", "-o"])
        .arg(dir.0.join("capture"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/capture.c"))
        .status()
        .expect("gcc runs (installed by cargo xtask setup)");
    assert!(ok.success(), "capture.c builds");
    let mount = format!("{}:/cap:ro", dir.0.display());
    let image = env("TRACER_WORKLOAD_IMAGE");
    let c = Container::run("capture", &["--network", "none", "-v", &mount, &image]);
    (c, dir)
}

/// Runs `/cap/capture WHAT` in `c` under strace and tracer; returns both views of it.
fn capture_both(c: &Container, what: &str) -> (Vec<String>, Vec<String>) {
    docker(&["exec", "-d", &c.name, "/cap/capture", what]);
    let start = Instant::now();
    let pid = loop {
        if let Some(&p) = pids_running(c, &["/cap/capture", what]).first() {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "capture did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let tracer = Tracer::start(&["--container", &c.name, "-s", "64", "--host-pids"]);
    let strace = Strace::attach(&[pid]);
    c.exec(&["/workload", "touch", "/tmp/capture-go"]);
    let strace = parse_strace(&strace.wait(false));
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let tracer = parse_tracer(&done.stdout);
    let s = from(&strace[&pid], "/capture-start").to_vec();
    let t = from(
        tracer.get(&pid).map(Vec::as_slice).unwrap_or_default(),
        "/capture-start",
    )
    .to_vec();
    (s, t)
}

/// Socket address lengths and addresses at the end of a page whose next page was never
/// touched, an address buffer shorter than the address, recvmsg's `msg_namelen` in and out,
/// and strings that are not paths cut at `-s` (tests/fixtures/capture.c).
#[test]
fn capture_corner_cases_look_the_same_to_strace_and_tracer() {
    let (c, _dir) = capture_container();
    let (strace, tracer) = capture_both(&c, "all");
    assert!(strace.len() > 30, "strace saw {} calls", strace.len());
    for want in [
        r#"getsockname(3, {sa_family=AF_UNIX, sun_path="getsockname.socket"}, [110 => 21]) = 0"#,
        r#"recvfrom(3, "ping", 8, 0, {sa_family=AF_UNIX, sun_path="a-rather-long-"}, [16 => 35]) = 4"#,
        "msg_namelen=20 => 35",
        "recvmsg(3, {msg_namelen=128}, MSG_DONTWAIT) = -1 EAGAIN",
        r#""user.a-name-that-is-longer-than-the-string-size-of-sixty-four-by"..., "v", 1, 0) = 0"#,
    ] {
        assert!(
            strace.iter().any(|l| l.contains(want)),
            "strace prints {want}:\n{}",
            strace.join("\n")
        );
    }
    assert_same("capture", &strace, &tracer);
}

/// Paths in file mappings the process has not read yet: a BPF program cannot fault a page in
/// at enter, so the strings are read again at exit, once the call has faulted it in
/// (tests/fixtures/capture.c `untouched`). Without strace: its reads at the syscall-enter stop
/// would fault the pages in before the tracepoint runs. The lines are strace 6.1's for the same
/// program.
#[test]
fn strings_not_yet_touched_are_read_after_the_call_faulted_them_in() {
    let (c, _dir) = capture_container();
    let tracer = Tracer::start(&["--container", &c.name, "-s", "64"]);
    c.exec(&["/workload", "touch", "/tmp/capture-go"]);
    c.exec(&["/cap/capture", "untouched"]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let lines: Vec<String> = parse_tracer(&done.stdout).into_values().flatten().collect();
    for want in [
        r#"rename("/tmp/capture-untouched.a", "/tmp/capture-untouched.b") = -1 ENOENT (No such file or directory)"#,
        r#"renameat2(AT_FDCWD, "/tmp/capture-untouched.a", AT_FDCWD, "/tmp/capture-untouched.b", RENAME_NOREPLACE) = -1 ENOENT (No such file or directory)"#,
        r#"unlink("/tmp/capture-untouched.a") = -1 ENOENT (No such file or directory)"#,
        r#"truncate("/tmp/capture-untouched.a", 0) = -1 ENOENT (No such file or directory)"#,
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "tracer prints {want}:\n{}",
            lines.join("\n")
        );
    }
}

/// A `-tt -T` line in a comparable shape: the `[pid N] ` prefix dropped, the time of day and
/// the duration checked for strace's exact format and replaced by `T` and `<D>`, strace's
/// column padding removed. `None`: not that shape.
fn tt_t_shape(line: &str) -> Option<String> {
    let line = match line.strip_prefix("[pid ") {
        Some(rest) => rest.split_once("] ")?.1,
        None => line,
    };
    // `16:05:06.123456 `
    let (stamp, rest) = line.split_once(' ')?;
    let b = stamp.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let shape_ok = b.len() == 15
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| digit(i))
        && b[2] == b':'
        && b[5] == b':'
        && b[8] == b'.'
        && (9..15).all(digit);
    if !shape_ok {
        return None;
    }
    // ` <0.000012>`
    let (call, duration) = rest.rsplit_once(" <")?;
    let d = duration.strip_suffix('>')?;
    let (secs, micros) = d.split_once('.')?;
    if secs.is_empty()
        || !secs.bytes().all(|c| c.is_ascii_digit())
        || micros.len() != 6
        || !micros.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some(format!("T {} <D>", tests::strace::normalize(call)))
}

/// strace's `-tt -T` and tracer's on the same workload (K getppid, M failing openat on the
/// host; strace starts it, tracer follows it with -p): every line has strace's shape, the time
/// of day where strace puts it and the duration after the result, and the calls are the same
/// once those values are set aside. tracer's times are today's and in order.
#[test]
fn tt_and_t_columns_have_strace_s_shape() {
    const K: &str = "4";
    const M: &str = "3";
    let dir = TempDir::new("tt");
    let out = dir.0.join("strace");
    let mut child = Command::new("strace")
        .args(["-tt", "-T", "-e", "trace=getppid,openat", "-o"])
        .arg(&out)
        .arg(tests::workload_bin())
        .args(["burst", K, M])
        .stdout(Stdio::null())
        .spawn()
        .expect("strace runs");
    // strace forks the workload: its parent is strace.
    let strace_ppid = format!("getppid() = {} ", child.id());
    assert!(child.wait().expect("strace").success());
    let strace_text = std::fs::read_to_string(&out).expect("strace output");
    let strace: Vec<String> = strace_text
        .lines()
        .filter(|l| !l.contains("+++"))
        .map(|l| tt_t_shape(l).unwrap_or_else(|| panic!("strace's own line {l:?}")))
        .map(|l| l.replace(&strace_ppid, "getppid() = PPID "))
        .collect();
    assert_eq!(strace.len(), 7, "{strace_text}");

    let mut w = tests::host_workload(&["signal-burst", K, M]);
    let pid = w.id().to_string();
    // The SIGUSR1 that starts the burst is not in strace's run.
    let tracer = Tracer::start(&[
        "-p",
        &pid,
        "-tt",
        "-T",
        "-e",
        "trace=getppid,openat",
        "-e",
        "signal=none",
    ]);
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(w.id() as i32, libc::SIGUSR1) }, 0);
    let _ = w.wait();
    let done = tracer.wait();
    assert!(done.status.success(), "{}", done.stderr);
    let lines: Vec<&str> = done.stdout.lines().filter(|l| !l.contains("+++")).collect();
    let tracer_shapes: Vec<String> = lines
        .iter()
        .map(|l| tt_t_shape(l).unwrap_or_else(|| panic!("not strace's shape: {l:?}")))
        .map(|l| {
            l.replace(
                &format!("getppid() = {} ", std::process::id()),
                "getppid() = PPID ",
            )
        })
        .collect();
    assert_eq!(tracer_shapes, strace);
    // The times are the wall clock's, in order, within the run.
    let secs = |l: &str| -> f64 {
        let stamp = l
            .split_once("] ")
            .map_or(l, |(_, r)| r)
            .split(' ')
            .next()
            .unwrap_or("");
        let parts: Vec<f64> = stamp
            .split(':')
            .map(|p| p.parse().unwrap_or(f64::NAN))
            .collect();
        parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
    };
    let times: Vec<f64> = lines.iter().map(|l| secs(l)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{lines:#?}");
    // SAFETY: plain libc calls on local values.
    let now = unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        f64::from(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec)
    };
    // `now` is whole seconds: the first call may be up to a second past it.
    let age = now - times[0];
    assert!(
        (-1.0..30.0).contains(&age) || age < -86_000.0,
        "{age} s: {lines:#?}"
    );
}
