//! `cargo xtask test`: the README's second command and what CI runs. Sets up the machine, builds
//! the release binary, then runs every test: unit tests and the privileged end-to-end tests,
//! which find the binaries through environment variables and fail (never skip) without them.
use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context as _, Result, bail};

use crate::images;

/// Totals over every `test result:` line of a cargo test run.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Totals {
    /// Adds `test result: ok. 21 passed; 0 failed; 1 ignored; …` lines.
    fn add(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(n)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

pub fn run_tests(root: &Path, extra: &[String]) -> Result<()> {
    let mut child = Command::new("cargo")
        .current_dir(root)
        .args(["test", "--release", "--workspace", "--all-targets"])
        .args(["--exclude", "tracer-ebpf"])
        .env("TRACER_BIN", root.join("target/release/tracer"))
        .env("TRACER_WORKLOAD", images::workload_bin(root))
        .env("TRACER_NGINX_IMAGE", images::NGINX_IMAGE)
        .env("TRACER_WORKLOAD_IMAGE", images::WORKLOAD_IMAGE)
        .env("TRACER_IMAGE", images::TRACER_IMAGE)
        .env("TRACER_STRACE_TESTS", crate::strace_suite::tests_dir(root))
        .env("TRACER_OTLP_PYTHON", crate::otlp::python(root))
        .arg("--")
        // End-to-end tests measure exact counts on a 2-core machine: one at a time.
        .arg("--test-threads=1")
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting cargo test")?;
    let mut totals = Totals::default();
    let stdout = child.stdout.take().context("cargo test stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        totals.add(&line);
    }
    let status = child.wait()?;
    println!(
        "tests: {} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.ignored
    );
    if !status.success() {
        bail!("cargo test failed: {status}");
    }
    if totals.passed == 0 {
        bail!("no test ran");
    }
    Ok(())
}

/// The decoder and sink tests with a plain stable toolchain: only its own `bin/` on PATH (no
/// rustup proxy, no nightly, no bpf-linker), so `tracer-user/build.rs` leaves the BPF object
/// empty. Its own target directory: the embedded object differs.
fn unit_tests_without_ebpf_toolchain(root: &Path) -> Result<()> {
    let cargo = crate::util::output(&mut crate::util::cmd(
        "rustup",
        &["which", "cargo", "--toolchain", "stable"],
    ))?;
    let cargo = Path::new(cargo.trim());
    let bin = cargo.parent().context("stable cargo has no directory")?;
    eprintln!("test: unit tests with only {} on PATH", bin.display());
    crate::util::run_ok(
        Command::new(cargo)
            .current_dir(root)
            .env_clear()
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("CARGO_TARGET_DIR", root.join("target/no-ebpf"))
            .args(["test", "-p", "tracer-user", "--lib"]),
    )
}

pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    crate::setup::run_all(root)?;
    crate::demo::build_tracer(root)?;
    images::build_tracer_image(root)?;
    if extra.is_empty() {
        unit_tests_without_ebpf_toolchain(root)?;
        crate::kubernetes::validate(root)?;
    }
    run_tests(root, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_result_lines() {
        let mut t = Totals::default();
        t.add("test result: ok. 21 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s");
        t.add("test result: FAILED. 8 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out");
        t.add("test foo ... ok");
        assert_eq!(
            t,
            Totals {
                passed: 29,
                failed: 2,
                ignored: 1
            }
        );
    }
}
