//! `cargo xtask test`: the README's second command and what CI runs. Sets up the machine, builds
//! the release binary, then runs every test: unit tests and the privileged end-to-end tests,
//! which find the binaries through environment variables and fail (never skip) without them.
use std::{path::Path, process::Command};

use anyhow::Result;

use crate::{images, util::run_ok};

pub fn run_tests(root: &Path, extra: &[String]) -> Result<()> {
    run_ok(
        Command::new("cargo")
            .current_dir(root)
            .args([
                "test",
                "--release",
                "--workspace",
                "--exclude",
                "tracer-ebpf",
            ])
            .env("TRACER_BIN", root.join("target/release/tracer"))
            .env("TRACER_WORKLOAD", images::workload_bin(root))
            .env("TRACER_NGINX_IMAGE", images::NGINX_IMAGE)
            .env("TRACER_WORKLOAD_IMAGE", images::WORKLOAD_IMAGE)
            .arg("--")
            // End-to-end tests measure exact counts on a 2-core machine: one at a time.
            .arg("--test-threads=1")
            .args(extra),
    )
}

pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    crate::setup::run_all(root)?;
    crate::demo::build_tracer(root)?;
    run_tests(root, extra)
}
