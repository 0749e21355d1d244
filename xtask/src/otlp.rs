//! The OTLP receiver the end-to-end tests export to (tests/fixtures/otlp_receiver.py): the
//! official `opentelemetry-proto` package and `grpcio`, pinned, from PyPI into a venv under
//! target/.
use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Result;

use crate::util::{cmd, output, run_ok};

/// What the receiver imports, pinned with what they pull in.
const PACKAGES: [&str; 4] = [
    "opentelemetry-proto==1.45.2",
    "grpcio==1.85.4",
    "protobuf==7.36.2",
    "typing_extensions==4.16.0",
];

fn venv(root: &Path) -> PathBuf {
    root.join("target/otlp-receiver")
}

/// The venv's interpreter, which the tests run the receiver with (`TRACER_OTLP_PYTHON`).
pub fn python(root: &Path) -> PathBuf {
    venv(root).join("bin/python")
}

/// Makes the venv, or brings it to the pinned versions.
pub fn setup(root: &Path) -> Result<()> {
    let venv = venv(root);
    let have = output(Command::new(venv.join("bin/pip")).args(["freeze"])).unwrap_or_default();
    if PACKAGES
        .iter()
        .all(|p| have.lines().any(|l| l.eq_ignore_ascii_case(p)))
    {
        return Ok(());
    }
    eprintln!(
        "setup: installing the OTLP test receiver's {} into {}",
        PACKAGES.join(" "),
        venv.display()
    );
    run_ok(cmd("python3", &["-m", "venv"]).arg(&venv))?;
    run_ok(
        Command::new(venv.join("bin/pip"))
            .args(["install", "-q"])
            .args(PACKAGES),
    )
}
