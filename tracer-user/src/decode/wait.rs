//! wait4's status word, as strace prints it: `[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]`, with
//! the bits no macro explains after a `|` (`PTRACE_EVENT_EXEC<<16`, `0x…`).
use std::fmt::Write as _;

use serde_json::json;

use super::{flags, structs::Decoded};

/// `PTRACE_EVENT_*` (include/uapi/linux/ptrace.h), in the status word's upper 16 bits.
const PTRACE_EVENTS: flags::Table = &[
    (libc::PTRACE_EVENT_FORK as u64, "PTRACE_EVENT_FORK"),
    (libc::PTRACE_EVENT_VFORK as u64, "PTRACE_EVENT_VFORK"),
    (libc::PTRACE_EVENT_CLONE as u64, "PTRACE_EVENT_CLONE"),
    (libc::PTRACE_EVENT_EXEC as u64, "PTRACE_EVENT_EXEC"),
    (
        libc::PTRACE_EVENT_VFORK_DONE as u64,
        "PTRACE_EVENT_VFORK_DONE",
    ),
    (libc::PTRACE_EVENT_EXIT as u64, "PTRACE_EVENT_EXIT"),
    (libc::PTRACE_EVENT_SECCOMP as u64, "PTRACE_EVENT_SECCOMP"),
    (libc::PTRACE_EVENT_STOP as u64, "PTRACE_EVENT_STOP"),
];

/// The status wait4 wrote (only meaningful when it returned a pid: the caller checks).
pub fn status(b: &[u8]) -> Option<Decoded> {
    let s = i32::from_ne_bytes(b.get(..4)?.try_into().ok()?);
    Some(decode(s))
}

fn decode(s: i32) -> Decoded {
    let mut rest = s as u32;
    let low = rest & 0x7f;
    let mut text = String::from("[");
    let j = if rest & 0xff == 0x7f {
        let sig = (rest >> 8) & 0xff;
        let name = flags::signal_string(i64::from(sig & 0x7f));
        let high = if sig & 0x80 != 0 { " | 0x80" } else { "" };
        let _ = write!(text, "{{WIFSTOPPED(s) && WSTOPSIG(s) == {name}{high}}}");
        rest &= !((sig << 8) | 0x7f);
        json!({"stopped": name})
    } else if low != 0 && low != 0x7f {
        let name = flags::signal_string(i64::from(low));
        let core = rest & 0x80 != 0;
        let c = if core { " && WCOREDUMP(s)" } else { "" };
        let _ = write!(text, "{{WIFSIGNALED(s) && WTERMSIG(s) == {name}{c}}}");
        rest &= !(low | 0x80);
        json!({"signaled": name, "core_dumped": core})
    } else if low == 0 {
        let code = (rest >> 8) & 0xff;
        let _ = write!(text, "{{WIFEXITED(s) && WEXITSTATUS(s) == {code}}}");
        rest &= !(code << 8);
        json!({"exited": code})
    } else if rest == 0xffff {
        text.push_str("{WIFCONTINUED(s)}");
        rest = 0;
        json!({"continued": true})
    } else {
        let _ = write!(text, "{rest:#x}]");
        return (text, json!({"raw": s}));
    };
    let event = rest >> 16;
    if event != 0 {
        text.push('|');
        flags::xval(
            &mut text,
            u64::from(event),
            PTRACE_EVENTS,
            "PTRACE_EVENT_???",
        );
        text.push_str("<<16");
        rest &= 0xffff;
    }
    if rest != 0 {
        let _ = write!(text, "|{rest:#x}");
    }
    text.push(']');
    let mut j = j;
    j["raw"] = json!(s);
    (text, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: u32) -> String {
        status(&s.to_ne_bytes()).map(|d| d.0).unwrap_or_default()
    }

    #[test]
    fn statuses_like_strace() {
        // strace 6.1, a child stopped, continued, killed and exiting with 3.
        assert_eq!(text(0x137f), "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]");
        assert_eq!(text(0xffff), "[{WIFCONTINUED(s)}]");
        assert_eq!(text(9), "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]");
        assert_eq!(
            text(0x86),
            "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGABRT && WCOREDUMP(s)}]"
        );
        assert_eq!(text(3 << 8), "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]");
        // A ptrace event stop, a syscall stop (0x80), and bits nothing explains.
        assert_eq!(
            text((4 << 16) | 0x57f),
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP}|PTRACE_EVENT_EXEC<<16]"
        );
        assert_eq!(
            text(0x857f),
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP | 0x80}]"
        );
        assert_eq!(
            text((0x63 << 16) | (3 << 8)),
            "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}|0x63 /* PTRACE_EVENT_??? */<<16]"
        );
        assert_eq!(
            text(0x8000_2000),
            "[{WIFEXITED(s) && WEXITSTATUS(s) == 32}|0x8000 /* PTRACE_EVENT_??? */<<16]"
        );
        assert_eq!(text(0x7e7f), "[{WIFSTOPPED(s) && WSTOPSIG(s) == 126}]");
        assert_eq!(status(&[1, 2]), None, "short capture");
        let (_, j) = status(&0xffffu32.to_ne_bytes()).unwrap_or_default();
        assert_eq!(j, json!({"continued": true, "raw": 0xffff}));
    }
}
