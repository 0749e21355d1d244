//! Noticing that a target is gone, so `observe` can say so and stop instead of waiting on an
//! empty cgroup forever: its cgroup v2 emptied (`populated 0` in `cgroup.events`, which the
//! kernel updates when the last process leaves) or was removed; for the PID-namespace filter,
//! the target process exited.
use std::{path::Path, time::Duration};

use super::{Filter, Target};

/// How often the target is checked: a stop is noticed within this.
const POLL: Duration = Duration::from_millis(200);

/// Whether the cgroup has processes (`None`: the directory is gone).
fn populated(dir: &Path) -> Option<bool> {
    let events = std::fs::read_to_string(dir.join("cgroup.events")).ok()?;
    Some(
        events
            .lines()
            .any(|l| l.split_whitespace().eq(["populated", "1"])),
    )
}

/// The start time of `pid` (field 22 of /proc/PID/stat): tells the process from a later one
/// that reuses its pid.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_comm) = stat.rsplit_once(") ")?;
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Resolves when the target is gone, with a description ("emptied", "exited"); never for
/// targets that cannot end (a cgroup set, an empty cgroup waiting for processes).
pub async fn ended(target: &Target) -> String {
    match &target.filter {
        Filter::Cgroup(cg) => {
            let mut was_populated = populated(&cg.path).unwrap_or(false);
            loop {
                tokio::time::sleep(POLL).await;
                match populated(&cg.path) {
                    None => return "its cgroup was removed".into(),
                    Some(false) if was_populated => return "it has no processes left".into(),
                    Some(now) => was_populated |= now,
                }
            }
        }
        Filter::PidNs => {
            let Some(pid) = target.pid else {
                return std::future::pending().await;
            };
            let started = start_time(pid);
            loop {
                tokio::time::sleep(POLL).await;
                if start_time(pid) != started {
                    return format!("process {pid} exited");
                }
            }
        }
        // The kernel's task set tells (pipeline::control), not /proc: children may outlive
        // the processes named.
        Filter::CgroupSet { .. } | Filter::Tasks(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_start_time_of_a_live_process() {
        assert!(start_time(std::process::id()).is_some());
        assert_eq!(start_time(u32::MAX), None);
    }

    #[test]
    fn reads_populated_from_cgroup_events() {
        let dir = std::env::temp_dir().join(format!("tracer-end-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").expect("write");
        assert_eq!(populated(&dir), Some(true));
        std::fs::write(dir.join("cgroup.events"), "populated 0\nfrozen 0\n").expect("write");
        assert_eq!(populated(&dir), Some(false));
        std::fs::remove_dir_all(&dir).expect("rm");
        assert_eq!(populated(&dir), None);
    }
}
