//! strace's `-P PATH`: only the calls that touch a path, as strace 6.1's src/pathtrace.c
//! decides it: a call of the %file, %desc or %network classes whose path argument is the path,
//! or whose fd argument refers to it (here from the fd tables the trace built, strace reads
//! /proc/PID/fd). Paths compare as bytes, as given: strace also adds the path's realpath in its
//! own mount namespace, which for a container is not the container's (docs/cli.md).
use tracer_common::capture::CAP_STR;

use crate::{
    decode::syscalls::{self, class},
    model::Event,
};

#[derive(Debug, Clone, Default)]
pub struct Paths(Vec<Vec<u8>>);

impl Paths {
    pub fn new(paths: &[std::path::PathBuf]) -> Paths {
        use std::os::unix::ffi::OsStrExt as _;
        Paths(
            paths
                .iter()
                .map(|p| p.as_os_str().as_bytes().to_vec())
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn has(&self, path: &[u8]) -> bool {
        self.0.iter().any(|p| p.as_slice() == path)
    }

    /// Does `e` touch one of the paths?
    pub fn matches(&self, e: &Event) -> bool {
        if syscalls::classes(e.call.nr) & (class::FILE | class::DESC | class::NETWORK) == 0 {
            return false;
        }
        // Path arguments: the strings the kernel read as paths (strace's printpath ones).
        let by_path = e.call.captures.iter().any(|c| {
            c.kind == CAP_STR && c.index == 0 && !c.fault() && {
                let end = c.data.iter().position(|&b| b == 0).unwrap_or(c.data.len());
                !c.truncated() && self.has(&c.data[..end])
            }
        });
        by_path
            || e.args
                .iter()
                .any(|a| a.fd_path.as_deref().is_some_and(|p| self.has(p)))
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::model::event::{Capture, DecodedArg};

    fn call(name: &str, path: Option<&[u8]>, fd_path: Option<&[u8]>) -> Event {
        let nr = syscalls::number(name).expect(name);
        let mut call = crate::decode::unfinished(1, &tracer_common::config::Pending::default());
        call.nr = nr;
        call.enter = crate::model::event::Enter::Seen;
        call.ret = Some(0);
        if let Some(p) = path {
            call.captures.push(Capture {
                arg: 1,
                kind: CAP_STR,
                flags: 0,
                index: 0,
                data: [p, b"\0"].concat(),
            });
        }
        let args = fd_path
            .map(|p| DecodedArg {
                name: "fd",
                ty: "int",
                raw: 3,
                text: "3".into(),
                json: crate::model::event::ArgJson::of(3u64),
                shown: true,
                text_pos: 0,
                fd_path: Some(p.into()),
            })
            .into_iter()
            .collect();
        Event {
            call,
            args,
            ret_path: None,
            ret_shown: None,
            ret_note: None,
            container: None,
        }
    }

    #[test]
    fn path_and_fd_arguments_as_strace_matches_them() {
        let p = Paths::new(&["/etc/hosts".into()]);
        assert!(p.matches(&call("openat", Some(b"/etc/hosts"), None)));
        assert!(!p.matches(&call("openat", Some(b"/etc/hosts2"), None)));
        assert!(!p.matches(&call("openat", Some(b"/etc"), None)));
        assert!(p.matches(&call("read", None, Some(b"/etc/hosts"))));
        assert!(!p.matches(&call("read", None, Some(b"/etc/passwd"))));
        // Not a file, fd or network call: never (strace: getppid has no path).
        assert!(!p.matches(&call("getppid", None, None)));
        assert!(!Paths::new(&[]).matches(&call("openat", Some(b"/etc/hosts"), None)));
    }
}
