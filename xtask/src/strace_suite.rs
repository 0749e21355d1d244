//! strace 6.1's own test programs, for the strace suite (tests/tests/strace_suite.rs): the
//! source comes from Debian's archive (`apt-get source`, a `deb-src` twin of the machine's
//! Debian entries is added when there is none), is checked against a pinned SHA-256, unpacked
//! and configured under `target/strace-suite/`, and only the programs listed in
//! `tests/fixtures/strace-suite/programs.tsv` are built. Nothing of strace's is committed here.
//! Idempotent: each step is skipped when its result is already there.
use std::{
    fs,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context as _, Result, bail};

use crate::util::{cmd, output, run_ok};

/// Debian bookworm's strace, the one the suite's programs were written for.
pub const VERSION: &str = "6.1";
const TARBALL: &str = "strace_6.1.orig.tar.xz";
const TARBALL_SHA256: &str = "2579e9cec37dbb786f6ea0bebd15f40dd561ef2bde2a2a2ecdce5963b01859fd";
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/tracer-deb-src.sources";
pub const PROGRAMS: &str = "tests/fixtures/strace-suite/programs.tsv";

/// `target/strace-suite`.
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join("target/strace-suite")
}

/// The built `tests` directory of strace's source tree (the programs and gen_tests.in).
pub fn tests_dir(root: &Path) -> PathBuf {
    cache_dir(root).join(format!("strace-{VERSION}/tests"))
}

/// The program names of the fixture (first column; `#` lines are comments).
pub fn programs(root: &Path) -> Result<Vec<String>> {
    let path = root.join(PROGRAMS);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .map(str::to_string)
        .collect())
}

/// A `deb-src` twin of every `deb` entry in the deb822 `.sources` files and in the one-line
/// `.list` files, unless some `deb-src` entry exists already.
fn deb_src_entries() -> Result<Option<String>> {
    let mut texts = Vec::new();
    for path in ["/etc/apt/sources.list"] {
        if let Ok(t) = fs::read_to_string(path) {
            texts.push((path.to_string(), t));
        }
    }
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        for e in dir.flatten() {
            let p = e.path();
            let name = p.to_string_lossy().to_string();
            if (name.ends_with(".sources") || name.ends_with(".list"))
                && name != DEB_SRC_FILE
                && let Ok(t) = fs::read_to_string(&p)
            {
                texts.push((name, t));
            }
        }
    }
    let mut stanzas = Vec::new();
    for (name, text) in &texts {
        if name.ends_with(".sources") {
            for stanza in text.split("\n\n") {
                let types = stanza
                    .lines()
                    .find_map(|l| l.strip_prefix("Types:"))
                    .unwrap_or_default();
                if types.split_whitespace().any(|t| t == "deb-src") {
                    return Ok(None);
                }
                if !types.split_whitespace().any(|t| t == "deb") || !stanza.contains("debian") {
                    continue;
                }
                let body: Vec<&str> = stanza
                    .lines()
                    .filter(|l| !l.starts_with("Types:") && !l.starts_with('#'))
                    .collect();
                stanzas.push(format!("Types: deb-src\n{}\n", body.join("\n")));
            }
        } else {
            for line in text.lines().map(str::trim) {
                if line.starts_with("deb-src ") {
                    return Ok(None);
                }
                if let Some(rest) = line.strip_prefix("deb ")
                    && line.contains("debian")
                {
                    // One-line form: `deb [opts] URI SUITE COMPONENTS…`.
                    let mut words = rest.split_whitespace().peekable();
                    let mut signed = None;
                    if words.peek().is_some_and(|w| w.starts_with('[')) {
                        for w in words.by_ref() {
                            if let Some(k) = w.trim_matches(['[', ']']).strip_prefix("signed-by=") {
                                signed = Some(k.to_string());
                            }
                            if w.ends_with(']') {
                                break;
                            }
                        }
                    }
                    let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
                        continue;
                    };
                    let comps: Vec<&str> = words.collect();
                    let mut s = format!(
                        "Types: deb-src\nURIs: {uri}\nSuites: {suite}\nComponents: {}\n",
                        comps.join(" ")
                    );
                    if let Some(k) = signed {
                        s.push_str(&format!("Signed-By: {k}\n"));
                    }
                    stanzas.push(s);
                }
            }
        }
    }
    if stanzas.is_empty() {
        bail!("no Debian `deb` entry in /etc/apt/sources.list{{,.d/*}} to make a deb-src twin of");
    }
    Ok(Some(stanzas.join("\n")))
}

