//! `cargo xtask codegen classes`: strace's syscall classes (`%file`, `%desc`…) per architecture,
//! from the class flags in strace 6.1's syscall tables, keyed by the names tracer prints (the
//! `syscalls` crate's). Reads strace's source (Debian's orig tarball, fetched and unpacked by
//! `strace_suite::source`); nothing of strace's is copied but the class membership.
//!
//! The tables: `src/linux/ARCH/syscallent.h`, rows `[NR] = { NARGS, FLAGS, SEN(fn), "name" },`
//! with `#include`s of `src/linux/64/syscallent.h` (aarch64) and
//! `src/linux/generic/syscallent-common.h` (both); the flags are the shorthands of
//! `src/sysent_shorthand_defs.h` (`TD` → `TRACE_DESC`…), of which the `TRACE_*` class macros
//! of `src/sysent.h` become tracer's classes.
use std::{
    collections::BTreeMap,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, Result, bail};

const OUT: &str = "tracer-user/src/decode/syscall_classes.rs";

/// strace's class macros (src/sysent.h) → tracer's constant (decode::syscalls::class).
const CLASSES: &[(&str, &str)] = &[
    ("TRACE_DESC", "DESC"),
    ("TRACE_FILE", "FILE"),
    ("TRACE_IPC", "IPC"),
    ("TRACE_NETWORK", "NETWORK"),
    ("TRACE_PROCESS", "PROCESS"),
    ("TRACE_SIGNAL", "SIGNAL"),
    ("TRACE_MEMORY", "MEMORY"),
    ("TRACE_STAT", "STAT"),
    ("TRACE_LSTAT", "LSTAT"),
    ("TRACE_FSTAT", "FSTAT"),
    ("TRACE_STAT_LIKE", "STAT_LIKE"),
    ("TRACE_STATFS", "STATFS"),
    ("TRACE_FSTATFS", "FSTATFS"),
    ("TRACE_STATFS_LIKE", "STATFS_LIKE"),
    ("TRACE_PURE", "PURE"),
    ("TRACE_CREDS", "CREDS"),
    ("TRACE_CLOCK", "CLOCK"),
];

/// Flags of strace's tables that are not classes (how strace decodes or stops, not what the
/// call is about).
const NOT_CLASSES: &[&str] = &[
    "SYSCALL_NEVER_FAILS",
    "MAX_ARGS",
    "MEMORY_MAPPING_CHANGE",
    "STACKTRACE_CAPTURE_ON_ENTER",
    "COMPAT_SYSCALL_TYPES",
    "TRACE_SECCOMP_DEFAULT",
    "COMM_CHANGE",
];

/// Where strace's name for a number differs from the `syscalls` crate's (the kernel's
/// syscall table's), which tracer prints: (architecture, strace's, tracer's). The class
/// goes with the number, so it is recorded under tracer's name. Codegen fails on a
/// difference not listed here.
const RENAMES: &[(&str, &str, &str)] = &[
    // The generic table's 79 is `newfstatat` in strace and `fstatat` in the kernel's
    // include/uapi/asm-generic/unistd.h (`__NR3264_fstatat`), which the crate follows.
    ("aarch64", "newfstatat", "fstatat"),
];

/// Rows of strace's tables that have no number in the `syscalls` crate: (architecture,
/// strace's name). Left out of the table; codegen fails on one not listed here.
const UNKNOWN_TO_TRACER: &[(&str, &str)] = &[];

/// One architecture: its table under src/linux, and the `syscalls` crate's names by number.
struct Arch {
    name: &'static str,
    table: &'static str,
    static_name: &'static str,
    sysno_name: fn(usize) -> Option<&'static str>,
    sysno_all: fn() -> Vec<&'static str>,
}

const ARCHES: &[Arch] = &[
    Arch {
        name: "x86_64",
        table: "x86_64/syscallent.h",
        static_name: "X86_64",
        sysno_name: |nr| syscalls::x86_64::Sysno::new(nr).map(|s| s.name()),
        sysno_all: || syscalls::x86_64::Sysno::iter().map(|s| s.name()).collect(),
    },
    Arch {
        name: "aarch64",
        table: "aarch64/syscallent.h",
        static_name: "AARCH64",
        sysno_name: |nr| syscalls::aarch64::Sysno::new(nr).map(|s| s.name()),
        sysno_all: || syscalls::aarch64::Sysno::iter().map(|s| s.name()).collect(),
    },
];

