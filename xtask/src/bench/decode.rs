//! `cargo xtask bench decode`: the user side's cost per record (decode, pair, enrich, filter,
//! render, `tracer-user/benches/decode.rs`) for each record kind, as instructions counted by
//! callgrind, which the machine's load does not change, heap allocations, and ns over
//! `--rounds` runs. No kernel, no container: nothing to set up.
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use super::{BenchArgs, ensure_installed, report::Report};
use crate::util::{cmd, output};

/// Records per callgrind run: the difference of two runs is the records' cost, without the
/// start-up's.
const FEW: u64 = 2_000;
const MANY: u64 = 12_000;

pub fn decode(root: &Path, args: &BenchArgs, report: &mut Report) -> Result<()> {
    ensure_installed("valgrind", "valgrind")?;
    let bench = build(root)?;
    let mut ns: Vec<Vec<(String, f64, f64)>> = Vec::new();
    for round in 0..args.rounds {
        let out = output(cmd(path_str(&bench)?, &["--bench"]).current_dir(root))?;
        for l in out.lines() {
            report.raw(format!("round {round}: {l}"));
        }
        ns.push(out.lines().filter_map(parse).collect());
    }
    let Some(first) = ns.first() else {
        bail!("no run: give --rounds 1 or more");
    };
    report.out(format!(
        "{:<34} {:>12} {:>13} {:>15}",
        "record", "instructions", "allocations", "ns (min–max)"
    ));
    for (i, (label, _, allocs)) in first.iter().enumerate() {
        let few = instructions(&bench, label, FEW)?;
        let many = instructions(&bench, label, MANY)?;
        let per = (many.saturating_sub(few)) as f64 / (MANY - FEW) as f64;
        report.raw(format!(
            "{label}: callgrind {few} Ir for {FEW} records, {many} for {MANY}"
        ));
        let times: Vec<f64> = ns.iter().filter_map(|r| r.get(i)).map(|r| r.1).collect();
        let (lo, hi) = times
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        report.out(format!(
            "{label:<34} {per:>12.0} {allocs:>13.1} {:>15}",
            format!("{lo:.0}–{hi:.0}")
        ));
    }
    Ok(())
}

/// `cargo bench --no-run` for the decode benchmark; its executable.
fn build(root: &Path) -> Result<PathBuf> {
    let json = output(
        cmd(
            "cargo",
            &[
                "bench",
                "-p",
                "tracer-user",
                "--bench",
                "decode",
                "--no-run",
                "--message-format=json",
            ],
        )
        .current_dir(root),
    )?;
    // The bench target's artifact message names its executable.
    json.lines()
        .filter(|l| l.contains("\"kind\":[\"bench\"]") && l.contains("\"name\":\"decode\""))
        .find_map(|l| {
            let (_, rest) = l.split_once("\"executable\":\"")?;
            rest.split_once('"').map(|(p, _)| PathBuf::from(p))
        })
        .context("cargo bench --no-run named no decode executable")
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str().context("a bench path that is not UTF-8")
}

/// `getppid, json   332 ns/event   3.01 M events/s   0.0 allocs/event` → (label, ns, allocs).
fn parse(line: &str) -> Option<(String, f64, f64)> {
    let (label, rest) = line.split_once("  ")?;
    let mut words = rest.split_whitespace();
    let ns = words.next()?.parse().ok()?;
    let allocs = words.nth(4)?.parse().ok()?;
    Some((label.trim().to_string(), ns, allocs))
}

/// Instructions of one run of `records` records of row `label`, as callgrind counts them.
fn instructions(bench: &Path, label: &str, records: u64) -> Result<u64> {
    let out = std::env::temp_dir().join(format!("tracer-bench-decode-{}.out", std::process::id()));
    output(
        cmd("valgrind", &["--tool=callgrind", "-q"])
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(bench)
            .args(["--only", label, "--rounds", &records.to_string()]),
    )?;
    let text = std::fs::read_to_string(&out).context("reading callgrind's output")?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("summary: "))
        .and_then(|n| n.trim().parse().ok())
        .context("callgrind's output has no summary line")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_bench_lines() {
        assert_eq!(
            parse(
                "openat + 32-byte path, json            978 ns/event   1.02 M events/s    5.0 allocs/event"
            ),
            Some(("openat + 32-byte path, json".into(), 978.0, 5.0))
        );
        assert_eq!(parse("garbage"), None);
    }
}
