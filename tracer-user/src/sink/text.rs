//! strace-shaped text: `[pid 14] openat(AT_FDCWD, "/etc/hosts", O_RDONLY|O_CLOEXEC) = 3 <0.000012>`.
//! Every byte from the traced process goes through strace's quoting (decode::escape), so no
//! control character reaches the terminal.
use std::io::{self, Write};

use std::fmt::Write as _;

use super::{Lost, Sink, summary};
use crate::{
    decode::{Enter, args, errno, escape, fcntl, fdpath, flags, syscalls, timefmt},
    model::{
        Container, Event, Frame, Lifecycle, SignalEvent, SignalKind, clock::Clock,
        seccomp::Finding, summary::Report,
    },
};

pub struct Text<W: Write> {
    out: W,
    line: String,
    style: Style,
    summary: SummaryText,
    stamps: Stamps,
    clock: Clock,
    /// `-r`: the previous call's entry time.
    last_ns: Option<u64>,
    /// Each line starts with `[NAME] `, its container's (several containers in one output:
    /// the daemon).
    container_labels: bool,
}

/// What each line shows besides the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// `[pid N]` shows host thread ids instead of the container's.
    pub host_pids: bool,
    /// `-T`: the time spent in the call, `<0.000012>`.
    pub durations: bool,
    /// `+++ exited with N +++` after `exit_group` (off with `-qq`).
    pub exits: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            host_pids: false,
            durations: false,
            exits: true,
        }
    }
}

/// strace's timestamps before each call: `-t`, `-tt`, `-ttt`, `-r`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Stamps {
    #[default]
    None,
    /// `-t`: `16:05:06`, local time.
    Seconds,
    /// `-tt`: `16:05:06.123456`.
    Micros,
    /// `-ttt`: `1492358706.123456`, seconds since the epoch.
    Epoch,
    /// `-r`: `     0.000123`, since the previous call's entry.
    Relative,
}

/// How summary tables are printed.
#[derive(Debug, Clone, Default)]
pub struct SummaryText {
    pub sort: summary::SortBy,
    /// `-U`; empty: strace -c's columns.
    pub columns: Vec<summary::Column>,
    pub histogram: Option<u32>,
    /// Tables come per interval: label each.
    pub interval: bool,
}

impl<W: Write> Text<W> {
    /// The writer, once the sink is done (tests and embedding).
    pub fn into_inner(self) -> W {
        self.out
    }

    /// `host_pids`: `[pid N]` shows host thread ids instead of the container's.
    pub fn new(out: W, host_pids: bool) -> Self {
        Text {
            out,
            line: String::with_capacity(256),
            style: Style {
                host_pids,
                ..Style::default()
            },
            summary: SummaryText::default(),
            stamps: Stamps::None,
            clock: Clock::shared(),
            last_ns: None,
            container_labels: false,
        }
    }

    /// `-T` durations, and the `+++ exited +++` lines (off with `-qq`).
    pub fn with_style(mut self, durations: bool, exits: bool) -> Self {
        self.style.durations = durations;
        self.style.exits = exits;
        self
    }

    /// Each line starts with `[NAME] `, the name of its container (`NS/POD/NAME` in a pod).
    pub fn with_container_labels(mut self, on: bool) -> Self {
        self.container_labels = on;
        self
    }

    /// The writer (the daemon's outputs: rotation, sync, byte counts).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Writes the rendered `line`, each of its lines after `[NAME] ` when labels are on.
    fn write_line(&mut self, container: Option<&Container>) -> io::Result<()> {
        let Some(c) = container.filter(|_| self.container_labels) else {
            return self.out.write_all(self.line.as_bytes());
        };
        let mut prefix = String::from("[");
        escape::unquoted(&mut prefix, c.label().as_bytes());
        prefix.push_str("] ");
        for l in self.line.split_inclusive('\n') {
            self.out.write_all(prefix.as_bytes())?;
            self.out.write_all(l.as_bytes())?;
        }
        Ok(())
    }

    pub fn with_summary(mut self, summary: SummaryText) -> Self {
        self.summary = summary;
        self
    }

    /// Timestamps before each call, from the kernel's time of its entry, through `clock`.
    pub fn with_stamps(mut self, stamps: Stamps, clock: Clock) -> Self {
        self.stamps = stamps;
        self.clock = clock;
        self
    }

