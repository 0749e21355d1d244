//! `cargo xtask setup`: everything a fresh Debian 12 machine needs, idempotent and quick when
//! already done. Also starts dockerd (bridge and iptables off: no traffic leaves the host).
use std::{
    path::Path,
    process::{Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use anyhow::{Result, bail};

use crate::util::{cmd, output, run_ok, succeeds};

/// Debian packages: the engine, the demo's nginx and curl, a C compiler for the workload
/// fixture, setpriv/capsh for the privilege tests, strace for the decoding oracle, bpftool for
/// the no-leftovers-after-SIGKILL test, make and xz for building strace's test programs (the
/// strace suite).
const PACKAGES: &[&str] = &[
    "docker.io",
    "nginx-light",
    "curl",
    "gcc",
    "libc6-dev",
    "util-linux",
    "libcap2-bin",
    "strace",
    "bpftool",
    "make",
    "xz-utils",
];
const BPF_LINKER: &str = "0.10.4";

fn installed(pkg: &str) -> bool {
    output(cmd("dpkg-query", &["-W", "-f=${Status}", pkg]).stderr(Stdio::null()))
        .is_ok_and(|s| s.contains("install ok installed"))
}

fn apt() -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("setup: installing {}", missing.join(" "));
    run_ok(&mut cmd("apt-get", &["update", "-qq"]))?;
    run_ok(
        cmd(
            "apt-get",
            &["install", "-y", "-qq", "--no-install-recommends"],
        )
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn rust() -> Result<()> {
    if !succeeds(&mut cmd(
        "rustup",
        &["run", "nightly", "rustc", "--version"],
    )) {
        eprintln!("setup: installing the nightly toolchain (eBPF needs -Z build-std)");
        run_ok(&mut cmd(
            "rustup",
            &["toolchain", "install", "nightly", "--profile", "minimal"],
        ))?;
    }
    let comps = output(&mut cmd(
        "rustup",
        &["component", "list", "--installed", "--toolchain", "nightly"],
    ))?;
    if !comps.lines().any(|l| l.starts_with("rust-src")) {
        run_ok(&mut cmd(
            "rustup",
            &["component", "add", "rust-src", "--toolchain", "nightly"],
        ))?;
    }
    let have = output(&mut cmd("bpf-linker", &["--version"])).unwrap_or_default();
    if !have.contains(BPF_LINKER) {
        eprintln!("setup: installing bpf-linker {BPF_LINKER}");
        run_ok(&mut cmd(
            "cargo",
            &["install", &format!("bpf-linker@{BPF_LINKER}"), "--locked"],
        ))?;
    }
    Ok(())
}

pub fn mount_tracefs() -> Result<()> {
    if Path::new("/sys/kernel/tracing/events").is_dir() {
        return Ok(());
    }
    run_ok(&mut cmd(
        "mount",
        &["-t", "tracefs", "nodev", "/sys/kernel/tracing"],
    ))
}

pub fn docker_up() -> bool {
    succeeds(&mut cmd("docker", &["info"]))
}

/// Starts dockerd in the background when no engine answers.
pub fn dockerd() -> Result<()> {
    if docker_up() {
        return Ok(());
    }
    eprintln!("setup: starting dockerd (log: /var/log/tracer-dockerd.log)");
    let log = std::fs::File::create("/var/log/tracer-dockerd.log")?;
    let dockerd = if Path::new("/usr/sbin/dockerd").exists() {
        "/usr/sbin/dockerd"
    } else {
        "dockerd"
    };
    // `setsid -f` forks: the engine is re-parented to init rather than staying our child, so
    // when a test stops it, it is reaped at once instead of lingering as our zombie.
    Command::new("setsid")
        .args([
            "-f",
            dockerd,
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            // Containers outlive an engine restart, as on production nodes; the daemon tests
            // restart dockerd under a running container.
            "--live-restore",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if docker_up() {
            return Ok(());
        }
        sleep(Duration::from_millis(250));
    }
    bail!("dockerd did not answer within 60 s; see /var/log/tracer-dockerd.log")
}

pub fn run_all(root: &Path) -> Result<()> {
    apt()?;
    rust()?;
    mount_tracefs()?;
    dockerd()?;
    crate::strace_suite::build(root)?;
    crate::images::build_all(root)
}