/// One row of a syscallent table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub nr: u32,
    pub flags: Vec<String>,
    pub name: String,
}

/// The text without `/* … */` comments.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find("*/") {
            Some(j) => {
                // Keep the line count (errors name lines).
                out.extend(rest[i..i + 2 + j].matches('\n').map(|_| '\n'));
                rest = &rest[i + 2 + j + 2..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[ 2] = { 3, TD|TF, SEN(open), "open" },` (the index may be `BASE_NR + 424`).
pub fn parse_row(line: &str, base_nr: u32) -> Option<Row> {
    let line = line.trim().strip_prefix('[')?;
    let (index, rest) = line.split_once(']')?;
    let nr = match index.split_once('+') {
        Some((base, n)) if base.trim() == "BASE_NR" => base_nr + n.trim().parse::<u32>().ok()?,
        Some(_) => return None,
        None => index.trim().parse().ok()?,
    };
    let body = rest.trim().strip_prefix('=')?.trim().strip_prefix('{')?;
    let body = body.trim_end().strip_suffix(',').unwrap_or(body).trim_end();
    let body = body.strip_suffix('}')?;
    let fields: Vec<&str> = body.split(',').map(str::trim).collect();
    let [_nargs, flags, _sen, name] = fields[..] else {
        return None;
    };
    let name = name.strip_prefix('"')?.strip_suffix('"')?.to_string();
    let flags = flags
        .split('|')
        .map(str::trim)
        .filter(|f| *f != "0")
        .map(str::to_string)
        .collect();
    Some(Row { nr, flags, name })
}

/// The rows of `file` and of what it includes (relative to it, else from `linux/generic`,
/// as strace's include path has it).
fn read_table(linux: &Path, file: &Path, rows: &mut Vec<Row>, base_nr: &mut u32) -> Result<()> {
    let text = fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    for (i, line) in strip_comments(&text).lines().enumerate() {
        let t = line.trim();
        let at = || format!("{}:{}", file.display(), i + 1);
        if t.is_empty() {
            continue;
        }
        if let Some(directive) = t.strip_prefix('#') {
            let words: Vec<&str> = directive.split_whitespace().collect();
            match words[..] {
                ["include", inc] => {
                    let inc = inc.trim_matches('"');
                    let here = file.parent().unwrap_or(linux).join(inc);
                    let path = if here.is_file() {
                        here
                    } else {
                        linux.join("generic").join(inc)
                    };
                    read_table(linux, &path, rows, base_nr)?;
                }
                ["ifndef", "BASE_NR"] | ["endif"] => {}
                ["define", "BASE_NR", n] => {
                    *base_nr = n.parse().with_context(|| format!("BASE_NR at {}", at()))?;
                }
                _ => bail!("unexpected directive {t:?} at {}", at()),
            }
            continue;
        }
        match parse_row(t, *base_nr) {
            Some(row) => rows.push(row),
            None => bail!("cannot read the row {t:?} at {}", at()),
        }
    }
    Ok(())
}

/// Shorthand → `TRACE_*` macro, from the non-test half of src/sysent_shorthand_defs.h.
pub fn parse_shorthands(text: &str) -> Result<BTreeMap<String, String>> {
    let text = strip_comments(text);
    let (_, real) = text
        .split_once("#else")
        .context("no #else in sysent_shorthand_defs.h")?;
    let mut out = BTreeMap::new();
    for line in real.lines() {
        let words: Vec<&str> = line
            .trim()
            .trim_start_matches('#')
            .split_whitespace()
            .collect();
        if let ["define", short, long] = words[..] {
            out.insert(short.to_string(), long.to_string());
        }
    }
    if out.len() < 10 {
        bail!("only {} shorthands in sysent_shorthand_defs.h", out.len());
    }
    Ok(out)
}

/// `TRACE_*` macro → its bit, from src/sysent.h (checks each class macro exists there).
fn check_sysent(text: &str) -> Result<()> {
    for (m, _) in CLASSES {
        let defined = text.lines().any(|l| {
            let w: Vec<&str> = l
                .trim()
                .trim_start_matches('#')
                .split_whitespace()
                .collect();
            w.len() >= 3 && w[0] == "define" && w[1] == *m
        });
        if !defined {
            bail!("src/sysent.h has no {m}: strace's classes changed");
        }
    }
    Ok(())
}

/// One architecture's rows as (tracer's name → tracer's class constants), with notes on
/// what differed.
fn classes_of(
    arch: &Arch,
    rows: &[Row],
    shorthands: &BTreeMap<String, String>,
    notes: &mut Vec<String>,
    errors: &mut Vec<String>,
) -> Result<BTreeMap<&'static str, Vec<&'static str>>> {
    let mut out = BTreeMap::new();
    let mut seen = Vec::new();
    for row in rows {
        let mut classes = Vec::new();
        for f in &row.flags {
            let Some(long) = shorthands.get(f) else {
                bail!(
                    "{}: {}: flag {f} is not in sysent_shorthand_defs.h",
                    arch.name,
                    row.name
                );
            };
            match CLASSES.iter().find(|(m, _)| m == long) {
                Some((_, c)) => classes.push(*c),
                None if NOT_CLASSES.contains(&long.as_str()) => {}
                None => bail!(
                    "{}: {}: flag {f} ({long}) is neither a known class nor a known non-class flag: add it to xtask/src/codegen/classes.rs",
                    arch.name,
                    row.name
                ),
            }
        }
        let tracer = (arch.sysno_name)(row.nr as usize);
        let name = match tracer {
            Some(t) if t == row.name => t,
            Some(t) => match RENAMES
                .iter()
                .find(|(a, s, _)| *a == arch.name && *s == row.name)
            {
                Some((_, _, mapped)) if *mapped == t => {
                    notes.push(format!(
                        "{} {}: strace's {} is tracer's {t}",
                        arch.name, row.nr, row.name
                    ));
                    t
                }
                _ => {
                    errors.push(format!(
                        "{} {}: strace calls it {:?}, tracer (the syscalls crate) {t:?}: list it in RENAMES",
                        arch.name, row.nr, row.name
                    ));
                    continue;
                }
            },
            None => {
                if !UNKNOWN_TO_TRACER.contains(&(arch.name, row.name.as_str())) {
                    errors.push(format!(
                        "{} {}: strace's {:?} has no number in the syscalls crate: list it in UNKNOWN_TO_TRACER",
                        arch.name, row.nr, row.name
                    ));
                    continue;
                }
                notes.push(format!(
                    "{} {}: strace's {} is unknown to tracer, left out",
                    arch.name, row.nr, row.name
                ));
                continue;
            }
        };
        seen.push(name);
        if !classes.is_empty() {
            classes.sort_by_key(|c| CLASSES.iter().position(|(_, k)| k == c));
            classes.dedup();
            if out.insert(name, classes).is_some() {
                bail!("{}: {name} twice in strace's table", arch.name);
            }
        }
    }
    for name in (arch.sysno_all)() {
        if !seen.contains(&name) {
            notes.push(format!(
                "{}: tracer's {name} is not in strace's table: in no class",
                arch.name
            ));
        }
    }
    Ok(out)
}

/// The generated Rust source.
fn render(
    version: &str,
    tables: &[(&Arch, BTreeMap<&'static str, Vec<&'static str>>)],
) -> Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "// @generated by `cargo xtask codegen classes` from strace {version}'s syscall tables (Debian's\n\
         // strace_{version}.orig.tar.xz): src/linux/x86_64/syscallent.h for x86_64, src/linux/aarch64/\n\
         // syscallent.h (src/linux/64/syscallent.h) for aarch64, both with src/linux/generic/\n\
         // syscallent-common.h; the flags as src/sysent_shorthand_defs.h and src/sysent.h define\n\
         // them. Names are tracer's (the syscalls crate's). Do not edit.\n\
         use super::class::*;"
    )?;
    for (arch, table) in tables {
        writeln!(
            out,
            "\n/// {}: (syscall name, strace's classes), sorted by name; calls in no class are left out.\n\
             #[rustfmt::skip]\n\
             pub static {}: &[(&str, u32)] = &[",
            arch.name, arch.static_name
        )?;
        for (name, classes) in table {
            writeln!(out, "    ({name:?}, {}),", classes.join(" | "))?;
        }
        writeln!(out, "];")?;
    }
    Ok(out)
}

pub fn run(root: &Path) -> Result<()> {
    let src: PathBuf = crate::strace_suite::source(root)?.join("src");
    let shorthands = parse_shorthands(&fs::read_to_string(src.join("sysent_shorthand_defs.h"))?)?;
    check_sysent(&fs::read_to_string(src.join("sysent.h"))?)?;
    let linux = src.join("linux");
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    let mut tables = Vec::new();
    for arch in ARCHES {
        let mut rows = Vec::new();
        read_table(&linux, &linux.join(arch.table), &mut rows, &mut 0)?;
        if rows.len() < 250 {
            bail!("only {} rows in {}'s table", rows.len(), arch.name);
        }
        tables.push((
            arch,
            classes_of(arch, &rows, &shorthands, &mut notes, &mut errors)?,
        ));
    }
    if !errors.is_empty() {
        bail!(
            "strace's names differ from tracer's:\n{}",
            errors.join("\n")
        );
    }
    let out = render(crate::strace_suite::VERSION, &tables)?;
    let path = root.join(OUT);
    fs::write(&path, out).with_context(|| format!("writing {}", path.display()))?;
    for n in &notes {
        println!("note: {n}");
    }
    println!(
        "wrote {} ({})",
        path.display(),
        tables
            .iter()
            .map(|(a, t)| format!("{}: {} classed syscalls", a.name, t.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows() {
        let r = parse_row(
            "[  2] = { 3,\tTD|TF,\t\tSEN(open),\t\t\t\"open\"\t\t\t},",
            0,
        );
        assert_eq!(
            r,
            Some(Row {
                nr: 2,
                flags: vec!["TD".into(), "TF".into()],
                name: "open".into()
            })
        );
        let r = parse_row(
            "[BASE_NR + 435] = { 2,\tTP,\t\tSEN(clone3),\t\t\t\"clone3\"\t\t},",
            0,
        );
        assert_eq!(r.map(|r| (r.nr, r.flags)), Some((435, vec!["TP".into()])));
        let r = parse_row(
            "[ 18] = { 3,\t0,\t\tSEN(lookup_dcookie),\t\t\"lookup_dcookie\"\t},",
            0,
        );
        assert_eq!(r.map(|r| r.flags), Some(vec![]));
        assert_eq!(parse_row("[244 ... 259] = { },", 0), None);
    }

    #[test]
    fn reads_shorthands_after_the_test_half() {
        let text = "#ifdef STRACE_TESTS_H\n# define TD 0\n#else /* x */\n# define TD\tTRACE_DESC\n\
            # define TF TRACE_FILE\n# define TI TRACE_IPC\n# define TN TRACE_NETWORK\n# define TP TRACE_PROCESS\n\
            # define TS TRACE_SIGNAL\n# define TM TRACE_MEMORY\n# define PU TRACE_PURE\n# define NF SYSCALL_NEVER_FAILS\n\
            # define TC TRACE_CREDS\n/* SEN(a) is defined elsewhere */\n#endif\n";
        let m = parse_shorthands(text).expect("parses");
        assert_eq!(m.get("TD").map(String::as_str), Some("TRACE_DESC"));
        assert_eq!(m.get("NF").map(String::as_str), Some("SYSCALL_NEVER_FAILS"));
        assert_eq!(m.len(), 10);
    }

    #[test]
    fn comments_go_lines_stay() {
        assert_eq!(strip_comments("a /* b\nc */ d\ne"), "a \n d\ne");
    }
}
