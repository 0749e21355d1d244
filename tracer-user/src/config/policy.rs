//! The daemon's per-container policy: a `[container.NAME]` table of its config file whose keys
//! override the daemon-wide ones for that container's records (docs/daemon.md).
use std::{collections::BTreeMap, path::PathBuf};

use serde::Deserialize;

use super::{DEFAULT_KEEP, check_string_size, parse_size, parse_syscalls, status};
pub use crate::sink::route::DaemonFormat;
use crate::{error::Error, filter::StatusSet, sink::file::Rotation};

/// `[container.NAME]` as written: every key optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyFile {
    #[serde(default, deserialize_with = "super::set_or_list")]
    pub syscalls: Option<String>,
    pub status: Option<String>,
    pub string_size: Option<u32>,
    pub exclude_comm: Option<Vec<String>>,
    pub format: Option<DaemonFormat>,
    pub output: Option<PathBuf>,
    pub rotate_size: Option<String>,
    pub rotate_keep: Option<u32>,
    /// A seccomp profile this container's calls are judged by (complain mode), instead of
    /// the daemon-wide `seccomp-watch`.
    pub seccomp_watch: Option<PathBuf>,
}

/// One container's policy, checked: `None` keeps the daemon-wide value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// Syscall numbers shown; `Some(empty)`: all.
    pub syscalls: Option<Vec<u32>>,
    pub status: Option<StatusSet>,
    pub string_size: Option<u32>,
    pub exclude_comm: Option<Vec<String>>,
    pub format: Option<DaemonFormat>,
    /// Its own output file (else the daemon's output or output directory).
    pub output: Option<PathBuf>,
    pub rotation: Option<Rotation>,
    pub seccomp_watch: Option<PathBuf>,
}

impl Policy {
    /// Checks `[container.NAME]`; errors name the table and the key.
    pub fn parse(name: &str, f: &PolicyFile) -> Result<Policy, Error> {
        let what = |key: &str| format!("[container.\"{name}\"] {key}");
        let syscalls = match &f.syscalls {
            Some(set) => Some(parse_syscalls(
                &what("syscalls"),
                std::slice::from_ref(set),
            )?),
            None => None,
        };
        let status = match &f.status {
            Some(s) => Some(status::parse(&what("status"), s)?),
            None => None,
        };
        let string_size = match f.string_size {
            Some(n) => Some(check_string_size(n)?),
            None => None,
        };
        let rotation = match &f.rotate_size {
            Some(s) => Some(Rotation {
                max_bytes: parse_size(&what("rotate-size"), s)?,
                keep: f.rotate_keep.unwrap_or(DEFAULT_KEEP),
            }),
            None if f.rotate_keep.is_some() => {
                return Err(Error::Usage(format!(
                    "{} without rotate-size: give rotate-size too",
                    what("rotate-keep")
                )));
            }
            None => None,
        };
        if rotation.is_some() && f.output.is_none() {
            return Err(Error::Usage(format!(
                "{} needs an output of the container's own: add output = \"FILE\" to the table (or rotate the daemon's output with the top-level rotate-size)",
                what("rotate-size")
            )));
        }
        Ok(Policy {
            syscalls,
            status,
            string_size,
            exclude_comm: f.exclude_comm.clone(),
            format: f.format,
            output: f.output.clone(),
            rotation,
            seccomp_watch: f.seccomp_watch.clone(),
        })
    }
}

/// Every `[container.NAME]` table, checked.
pub fn parse_all(tables: &BTreeMap<String, PolicyFile>) -> Result<BTreeMap<String, Policy>, Error> {
    let mut out = BTreeMap::new();
    let mut paths: BTreeMap<&PathBuf, &str> = BTreeMap::new();
    for (name, f) in tables {
        if let Some(p) = &f.output
            && let Some(other) = paths.insert(p, name)
        {
            return Err(Error::Usage(format!(
                "[container.\"{other}\"] and [container.\"{name}\"] both write {}: give each its own output",
                p.display()
            )));
        }
        out.insert(name.clone(), Policy::parse(name, f)?);
    }
    Ok(out)
}

/// The kernel's share of every container's syscall set: what any of them shows. Empty: all.
pub fn kernel_syscalls(global: &[u32], policies: &BTreeMap<String, Policy>) -> Vec<u32> {
    let sets =
        std::iter::once(global).chain(policies.values().filter_map(|p| p.syscalls.as_deref()));
    let mut union: Vec<u32> = Vec::new();
    for set in sets {
        if set.is_empty() {
            return Vec::new();
        }
        union.extend_from_slice(set);
    }
    // A container without its own set shows the global one, already in the union.
    union.sort_unstable();
    union.dedup();
    union
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> BTreeMap<String, PolicyFile> {
        #[derive(Deserialize)]
        struct F {
            container: BTreeMap<String, PolicyFile>,
        }
        toml::from_str::<F>(text).expect("toml").container
    }

    #[test]
    fn a_table_overrides_what_it_names() {
        let t = table(
            "[container.web]\nsyscalls = \"%network\"\nstatus = \"failed\"\nstring-size = 64\nformat = \"text\"\noutput = \"/tmp/web.log\"\nrotate-size = \"1M\"\n[container.\"shop/api/app\"]\nexclude-comm = []\n",
        );
        let p = parse_all(&t).expect("valid");
        let web = &p["web"];
        assert!(web.syscalls.as_ref().is_some_and(|s| !s.is_empty()));
        assert_eq!(
            web.status,
            Some(StatusSet::NONE.with(crate::filter::Status::Failed))
        );
        assert_eq!(web.string_size, Some(64));
        assert_eq!(web.format, Some(DaemonFormat::Text));
        assert_eq!(
            web.rotation,
            Some(Rotation {
                max_bytes: 1 << 20,
                keep: DEFAULT_KEEP
            })
        );
        let app = &p["shop/api/app"];
        assert_eq!(app.exclude_comm.as_deref(), Some(&[][..]));
        assert_eq!(app.syscalls, None);
    }

    #[test]
    fn bad_tables_name_the_table_and_the_key() {
        for (text, needle) in [
            (
                "[container.web]\nsyscalls = \"%fiel\"\n",
                "[container.\"web\"] syscalls",
            ),
            (
                "[container.web]\nstatus = \"good\"\n",
                "[container.\"web\"] status",
            ),
            ("[container.web]\nrotate-size = \"1M\"\n", "needs an output"),
            ("[container.web]\nrotate-keep = 2\n", "without rotate-size"),
            (
                "[container.a]\noutput = \"/tmp/x\"\n[container.b]\noutput = \"/tmp/x\"\n",
                "both write /tmp/x",
            ),
        ] {
            let e = parse_all(&table(text)).expect_err(text);
            assert_eq!(e.exit_code(), crate::error::exit::USAGE);
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn the_kernel_reports_what_any_container_shows() {
        let nr = |n: &str| crate::decode::syscalls::number(n).expect(n);
        let mut p = BTreeMap::new();
        p.insert(
            "a".to_string(),
            Policy {
                syscalls: Some(vec![nr("openat")]),
                ..Policy::default()
            },
        );
        assert_eq!(
            kernel_syscalls(&[nr("getppid")], &p),
            [nr("getppid"), nr("openat")]
                .iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert!(kernel_syscalls(&[], &p).is_empty(), "the global set is all");
        p.insert(
            "b".to_string(),
            Policy {
                syscalls: Some(Vec::new()),
                ..Policy::default()
            },
        );
        assert!(
            kernel_syscalls(&[nr("getppid")], &p).is_empty(),
            "b shows all"
        );
    }
}
