//! cgroup v2 and PID namespace resolution from /proc and the cgroup2 mount. Works on hybrid hosts
//! (cgroup2 at /sys/fs/cgroup/unified) and pure v2 hosts (/sys/fs/cgroup).
use std::{
    fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use crate::error::Error;
pub use crate::model::target::PidNs;

/// A cgroup v2 directory: its id (the directory's inode number, what
/// `bpf_get_current_cgroup_id()` returns) and depth below the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupTarget {
    pub path: PathBuf,
    pub id: u64,
    pub level: u32,
}

/// Where cgroup2 is mounted, from /proc/self/mountinfo: of several cgroup2 mounts, the one
/// whose root is highest in the hierarchy (in its own cgroup namespace, a pod's container
/// has its namespace's root at /sys/fs/cgroup, and the host's hierarchy where a hostPath
/// mounts it, shown with a root of `/../..`).
pub fn cgroup2_mount() -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mount_point_of(&info, "cgroup2").map(|(point, _)| point)
}

/// The mount point of `fstype` whose root is highest, and that root (`/`, or `/..` repeated
/// when the mount's root is above the reader's cgroup namespace's).
fn mount_point_of(mountinfo: &str, fstype: &str) -> Option<(PathBuf, String)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            if post.split_whitespace().next()? != fstype {
                return None;
            }
            let mut fields = pre.split_whitespace();
            let root = fields.nth(3)?.to_string();
            Some((PathBuf::from(fields.next()?), root))
        })
        .enumerate()
        .max_by_key(|(i, (_, root))| (root.matches("/..").count(), std::cmp::Reverse(*i)))
        .map(|(_, m)| m)
}

/// Why this process cannot see other containers' cgroups, if it cannot: it is in its own
/// cgroup namespace (pid 1 of the host, seen through a shared PID namespace, sits outside its
/// root) and the only cgroup2 mount it has is that namespace's (a pod without the host's
/// /sys/fs/cgroup).
pub fn host_view_problem() -> Option<String> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let (point, root) = mount_point_of(&info, "cgroup2")?;
    let init = fs::read_to_string("/proc/1/cgroup").ok()?;
    let outside = v2_path_of(&init)?.starts_with("..");
    (outside && root == "/").then(|| {
        format!(
            "tracer is in its own cgroup namespace and its cgroup2 mount ({}) shows only that namespace; mount the host's cgroup2 hierarchy into the container (hostPath /sys/fs/cgroup, as packaging/kubernetes does)",
            point.display()
        )
    })
}

/// The cgroup v2 path of `pid` (`0::/docker/ID` in /proc/PID/cgroup), relative to the root.
fn v2_path_of(proc_cgroup: &str) -> Option<&str> {
    proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim_start_matches('/'))
}

/// The cgroup v2 of `pid`; `None` when the host has no cgroup2 mount.
pub fn of_pid(pid: u32) -> Result<Option<CgroupTarget>, Error> {
    let text =
        fs::read_to_string(format!("/proc/{pid}/cgroup")).map_err(|_| Error::NoSuchProcess(pid))?;
    let (Some(mount), Some(rel)) = (cgroup2_mount(), v2_path_of(&text)) else {
        return Ok(None);
    };
    // " (deleted)" and similar suffixes mean the process is leaving: no usable directory.
    let dir = mount.join(rel);
    match CgroupTarget::from_dir(&dir) {
        Ok(cg) => Ok(Some(cg)),
        Err(_) => Ok(None),
    }
}

impl CgroupTarget {
    pub fn from_dir(dir: &Path) -> Result<Self, Error> {
        let missing = || Error::NoSuchCgroup(dir.to_path_buf());
        let mount = cgroup2_mount().ok_or_else(missing)?;
        let path = fs::canonicalize(dir).map_err(|_| missing())?;
        let rel = path.strip_prefix(&mount).map_err(|_| missing())?;
        let meta = fs::metadata(&path).map_err(|_| missing())?;
        if !meta.is_dir() || !path.join("cgroup.procs").exists() {
            return Err(missing());
        }
        Ok(CgroupTarget {
            id: meta.ino(),
            level: rel.components().count() as u32,
            path,
        })
    }
}

/// One process of the cgroup, to find its PID namespace.
pub fn first_pid(dir: &Path) -> Option<u32> {
    let procs = fs::read_to_string(dir.join("cgroup.procs")).ok()?;
    procs.lines().find_map(|l| l.trim().parse().ok())
}

/// Whether this process has CAP_SYS_PTRACE in its effective set.
fn has_sys_ptrace() -> bool {
    const CAP_SYS_PTRACE: u32 = 19;
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let hex = s
                .lines()
                .find_map(|l| l.strip_prefix("CapEff:"))?
                .trim()
                .to_string();
            u64::from_str_radix(&hex, 16).ok()
        })
        .is_some_and(|eff| eff & (1 << CAP_SYS_PTRACE) != 0)
}

pub fn pidns_of(pid: u32) -> Result<PidNs, Error> {
    let path = format!("/proc/{pid}/ns/pid");
    let meta = fs::metadata(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied if has_sys_ptrace() => Error::Privilege(format!(
            "to read {path}: refused although tracer has CAP_SYS_PTRACE (a Yama ptrace_scope or LSM policy forbids it); allow it there, or target the process's cgroup with --cgroup"
        )),
        std::io::ErrorKind::PermissionDenied => Error::Privilege(format!(
            "to read {path} (another user's process, or one with capabilities tracer lacks); run as root or grant CAP_SYS_PTRACE"
        )),
        _ => Error::NoSuchProcess(pid),
    })?;
    Ok(PidNs {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cgroup2_mount_on_hybrid_and_pure_hosts() {
        let hybrid = "35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n\
                      36 25 0:31 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        let point = |info: &str| mount_point_of(info, "cgroup2").map(|(p, _)| p);
        assert_eq!(point(hybrid), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        let pure = "30 23 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(point(pure), Some(PathBuf::from("/sys/fs/cgroup")));
        // A pod's container in its own cgroup namespace, with the host's hierarchy mounted
        // at /host/cgroup: that one, whose root is above the namespace's.
        let pod = "40 30 0:26 / /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n\
                   41 30 0:26 /../../.. /host/cgroup ro - cgroup2 cgroup2 rw\n";
        assert_eq!(
            mount_point_of(pod, "cgroup2"),
            Some((PathBuf::from("/host/cgroup"), "/../../..".to_string()))
        );
        assert_eq!(
            mount_point_of("1 2 0:1 / / rw - ext4 /dev/vda rw\n", "cgroup2"),
            None
        );
    }

    #[test]
    fn reads_v2_line_of_proc_cgroup() {
        let hybrid = "12:pids:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/abc\n";
        assert_eq!(v2_path_of(hybrid), Some("docker/abc"));
        assert_eq!(v2_path_of("0::/\n"), Some(""));
        assert_eq!(v2_path_of("3:cpu:/x\n"), None);
    }
}
