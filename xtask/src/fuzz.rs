//! `cargo xtask fuzz`: runs each cargo-fuzz target (fuzz/fuzz_targets) for a set time and prints
//! one line per target. A crash leaves its input in fuzz/artifacts/TARGET/ and fails the task;
//! reproduce with `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-…`, fix, and keep
//! the input as a unit test next to the code it broke.
use std::{path::Path, process::Command};

use anyhow::{Result, bail};
use clap::Args;

use crate::util::{cmd, output, run_ok};

const CARGO_FUZZ: &str = "0.13.2";
const TARGETS: [&str; 4] = ["record", "recording", "args", "seccomp"];

#[derive(Args)]
pub struct FuzzArgs {
    /// Seconds per target.
    #[arg(long, default_value_t = 60)]
    seconds: u32,
    /// Targets to run (default: all of record, args, seccomp).
    targets: Vec<String>,
}

fn ensure_cargo_fuzz() -> Result<()> {
    let have = output(&mut cmd("cargo", &["fuzz", "--version"])).unwrap_or_default();
    if !have.contains(CARGO_FUZZ) {
        eprintln!("fuzz: installing cargo-fuzz {CARGO_FUZZ}");
        run_ok(&mut cmd(
            "cargo",
            &["install", &format!("cargo-fuzz@{CARGO_FUZZ}"), "--locked"],
        ))?;
    }
    Ok(())
}

/// libFuzzer's closing status line: `#RUNS DONE cov: … ft: … corp: …`.
fn done_line(log: &str) -> String {
    log.lines()
        .rev()
        .find(|l| l.contains(" DONE ") || l.contains("Done "))
        .unwrap_or("(no summary)")
        .to_string()
}

pub fn run(root: &Path, args: FuzzArgs) -> Result<()> {
    ensure_cargo_fuzz()?;
    let targets: Vec<String> = if args.targets.is_empty() {
        TARGETS.iter().map(|t| t.to_string()).collect()
    } else {
        args.targets
    };
    let mut failed = Vec::new();
    let mut report = Vec::new();
    for t in &targets {
        eprintln!("fuzz: {t} for {} s", args.seconds);
        let out = Command::new("cargo")
            .current_dir(root)
            .args(["+nightly", "fuzz", "run", "-O", t, "--"])
            .arg(format!("-max_total_time={}", args.seconds))
            .output()?;
        let log = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            report.push(format!("{t}: ok, {}", done_line(&log)));
        } else {
            eprintln!("{log}");
            report.push(format!(
                "{t}: FAILED ({}), see fuzz/artifacts/{t}/",
                out.status
            ));
            failed.push(t.clone());
        }
    }
    for l in &report {
        println!("{l}");
    }
    if !failed.is_empty() {
        bail!("fuzz targets failed: {}", failed.join(", "));
    }
    Ok(())
}