    /// The timestamp for a call that entered at kernel time `at` (strace's printleader).
    fn stamp(&mut self, at: u64) -> Option<String> {
        let wall = self.clock.wall_ns(at);
        let (sec, nsec) = (
            wall.div_euclid(1_000_000_000),
            wall.rem_euclid(1_000_000_000),
        );
        let usec = nsec / 1000;
        let sec = i64::try_from(sec).ok()?;
        Some(match self.stamps {
            Stamps::None => return None,
            Stamps::Seconds => timefmt::time_of_day(sec)?,
            Stamps::Micros => format!("{}.{usec:06}", timefmt::time_of_day(sec)?),
            Stamps::Epoch => format!("{sec}.{usec:06}"),
            Stamps::Relative => {
                let d = self.last_ns.map_or(0, |l| at.saturating_sub(l));
                self.last_ns = Some(at);
                format!("{:>6}.{:06}", d / 1_000_000_000, (d % 1_000_000_000) / 1000)
            }
        })
    }
}

/// Syscalls whose successful return value is an address.
fn returns_address(name: &str) -> bool {
    matches!(name, "mmap" | "mremap" | "brk" | "shmat")
}

/// strace's line (and its `+++ exited` line) for `e`, with `-T`'s duration.
pub fn render(out: &mut String, e: &Event, host_pids: bool) {
    let style = Style {
        host_pids,
        durations: true,
        exits: true,
    };
    render_stamped(out, e, style, None);
}

/// [`render`] in `style`, with a timestamp after the `[pid N]` prefix, where strace puts
/// `-t`'s.
pub fn render_stamped(out: &mut String, e: &Event, style: Style, stamp: Option<&str>) {
    let ev = &e.call;
    let name = syscalls::display_name(ev.nr);
    let pid = if style.host_pids {
        ev.tid
    } else {
        ev.ns_tid.unwrap_or(ev.tid)
    };
    let _ = write!(out, "[pid {pid:>5}] ");
    if let Some(stamp) = stamp {
        out.push_str(stamp);
        out.push(' ');
    }
    if ev.enter == Enter::Missing {
        let _ = write!(out, "<... {name} resumed>");
    } else {
        out.push_str(&name);
    }
    out.push('(');
    for (i, a) in args::shown_in_order(&e.args).into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&a.text);
    }
    if ev.enter == Enter::Unfinished {
        out.push_str(" <unfinished ...>\n");
        return;
    }
    out.push(')');
    let deco = fcntl::ret_decoration(ev);
    match ev.ret {
        None => out.push_str(" = ?"),
        Some(ret) => match errno::of_ret(ret) {
            Some(e) if errno::is_restart(e) => {
                let _ = write!(out, " = ? {} ({})", errno::name(e), errno::message(e));
            }
            Some(e) => {
                let _ = write!(out, " = -1 {} ({})", errno::name(e), errno::message(e));
            }
            // fcntl's F_GET* results: `0x1 (flags FD_CLOEXEC)`, `1 (SIGHUP)`.
            None if deco.is_some() => {
                out.push_str(" = ");
                out.push_str(deco.as_deref().unwrap_or_default());
            }
            None if returns_address(&name) => {
                let _ = write!(out, " = {ret:#x}");
            }
            // The previous mask, which strace prints as a mode.
            None if name == "umask" => {
                out.push_str(" = ");
                flags::mode(out, ret as u64 & 0o7777);
            }
            None => {
                let _ = write!(out, " = {ret}");
                if let Some(shown) = &e.ret_shown {
                    fdpath::annotate_shown(out, shown);
                } else if let Some(path) = &e.ret_path {
                    fdpath::annotate(out, path);
                }
                if let Some(note) = &e.ret_note {
                    let _ = write!(out, " ({note})");
                }
            }
        },
    }
    if let Some(d) = ev.duration_ns().filter(|_| style.durations) {
        let _ = write!(
            out,
            " <{}.{:06}>",
            d / 1_000_000_000,
            (d % 1_000_000_000) / 1000
        );
    }
    if ev.sigsys {
        out.push_str(" (seccomp SIGSYS)");
    } else if ev.seccomp_denied() {
        out.push_str(" (seccomp denied)");
    } else if ev.enter == Enter::Skipped {
        out.push_str(" (enter skipped)");
    }
    out.push('\n');
    if let Some(stack) = &ev.stack {
        frames(out, stack);
    }
    if style.exits && ev.ret.is_none() && matches!(name.as_ref(), "exit" | "exit_group") {
        let _ = writeln!(
            out,
            "[pid {pid:>5}] +++ exited with {} +++",
            ev.args[0] & 0xff
        );
    }
}

