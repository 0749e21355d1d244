//! End to end on a real kernel and a real Docker engine: `tracer observe -k` shows the user
//! stack of each call, symbolised from the binary inside the container (tests/fixtures/stack.c).
use std::process::Command;

use serde_json::Value;
use tests::{Container, TempDir, Tracer, docker, env};

/// tests/fixtures/stack.c, built static with frame pointers into a directory a container
/// mounts at /stack (the binary exists only inside the container's mount namespace).
fn stack_container() -> (Container, TempDir) {
    let dir = TempDir::new("stack");
    let ok = Command::new("gcc")
        .args([
            "-static",
            "-O0",
            "-fno-omit-frame-pointer",
            "-Wall",
            "-Werror",
        ])
        .arg("-o")
        .arg(dir.0.join("stack"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/stack.c"))
        .status()
        .expect("gcc runs (installed by cargo xtask setup)");
    assert!(ok.success(), "stack.c builds");
    let mount = format!("{}:/stack:ro", dir.0.display());
    let image = env("TRACER_WORKLOAD_IMAGE");
    let c = Container::run("stack", &["--network", "none", "-v", &mount, &image]);
    (c, dir)
}

/// Runs the fixture's chain once in `c` under `tracer observe --container C ARGS`.
fn traced(c: &Container, args: &[&str]) -> tests::Finished {
    let mut all = vec!["--container", c.name.as_str()];
    all.extend_from_slice(args);
    let tracer = Tracer::start(&all);
    docker(&["exec", &c.name, "/stack/stack"]);
    let done = tracer.stop();
    assert!(done.status.success(), "tracer failed: {}", done.stderr);
    done
}

fn marker(records: &[Value]) -> &Value {
    let found: Vec<&Value> = records
        .iter()
        .filter(|v| v["syscall"] == "faccessat" && v["args"][1]["value"] == "/stack-marker")
        .collect();
    assert_eq!(found.len(), 1, "one marker call");
    found[0]
}

fn symbols(stack: &Value) -> Vec<&str> {
    stack
        .as_array()
        .expect("a stack array")
        .iter()
        .map(|f| f["symbol"].as_str().unwrap_or("?"))
        .collect()
}

fn json_chain(hook: &str) {
    let (c, _dir) = stack_container();
    let done = traced(&c, &["-k", "--format", "json", "--hook", hook]);
    let records = done.syscalls();
    let m = marker(&records);
    let stack = &m["stack"];
    let names = symbols(stack);
    assert!(
        names.len() >= 4,
        "at least the chain's four frames: {stack}"
    );
    assert_eq!(
        names[..4],
        ["level_three", "level_two", "level_one", "main"],
        "the chain, innermost first: {stack}"
    );
    let frames = stack.as_array().expect("array");
    for f in &frames[..4] {
        assert_eq!(
            f["module"], "/stack/stack",
            "the binary as the container names it: {f}"
        );
        let addr = f["addr"].as_str().expect("addr");
        let off = f["file_offset"].as_str().expect("file offset");
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex");
        // A static non-PIE binary is mapped at 0x400000 with its text at file offset 0x1000
        // above it: the address minus the mapping's start plus its offset.
        assert!(
            hex(off) < hex(addr),
            "file offset {off} is inside the file, below the address {addr}"
        );
    }
    // level_three's frame is the syscall instruction's return address, past its start.
    assert!(
        frames[0]["offset"].as_u64().is_some_and(|o| o > 0),
        "{}",
        frames[0]
    );
    // exit_group never returns: its stack is taken at enter.
    let exit = records
        .iter()
        .filter(|v| v["syscall"] == "exit_group" && v["pid"] == m["pid"])
        .collect::<Vec<_>>();
    assert_eq!(exit.len(), 1, "one exit_group");
    assert!(
        exit[0]["stack"].as_array().is_some_and(|s| !s.is_empty()),
        "exit_group has a stack: {}",
        exit[0]
    );
    assert!(!done.stderr.contains("stacks not read"), "{}", done.stderr);
}

#[test]
fn stack_shows_the_call_chain_raw_tracepoint() {
    json_chain("raw");
}

#[test]
fn stack_shows_the_call_chain_btf_tracepoint() {
    json_chain("btf");
}

#[test]
fn stack_shows_the_call_chain_classic_tracepoint() {
    json_chain("tracepoint");
}

/// strace's -k lines after the call: ` > /stack/stack(level_three+0x21) [0x1636]`.
#[test]
fn stack_text_is_strace_k_lines_after_the_call() {
    let (c, _dir) = stack_container();
    let done = traced(&c, &["-k"]);
    let lines: Vec<&str> = done.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("faccessat(AT_FDCWD, \"/stack-marker\", F_OK)"))
        .unwrap_or_else(|| panic!("no marker line in {}", done.stdout));
    let frames: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with(" > "))
        .copied()
        .collect();
    assert!(frames.len() >= 4, "frames after the marker: {frames:?}");
    for (line, name) in frames
        .iter()
        .zip(["level_three", "level_two", "level_one", "main"])
    {
        let want = format!(" > /stack/stack({name}+0x");
        assert!(line.starts_with(&want), "{line:?} starts with {want:?}");
        let (_, bracket) = line.split_once(") [0x").expect("[0x…]");
        assert!(
            bracket.ends_with(']')
                && u64::from_str_radix(bracket.trim_end_matches(']'), 16).is_ok(),
            "{line:?}"
        );
    }
}

/// Without -k nothing changes: no stack in the JSON, no frame lines in the text.
#[test]
fn no_stack_without_k() {
    let (c, _dir) = stack_container();
    let done = traced(&c, &["--format", "json"]);
    let records = done.syscalls();
    assert!(marker(&records).get("stack").is_none());
    assert!(records.iter().all(|v| v.get("stack").is_none()));
    let done = traced(&c, &[]);
    assert!(done.stdout.contains("/stack-marker"));
    assert!(!done.stdout.lines().any(|l| l.starts_with(" > ")));
}
