//! Which container a cgroup id belongs to: written by the follower before the id enters the
//! kernel filter, read by the writer for every record. Entries outlive the incarnation (records
//! of a stopped container may still be in the ring buffer) and are pruned per name, keeping
//! the last few incarnations, so the map stays bounded however often containers restart.
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use super::Container;

/// Incarnations remembered per container name.
const KEEP_PER_NAME: usize = 4;

#[derive(Debug, Clone)]
pub struct Entry {
    pub container: Arc<Container>,
    /// The cgroup v2 directory, to attribute processes in nested cgroups.
    pub path: PathBuf,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<u64, Entry>,
    order: HashMap<String, Vec<u64>>,
}

#[derive(Default)]
pub struct Registry {
    inner: RwLock<Inner>,
    /// Bumped on every change, so readers can keep a local cache.
    generation: AtomicU64,
}

impl Registry {
    pub fn insert(&self, cgroup_id: u64, container: Container, path: PathBuf) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        // Per container: its name, or NS/POD/NAME (one Kubernetes name is in many pods).
        let name = container.label().into_owned();
        inner.by_id.insert(
            cgroup_id,
            Entry {
                container: Arc::new(container),
                path,
            },
        );
        let ids = inner.order.entry(name).or_default();
        ids.retain(|&id| id != cgroup_id);
        ids.push(cgroup_id);
        let drop: Vec<u64> = if ids.len() > KEEP_PER_NAME {
            ids.drain(..ids.len() - KEEP_PER_NAME).collect()
        } else {
            Vec::new()
        };
        for id in drop {
            inner.by_id.remove(&id);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, cgroup_id: u64) -> Option<Entry> {
        self.inner.read().ok()?.by_id.get(&cgroup_id).cloned()
    }

    /// The container whose cgroup directory contains `dir` (a nested cgroup).
    pub fn containing(&self, dir: &Path) -> Option<Entry> {
        let inner = self.inner.read().ok()?;
        inner
            .by_id
            .values()
            .find(|e| dir.starts_with(&e.path))
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.inner.read().map_or(0, |i| i.by_id.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, id: &str) -> Container {
        Container {
            runtime: crate::model::Runtime::Podman,
            pod: None,
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn bounded_per_name_and_nested_lookup() {
        let r = Registry::default();
        for i in 0..10u64 {
            r.insert(
                i,
                c("web", &format!("id{i}")),
                format!("/cg/docker/id{i}").into(),
            );
        }
        r.insert(100, c("db", "db1"), "/cg/docker/db1".into());
        assert_eq!(r.len(), KEEP_PER_NAME + 1);
        assert!(r.get(5).is_none());
        assert_eq!(r.get(9).map(|e| e.container.id.clone()), Some("id9".into()));
        let nested = r.containing(Path::new("/cg/docker/db1/sub"));
        assert_eq!(nested.map(|e| e.container.name.clone()), Some("db".into()));
        assert!(r.containing(Path::new("/cg/docker/other")).is_none());
        let g = r.generation();
        r.insert(101, c("db", "db2"), "/cg/docker/db2".into());
        assert!(r.generation() > g);
    }
}
