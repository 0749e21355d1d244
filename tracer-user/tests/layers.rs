//! Data flows one way (docs/design.md): each top-level module of the library may use only the
//! modules before it in `ORDER`. Read from the sources: every `crate::…` path outside test
//! code, including those inside `use crate::{…}` groups.
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// Upstream first. `error` and `model` are plain types every stage may import.
const ORDER: [&str; 11] = [
    "error", "model", "bpf", "decode", "runtime", "enrich", "filter", "sink", "config", "pipeline",
    "cli",
];

fn rank(module: &str) -> Option<usize> {
    ORDER.iter().position(|m| *m == module)
}

/// The source before its first test module.
fn non_test(text: &str) -> &str {
    let cut = ["#[cfg(test)]", "#[cfg(all(test"]
        .iter()
        .filter_map(|m| text.find(m))
        .min()
        .unwrap_or(text.len());
    &text[..cut]
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each item in a `{…}` group that starts `s` (after the brace).
fn group_heads(s: &str, out: &mut BTreeSet<String>) {
    let mut depth = 0usize;
    let mut item_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                depth += 1;
                item_start = depth == 1;
            }
            '}' => {
                if depth <= 1 {
                    return;
                }
                depth -= 1;
            }
            ',' if depth == 1 => item_start = true,
            c if c.is_whitespace() => {}
            _ if item_start && depth == 1 => {
                item_start = false;
                let id = ident(&s[i..]);
                if !id.is_empty() {
                    out.insert(id.to_string());
                }
            }
            _ => {}
        }
    }
}

/// Top-level modules named by `crate::` paths in `text` (comments included: a path named in a
/// doc comment is a dependency of the reader, and costs nothing to keep honest).
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = non_test(text);
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let preceded = rest[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !preceded {
            if after.starts_with('{') {
                group_heads(after, &mut out);
            } else {
                let id = ident(after);
                if !id.is_empty() {
                    out.insert(id.to_string());
                }
            }
        }
        rest = after;
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `(file, its module, the module it must not use)` for every upstream-pointing reference.
fn violations(src: &Path) -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut bad = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src).expect("under src");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs");
        if module == "main" || module == "lib" {
            continue;
        }
        let own = rank(module).unwrap_or_else(|| {
            panic!("src/{first} is not in ORDER: place the new module in tests/layers.rs")
        });
        let text = std::fs::read_to_string(&f).expect("readable");
        for used in crate_refs(&text) {
            if used != module && rank(&used).is_some_and(|r| r >= own) {
                bad.push((rel.display().to_string(), module.into(), used));
            }
        }
    }
    bad.sort();
    bad
}

#[test]
fn every_module_uses_only_modules_before_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(
        bad.is_empty(),
        "dependencies against the flow ({}): {bad:#?}",
        ORDER.join(" → ")
    );
}

#[test]
fn the_reader_finds_paths_in_groups_and_inline() {
    let text = "use crate::{\n    bpf::{self, reader::Message},\n    decode::args,\n    model::Event,\n};\nfn f() { crate::sink::file::create(p); my_crate::cli::x(); }\n#[cfg(test)]\nmod tests { use crate::cli::Cli; }\n";
    let got: Vec<String> = crate_refs(text).into_iter().collect();
    assert_eq!(got, ["bpf", "decode", "model", "sink"]);
}

#[test]
fn a_stage_importing_downstream_is_caught() {
    let dir = std::env::temp_dir().join(format!("tracer-layers-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("bpf")).expect("mkdir");
    std::fs::write(src.join("bpf/reader.rs"), "use crate::sink::Lost;\n").expect("write");
    std::fs::write(src.join("sink.rs"), "use crate::{bpf, model::Event};\n").expect("write");
    let bad = violations(&src);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        bad,
        [(
            "bpf/reader.rs".to_string(),
            "bpf".to_string(),
            "sink".to_string()
        )]
    );
}