/// ` (seccomp would_deny: SCMP_ACT_ERRNO(EPERM))`, ` (seccomp would_kill: SCMP_ACT_KILL_PROCESS)`:
/// the profile's action as `seccomp check` names it.
pub fn finding_suffix(f: &Finding) -> String {
    match f.errno {
        Some(n) => format!(
            " (seccomp {}: {}({}))",
            f.verdict.as_str(),
            f.action,
            errno::name(n as i32)
        ),
        None => format!(" (seccomp {}: {})", f.verdict.as_str(), f.action),
    }
}

/// strace's `-k` lines after the call: ` > /lib/libc.so.6(getppid+0x7) [0xe0f37]`, the
/// module, the symbol and the offset in it, and in brackets the offset in the module's file
/// (glibc's `backtrace_symbols` form); ` > /lib/libc.so.6() [0xe0f37]` without a symbol, and
/// ` > ?(?) [0x7f3a…]` (the address in the process) where nothing is known to be mapped.
/// Module paths and symbols come from the traced process: escaped as strace escapes strings.
pub fn frames(out: &mut String, stack: &[Frame]) {
    for f in stack {
        out.push_str(" > ");
        match &f.module {
            Some(m) => escape::unquoted(out, m),
            None => out.push('?'),
        }
        out.push('(');
        match &f.symbol {
            Some(s) => {
                escape::unquoted(out, s.as_bytes());
                let _ = write!(out, "+{:#x}", f.offset);
            }
            None if f.module.is_none() => out.push('?'),
            None => {}
        }
        let _ = writeln!(out, ") [{:#x}]", f.file_offset.unwrap_or(f.addr));
    }
}

/// strace's line for a signal: `--- SIGUSR1 {si_signo=SIGUSR1, ...} ---` when delivered,
/// `+++ killed by SIGKILL +++` (with ` (core dumped)`) when it killed the process; the `[pid N]`
/// of the receiving thread, or of the process that died.
pub fn render_signal(out: &mut String, s: &SignalEvent, host_pids: bool, stamp: Option<&str>) {
    let (ns, host) = match s.kind {
        SignalKind::Delivered { .. } => (s.ns_tid, s.tid),
        SignalKind::Killed { .. } => (s.ns_tgid, s.tgid),
    };
    let pid = if host_pids { host } else { ns.unwrap_or(host) };
    let _ = write!(out, "[pid {pid:>5}] ");
    if let Some(stamp) = stamp {
        out.push_str(stamp);
        out.push(' ');
    }
    let name = flags::signal_string(i64::from(s.sig));
    match &s.kind {
        SignalKind::Delivered { info, .. } => match info {
            Some((text, _)) => {
                let _ = writeln!(out, "--- {name} {text} ---");
            }
            None => {
                let _ = writeln!(out, "--- {name} ---");
            }
        },
        SignalKind::Killed { core } => {
            let core = if *core { "(core dumped) " } else { "" };
            let _ = writeln!(out, "+++ killed by {name} {core}+++");
        }
    }
}

impl<W: Write> Sink for Text<W> {
    fn signal(&mut self, s: &SignalEvent) -> io::Result<()> {
        self.line.clear();
        let stamp = match self.stamps {
            Stamps::None => None,
            _ => self.stamp(s.ktime_ns),
        };
        render_signal(&mut self.line, s, self.style.host_pids, stamp.as_deref());
        self.write_line(s.container.as_deref())
    }

