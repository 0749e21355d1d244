//! `cargo xtask setup`: everything a fresh Debian 12 machine needs, idempotent and quick when
//! already done. Also starts dockerd (bridge and iptables off: no traffic leaves the host).
use std::{
    path::Path,
    process::{Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::util::{cmd, output, run_ok, succeeds};

/// Debian packages: the engine, the demo's nginx and curl, a C compiler for the workload
/// fixture, setpriv/capsh for the privilege tests, strace for the decoding oracle, bpftool for
/// the no-leftovers-after-SIGKILL test, make and xz for building strace's test programs (the
/// strace suite), podman for the runtime tests (with its recommended packages: its network
/// backend and storage helpers, as a user's install has them).
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
    "podman",
    "containerd",
    // containerd-client and k8s-cri generate their gRPC code from .proto files at build time.
    "protobuf-compiler",
    // packaging/kubernetes: read by the DaemonSet's test, validated in a venv; the OTLP test
    // receiver's venv (xtask/src/otlp.rs).
    "python3-yaml",
    "python3-venv",
];
/// Installed with their recommended packages.
const WITH_RECOMMENDS: &[&str] = &["podman"];
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
    let (full, lean): (Vec<&str>, Vec<&str>) =
        missing.iter().partition(|p| WITH_RECOMMENDS.contains(p));
    for (pkgs, flags) in [
        (
            lean,
            &["install", "-y", "-qq", "--no-install-recommends"][..],
        ),
        (full, &["install", "-y", "-qq"][..]),
    ] {
        if !pkgs.is_empty() {
            run_ok(
                cmd("apt-get", flags)
                    .args(&pkgs)
                    .env("DEBIAN_FRONTEND", "noninteractive"),
            )?;
        }
    }
    Ok(())
}

/// podman's API socket, where tracer looks for it by default.
pub const PODMAN_SOCKET: &str = "/run/podman/podman.sock";

fn podman_up() -> bool {
    std::os::unix::net::UnixStream::connect(PODMAN_SOCKET).is_ok()
}

/// Starts podman's API service (`podman system service`) in the background when its socket
/// does not answer.
pub fn podman() -> Result<()> {
    if podman_up() {
        return Ok(());
    }
    std::fs::create_dir_all("/run/podman")?;
    let _ = std::fs::remove_file(PODMAN_SOCKET);
    let address = format!("unix://{PODMAN_SOCKET}");
    service(
        "podman's API service",
        &["podman", "system", "service", "--time=0", &address],
        "/var/log/tracer-podman.log",
        podman_up,
        Duration::from_secs(30),
    )
}

/// The socket of tracer's own containerd (xtask/assets/containerd.toml).
pub const CONTAINERD_SOCKET: &str = "/run/tracer-containerd/containerd.sock";

fn containerd_up() -> bool {
    std::os::unix::net::UnixStream::connect(CONTAINERD_SOCKET).is_ok()
}

/// Starts tracer's own containerd (not dockerd's) when its socket does not answer.
pub fn containerd(root: &Path) -> Result<()> {
    if containerd_up() {
        return Ok(());
    }
    let config = root.join("xtask/assets/containerd.toml");
    let config = config
        .to_str()
        .context("the repository's path is not UTF-8")?;
    service(
        "containerd",
        &["containerd", "--config", config],
        "/var/log/tracer-containerd.log",
        containerd_up,
        Duration::from_secs(30),
    )
}

/// Starts `argv` in the background, its output in `log`, and waits until `up` says it answers.
/// `setsid -f` forks: the service is re-parented to init rather than staying our child, so
/// when a test stops it, it is reaped at once instead of lingering as our zombie.
fn service(
    what: &str,
    argv: &[&str],
    log_path: &str,
    up: fn() -> bool,
    within: Duration,
) -> Result<()> {
    eprintln!("setup: starting {what} (log: {log_path})");
    let log = std::fs::File::create(log_path)?;
    Command::new("setsid")
        .arg("-f")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()?;
    let start = Instant::now();
    while start.elapsed() < within {
        if up() {
            return Ok(());
        }
        sleep(Duration::from_millis(100));
    }
    bail!(
        "{what} did not answer within {} s; see {log_path}",
        within.as_secs()
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
    let dockerd = if Path::new("/usr/sbin/dockerd").exists() {
        "/usr/sbin/dockerd"
    } else {
        "dockerd"
    };
    service(
        "dockerd",
        &[
            dockerd,
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            // Containers outlive an engine restart, as on production nodes; the daemon tests
            // restart dockerd under a running container.
            "--live-restore",
        ],
        "/var/log/tracer-dockerd.log",
        docker_up,
        Duration::from_secs(60),
    )
}

pub fn run_all(root: &Path) -> Result<()> {
    apt()?;
    rust()?;
    mount_tracefs()?;
    dockerd()?;
    podman()?;
    containerd(root)?;
    crate::strace_suite::build(root)?;
    crate::pytools::install(root)?;
    crate::images::build_all(root)
}
