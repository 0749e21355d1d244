//! strace's `-y` rendering: `3</etc/hosts>`. What an fd refers to is decided by the enrich
//! stage (`enrich::fds`), from the trace itself; this is only how it is printed.
use super::escape;

/// `3</etc/hosts>` as strace -y prints it (non-printable bytes escaped).
pub fn annotate(text: &mut String, path: &[u8]) {
    let q = escape::quoted(path, false);
    text.push('<');
    text.push_str(&q[1..q.len() - 1]);
    text.push('>');
}

/// `3<TCP:[127.0.0.1:80]>`: a rendering already escaped where it needs to be (strace -yy).
pub fn annotate_shown(text: &mut String, shown: &str) {
    text.push('<');
    text.push_str(shown);
    text.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_strace() {
        let mut s = "3".to_string();
        annotate(&mut s, b"/tmp/a\nb");
        assert_eq!(s, "3</tmp/a\\nb>");
    }
}