    /// `+++ container web restarted (pid 4242) +++`, `+++ container web died (exit code 137)
    /// +++`: the daemon's news of a container, in strace's `+++ … +++` form.
    fn lifecycle(&mut self, l: &Lifecycle) -> io::Result<()> {
        self.line.clear();
        let mut name = String::new();
        escape::unquoted(&mut name, l.container.label().as_bytes());
        let _ = write!(self.line, "+++ container {name} {}", l.kind.as_str());
        if let Some(old) = &l.old_name {
            self.line.push_str(" from ");
            escape::unquoted(&mut self.line, old.as_bytes());
        }
        match (l.pid, l.exit_code) {
            (_, Some(code)) => {
                let _ = write!(self.line, " (exit code {code})");
            }
            (Some(pid), None) => {
                let _ = write!(self.line, " (pid {pid})");
            }
            (None, None) => {}
        }
        self.line.push_str(" +++\n");
        self.out.write_all(self.line.as_bytes())
    }

    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.line.clear();
        let stamp = match self.stamps {
            Stamps::None => None,
            _ => self.stamp(e.call.enter_ns.unwrap_or(e.call.ktime_ns)),
        };
        render_stamped(&mut self.line, e, self.style, stamp.as_deref());
        self.write_line(e.container.as_deref())
    }

    /// The call's line with what the profile would have done at its end, before any stack
    /// lines: `… = 0 (seccomp would_deny: SCMP_ACT_ERRNO(EPERM))`.
    fn seccomp(&mut self, e: &Event, f: &Finding) -> io::Result<()> {
        self.line.clear();
        let stamp = match self.stamps {
            Stamps::None => None,
            _ => self.stamp(e.call.enter_ns.unwrap_or(e.call.ktime_ns)),
        };
        let style = Style {
            exits: false,
            ..self.style
        };
        render_stamped(&mut self.line, e, style, stamp.as_deref());
        let end = self.line.find('\n').unwrap_or(self.line.len());
        self.line.insert_str(end, &finding_suffix(f));
        self.out.write_all(self.line.as_bytes())
    }

    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        writeln!(
            self.out,
            "+++ lost {} events ({} in total): the ring buffer was full +++",
            lost.count, lost.total
        )
    }

    fn summary(&mut self, r: &Report, _container: Option<&Container>) -> io::Result<()> {
        self.line.clear();
        let secs = r.end_ktime.saturating_sub(r.start_ktime) as f64 / 1e9;
        if self.summary.interval {
            let what = if r.total { "total" } else { "interval" };
            let _ = writeln!(self.line, "--- {what} of {secs:.3} s ---");
        }
        if self.summary.columns.is_empty() {
            summary::table(&mut self.line, r, self.summary.sort);
        } else {
            summary::table_with(&mut self.line, r, self.summary.sort, &self.summary.columns);
        }
        if let Some(nr) = self.summary.histogram {
            let name = syscalls::display_name(nr);
            match r.rows.get(&nr) {
                Some(a) => summary::histogram(&mut self.line, &name, a),
                None => {
                    let _ = writeln!(self.line, "{name}: no calls");
                }
            }
        }
        self.out.write_all(self.line.as_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::decode::{self, decode, tests as fixtures};
    use tracer_common::record::{
        FLAG_ENTER_MISSING, FLAG_NO_RETURN, FLAG_SECCOMP_SIGSYS, FLAG_THREAD_KNOWN,
    };

    fn line(flags: u16, nr: u32, ret: i64, args: [u64; 6]) -> String {
        let mut r = fixtures::record(flags, nr, ret);
        r.args = args;
        r.enter_ns = r.header.ktime_ns - 12_345;
        let ev = decode(&fixtures::bytes(&r)).expect("decodes");
        let ev = decode::event(ev, decode::args::Options::default());
        let mut s = String::new();
        render(&mut s, &ev, false);
        s
    }

    #[test]
    fn timestamps_where_strace_puts_them() {
        // strace 6.1: `[pid  1234] 1492358706.123456 getppid() = 1` with -ttt, after the
        // pid; -r counts from the previous call's entry.
        let sample = |enter_ns: u64| {
            let mut r = fixtures::record(0, 110, 1);
            r.enter_ns = enter_ns;
            r.header.ktime_ns = enter_ns + 1000;
            decode::event(
                decode(&fixtures::bytes(&r)).expect("decodes"),
                decode::args::Options::default(),
            )
        };
        let text = |stamps: Stamps, events: &[u64]| {
            let clock = Clock::with_offset(1_492_358_706_000_000_000);
            let mut t = Text::new(Vec::new(), false).with_stamps(stamps, clock);
            for &at in events {
                t.event(&sample(at)).expect("writes");
            }
            String::from_utf8(t.into_inner()).expect("utf-8")
        };
        let epoch = text(Stamps::Epoch, &[123_456_789]);
        assert!(
            epoch.contains("] 1492358706.123456 getppid() = 1"),
            "{epoch}"
        );
        let rel = text(Stamps::Relative, &[1_000_000, 3_500_000]);
        let lines: Vec<&str> = rel.lines().collect();
        assert!(lines[0].contains("]      0.000000 getppid()"), "{rel}");
        assert!(lines[1].contains("]      0.002500 getppid()"), "{rel}");
        let micros = text(Stamps::Micros, &[123_456_789]);
        let stamp = micros.split("] ").nth(1).and_then(|r| r.split(' ').next());
        assert!(
            stamp.is_some_and(|s| s.len() == 15
                && s.ends_with(".123456")
                && s.as_bytes()[2] == b':'),
            "{micros}"
        );
        assert!(!text(Stamps::None, &[5]).contains("1492358706"));
    }

    fn signal(r: &tracer_common::record::SignalRecord, stamps: Stamps) -> String {
        let b = crate::decode::signal_event::tests::bytes(r);
        let Ok(crate::decode::Record::Signal(s)) = decode::decode_record(&b) else {
            panic!("a signal record")
        };
        let clock = Clock::with_offset(1_492_358_706_000_000_000);
        let mut t = Text::new(Vec::new(), false).with_stamps(stamps, clock);
        t.signal(&s).expect("writes");
        String::from_utf8(t.into_inner()).expect("utf-8")
    }

    #[test]
    fn signals_like_strace() {
        use crate::decode::signal_event::tests::{delivery, killed};
        // strace 6.1 on raise(SIGUSR1) and kill(getpid(), SIGUSR1) with a handler installed.
        assert_eq!(
            signal(&delivery(10, -6, 42, 0x40_1000), Stamps::None),
            "[pid     8] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=42, si_uid=0} ---\n"
        );
        assert_eq!(
            signal(&delivery(10, 0, 42, 0x40_1000), Stamps::None),
            "[pid     8] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=42, si_uid=0} ---\n"
        );
        // A death names the process (its tgid), not the thread.
        assert_eq!(
            signal(&killed(9, false), Stamps::None),
            "[pid     7] +++ killed by SIGKILL +++\n"
        );
        assert_eq!(
            signal(&killed(11, true), Stamps::None),
            "[pid     7] +++ killed by SIGSEGV (core dumped) +++\n"
        );
        assert_eq!(
            signal(&killed(34, false), Stamps::None),
            "[pid     7] +++ killed by SIGRT_2 +++\n"
        );
        // Timestamps after the pid, as on call lines.
        assert_eq!(
            signal(&killed(9, false), Stamps::Epoch),
            "[pid     7] 1492358706.005000 +++ killed by SIGKILL +++\n"
        );
        let mut no_info = delivery(10, 0, 42, 0);
        no_info.header.flags = tracer_common::record::FLAG_SIGNAL_NO_INFO;
        assert_eq!(
            signal(&no_info, Stamps::None),
            "[pid     8] --- SIGUSR1 ---\n"
        );
    }

    #[test]
    fn accept4_like_strace() {
        assert_eq!(
            line(0, 288, 4, [6, 0x7ffd_1234, 0x7ffd_1230, 0x800, 0, 0]),
            "[pid     7] accept4(6, 0x7ffd1234, 0x7ffd1230, SOCK_NONBLOCK) = 4 <0.000012>\n"
        );
    }

    #[test]
    fn umask_returns_a_mode() {
        assert_eq!(
            line(0, 95, 0o22, [0, 0, 0, 0, 0, 0]),
            "[pid     7] umask(000) = 022 <0.000012>\n"
        );
        assert_eq!(
            line(0, 95, 0o126, [0o7777, 0, 0, 0, 0, 0]),
            "[pid     7] umask(07777) = 0126 <0.000012>\n"
        );
    }

    #[test]
    fn failure_and_signed_arguments() {
        assert_eq!(
            line(0, 257, -2, [(-100i64) as u64, 0x4000, 0, 0, 0, 0]),
            "[pid     7] openat(AT_FDCWD, 0x4000, O_RDONLY) = -1 ENOENT (No such file or directory) <0.000012>\n"
        );
    }

    #[test]
    fn restarted_calls_like_strace() {
        // strace 6.1 on pause()/nanosleep()/read() interrupted by a handled SIGALRM.
        assert_eq!(
            line(0, 34, -514, [0; 6]),
            "[pid     7] pause() = ? ERESTARTNOHAND (To be restarted if no handler) <0.000012>\n"
        );
        assert_eq!(
            line(0, 35, -516, [0, 0, 0, 0, 0, 0]),
            "[pid     7] nanosleep(NULL, NULL) = ? ERESTART_RESTARTBLOCK (Interrupted by signal) <0.000012>\n"
        );
        assert_eq!(
            line(0, 0, -512, [3, 0x7ffc, 1, 0, 0, 0]),
            "[pid     7] read(3, 0x7ffc, 1) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.000012>\n"
        );
        assert_eq!(
            line(0, 57, -513, [0; 6]),
            "[pid     7] fork() = ? ERESTARTNOINTR (To be restarted) <0.000012>\n"
        );
        // Other kernel-internal codes stay errors.
        assert_eq!(
            line(0, 16, -515, [0, 0x5401, 0, 0, 0, 0]),
            "[pid     7] ioctl(0, TCGETS, 0) = -1 ENOIOCTLCMD (No ioctl command) <0.000012>\n"
        );
    }

    #[test]
    fn no_return_missing_and_skipped() {
        assert_eq!(
            line(FLAG_NO_RETURN, 231, 0, [3, 0, 0, 0, 0, 0]),
            "[pid     7] exit_group(3) = ?\n[pid     7] +++ exited with 3 +++\n"
        );
        assert_eq!(
            line(FLAG_ENTER_MISSING, 110, 1, [0; 6]),
            "[pid     7] <... getppid resumed>() = 1\n"
        );
        assert_eq!(
            line(
                FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN,
                90,
                -1,
                [0x55, 0o777, 0, 0, 0, 0]
            ),
            "[pid     7] chmod(0x55, 0777) = -1 EPERM (Operation not permitted) (seccomp denied)\n"
        );
        assert_eq!(
            line(
                FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN | FLAG_SECCOMP_SIGSYS,
                90,
                90,
                [0x55, 0o777, 0, 0, 0, 0]
            ),
            "[pid     7] chmod(0x55, 0777) = ? (seccomp SIGSYS)\n"
        );
        assert_eq!(
            line(0, 9, 0x7f00_0000_0000, [0, 4096, 3, 0x22, u64::MAX, 0]),
            "[pid     7] mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000 <0.000012>\n"
        );
    }

    fn stack() -> Vec<Frame> {
        vec![
            Frame {
                addr: 0x7f12_340e_0f37,
                module: Some(b"/usr/lib/x86_64-linux-gnu/libc.so.6".to_vec()),
                symbol: Some("getppid".into()),
                offset: 7,
                file_offset: Some(0xe0f37),
            },
            Frame {
                addr: 0x401a2b,
                module: Some(b"/app/bin\x1b[31m\n".to_vec()),
                symbol: None,
                offset: 0,
                file_offset: Some(0x1a2b),
            },
            Frame {
                addr: 0x7ffc_0000_1000,
                ..Frame::default()
            },
            Frame {
                addr: 0x401000,
                module: Some(b"/app/bin".to_vec()),
                symbol: Some("evil\u{1b}]0;x\u{7}".into()),
                offset: 0x10,
                file_offset: None,
            },
        ]
    }

    #[test]
    fn stack_frames_after_the_call_like_strace_k() {
        let mut r = fixtures::record(0, 110, 1);
        r.enter_ns = r.header.ktime_ns - 12_345;
        let mut call = decode(&fixtures::bytes(&r)).expect("decodes");
        call.stack = Some(stack());
        let ev = decode::event(call, decode::args::Options::default());
        let mut s = String::new();
        render(&mut s, &ev, false);
        assert_eq!(
            s,
            "[pid     7] getppid() = 1 <0.000012>\n\
             \x20> /usr/lib/x86_64-linux-gnu/libc.so.6(getppid+0x7) [0xe0f37]\n\
             \x20> /app/bin\\33[31m\\n() [0x1a2b]\n\
             \x20> ?(?) [0x7ffc00001000]\n\
             \x20> /app/bin(evil\\33]0;x\\7+0x10) [0x401000]\n"
        );
        // exit_group: the stack, then strace's exit line.
        let mut call =
            decode(&fixtures::bytes(&fixtures::record(FLAG_NO_RETURN, 231, 0))).expect("decodes");
        call.stack = Some(stack()[..1].to_vec());
        let ev = decode::event(call, decode::args::Options::default());
        s.clear();
        render(&mut s, &ev, false);
        assert_eq!(
            s,
            "[pid     7] exit_group(1) = ?\n\
             \x20> /usr/lib/x86_64-linux-gnu/libc.so.6(getppid+0x7) [0xe0f37]\n\
             [pid     7] +++ exited with 1 +++\n"
        );
        // A walk that failed prints nothing; without -k there is nothing to print.
        let mut call = decode(&fixtures::bytes(&r)).expect("decodes");
        call.stack = Some(Vec::new());
        let ev = decode::event(call, decode::args::Options::default());
        s.clear();
        render(&mut s, &ev, false);
        assert_eq!(s, "[pid     7] getppid() = 1 <0.000012>\n");
    }
}
