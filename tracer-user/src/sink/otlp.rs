//! OTLP export (`--otlp`, docs/otlp.md): every record as an OpenTelemetry log record, sent over
//! gRPC (`opentelemetry.proto.collector.logs.v1.LogsService/Export`) by a task of its own. The
//! sink only renders into a bounded queue and never waits on the network: a receiver that is
//! down, slow or refusing costs dropped records, counted ([`ExportCounts`]), never a stalled
//! pipeline. At the end, what is queued is exported within [`FLUSH_DEADLINE`].
pub mod export;
pub mod render;
#[cfg(test)]
mod tests;

use std::{
    io,
    sync::{Arc, mpsc},
    time::Duration,
};

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message as _;

use super::{Lost, Sink};
use crate::model::{Event, ExportCounts, Lifecycle, SignalEvent, clock::Clock};
use export::{Encoded, Exporter, Queue};
use render::Render;

/// How long the end of a run waits for the queued records to be exported.
pub const FLUSH_DEADLINE: Duration = Duration::from_secs(5);

/// A checked OTLP/gRPC receiver address, `http://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(String);

impl Endpoint {
    /// `http://HOST:PORT`, `HOST:PORT` (http) or a bare `PORT` (on 127.0.0.1); otherwise why
    /// not.
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let t = s.trim();
        if let Ok(port) = t.parse::<u16>() {
            return match port {
                0 => Err("port 0".into()),
                p => Ok(Endpoint(format!("http://127.0.0.1:{p}"))),
            };
        }
        let full = match t.contains("://") {
            true => t.to_string(),
            false => format!("http://{t}"),
        };
        let uri: tonic::codegen::http::Uri =
            full.parse().map_err(|e| format!("not an address ({e})"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(
                    "https (TLS) is not supported yet: export to a collector over http://".into(),
                );
            }
            other => return Err(format!("scheme {} is not http", other.unwrap_or("missing"))),
        }
        let authority = uri.authority().ok_or("no host")?;
        if authority.as_str().contains('@') {
            return Err("credentials in the address are not supported".into());
        }
        if authority.host().is_empty() {
            return Err("no host".into());
        }
        match authority.port_u16() {
            None => return Err("no port (OTLP/gRPC listens on 4317 by default)".into()),
            Some(0) => return Err("port 0".into()),
            Some(_) => {}
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err("a path (OTLP/gRPC takes none)".into());
        }
        Ok(Endpoint(format!("http://{authority}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The sink: renders each record and queues it at the end of each batch.
pub struct Otlp {
    render: Render,
    /// This batch's records, encoded, queued at `flush`.
    pending: Vec<Encoded>,
    queue: Arc<Queue>,
    counts: Arc<ExportCounts>,
    /// Disconnected when the export task has ended.
    done: mpsc::Receiver<()>,
}

impl Otlp {
    /// Starts the export task to `endpoint` on the current tokio runtime.
    pub fn start(endpoint: &Endpoint, clock: Clock, counts: Arc<ExportCounts>) -> io::Result<Otlp> {
        let queue = Arc::new(Queue::new(export::QUEUE_RECORDS, counts.clone()));
        let exporter = Exporter::new(endpoint.as_str(), queue.clone(), counts.clone())
            .map_err(io::Error::other)?;
        let (done_tx, done) = mpsc::channel();
        tokio::spawn(exporter.run(done_tx));
        Ok(Otlp {
            render: Render::new(clock),
            pending: Vec::new(),
            queue,
            counts,
            done,
        })
    }

    /// Queues `render`'s record, or counts it dropped when the queue is full (without
    /// rendering it).
    fn add(&mut self, render: impl FnOnce(&mut Render) -> LogRecord) {
        if self.queue.has_room(self.pending.len()) {
            let r = render(&mut self.render);
            self.pending.push(r.encode_to_vec());
        } else {
            ExportCounts::add(&self.counts.queue_full, 1);
        }
    }
}

impl Sink for Otlp {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        self.add(|r| r.event(e));
        Ok(())
    }

    fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        self.add(|r| r.lost(lost));
        Ok(())
    }

    fn signal(&mut self, s: &SignalEvent) -> io::Result<()> {
        self.add(|r| r.signal(s));
        Ok(())
    }

    fn lifecycle(&mut self, l: &Lifecycle) -> io::Result<()> {
        self.add(|r| r.lifecycle(l));
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.queue.push(&mut self.pending);
        Ok(())
    }

    /// Queues the last records and waits until the export task has sent what it could by
    /// the flush deadline (it counts the rest).
    fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        self.queue
            .close(tokio::time::Instant::now() + FLUSH_DEADLINE);
        // The task ends by the deadline; the margin covers an attempt it had started.
        let _ = self
            .done
            .recv_timeout(FLUSH_DEADLINE + Duration::from_secs(1));
        Ok(())
    }
}

impl Drop for Otlp {
    /// A run that ended without `finish` (a failed write elsewhere): the task counts what is
    /// left and ends.
    fn drop(&mut self) {
        self.queue.close(tokio::time::Instant::now());
    }
}
