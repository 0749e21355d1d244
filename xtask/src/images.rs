//! Local test images (no registry is reachable): built with `docker import` from a root
//! filesystem assembled here, and rebuilt only when their inputs change.
//!
//! - `tracer-nginx:local`: Debian's nginx binary and the libraries it links, with
//!   tests/fixtures/nginx.conf (127.0.0.1:8080, host network).
//! - `tracer-workload:local`: tests/fixtures/workload.c built static.
//! - `tracer:local` (`cargo xtask image`, after the release build): packaging/Dockerfile over a
//!   context holding the release binary and the libraries it links.
use std::{
    collections::hash_map::DefaultHasher,
    fs,
    hash::{Hash as _, Hasher as _},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context as _, Result, bail};

use crate::util::{cmd, output, run_ok};

pub const NGINX_IMAGE: &str = "tracer-nginx:local";
pub const WORKLOAD_IMAGE: &str = "tracer-workload:local";
/// tracer itself as a container (packaging/Dockerfile).
pub const TRACER_IMAGE: &str = "tracer:local";
const HASH_LABEL: &str = "tracer.inputs";

fn fixtures(root: &Path) -> PathBuf {
    root.join("tests/fixtures")
}

/// Where built fixtures go: target/fixtures.
pub fn build_dir(root: &Path) -> PathBuf {
    root.join("target/fixtures")
}

/// Path of the static workload binary (also run on the host by tests and benchmarks).
pub fn workload_bin(root: &Path) -> PathBuf {
    build_dir(root).join("workload")
}

fn build_workload(root: &Path) -> Result<PathBuf> {
    let out = workload_bin(root);
    fs::create_dir_all(build_dir(root))?;
    run_ok(
        cmd("gcc", &["-static", "-pthread", "-O2", "-Wall", "-o"])
            .arg(&out)
            .arg(fixtures(root).join("workload.c")),
    )?;
    Ok(out)
}

/// Shared libraries `ldd` lists for `bin`, the loader included.
fn libraries(bin: &Path) -> Result<Vec<PathBuf>> {
    let text = output(Command::new("ldd").arg(bin))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, rhs)) => rhs.split_whitespace().next(),
                None => l.split_whitespace().next(),
            }?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

fn copy_into(rootfs: &Path, src: &Path) -> Result<()> {
    let dst = rootfs.join(src.strip_prefix("/").unwrap_or(src));
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::copy(src, &dst).with_context(|| format!("copying {}", src.display()))?;
    Ok(())
}

fn write(rootfs: &Path, path: &str, contents: &[u8]) -> Result<()> {
    let dst = rootfs.join(path);
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(dst, contents)?;
    Ok(())
}

fn nginx_rootfs(root: &Path, rootfs: &Path) -> Result<()> {
    let nginx = Path::new("/usr/sbin/nginx");
    if !nginx.exists() {
        bail!("/usr/sbin/nginx missing: run `cargo xtask setup` (installs nginx-light)");
    }
    copy_into(rootfs, nginx)?;
    for lib in libraries(nginx)? {
        copy_into(rootfs, &lib)?;
    }
    write(
        rootfs,
        "etc/nginx/nginx.conf",
        &fs::read(fixtures(root).join("nginx.conf"))?,
    )?;
    write(
        rootfs,
        "usr/share/nginx/html/index.html",
        &fs::read(fixtures(root).join("index.html"))?,
    )?;
    write(
        rootfs,
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    write(rootfs, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")?;
    for dir in ["var/log/nginx", "var/lib/nginx", "run", "tmp"] {
        fs::create_dir_all(rootfs.join(dir))?;
    }
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))?;
    Ok(())
}

fn workload_rootfs(root: &Path, rootfs: &Path) -> Result<()> {
    let bin = build_workload(root)?;
    let dst = rootfs.join("workload");
    fs::copy(&bin, &dst)?;
    fs::set_permissions(&dst, fs::Permissions::from_mode(0o755))?;
    fs::create_dir_all(rootfs.join("tmp"))?;
    Ok(())
}

/// Hash of every file under `dir`, with its path and mode.
fn hash_tree(dir: &Path, h: &mut DefaultHasher) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        e.file_name().hash(h);
        let meta = e.metadata()?;
        meta.permissions().mode().hash(h);
        if meta.is_dir() {
            hash_tree(&p, h)?;
        } else {
            fs::read(&p)?.hash(h);
        }
    }
    Ok(())
}

fn current_hash(image: &str) -> Option<String> {
    let fmt = format!("{{{{index .Config.Labels \"{HASH_LABEL}\"}}}}");
    output(cmd("docker", &["image", "inspect", "-f", &fmt, image]).stderr(Stdio::null()))
        .ok()
        .map(|s| s.trim().to_string())
}

