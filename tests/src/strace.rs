//! The strace oracle: parses `strace -f -o FILE` output and tracer's `--host-pids` text into
//! per-thread sequences of normalized syscall lines, so the two can be compared line by line.
//! Durations, column padding and the `[pid N]` prefix are dropped; strace's
//! `<unfinished ...>` / `<... resumed>` halves are joined.
use std::collections::BTreeMap;

/// Per host thread id, the syscall lines in order.
pub type PerThread = BTreeMap<u32, Vec<String>>;

/// `close(3)                                = 0` → `close(3) = 0`.
pub fn normalize(line: &str) -> String {
    let line = line.trim_end();
    // strace pads the return value to a column: `)   = 0`.
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    if let Some(eq) = find_result(rest) {
        let (call, result) = rest.split_at(eq);
        out.push_str(call.trim_end());
        out.push(' ');
        rest = result;
    }
    out.push_str(rest);
    // tracer's duration suffix.
    if let Some(i) = out.rfind(" <")
        && out.ends_with('>')
        && out[i + 2..out.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
    {
        out.truncate(i);
    }
    out
}

/// Byte index of the `= ` that starts the result: the first one after the parenthesis that
/// closes the argument list.
pub fn find_result(line: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    let mut last_close = None;
    for (i, c) in line.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 && c == ')' && last_close.is_none() {
                    last_close = Some(i);
                }
            }
            _ => {}
        }
    }
    let after = last_close? + 1;
    line[after..].find("= ").map(|j| after + j)
}

/// `strace -f -o FILE` output: `PID syscall(...) = ret`.
pub fn parse_strace(text: &str) -> PerThread {
    let mut out = PerThread::new();
    let mut partial: BTreeMap<u32, String> = BTreeMap::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let rest = rest.trim_start();
        if rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            // `wait4(11,  <unfinished ...>`: strace adds a space before the marker.
            let mut head = head.trim_end().to_string();
            if head.ends_with(',') {
                head.push(' ');
            }
            partial.insert(pid, head);
            continue;
        }
        let full = if rest.starts_with("<... ") {
            let Some((_, tail)) = rest.split_once(" resumed>") else {
                continue;
            };
            match partial.remove(&pid) {
                Some(head) => format!("{head}{tail}"),
                None => continue, // began before strace attached
            }
        } else {
            rest.to_string()
        };
        out.entry(pid).or_default().push(normalize(&full));
    }
    out
}

/// tracer `--format text --host-pids` output. Records whose enter was not seen (in flight
/// when tracing began, a fork child's first return) have no strace counterpart and are left
/// out, as are `+++ exited` and `--- SIGNAL {...} ---` lines (`parse_strace` leaves out
/// strace's; tests/tests/signals.rs compares those).
pub fn parse_tracer(text: &str) -> PerThread {
    let mut out = PerThread::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("[pid ") else {
            continue;
        };
        let Some((pid, call)) = rest.split_once("] ") else {
            continue;
        };
        let Ok(pid) = pid.trim().parse::<u32>() else {
            continue;
        };
        if call.starts_with("+++") || call.starts_with("---") || call.starts_with("<... ") {
            continue;
        }
        out.entry(pid).or_default().push(normalize(call));
    }
    out
}

/// The syscall name of a normalized line.
pub fn name(line: &str) -> &str {
    line.split('(').next().unwrap_or(line)
}

/// The result part (`= -1 ENOENT (No such file or directory)`).
pub fn result(line: &str) -> &str {
    find_result(line).map_or("", |i| &line[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_unfinished_and_normalizes() {
        let s = "10 close(3)                                = 0\n\
                 10 wait4(11,  <unfinished ...>\n\
                 11 getppid()                   = 10\n\
                 11 exit_group(3)               = ?\n\
                 11 +++ exited with 3 +++\n\
                 10 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 11\n\
                 10 --- SIGCHLD {si_signo=SIGCHLD} ---\n\
                 10 write(1, \"a) = b\", 6) = 6\n\
                 10 close(9)              = -1 EBADF (Bad file descriptor)\n";
        let p = parse_strace(s);
        assert_eq!(
            p[&10],
            [
                "close(3) = 0",
                "wait4(11, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 11",
                "write(1, \"a) = b\", 6) = 6",
                "close(9) = -1 EBADF (Bad file descriptor)",
            ]
        );
        assert_eq!(p[&11], ["getppid() = 10", "exit_group(3) = ?"]);
        assert_eq!(result(&p[&10][2]), "= 6");
        assert_eq!(name(&p[&10][1]), "wait4");
    }

    #[test]
    fn reads_tracer_text() {
        let t = "[pid   100] close(3) = 0 <0.000004>\n\
                 [pid   101] <... clone resumed>(child_stack=NULL, flags=SIGCHLD) = 0\n\
                 [pid   100] exit_group(0) = ?\n\
                 [pid   100] +++ exited with 0 +++\n";
        let p = parse_tracer(t);
        assert_eq!(p[&100], ["close(3) = 0", "exit_group(0) = ?"]);
        assert!(!p.contains_key(&101));
    }
}
