//! What a benchmark measured: raw runs on stderr, the table on stdout, both kept in
//! `docs/bench-runs/NAME.md` with the machine and the command that produced them.
use std::{fmt::Write as _, path::Path};

use anyhow::Result;

pub struct Report {
    name: &'static str,
    command: String,
    raw: Vec<String>,
    table: Vec<String>,
}

impl Report {
    pub fn new(name: &'static str, rounds: usize, calls: u64) -> Report {
        Report {
            name,
            command: format!("cargo xtask bench {name} --rounds {rounds} --calls {calls}"),
            raw: Vec::new(),
            table: Vec::new(),
        }
    }

    /// One raw measurement.
    pub fn raw(&mut self, line: String) {
        eprintln!("{line}");
        self.raw.push(line);
    }

    /// One line of the result table.
    pub fn out(&mut self, line: String) {
        println!("{line}");
        self.table.push(line);
    }

    pub fn save(&self, root: &Path) -> Result<()> {
        let dir = root.join("docs/bench-runs");
        std::fs::create_dir_all(&dir)?;
        let mut md = format!("# `{}` benchmark: last run\n\n", self.name);
        let _ = writeln!(md, "- command: `{}`", self.command);
        for (what, value) in machine() {
            let _ = writeln!(md, "- {what}: {value}");
        }
        let _ = writeln!(md, "\n## Result\n\n```\n{}\n```", self.table.join("\n"));
        let _ = writeln!(md, "\n## Raw runs\n\n```\n{}\n```", self.raw.join("\n"));
        let path = dir.join(format!("{}.md", self.name));
        std::fs::write(&path, md)?;
        eprintln!("bench: wrote {}", path.display());
        Ok(())
    }
}

/// The facts about the machine that the numbers depend on.
fn machine() -> Vec<(&'static str, String)> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown".into(), |(_, m)| m.trim().to_string());
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mem = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map_or("unknown".into(), |m| m.trim().to_string());
    let date = crate::util::output(&mut crate::util::cmd("date", &["-u", "+%F %T UTC"]))
        .unwrap_or_default();
    vec![
        ("date", date.trim().to_string()),
        (
            "kernel",
            read("/proc/sys/kernel/osrelease").trim().to_string(),
        ),
        ("cpu", format!("{cpus} × {model}")),
        ("memory", mem),
    ]
}