fn import(rootfs: &Path, image: &str, cmdline: &str) -> Result<()> {
    let mut h = DefaultHasher::new();
    hash_tree(rootfs, &mut h)?;
    cmdline.hash(&mut h);
    let hash = format!("{:016x}", h.finish());
    if current_hash(image).as_deref() == Some(hash.as_str()) {
        return Ok(());
    }
    eprintln!("images: building {image}");
    let tar = Command::new("tar")
        .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(rootfs)
        .args(["-cf", "-", "."])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = tar.stdout.context("tar stdout")?;
    run_ok(
        Command::new("docker")
            .args(["import", "--change", &format!("CMD {cmdline}")])
            .args(["--change", &format!("LABEL {HASH_LABEL}={hash}")])
            .args(["-", image])
            .stdin(stdout)
            .stdout(Stdio::null()),
    )
}

pub fn build_all(root: &Path) -> Result<()> {
    let base = build_dir(root);
    for (image, cmdline, make) in [
        (
            NGINX_IMAGE,
            r#"["/usr/sbin/nginx"]"#,
            nginx_rootfs as fn(&Path, &Path) -> Result<()>,
        ),
        (WORKLOAD_IMAGE, r#"["/workload", "sleep"]"#, workload_rootfs),
    ] {
        let rootfs = base.join(format!("rootfs-{}", image.replace([':', '/'], "-")));
        if rootfs.exists() {
            fs::remove_dir_all(&rootfs)?;
        }
        fs::create_dir_all(&rootfs)?;
        make(root, &rootfs)?;
        import(&rootfs, image, cmdline)?;
    }
    to_podman(WORKLOAD_IMAGE)?;
    // The ctr tests' namespace, and CRI's (where the image is also the pods' sandbox image).
    for ns in [CONTAINERD_NAMESPACE, "k8s.io"] {
        to_containerd(WORKLOAD_IMAGE, ns)?;
    }
    Ok(())
}

/// Copies a Docker image into podman's store (`docker save | podman load`): the runtime tests
/// run the same workload on both engines. podman names it `localhost/IMAGE`.
fn to_podman(image: &str) -> Result<()> {
    eprintln!("images: loading {image} into podman");
    save_into(image, Command::new("podman").args(["load", "-q"]))
}

/// The containerd namespace the runtime tests run their `ctr` containers in.
pub const CONTAINERD_NAMESPACE: &str = "tracer-e2e";

/// Copies a Docker image into tracer's containerd (`docker save | ctr images import`), in
/// namespace `ns`. containerd names it `docker.io/library/IMAGE`.
fn to_containerd(image: &str, ns: &str) -> Result<()> {
    eprintln!("images: importing {image} into containerd (namespace {ns})");
    save_into(
        image,
        Command::new("ctr")
            .args(["-a", crate::setup::CONTAINERD_SOCKET])
            .args(["-n", ns, "images", "import", "-"])
            .stdout(Stdio::null()),
    )
}

/// `docker save IMAGE | loader`.
fn save_into(image: &str, loader: &mut Command) -> Result<()> {
    let mut save = Command::new("docker")
        .args(["save", image])
        .stdout(Stdio::piped())
        .spawn()
        .context("running docker save")?;
    let out = save.stdout.take().context("docker save's output")?;
    run_ok(loader.stdin(out))?;
    anyhow::ensure!(save.wait()?.success(), "docker save {image} failed");
    Ok(())
}

/// `tracer:local` from packaging/Dockerfile; the release binary must be built.
pub fn build_tracer_image(root: &Path) -> Result<()> {
    let context = build_dir(root).join("tracer-image");
    if context.exists() {
        fs::remove_dir_all(&context)?;
    }
    let rootfs = context.join("rootfs");
    let bin = root.join("target/release/tracer");
    let dst = rootfs.join("usr/bin/tracer");
    fs::create_dir_all(rootfs.join("usr/bin"))?;
    fs::copy(&bin, &dst).with_context(|| format!("copying {}", bin.display()))?;
    // The release profile keeps line tables for profiling; the image does not need them.
    run_ok(Command::new("strip").arg("--strip-debug").arg(&dst))?;
    for lib in libraries(&bin)? {
        copy_into(&rootfs, &lib)?;
    }
    write(&rootfs, "etc/passwd", b"root:x:0:0:root:/root:/bin/false\n")?;
    fs::create_dir_all(rootfs.join("tmp"))?;
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))?;
    eprintln!("images: building {TRACER_IMAGE}");
    run_ok(
        Command::new("docker")
            .args(["build", "-q", "-t", TRACER_IMAGE, "-f"])
            .arg(root.join("packaging/Dockerfile"))
            .arg(&context)
            .env("DOCKER_BUILDKIT", "0")
            .stdout(Stdio::null()),
    )?;
    // The DaemonSet's pod, run through CRI by tests/tests/cri.rs.
    to_containerd(TRACER_IMAGE, "k8s.io")
}
