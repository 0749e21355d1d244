//! End to end on a real kernel and a real container: signals delivered to a followed process
//! (`--- SIGUSR1 {...} ---`), its death by a signal (`+++ killed by SIGKILL +++`), strace's
//! `-e signal=` sets, and the lines beside strace's own for the same program
//! (tests/fixtures/signals.c).
use std::process::Command;

use serde_json::Value;
use tests::{Container, TempDir, Tracer, env};

/// tests/fixtures/signals.c, built static into a directory the container mounts at /sig; the
/// container has no core dumps (`ulimit -c 0`), as the strace run below.
fn signals_container() -> (Container, TempDir) {
    let dir = TempDir::new("signals");
    build(&dir);
    let mount = format!("{}:/sig:ro", dir.0.display());
    let image = env("TRACER_WORKLOAD_IMAGE");
    let c = Container::run(
        "signals",
        &[
            "--network",
            "none",
            "--ulimit",
            "core=0",
            "-v",
            &mount,
            &image,
        ],
    );
    (c, dir)
}

fn build(dir: &TempDir) {
    let ok = Command::new("gcc")
        .args(["-static", "-O2", "-Wall", "-Werror", "-o"])
        .arg(dir.0.join("signals"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/signals.c"))
        .status()
        .expect("gcc runs (installed by cargo xtask setup)");
    assert!(ok.success(), "signals.c builds");
}

/// Runs `/sig/signals ARGS` in `c`; returns the pid it printed (as the container sees it) and
/// what killed it (`docker exec` exits 128 + the signal).
fn run(c: &Container, args: &[&str]) -> (u32, i32) {
    let out = Command::new("docker")
        .args(["exec", &c.name, "/sig/signals"])
        .args(args)
        .output()
        .expect("docker exec runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let pid = text
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("signals printed {text:?}"));
    let n = args[0];
    assert!(
        text.contains(&format!("handled {n}\n")),
        "signals handled its SIGUSR1s: {text:?}"
    );
    (pid, out.status.code().unwrap_or(-1))
}

/// The lines of tracer's text for `pid`, from its exec of /sig/signals on (docker exec's own
/// runtime signals itself before it execs the program), without the `[pid N] ` prefix.
fn lines_of(text: &str, pid: u32) -> Vec<String> {
    let prefix = format!("[pid {pid:>5}] ");
    let mine: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect();
    let exec = mine
        .iter()
        .position(|l| l.starts_with("execve(\"/sig/signals\""))
        .unwrap_or_else(|| panic!("no exec of /sig/signals by {pid} in:\n{text}"));
    mine[exec..].iter().map(|l| l.to_string()).collect()
}

fn signal_lines(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("--- ") || l.starts_with("+++ "))
        .collect()
}

/// The SIGUSR1 the fixture's i-th send delivers (1-based): kill(getpid()) for odd i, tgkill
/// for even i, from itself, as root.
fn usr1(i: usize, pid: u32) -> String {
    let code = if i % 2 == 1 { "SI_USER" } else { "SI_TKILL" };
    format!("--- SIGUSR1 {{si_signo=SIGUSR1, si_code={code}, si_pid={pid}, si_uid=0}} ---")
}

#[test]
fn handled_signals_and_the_death_by_sigkill_show_as_strace_prints_them() {
    const N: usize = 5;
    let (c, _dir) = signals_container();
    let tracer = Tracer::start(&["--container", &c.name]);
    let (pid, code) = run(&c, &[&N.to_string(), "kill"]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(code, 128 + 9, "killed by SIGKILL");
    let lines = lines_of(&done.stdout, pid);
    let want: Vec<String> = (1..=N)
        .map(|i| usr1(i, pid))
        .chain(["+++ killed by SIGKILL +++".to_string()])
        .collect();
    assert_eq!(signal_lines(&lines), want, "{}", lines.join("\n"));
    // Each delivery right after the call that sent it, the death last.
    let sends: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l.starts_with(&format!("kill({pid}, SIGUSR1) = 0"))
                || l.starts_with(&format!("tgkill({pid}, {pid}, SIGUSR1) = 0"))
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(sends.len(), N, "{}", lines.join("\n"));
    for (k, &at) in sends.iter().enumerate() {
        assert_eq!(lines[at + 1], usr1(k + 1, pid), "{}", lines.join("\n"));
    }
    assert_eq!(
        lines.last().map(String::as_str),
        Some("+++ killed by SIGKILL +++")
    );
    // One death line in the whole trace, and none for the processes that just exited.
    assert_eq!(done.stdout.matches("+++ killed by").count(), 1);
}

#[test]
fn signal_and_killed_records_in_json() {
    const N: usize = 3;
    let (c, _dir) = signals_container();
    let tracer = Tracer::start(&["--container", &c.name, "--format", "json"]);
    let (pid, code) = run(&c, &[&N.to_string(), "term"]);
    let done = tracer.stop();
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(code, 128 + 15, "killed by SIGTERM");
    let records = done.json();
    let mine = |v: &&Value| v["ns_pid"].as_u64() == Some(u64::from(pid));
    let signals: Vec<&Value> = records
        .iter()
        .filter(|v| v["type"] == "signal" && v["signal"] == "SIGUSR1")
        .filter(mine)
        .collect();
    assert_eq!(signals.len(), N, "{records:#?}");
    let id = c.id();
    for (i, v) in signals.iter().enumerate() {
        let code = if i % 2 == 0 { "SI_USER" } else { "SI_TKILL" };
        assert_eq!(v["signo"], 10, "{v}");
        assert_eq!(
            v["siginfo"],
            serde_json::json!({"si_signo": "SIGUSR1", "si_code": code, "si_pid": pid, "si_uid": 0}),
            "{v}"
        );
        // The fixture's handler: an address, not SIG_DFL or SIG_IGN.
        assert!(
            v["handler"].as_str().is_some_and(|h| h.starts_with("0x")),
            "{v}"
        );
        assert_eq!(v["ns_tid"].as_u64(), Some(u64::from(pid)), "{v}");
        assert_eq!(v["comm"], "signals", "{v}");
        assert_eq!(v["container"]["id"], id.as_str(), "{v}");
        assert!(v["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
    }
    let killed: Vec<&Value> = records.iter().filter(|v| v["type"] == "killed").collect();
    assert_eq!(killed.len(), 1, "{records:#?}");
    let k = killed[0];
    assert_eq!(
        (
            &k["signal"],
            &k["signo"],
            &k["core_dumped"],
            k["ns_pid"].as_u64()
        ),
        (
            &serde_json::json!("SIGTERM"),
            &serde_json::json!(15),
            &serde_json::json!(false),
            Some(u64::from(pid))
        ),
        "{k}"
    );
    // SIGTERM's default action killed it: without a tracer stopping it, the kernel turns a
    // fatal signal into the group's death at once, so no SIGTERM was delivered to be shown.
    assert!(
        !records
            .iter()
            .any(|v| v["type"] == "signal" && v["signal"] == "SIGTERM"),
        "{records:#?}"
    );
}

#[test]
fn signal_sets_show_only_their_signals() {
    const N: usize = 4;
    let (c, _dir) = signals_container();
    // Several tracers at once, each with its set, see the same run.
    let sets = [
        ("-e", "signal=none"),
        ("-e", "signal=!SIGUSR1"),
        ("--signals", "usr1"),
        ("-e", "s=9,10"),
    ];
    let tracers: Vec<Tracer> = sets
        .iter()
        .map(|(opt, set)| Tracer::start(&["--container", &c.name, opt, set]))
        .collect();
    let (pid, _) = run(&c, &[&N.to_string(), "kill"]);
    let outs: Vec<Vec<String>> = tracers
        .into_iter()
        .map(|t| {
            let done = t.stop();
            assert!(done.status.success(), "{}", done.stderr);
            lines_of(&done.stdout, pid)
        })
        .collect();
    let usr1s: Vec<String> = (1..=N).map(|i| usr1(i, pid)).collect();
    let killed = "+++ killed by SIGKILL +++".to_string();
    let wants: [Vec<String>; 4] = [
        Vec::new(),
        vec![killed.clone()],
        usr1s.clone(),
        usr1s.iter().cloned().chain([killed]).collect(),
    ];
    for (((opt, set), lines), want) in sets.iter().zip(&outs).zip(wants) {
        assert_eq!(
            signal_lines(lines),
            want,
            "{opt} {set}:\n{}",
            lines.join("\n")
        );
        // The calls are all there whatever the signal set.
        let sends = lines
            .iter()
            .filter(|l| l.starts_with("kill(") || l.starts_with("tgkill("))
            .count();
        assert_eq!(sends, N + 1, "{opt} {set}:\n{}", lines.join("\n"));
    }
}

/// strace -f's signal lines for `args` run on the host (no core dumps, as in the container),
/// with the program's pid replaced by `PID`.
fn strace_signal_lines(dir: &TempDir, args: &[&str]) -> Vec<String> {
    let out = dir.0.join(format!("strace-{}", args.join("-")));
    let status = Command::new("prlimit")
        .args(["--core=0", "strace", "-f", "-o"])
        .arg(&out)
        .arg(dir.0.join("signals"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("prlimit and strace run");
    assert!(!status.success(), "the program dies of a signal");
    let text = std::fs::read_to_string(&out).expect("strace output");
    let pid = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().next())
        .expect("strace's first line has a pid")
        .to_string();
    text.lines()
        .filter_map(|l| l.strip_prefix(&format!("{pid} ")))
        .map(str::trim_start)
        .filter(|l| l.starts_with("--- ") || l.starts_with("+++ "))
        .map(|l| l.replace(&format!("si_pid={pid},"), "si_pid=PID,"))
        .collect()
}

#[test]
fn signal_lines_look_the_same_to_strace_and_tracer() {
    let (c, dir) = signals_container();
    for args in [["6", "kill"], ["3", "segv"]] {
        let strace = strace_signal_lines(&dir, &args);
        let tracer = Tracer::start(&["--container", &c.name]);
        let (pid, _) = run(&c, &args);
        let done = tracer.stop();
        assert!(done.status.success(), "{}", done.stderr);
        let lines = lines_of(&done.stdout, pid);
        let ours: Vec<String> = signal_lines(&lines)
            .into_iter()
            .map(|l| l.replace(&format!("si_pid={pid},"), "si_pid=PID,"))
            .collect();
        let n: usize = args[0].parse().expect("count");
        assert_eq!(
            strace
                .iter()
                .filter(|l| l.starts_with("--- SIGUSR1"))
                .count(),
            n,
            "strace saw the deliveries: {strace:#?}"
        );
        assert_eq!(ours, strace, "{args:?}: tracer (left) and strace (right)");
    }
    // The fault's siginfo is the kernel's, not a process's: the same under both.
    let segv = strace_signal_lines(&dir, &["0", "segv"]);
    assert_eq!(
        segv,
        [
            "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---",
            "+++ killed by SIGSEGV +++"
        ]
    );
}
