//! `cargo xtask demo`: the README's first command. Observes the nginx container `web` (started
//! from the local image when absent, reused when running) while a light loopback load runs.
use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    path::Path,
    process::Command,
    thread,
    time::Duration,
};

use anyhow::Result;
use clap::Args;

use crate::{
    images::NGINX_IMAGE,
    util::{cmd, output, run_ok},
};

#[derive(Args)]
pub struct DemoArgs {
    /// Container to observe; `web` is started from the demo image when it does not exist.
    #[arg(long, default_value = "web")]
    container: String,
    /// Do not send a request per second to 127.0.0.1:8080.
    #[arg(long)]
    no_traffic: bool,
    /// Arguments for `tracer observe` (default: --format text).
    #[arg(trailing_var_arg = true)]
    tracer_args: Vec<String>,
}

pub fn build_tracer(root: &Path) -> Result<()> {
    run_ok(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "--bins",
        "-p",
        "tracer-user",
    ]))
}

fn ensure_web(name: &str) -> Result<()> {
    let state = output(
        cmd(
            "docker",
            &["container", "inspect", "-f", "{{.State.Running}}", name],
        )
        .stderr(std::process::Stdio::null()),
    );
    match state.as_deref().map(str::trim) {
        Ok("true") => Ok(()),
        Ok(_) => run_ok(cmd("docker", &["start", name]).stdout(std::process::Stdio::null())),
        Err(_) => run_ok(
            cmd(
                "docker",
                &[
                    "run",
                    "-d",
                    "--name",
                    name,
                    "--network",
                    "host",
                    NGINX_IMAGE,
                ],
            )
            .stdout(std::process::Stdio::null()),
        ),
    }
}

/// One GET a second to the demo server on loopback, for as long as the demo runs.
fn traffic() {
    thread::spawn(|| {
        loop {
            thread::sleep(Duration::from_secs(1));
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", 8080)) {
                let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut sink = Vec::new();
                let _ = s.read_to_end(&mut sink);
            }
        }
    });
}

pub fn run(root: &Path, args: DemoArgs) -> Result<()> {
    crate::setup::run_all(root)?;
    build_tracer(root)?;
    if args.container == "web" {
        ensure_web("web")?;
        if !args.no_traffic {
            eprintln!("demo: sending one request a second to http://127.0.0.1:8080/");
            traffic();
        }
    }
    // Ctrl-C goes to tracer, which drains and prints its summary; xtask waits for it.
    // SAFETY: ignoring SIGINT in this process only; the child resets it on exec.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let mut c = Command::new(root.join("target/release/tracer"));
    c.args(["observe", "--container", &args.container]);
    if args.tracer_args.is_empty() {
        c.args(["--format", "text"]);
    } else {
        c.args(&args.tracer_args);
    }
    // SAFETY: restoring the default disposition in the child before exec.
    unsafe {
        use std::os::unix::process::CommandExt as _;
        c.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let status = c.status()?;
    std::process::exit(status.code().unwrap_or(1));
}
