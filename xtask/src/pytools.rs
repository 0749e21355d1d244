//! Python tools the end-to-end tests use as independent peers, pinned, from PyPI into one venv
//! under target/: the Prometheus project's own client library, whose OpenMetrics parser reads
//! the daemon's /metrics; the official `opentelemetry-proto` package and `grpcio`, for the OTLP
//! receiver (tests/fixtures/otlp_receiver.py), with what they pull in.
use std::{path::Path, path::PathBuf, process::Command};

use anyhow::Result;

use crate::util::{cmd, output, run_ok};

const PACKAGES: &[&str] = &[
    "prometheus-client==0.26.0",
    "opentelemetry-proto==1.45.2",
    "grpcio==1.85.4",
    "protobuf==7.36.2",
    "typing_extensions==4.16.0",
];

pub fn venv(root: &Path) -> PathBuf {
    root.join("target/pytools")
}

/// The venv's python, for `TRACER_PYTHON`.
pub fn python(root: &Path) -> PathBuf {
    venv(root).join("bin/python")
}

/// Creates the venv and installs what it lacks (quick when done: pip's freeze is compared).
pub fn install(root: &Path) -> Result<()> {
    let venv = venv(root);
    if !python(root).exists() {
        run_ok(cmd("python3", &["-m", "venv"]).arg(&venv))?;
    }
    let have = output(Command::new(venv.join("bin/pip")).args(["freeze"])).unwrap_or_default();
    // pip freeze writes names as installed (`prometheus_client`): compare them normalized.
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let have: Vec<String> = have.lines().map(norm).collect();
    let missing: Vec<&str> = PACKAGES
        .iter()
        .copied()
        .filter(|p| !have.contains(&norm(p)))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "setup: installing {} into {}",
            missing.join(" "),
            venv.display()
        );
        run_ok(
            Command::new(venv.join("bin/pip"))
                .args(["install", "-q"])
                .args(&missing),
        )?;
    }
    Ok(())
}
