use which::which;

/// Rebuild when `bpf-linker` changes: it is an undeclared build dependency of this crate. Also
/// set `bpf_target_arch` from the host when the builder (aya-build) did not pass it, so that a
/// plain `cargo build` of this crate (clippy, xtask) compiles for the machine it runs on.
fn main() {
    if let Ok(linker) = which("bpf-linker") {
        println!("cargo:rerun-if-changed={}", linker.display());
    }
    println!(
        "cargo::rustc-check-cfg=cfg(bpf_target_arch, values(\"x86_64\", \"aarch64\", \"arm\", \"riscv64\", \"powerpc64\", \"s390x\", \"mips\", \"loongarch64\"))"
    );
    println!("cargo:rerun-if-env-changed=CARGO_CFG_BPF_TARGET_ARCH");
    if std::env::var_os("CARGO_CFG_BPF_TARGET_ARCH").is_none() {
        let host = std::env::var("HOST").unwrap_or_default();
        let arch = host.split('-').next().unwrap_or_default();
        println!("cargo:rustc-cfg=bpf_target_arch=\"{arch}\"");
    }
}
