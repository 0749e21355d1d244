//! The strace suite: strace 6.1's own test programs (built by `cargo xtask setup` from Debian's
//! source package, see xtask/src/strace_suite.rs), each run once under strace and tracer at the
//! same time, and scored. Every program prints the lines strace must print for it; the score
//! says how many of those lines each tool printed.
//!
//! One run: a fresh cgroup v2 directory; `tracer observe --cgroup DIR --host-pids` started and
//! attached; then `strace -f OPTIONS -o LOG ../PROG` is spawned with ASLR off and *already in
//! the cgroup* (the child writes itself to `cgroup.procs` between fork and exec). strace is
//! therefore traced by tracer too, but under its own pid, which never appears in strace's log:
//! its lines are dropped. The program, forked by strace, is in the cgroup from its first
//! instruction, so both tools see it from the same `execve` on, with no shell in between.
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    ffi::CString,
    fmt::Write as _,
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    rest_of, stderr_lines,
    strace::{PerThread, find_result, name, normalize, parse_strace, parse_tracer},
    tracer_bin, unique,
};

/// The fixture: the pinned programs and their strace options.
pub const PROGRAMS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/strace-suite/programs.tsv"
);
/// The committed scores the test ratchets against.
pub const BASELINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/strace-suite/baseline.tsv"
);

/// One line of the fixture.
#[derive(Debug, Clone)]
pub struct Program {
    pub name: String,
    /// The options as written (strace's gen_tests.in syntax).
    pub options: String,
}

/// Reads the fixture; panics naming the file when it is missing or malformed.
pub fn programs() -> Vec<Program> {
    let text = std::fs::read_to_string(PROGRAMS)
        .unwrap_or_else(|e| panic!("reading the strace suite's program list {PROGRAMS}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, options) = l.split_once('\t').unwrap_or((l, ""));
            assert!(
                !name.is_empty() && !name.contains(' '),
                "{PROGRAMS}: bad line {l:?} (want NAME<TAB>OPTIONS)"
            );
            Program {
                name: name.to_string(),
                options: options.trim().to_string(),
            }
        })
        .collect()
}

/// gen_tests.in's lines: name → the rest of the line, whitespace-trimmed.
pub fn gen_tests(tests_dir: &Path) -> HashMap<String, String> {
    let path = tests_dir.join("gen_tests.in");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}; run `cargo xtask setup` (it builds strace's tests)",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let l = l.trim();
            let end = l.find([' ', '\t']).unwrap_or(l.len());
            (l[..end].to_string(), l[end..].trim().to_string())
        })
        .collect()
}

/// Words the way `sh` splits them: quotes and backslashes, no expansions.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// An fd the program starts with (`9>>/dev/full`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub fd: i32,
    pub path: String,
    pub flags: i32,
}

/// A fixture line, interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// strace's options (without `-f -o`).
    pub strace_args: Vec<String>,
    pub prog_args: Vec<String>,
    pub redirects: Vec<Redirect>,
    /// The `-e trace=` set's entries (the program's name when the options have none).
    pub trace: Vec<String>,
    /// `-s N`, when given.
    pub string_size: Option<u32>,
    /// `-y`/`-yy`/`--decode-fds`.
    pub fd_paths: bool,
    /// `-yy`: sockets' addresses and devices' numbers too.
    pub fd_details: bool,
    /// `-v`/`--no-abbrev`.
    pub no_abbrev: bool,
    /// `-x` (1) / `-xx` (2).
    pub hex: u8,
}

/// strace's syscall classes without `%` (the old spelling).
const CLASSES: &[&str] = &[
    "file", "process", "network", "signal", "ipc", "desc", "memory", "all", "none",
];

/// The trace entries of one `-e` expression (`trace=a,b`, `a,b`), None for other qualifiers.
fn trace_expr(expr: &str) -> Option<Vec<String>> {
    let list = match expr.split_once('=') {
        Some(("trace" | "t", list)) => list,
        Some(_) => return None,
        None => expr,
    };
    Some(list.split(',').map(str::to_string).collect())
}

