//! `packaging/kubernetes/` checked offline: every manifest against the Kubernetes OpenAPI
//! schema (`kubernetes-validate`, pinned, from PyPI into a venv under target/), strictly
//! (unknown fields are errors), and the kustomization naming exactly the manifests there.
use std::{fs, path::Path, process::Command};

use anyhow::{Context, Result, bail};

use crate::util::{cmd, output, run_ok};

/// The validator and the Kubernetes version its schemas are for.
const VALIDATOR: &str = "kubernetes-validate==1.37.0";
const KUBERNETES: &str = "1.37.0";

pub fn validate(root: &Path) -> Result<()> {
    let dir = root.join("packaging/kubernetes");
    let mut manifests: Vec<String> = fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    manifests.sort();
    let kustomization = fs::read_to_string(dir.join("kustomization.yaml"))?;
    let mut listed: Vec<String> = kustomization
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|s| s.trim().to_string())
        .collect();
    listed.sort();
    if listed != manifests {
        bail!(
            "packaging/kubernetes/kustomization.yaml lists {listed:?}; the directory holds {manifests:?}"
        );
    }
    let venv = root.join("target/kubernetes-validate");
    let bin = venv.join("bin/kubernetes-validate");
    let wanted = VALIDATOR.trim_start_matches("kubernetes-validate==");
    let have = output(Command::new(&bin).arg("--version")).unwrap_or_default();
    if !have.contains(wanted) {
        eprintln!("kubernetes: installing {VALIDATOR} into {}", venv.display());
        run_ok(cmd("python3", &["-m", "venv"]).arg(&venv))?;
        run_ok(Command::new(venv.join("bin/pip")).args(["install", "-q", VALIDATOR]))?;
    }
    let mut check = Command::new(&bin);
    check
        .args(["--strict", "--kubernetes-version", KUBERNETES])
        .current_dir(&dir)
        .args(&manifests);
    run_ok(&mut check).context("packaging/kubernetes does not validate")?;
    eprintln!(
        "kubernetes: {} manifests valid against Kubernetes {KUBERNETES} (strict)",
        manifests.len()
    );
    Ok(())
}