fn sha256(path: &Path) -> Result<String> {
    let out = output(cmd("sha256sum", &[]).arg(path))?;
    Ok(out
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

/// `apt-get source --download-only strace` into `dir`, checked against the pinned hash.
fn download(dir: &Path) -> Result<PathBuf> {
    let tarball = dir.join(TARBALL);
    if tarball.is_file() && sha256(&tarball)? == TARBALL_SHA256 {
        return Ok(tarball);
    }
    if !Path::new(DEB_SRC_FILE).exists()
        && let Some(entries) = deb_src_entries()?
    {
        eprintln!("setup: adding Debian source entries ({DEB_SRC_FILE})");
        fs::write(DEB_SRC_FILE, entries).with_context(|| format!("writing {DEB_SRC_FILE}"))?;
        run_ok(&mut cmd("apt-get", &["update", "-qq"]))?;
    }
    let fetch = || {
        run_ok(
            cmd("apt-get", &["source", "--download-only", "-qq", "strace"])
                .current_dir(dir)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    if fetch().is_err() {
        run_ok(&mut cmd("apt-get", &["update", "-qq"]))?;
        fetch().context("apt-get source strace (Debian's deb-src entries)")?;
    }
    let got = sha256(&tarball).with_context(|| format!("{} after apt-get source", TARBALL))?;
    if got != TARBALL_SHA256 {
        bail!(
            "{} has SHA-256 {got}, expected {TARBALL_SHA256}",
            tarball.display()
        );
    }
    Ok(tarball)
}

/// strace's source tree, `target/strace-suite/strace-6.1`: downloaded and unpacked unless
/// it is there (also read by `cargo xtask codegen classes`).
pub fn source(root: &Path) -> Result<PathBuf> {
    let dir = cache_dir(root);
    fs::create_dir_all(&dir)?;
    let src = dir.join(format!("strace-{VERSION}"));
    if !src.join("configure").is_file() {
        let tarball = download(&dir)?;
        eprintln!("setup: unpacking {}", tarball.display());
        let _ = fs::remove_dir_all(&src);
        let _ = fs::remove_file(dir.join("configured.stamp"));
        run_ok(cmd("tar", &["xJf"]).arg(&tarball).current_dir(&dir))?;
    }
    Ok(src)
}

/// Downloads, configures and builds strace's test programs named in the fixture.
pub fn build(root: &Path) -> Result<PathBuf> {
    let start = Instant::now();
    let dir = cache_dir(root);
    let src = source(root)?;
    let configured = dir.join("configured.stamp");
    if !configured.is_file() {
        eprintln!("setup: configuring strace {VERSION}'s tests (about 90 s)");
        let log = dir.join("configure.log");
        let status = cmd(
            "./configure",
            &[
                "--enable-mpers=no",
                "--disable-gcc-Werror",
                "--disable-dependency-tracking",
                "--without-libunwind",
                "--without-libdw",
                "--without-libiberty",
                "--without-libselinux",
            ],
        )
        .current_dir(&src)
        .stdout(fs::File::create(&log)?)
        .stderr(fs::File::create(dir.join("configure.err"))?)
        .status()
        .context("running strace's ./configure")?;
        if !status.success() {
            bail!(
                "strace's ./configure failed ({status}); see {}",
                log.display()
            );
        }
        fs::write(&configured, "")?;
    }
    let tests = src.join("tests");
    let jobs = format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get())
    );
    let make = |targets: &[String]| -> Result<()> {
        let out = cmd("make", &["-s", &jobs])
            .args(targets)
            .current_dir(&tests)
            .output()
            .context("running make in strace's tests/")?;
        if !out.status.success() {
            bail!(
                "make {} in {} failed: {}\n{}",
                targets.join(" "),
                tests.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    };
    // The generated headers first: libtests.a's objects include them.
    make(&["ksysent.h".into(), "scno.h".into()])?;
    make(&["libtests.a".into()])?;
    make(&programs(root)?)?;
    eprintln!(
        "setup: strace {VERSION}'s test programs ready in {} ({:.0?})",
        tests.display(),
        start.elapsed()
    );
    Ok(tests)
}
