//! strace-shaped text: `[pid 14] openat(AT_FDCWD, "/etc/hosts", O_RDONLY|O_CLOEXEC) = 3 <0.000012>`.
//! Every byte from the traced process goes through strace's quoting (decode::escape), so no
//! control character reaches the terminal.
use std::io::{self, Write};

use std::fmt::Write as _;

use super::{Lost, Sink, summary};
use crate::{
    decode::{Enter, args, errno, fcntl, fdpath, flags, syscalls},
    model::{Container, Event, summary::Report},
};

pub struct Text<W: Write> {
    out: W,
    line: String,
    host_pids: bool,
    summary: SummaryText,
}

/// How summary tables are printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryText {
    pub sort: summary::SortBy,
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
            host_pids,
            summary: SummaryText::default(),
        }
    }

    pub fn with_summary(mut self, summary: SummaryText) -> Self {
        self.summary = summary;
        self
    }
}

/// Syscalls whose successful return value is an address.
fn returns_address(name: &str) -> bool {
    matches!(name, "mmap" | "mremap" | "brk" | "shmat")
}

/// strace's line (and its `+++ exited` line) for `e`.
pub fn render(out: &mut String, e: &Event, host_pids: bool) {
    let ev = &e.call;
    let name = syscalls::display_name(ev.nr);
    let pid = if host_pids {
        ev.tid
    } else {
        ev.ns_tid.unwrap_or(ev.tid)
    };
    let _ = write!(out, "[pid {pid:>5}] ");
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
                if let Some(path) = &e.ret_path {
                    fdpath::annotate(out, path);
                }
                if let Some(note) = &e.ret_note {
                    let _ = write!(out, " ({note})");
                }
            }
        },
    }
    if let Some(d) = ev.duration_ns() {
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
    if ev.ret.is_none() && matches!(name.as_ref(), "exit" | "exit_group") {
        let _ = writeln!(
            out,
            "[pid {pid:>5}] +++ exited with {} +++",
            ev.args[0] & 0xff
        );
    }
}

impl<W: Write> Sink for Text<W> {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.line.clear();
        render(&mut self.line, e, self.host_pids);
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
        summary::table(&mut self.line, r, self.summary.sort);
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
}
