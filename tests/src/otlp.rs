//! A real OTLP/gRPC logs receiver: tests/fixtures/otlp_receiver.py, built from the official
//! `opentelemetry-proto` package, run with the venv's Python that `cargo xtask setup` makes
//! (`TRACER_PYTHON`). It listens on 127.0.0.1 and writes what it receives as JSON lines.
use std::{
    io::{BufRead as _, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;

use crate::{TempDir, env};

/// How the receiver answers exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every export is accepted.
    Accept,
    /// No export is ever answered.
    Stall,
    /// Every export is answered UNAVAILABLE.
    Unavailable,
}

impl Mode {
    fn arg(self) -> &'static str {
        match self {
            Mode::Accept => "accept",
            Mode::Stall => "stall",
            Mode::Unavailable => "unavailable",
        }
    }
}

/// A running receiver, stopped when dropped.
pub struct Receiver {
    child: Option<Child>,
    pub port: u16,
    /// The JSON lines it writes: one per log record.
    pub out: PathBuf,
    _dir: TempDir,
}

impl Receiver {
    /// On a free port of 127.0.0.1.
    pub fn start(mode: Mode) -> Receiver {
        Receiver::start_on(0, mode)
    }

    /// On 127.0.0.1:`port` (0: any free one); returns once it serves.
    pub fn start_on(port: u16, mode: Mode) -> Receiver {
        let dir = TempDir::new("otlp");
        let out = dir.0.join("records.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/otlp_receiver.py");
        let mut child = Command::new(env("TRACER_PYTHON"))
            .arg(script)
            .arg("--out")
            .arg(&out)
            .args(["--port", &port.to_string(), "--mode", mode.arg()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the OTLP receiver starts (run `cargo xtask setup` for its venv)");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the OTLP receiver says where it listens");
        let port = line
            .trim()
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or_else(|| panic!("the OTLP receiver printed {line:?}"));
        Receiver {
            child: Some(child),
            port,
            out,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT`, for `--otlp`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every log record received so far (complete lines).
    pub fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        let end = text.rfind('\n').map_or(0, |i| i + 1);
        text[..end]
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
