//! Builds the kernel programs (`tracer-ebpf`) for the BPF target and leaves the object in
//! OUT_DIR, where `src/bpf/load.rs` embeds it.
//!
//! Without the eBPF toolchain (rustup's nightly and bpf-linker) the object is left empty, so
//! the decoders and sinks still build and test with a plain stable toolchain; such a binary
//! says it has no BPF programs when asked to trace. `TRACER_REQUIRE_EBPF=1` (set by
//! `cargo xtask`) makes a missing toolchain an error instead.
use std::{env, path::PathBuf};

use anyhow::{Context as _, anyhow, bail};

/// Whether `program` is on PATH.
fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|paths| env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn main() -> anyhow::Result<()> {
    println!("cargo:rerun-if-env-changed=TRACER_REQUIRE_EBPF");
    println!("cargo:rerun-if-env-changed=PATH");
    let out = PathBuf::from(env::var_os("OUT_DIR").context("OUT_DIR not set")?);
    let missing: Vec<&str> = ["rustup", "bpf-linker"]
        .into_iter()
        .filter(|p| !on_path(p))
        .collect();
    if !missing.is_empty() {
        if env::var_os("TRACER_REQUIRE_EBPF").is_some_and(|v| v == "1") {
            bail!(
                "cannot build the BPF programs: {} not on PATH; run `cargo xtask setup`",
                missing.join(" and ")
            );
        }
        println!(
            "cargo:warning=built without BPF programs ({} not on PATH): unit tests only; `cargo xtask setup` installs the toolchain",
            missing.join(" and ")
        );
        std::fs::write(out.join("tracer"), b"").context("writing the empty object")?;
        return Ok(());
    }
    let metadata = cargo_metadata::MetadataCommand::new()
        .no_deps()
        .exec()
        .context("cargo metadata")?;
    let ebpf = metadata
        .packages
        .into_iter()
        .find(|p| p.name.as_str() == "tracer-ebpf")
        .ok_or_else(|| anyhow!("tracer-ebpf package not found"))?;
    let root = ebpf
        .manifest_path
        .parent()
        .ok_or_else(|| anyhow!("no parent for {}", ebpf.manifest_path))?;
    // aya-build forwards every line the nested cargo prints as a `cargo:warning`, which cargo
    // then replays on every build; a quiet nested cargo prints only real diagnostics.
    // SAFETY: the build script is single-threaded here; the nested cargo inherits it.
    unsafe { env::set_var("CARGO_TERM_QUIET", "true") };
    aya_build::build_ebpf(
        [aya_build::Package {
            name: ebpf.name.as_str(),
            root_dir: root.as_str(),
            ..Default::default()
        }],
        aya_build::Toolchain::default(),
    )
}