impl Spec {
    pub fn parse(name: &str, options: &str) -> Spec {
        let mut spec = Spec {
            strace_args: Vec::new(),
            prog_args: Vec::new(),
            redirects: Vec::new(),
            trace: Vec::new(),
            string_size: None,
            fd_paths: false,
            fd_details: false,
            no_abbrev: false,
            hex: 0,
        };
        let words: Vec<String> = shell_words(options)
            .into_iter()
            .map(|w| w.replace("${NAME}", name).replace("$NAME", name))
            .collect();
        let mut has_trace = false;
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            i += 1;
            if let Some(args) = w.strip_prefix("QUIRK:PROG-ARGS:") {
                spec.prog_args.extend(shell_words(args));
                continue;
            }
            if w.starts_with("QUIRK:") {
                continue;
            }
            // Redirections: `N>>FILE`, `N>FILE`, `N<FILE`, `<FILE`, the file maybe a word later.
            let digits = w.chars().take_while(char::is_ascii_digit).count();
            let rest = &w[digits..];
            let redirect = [
                (">>", libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND, 1),
                (">", libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 1),
                ("<", libc::O_RDONLY, 0),
            ]
            .into_iter()
            .find(|(op, _, _)| rest.starts_with(op));
            if let Some((op, flags, default_fd)) = redirect {
                let fd = if digits == 0 {
                    default_fd
                } else {
                    w[..digits].parse().expect("fd number")
                };
                let mut path = rest[op.len()..].to_string();
                if path.is_empty() {
                    path = words.get(i).cloned().unwrap_or_default();
                    i += 1;
                }
                spec.redirects.push(Redirect { fd, path, flags });
                continue;
            }
            spec.strace_args.push(w.clone());
            // What tracer needs to know about the options.
            let next = words.get(i).map(String::as_str);
            let expr = match w.as_str() {
                "-e" => next,
                "--trace" => next.map(|n| n.trim_start_matches("trace=")),
                w if w.starts_with("--trace=") => Some(&w["--trace=".len()..]),
                w if w.starts_with("-e") => Some(&w[2..]),
                _ => None,
            };
            if w == "--trace" {
                if let Some(list) = expr {
                    has_trace = true;
                    spec.trace.extend(list.split(',').map(str::to_string));
                }
            } else if let Some(list) = expr.and_then(trace_expr) {
                has_trace = true;
                spec.trace.extend(list);
            }
            let size = match w.as_str() {
                "-s" | "--string-limit" => next,
                w if w.starts_with("--string-limit=") => Some(&w["--string-limit=".len()..]),
                w if w.starts_with("-s") && w.len() > 2 => Some(&w[2..]),
                _ => None,
            };
            if let Some(n) = size.and_then(|s| s.parse().ok()) {
                spec.string_size = Some(n);
            }
            if w == "-y" || w == "-yy" || w.starts_with("--decode-fds") {
                spec.fd_paths = true;
            }
            if w == "-yy" {
                spec.fd_details = true;
            }
            if w == "-v" || w == "--no-abbrev" {
                spec.no_abbrev = true;
            }
            if let Some(xs) = w
                .strip_prefix('-')
                .filter(|x| !x.is_empty() && x.bytes().all(|b| b == b'x'))
            {
                spec.hex = spec.hex.saturating_add(xs.len() as u8).min(2);
            }
        }
        if !has_trace {
            // As run_strace_match_diff does.
            spec.strace_args.insert(0, format!("trace={name}"));
            spec.strace_args.insert(0, "-e".into());
            spec.trace.push(name.to_string());
        }
        spec
    }

    /// The `--syscalls` list for tracer when the trace set is a plain list of names (execve and
    /// exit_group added: where the program starts, and tracer's `+++ exited` line, which the
    /// run waits for), None otherwise (tracer then prints everything).
    pub fn tracer_syscalls(&self) -> Option<String> {
        let plain = |s: &String| {
            !CLASSES.contains(&s.as_str())
                && s.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if self.trace.is_empty() || !self.trace.iter().all(plain) {
            return None;
        }
        let mut names: Vec<&str> = self.trace.iter().map(String::as_str).collect();
        for extra in ["execve", "exit_group"] {
            if !names.contains(&extra) {
                names.push(extra);
            }
        }
        Some(names.join(","))
    }

    /// The syscalls under test: the plain names of the trace set, and for a class
    /// (`network`, `%file`, a regex) the names the expected output has.
    pub fn calls_under_test(&self, expected: &[String]) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        for t in &self.trace {
            let t = t.trim_start_matches('?');
            if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !CLASSES.contains(&t) {
                set.insert(t.to_string());
            } else {
                set.extend(expected.iter().map(|l| name(l).to_string()));
            }
        }
        set
    }

    /// The tracer options this spec maps to.
    pub fn tracer_args(&self) -> Vec<String> {
        let mut args = vec!["--host-pids".to_string()];
        if let Some(n) = self.string_size {
            args.extend(["-s".into(), n.min(4096).to_string()]);
        }
        if self.fd_details {
            args.push("-yy".into());
        } else if self.fd_paths {
            args.push("-y".into());
        }
        if self.no_abbrev {
            args.push("--no-abbrev".into());
        }
        if self.hex > 0 {
            args.push(format!("-{}", "x".repeat(self.hex.into())));
        }
        if let Some(list) = self.tracer_syscalls() {
            args.extend(["--syscalls".into(), list]);
        }
        args
    }
}

/// A line of a program's expected output that is a syscall: `name(…) = …`.
pub fn is_call(line: &str) -> bool {
    let line = line.trim();
    let Some(paren) = line.find('(') else {
        return false;
    };
    let head = &line[..paren];
    !head.is_empty()
        && head
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && find_result(line).is_some()
}

/// The cgroup v2 hierarchy: `/sys/fs/cgroup/unified` on a hybrid host, `/sys/fs/cgroup` on a
/// pure v2 one.
pub fn cgroup2_root() -> PathBuf {
    for p in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        if Path::new(p).join("cgroup.procs").exists()
            && (p.ends_with("unified") || Path::new(p).join("cgroup.controllers").exists())
        {
            return PathBuf::from(p);
        }
    }
    panic!("no cgroup v2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup: mount cgroup2")
}

/// A cgroup directory removed when dropped (after its processes are gone).
pub struct Cgroup(pub PathBuf);

impl Cgroup {
    pub fn new(what: &str) -> Cgroup {
        let dir = cgroup2_root().join(unique(&format!("suite-{what}")));
        std::fs::create_dir(&dir)
            .unwrap_or_else(|e| panic!("creating cgroup {}: {e} (are we root?)", dir.display()));
        Cgroup(dir)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for _ in 0..100 {
            if std::fs::remove_dir(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("strace suite: could not remove cgroup {}", self.0.display());
    }
}

/// A directory removed (with its contents) when dropped.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child killed and reaped when dropped.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What one run produced.
#[derive(Debug)]
pub struct Run {
    /// The program's stdout: the lines strace must print.
    pub stdout: String,
    pub strace_log: String,
    pub strace_stderr: String,
    pub strace_status: std::process::ExitStatus,
    pub strace_pid: u32,
    pub tracer_out: String,
    pub tracer_stderr: String,
    /// Set when tracer did not start or did not stop cleanly.
    pub tracer_error: Option<String>,
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return Some(s);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `prog` (a built program in `tests_dir`) under strace and tracer at once.
pub fn run(tests_dir: &Path, prog: &Program, spec: &Spec) -> Run {
    let exe = tests_dir.join(&prog.name);
    assert!(
        exe.is_file(),
        "{} is not built: run `cargo xtask setup` (it builds the programs of {PROGRAMS})",
        exe.display()
    );
    let cgroup = Cgroup::new(&prog.name);
    // strace's own tests run each program in tests/NAME.dir as ../NAME.
    let work = Dir(tests_dir.join(format!("{}.dir", unique(&prog.name))));
    std::fs::create_dir_all(&work.0).expect("run directory");
    let tracer_out = work.0.join("tracer.out");
    let strace_log = work.0.join("strace.log");
    let stdout_path = work.0.join("stdout");

    let mut tracer = Command::new(tracer_bin());
    tracer
        .arg("observe")
        .arg("--cgroup")
        .arg(&cgroup.0)
        .args(spec.tracer_args())
        .arg("--output")
        .arg(&tracer_out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = tracer.spawn().unwrap_or_else(|e| {
        panic!(
            "starting {}: {e} (TRACER_BIN; cargo xtask test builds it)",
            tracer_bin().display()
        )
    });
    let stderr = stderr_lines(&mut child, None);
    let mut tracer = Guard(Some(child));
    let started = loop {
        match stderr.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if l.starts_with("tracer: tracing ") => break Ok(()),
            Ok(l) if l.starts_with("tracer: ") && !l.contains("warn") => break Err(l),
            Ok(_) => {}
            Err(e) => break Err(format!("no start line: {e}")),
        }
    };
    if let Err(why) = started {
        let rest = rest_of(&stderr);
        drop(tracer);
        return run_strace_only(prog, spec, &cgroup, &work.0, Some(why + &rest));
    }
    let mut r = run_strace(prog, spec, &cgroup, &work.0, &strace_log, &stdout_path);

    // Drain: until tracer has printed the program's exit (or 5 s), then SIGINT.
    let main_pid = first_pid(&r.strace_log);
    let exit_line = main_pid.map(|p| format!("{p}] +++ exited"));
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let out = std::fs::read_to_string(&tracer_out).unwrap_or_default();
        if exit_line.as_ref().is_some_and(|l| out.contains(l.as_str())) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut child = tracer.0.take().expect("tracer child");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_timeout(&mut child, Duration::from_secs(30));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    r.tracer_stderr = rest_of(&stderr);
    r.tracer_out = std::fs::read_to_string(&tracer_out).unwrap_or_default();
    r.tracer_error = match status {
        Some(s) if s.success() => None,
        Some(s) => Some(format!("tracer exited with {s}")),
        None => Some("tracer did not stop within 30 s of SIGINT".into()),
    };
    r
}

/// When tracer did not start: strace's side alone (tracer scores 0, with the reason).
fn run_strace_only(
    prog: &Program,
    spec: &Spec,
    cgroup: &Cgroup,
    work: &Path,
    why: Option<String>,
) -> Run {
    let mut r = run_strace(
        prog,
        spec,
        cgroup,
        work,
        &work.join("strace.log"),
        &work.join("stdout"),
    );
    r.tracer_error = why;
    r
}

/// The first pid of strace's `-f -o` log: the program's.
fn first_pid(log: &str) -> Option<u32> {
    log.lines()
        .find_map(|l| l.split_once(' ').and_then(|(p, _)| p.parse().ok()))
}

fn run_strace(
    prog: &Program,
    spec: &Spec,
    cgroup: &Cgroup,
    work: &Path,
    log: &Path,
    stdout_path: &Path,
) -> Run {
    let procs = CString::new(cgroup.0.join("cgroup.procs").as_os_str().as_encoded_bytes())
        .expect("cgroup path");
    // stdin is /dev/null unless redirected, opened by the child once it is in the cgroup (as
    // a shell's `</dev/null` would be): tracer sees the open, so its `-y` can name fd 0 from
    // the trace, as strace names it from /proc.
    let stdin_redirect = (!spec.redirects.iter().any(|r| r.fd == 0)).then(|| Redirect {
        fd: 0,
        path: "/dev/null".into(),
        flags: libc::O_RDONLY,
    });
    let redirects: Vec<(i32, CString, i32)> = stdin_redirect
        .iter()
        .chain(&spec.redirects)
        .map(|r| (r.fd, CString::new(r.path.as_str()).expect("path"), r.flags))
        .collect();
    let mut cmd = Command::new("strace");
    let has_f = spec
        .strace_args
        .iter()
        .any(|a| a == "-f" || a == "--follow-forks");
    if !has_f {
        cmd.arg("-f");
    }
    cmd.args(&spec.strace_args)
        .arg("-o")
        .arg(log)
        .arg(format!("../{}", prog.name))
        .args(&spec.prog_args)
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout_path).expect("stdout file"))
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (open, write, close, dup2, personality) on
    // memory prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(fd);
            if libc::personality(libc::ADDR_NO_RANDOMIZE as libc::c_ulong) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for (target, path, flags) in &redirects {
                let fd = libc::open(path.as_ptr(), *flags, 0o644);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if fd != *target {
                    if libc::dup2(fd, *target) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                }
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "starting strace for {}: {e} (is strace installed? cargo xtask setup installs it)",
            prog.name
        )
    });
    let strace_pid = child.id();
    let err_rx = stderr_lines(&mut child, None);
    let mut guard = Guard(Some(child));
    let child = guard.0.as_mut().expect("strace child");
    let status = wait_timeout(child, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("{} under strace did not end within 60 s", prog.name));
    guard.0 = None;
    let mut strace_stderr = Vec::new();
    while let Ok(l) = err_rx.recv_timeout(Duration::from_millis(200)) {
        strace_stderr.push(l);
    }
    Run {
        stdout: std::fs::read_to_string(stdout_path)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        strace_log: String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into(),
        strace_stderr: strace_stderr.join("\n"),
        strace_status: status,
        strace_pid,
        tracer_out: String::new(),
        tracer_stderr: String::new(),
        tracer_error: None,
    }
}

/// Runs of spaces and tabs outside quoted strings become one space, on top of
/// `strace::normalize` (`-a` padding, tracer's durations).
pub fn canonical(line: &str) -> String {
    let line = normalize(line.trim());
    let mut out = String::with_capacity(line.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut space = false;
    for c in line.chars() {
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if c == ' ' || c == '\t' {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if c == '"' {
            in_str = true;
        }
        out.push(c);
    }
    out
}

/// One program's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub name: String,
    pub expected: usize,
    pub strace_hits: usize,
    pub tracer_hits: usize,
    /// strace's lines for the calls under test that tracer printed identically, in order.
    pub exact: usize,
    /// strace's lines for the calls under test.
    pub calls: usize,
    /// Why tracer has no output, when it has none.
    pub note: String,
}

impl Score {
    /// `exact / calls`; 1 when strace printed no call under test.
    pub fn calls_exact(&self) -> f64 {
        if self.calls == 0 {
            1.0
        } else {
            self.exact as f64 / self.calls as f64
        }
    }
}

/// How many of `wanted` occur in `have`, each line of `have` used once.
fn multiset_hits(wanted: &[String], have: &[String]) -> usize {
    let mut pool: HashMap<&str, usize> = HashMap::new();
    for l in have {
        *pool.entry(l.as_str()).or_default() += 1;
    }
    wanted
        .iter()
        .filter(|l| match pool.get_mut(l.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count()
}

/// Length of the longest common subsequence: `a`'s lines found in `b` in the same order.
fn lcs(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn canonical_threads(p: PerThread) -> PerThread {
    p.into_iter()
        .map(|(pid, lines)| (pid, lines.iter().map(|l| canonical(l)).collect()))
        .collect()
}

/// The program's own stdout lines that are calls: what strace must print, canonical.
fn expected_lines(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter(|l| is_call(l))
        .map(canonical)
        .collect()
}

/// Scores one run.
pub fn score(prog: &Program, spec: &Spec, run: &Run) -> Score {
    let expected = expected_lines(run);
    let strace = canonical_threads(parse_strace(&run.strace_log));
    let mut tracer = canonical_threads(parse_tracer(&run.tracer_out));
    // strace itself is in the cgroup: its own calls are not the program's.
    tracer.remove(&run.strace_pid);
    let flat = |p: &PerThread| p.values().flatten().cloned().collect::<Vec<_>>();
    let strace_all = flat(&strace);
    let tracer_all = flat(&tracer);
    let under_test = spec.calls_under_test(&expected);
    let mut exact = 0;
    let mut calls = 0;
    for (pid, lines) in &strace {
        let s: Vec<String> = lines
            .iter()
            .filter(|l| under_test.contains(name(l)))
            .cloned()
            .collect();
        let t: Vec<String> = tracer
            .get(pid)
            .map(|v| {
                v.iter()
                    .filter(|l| under_test.contains(name(l)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        calls += s.len();
        exact += lcs(&s, &t);
    }
    let mut note = String::new();
    if let Some(e) = &run.tracer_error {
        note = e.lines().next().unwrap_or_default().to_string();
    }
    Score {
        name: prog.name.clone(),
        expected: expected.len(),
        strace_hits: multiset_hits(&expected, &strace_all),
        tracer_hits: multiset_hits(&expected, &tracer_all),
        exact,
        calls,
        note,
    }
}

/// The expected lines tracer did not print (for a failing program's report).
pub fn tracer_misses(run: &Run) -> Vec<String> {
    let mut tracer = canonical_threads(parse_tracer(&run.tracer_out));
    tracer.remove(&run.strace_pid);
    let mut pool: HashMap<String, usize> = HashMap::new();
    for l in tracer.values().flatten() {
        *pool.entry(l.clone()).or_default() += 1;
    }
    run.stdout
        .lines()
        .filter(|l| is_call(l))
        .map(canonical)
        .filter(|l| match pool.get_mut(l) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

/// tracer's lines for the calls under test (for a failing program's report).
pub fn tracer_calls(spec: &Spec, run: &Run) -> Vec<String> {
    let expected = expected_lines(run);
    let under_test = spec.calls_under_test(&expected);
    let mut tracer = canonical_threads(parse_tracer(&run.tracer_out));
    tracer.remove(&run.strace_pid);
    tracer
        .into_values()
        .flatten()
        .filter(|l| under_test.contains(name(l)))
        .collect()
}

/// The committed baseline, per program (`note` empty).
pub fn read_baseline() -> BTreeMap<String, Score> {
    let Ok(text) = std::fs::read_to_string(BASELINE) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let n = |i: usize| f.get(i).and_then(|s| s.parse().ok());
            let sc = Score {
                name: f[0].to_string(),
                expected: n(1)?,
                strace_hits: n(2)?,
                tracer_hits: n(3)?,
                exact: n(4)?,
                calls: n(5)?,
                note: String::new(),
            };
            Some((sc.name.clone(), sc))
        })
        .collect()
}

pub fn write_baseline(scores: &[Score]) {
    let mut s = String::from(
        "# The strace suite's committed scores (tests/tests/strace_suite.rs fails when a program\n\
         # scores below its line here). Rewrite with:\n\
         #   TRACER_SUITE_BLESS=1 cargo xtask test strace_test_programs\n\
         # name\texpected\tstrace_hits\ttracer_hits\tcalls_exact (identical)\tcalls (strace's)\n",
    );
    for sc in scores {
        let _ = writeln!(
            s,
            "{}\t{}\t{}\t{}\t{}\t{}",
            sc.name, sc.expected, sc.strace_hits, sc.tracer_hits, sc.exact, sc.calls
        );
    }
    std::fs::write(BASELINE, s).unwrap_or_else(|e| panic!("writing {BASELINE}: {e}"));
}

/// The Markdown table of docs/decoding.md, totals last.
pub fn table(scores: &[Score]) -> String {
    let mut s = String::from(
        "| program | expected | strace | tracer | calls_exact |\n|---|---:|---:|---:|---:|\n",
    );
    for sc in scores {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {}/{} ({:.0}%){} |",
            sc.name,
            sc.expected,
            sc.strace_hits,
            sc.tracer_hits,
            sc.exact,
            sc.calls,
            100.0 * sc.calls_exact(),
            if sc.note.is_empty() {
                String::new()
            } else {
                format!(" {}", sc.note)
            }
        );
    }
    let (t, st, e): (usize, usize, usize) = scores.iter().fold((0, 0, 0), |a, sc| {
        (
            a.0 + sc.tracer_hits,
            a.1 + sc.strace_hits,
            a.2 + sc.expected,
        )
    });
    let mean = scores.iter().map(Score::calls_exact).sum::<f64>() / scores.len().max(1) as f64;
    let _ = writeln!(
        s,
        "| **total ({} programs)** | {e} | {st} | {t} ({:.1}% of strace's) | mean {:.1}% |",
        scores.len(),
        100.0 * t as f64 / st.max(1) as f64,
        100.0 * mean
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gen_tests_options() {
        let s = Spec::parse("dup", "-a7 9>>/dev/full");
        assert_eq!(s.strace_args, ["-e", "trace=dup", "-a7"]);
        assert_eq!(s.redirects[0].fd, 9);
        assert_eq!(s.redirects[0].path, "/dev/full");
        assert_eq!(
            s.tracer_syscalls().as_deref(),
            Some("dup,execve,exit_group")
        );

        let s = Spec::parse(
            "getrandom",
            "-a22 -s3 \"QUIRK:START-OF-TEST-OUTPUT:getrandom(NULL, 0, 0)\"",
        );
        assert_eq!(s.strace_args, ["-e", "trace=getrandom", "-a22", "-s3"]);
        assert_eq!(s.string_size, Some(3));

        let s = Spec::parse("openat", "-a36 -P $NAME.sample");
        assert_eq!(
            s.strace_args,
            ["-e", "trace=openat", "-a36", "-P", "openat.sample"]
        );

        let s = Spec::parse(
            "read-write",
            "-a15 -eread=0,5 -ewrite=1,4 -e trace=read,write -P x",
        );
        assert_eq!(s.trace, ["read", "write"]);
        assert_eq!(
            s.tracer_args(),
            ["--host-pids", "--syscalls", "read,write,execve,exit_group"]
        );

        let s = Spec::parse("net-y-unix", "-a20 -y -eclose,network");
        assert_eq!(s.trace, ["close", "network"]);
        assert!(s.fd_paths);
        assert_eq!(s.tracer_syscalls(), None);

        let s = Spec::parse("tgkill", "-a15 --signal='!cont'");
        assert_eq!(
            s.strace_args,
            ["-e", "trace=tgkill", "-a15", "--signal=!cont"]
        );

        let s = Spec::parse(
            "mmap",
            "-a20 -e trace=mmap,munmap QUIRK:PROG-ARGS:mmap </dev/full",
        );
        assert_eq!(s.prog_args, ["mmap"]);
        assert_eq!(s.redirects[0].fd, 0);
        let s = Spec::parse("faccessat-y", "-a23 --trace=faccessat -a24 -y");
        assert_eq!(s.trace, ["faccessat"]);
    }

    #[test]
    fn recognises_calls_and_normalises() {
        assert!(is_call(
            "openat(AT_FDCWD, \"a\", O_RDONLY) = -1 ENOENT (No such file)"
        ));
        assert!(is_call("exit_group(0) = ?"));
        assert!(!is_call("+++ exited with 0 +++"));
        assert!(!is_call(" | 00000  61 62  ab |"));
        assert!(!is_call("--- SIGCHLD {si_signo=SIGCHLD} ---"));
        assert_eq!(
            canonical("dup(9</dev/full>)    = 0</dev/full>"),
            "dup(9</dev/full>) = 0</dev/full>"
        );
        assert_eq!(
            canonical("write(1, \"a  b\",  4) = 4 <0.000011>"),
            "write(1, \"a  b\", 4) = 4"
        );
    }

    #[test]
    fn counts() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(multiset_hits(&v(&["a", "a", "b"]), &v(&["a", "b", "c"])), 2);
        assert_eq!(lcs(&v(&["a", "b", "c"]), &v(&["x", "a", "c", "b"])), 2);
    }
}
