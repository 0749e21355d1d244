//! The bounded queue between the OTLP sink and its export task, and the task: it takes
//! batches (up to `BATCH_RECORDS` records or `BATCH_BYTES`, or what came within `BATCH_DELAY`),
//! sends each with `LogsService/Export`, retries what may succeed later with exponential
//! backoff, and counts what it gives up. Nothing here is waited on by the sink, except its
//! end, bounded by the flush deadline.
//!
//! Records travel encoded (each an `opentelemetry.proto.logs.v1.LogRecord` as prost encodes it,
//! encoded once by the sink): a batch is assembled into one `ExportLogsServiceRequest` by
//! prefixing the enclosing messages' fields, and a retry sends the same bytes again. The call
//! is the generated client's (`tonic::client::Grpc::unary` on the service's path), with a codec
//! that passes those bytes through.
use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::{BufMut as _, Bytes};
use opentelemetry_proto::tonic::{
    collector::logs::v1::ExportLogsServiceResponse,
    common::v1::{InstrumentationScope, KeyValue},
    resource::v1::Resource,
};
use prost::{
    Message as _,
    encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len},
};
use tokio::{sync::Notify, time::Instant};
use tonic::{
    Code, Status,
    client::Grpc,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
    transport::Channel,
};

use crate::model::ExportCounts;

/// Records waiting for the export task; past this, new records are dropped and counted.
pub const QUEUE_RECORDS: usize = 8192;
/// The most records in one export request.
pub const BATCH_RECORDS: usize = 512;
/// The most bytes (encoded) in one export request: receivers refuse messages over 4 MiB by
/// default.
pub const BATCH_BYTES: usize = 1 << 20;
/// How long the first record of a batch waits for others.
pub const BATCH_DELAY: Duration = Duration::from_secs(1);
/// One export request's time limit.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts per batch before it is counted lost.
pub const ATTEMPTS: u32 = 5;
/// The wait after the first failed attempt; doubled after each, up to `MAX_BACKOFF`.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Connecting to the receiver's address.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One `LogRecord`, encoded.
pub type Encoded = Vec<u8>;

struct Inner {
    records: VecDeque<Encoded>,
    /// The run is over: export what is queued until then, count the rest.
    deadline: Option<Instant>,
}

/// Records from the sink to the export task.
pub struct Queue {
    inner: Mutex<Inner>,
    /// Records queued, readable without the lock.
    len: AtomicUsize,
    capacity: usize,
    wake: Notify,
    counts: Arc<ExportCounts>,
}

impl Queue {
    pub fn new(capacity: usize, counts: Arc<ExportCounts>) -> Self {
        Queue {
            inner: Mutex::new(Inner {
                records: VecDeque::new(),
                deadline: None,
            }),
            len: AtomicUsize::new(0),
            capacity,
            wake: Notify::new(),
            counts,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_len(&self, len: usize) {
        self.len.store(len, Ordering::Relaxed);
        self.counts.queued.store(len as u64, Ordering::Relaxed);
    }

    /// Whether `pending` more records (not queued yet) would still fit.
    pub fn has_room(&self, pending: usize) -> bool {
        self.len.load(Ordering::Relaxed) + pending < self.capacity
    }

    /// Moves `batch` into the queue; what does not fit is dropped and counted.
    pub fn push(&self, batch: &mut Vec<Encoded>) {
        if batch.is_empty() {
            return;
        }
        let mut inner = self.lock();
        let was_empty = inner.records.is_empty();
        let room = self.capacity.saturating_sub(inner.records.len());
        let take = room.min(batch.len());
        let dropped = batch.len() - take;
        inner.records.extend(batch.drain(..take));
        batch.clear();
        let len = inner.records.len();
        self.set_len(len);
        drop(inner);
        ExportCounts::add(&self.counts.queue_full, dropped as u64);
        if was_empty || len >= BATCH_RECORDS {
            self.wake.notify_one();
        }
    }

    /// The run is over: what is not exported by `deadline` is counted lost.
    pub fn close(&self, deadline: Instant) {
        let mut inner = self.lock();
        if inner.deadline.is_none_or(|d| deadline < d) {
            inner.deadline = Some(deadline);
        }
        drop(inner);
        self.wake.notify_one();
    }

    fn deadline(&self) -> Option<Instant> {
        self.lock().deadline
    }

    /// The next batch: up to `BATCH_RECORDS` or `BATCH_BYTES`, once that many are queued,
    /// `BATCH_DELAY` after the first, or at once when the run is over; `None` at the end.
    pub(super) async fn next_batch(&self) -> Option<Vec<Encoded>> {
        loop {
            {
                let inner = self.lock();
                if !inner.records.is_empty() || inner.deadline.is_some() {
                    break;
                }
            }
            self.wake.notified().await;
        }
        let window = Instant::now() + BATCH_DELAY;
        loop {
            {
                let inner = self.lock();
                if inner.records.len() >= BATCH_RECORDS || inner.deadline.is_some() {
                    break;
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep_until(window) => break,
            }
        }
        let mut inner = self.lock();
        if inner.records.is_empty() {
            return None;
        }
        let mut batch = Vec::with_capacity(BATCH_RECORDS.min(inner.records.len()));
        let mut bytes = 0;
        while batch.len() < BATCH_RECORDS {
            let Some(next) = inner.records.front() else {
                break;
            };
            let size = next.len();
            if !batch.is_empty() && bytes + size > BATCH_BYTES {
                break;
            }
            bytes += size;
            batch.extend(inner.records.pop_front());
        }
        self.set_len(inner.records.len());
        Some(batch)
    }
}

fn kv(key: &str, value: String) -> KeyValue {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(value)),
        }),
        ..KeyValue::default()
    }
}

/// Who sends: `service.name` tracer, its version, and the host's name.
fn resource() -> Resource {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    Resource {
        attributes: vec![
            kv("service.name", "tracer".into()),
            kv("service.version", VERSION.into()),
            kv("host.name", host),
        ],
        ..Resource::default()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "tracer".into(),
        version: VERSION.into(),
        ..InstrumentationScope::default()
    }
}

/// Codes after which the same request may succeed (the OTLP specification's retryable ones,
/// less RESOURCE_EXHAUSTED, retryable only with the server's RetryInfo, which is not read).
fn retryable(code: Code) -> bool {
    matches!(
        code,
        Code::Cancelled
            | Code::DeadlineExceeded
            | Code::Aborted
            | Code::OutOfRange
            | Code::Unavailable
            | Code::DataLoss
    )
}

/// `opentelemetry.proto.collector.logs.v1.LogsService/Export`.
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// An `ExportLogsServiceRequest` of one `ResourceLogs` (`resource`) with one `ScopeLogs`
/// (`scope`) holding `records`; `resource` and `scope` are encoded messages, as are the
/// records. Field numbers: opentelemetry/proto/collector/logs/v1/logs_service.proto and
/// logs/v1/logs.proto.
pub fn request(resource: &[u8], scope: &[u8], records: &[Encoded]) -> Bytes {
    /// A length-delimited field's size: key, length, bytes.
    fn field_len(tag: u32, len: usize) -> usize {
        key_len(tag) + encoded_len_varint(len as u64) + len
    }
    fn field_head(tag: u32, len: usize, out: &mut Vec<u8>) {
        encode_key(tag, WireType::LengthDelimited, out);
        encode_varint(len as u64, out);
    }
    // ScopeLogs { scope = 1; repeated log_records = 2 }
    let scope_logs =
        field_len(1, scope.len()) + records.iter().map(|r| field_len(2, r.len())).sum::<usize>();
    // ResourceLogs { resource = 1; repeated scope_logs = 2 }
    let resource_logs = field_len(1, resource.len()) + field_len(2, scope_logs);
    // ExportLogsServiceRequest { repeated resource_logs = 1 }
    let mut out = Vec::with_capacity(field_len(1, resource_logs));
    field_head(1, resource_logs, &mut out);
    field_head(1, resource.len(), &mut out);
    out.put_slice(resource);
    field_head(2, scope_logs, &mut out);
    field_head(1, scope.len(), &mut out);
    out.put_slice(scope);
    for r in records {
        field_head(2, r.len(), &mut out);
        out.put_slice(r);
    }
    Bytes::from(out)
}

/// Sends an encoded request as it is; decodes the response with prost.
#[derive(Debug, Clone, Copy, Default)]
struct PassThrough;

impl Codec for PassThrough {
    type Encode = Bytes;
    type Decode = ExportLogsServiceResponse;
    type Encoder = PassThrough;
    type Decoder = PassThrough;

    fn encoder(&mut self) -> Self::Encoder {
        *self
    }

    fn decoder(&mut self) -> Self::Decoder {
        *self
    }
}

impl Encoder for PassThrough {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for PassThrough {
    type Item = ExportLogsServiceResponse;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        ExportLogsServiceResponse::decode(src)
            .map(Some)
            .map_err(|e| Status::internal(format!("undecodable response: {e}")))
    }
}

/// The export task's state: the channel, and whether the receiver is failing (logged once
/// when it starts failing and once when it works again).
pub struct Exporter {
    endpoint: String,
    grpc: Grpc<Channel>,
    queue: Arc<Queue>,
    counts: Arc<ExportCounts>,
    resource: Vec<u8>,
    scope: Vec<u8>,
    failing: bool,
}

impl Exporter {
    /// The channel connects when it first sends, and again after the receiver went away.
    pub fn new(
        endpoint: &str,
        queue: Arc<Queue>,
        counts: Arc<ExportCounts>,
    ) -> Result<Self, String> {
        let channel = tonic::transport::Endpoint::from_shared(endpoint.to_string())
            .map_err(|e| e.to_string())?
            .connect_timeout(CONNECT_TIMEOUT)
            .connect_lazy();
        Ok(Exporter {
            endpoint: endpoint.to_string(),
            grpc: Grpc::new(channel),
            queue,
            counts,
            resource: resource().encode_to_vec(),
            scope: scope().encode_to_vec(),
            failing: false,
        })
    }

    /// Exports batches until the queue is closed and empty; `done` is dropped at the end.
    pub async fn run(mut self, done: std::sync::mpsc::Sender<()>) {
        let queue = self.queue.clone();
        while let Some(batch) = queue.next_batch().await {
            self.export(&batch).await;
        }
        drop(done);
    }

    fn failed(&mut self, why: &str) {
        ExportCounts::add(&self.counts.failures, 1);
        if !self.failing {
            self.failing = true;
            tracing::warn!(
                "otlp export to {} failed: {why}; retrying with backoff, records are dropped (and counted) while the queue is full",
                self.endpoint
            );
        } else {
            tracing::debug!("otlp export to {} failed: {why}", self.endpoint);
        }
    }

    /// One attempt: the receiver's answer.
    async fn send(&mut self, request: Bytes) -> Result<ExportLogsServiceResponse, Status> {
        self.grpc
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
        let path = PathAndQuery::from_static(EXPORT_PATH);
        self.grpc
            .unary(tonic::Request::new(request), path, PassThrough)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn export(&mut self, batch: &[Encoded]) {
        let n = batch.len() as u64;
        let request = request(&self.resource, &self.scope, batch);
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let deadline = self.queue.deadline();
            let limit = deadline.map_or(ATTEMPT_TIMEOUT, |d| {
                d.saturating_duration_since(Instant::now())
                    .min(ATTEMPT_TIMEOUT)
            });
            if limit.is_zero() {
                ExportCounts::add(&self.counts.at_exit, n);
                return;
            }
            match tokio::time::timeout(limit, self.send(request.clone())).await {
                Ok(Ok(response)) => {
                    let rejected = response
                        .partial_success
                        .map_or(0, |p| u64::try_from(p.rejected_log_records).unwrap_or(0))
                        .min(n);
                    ExportCounts::add(&self.counts.exported, n - rejected);
                    ExportCounts::add(&self.counts.rejected, rejected);
                    if self.failing {
                        self.failing = false;
                        tracing::info!("otlp export to {} works again", self.endpoint);
                    }
                    return;
                }
                Ok(Err(status)) => {
                    let why = format!("{}: {}", status.code(), status.message())
                        .replace(['\n', '\r'], " ");
                    self.failed(&why);
                    if !retryable(status.code()) {
                        ExportCounts::add(&self.counts.export_failed, n);
                        return;
                    }
                }
                Err(_) if deadline.is_some_and(|d| Instant::now() >= d) => {
                    ExportCounts::add(&self.counts.at_exit, n);
                    return;
                }
                Err(_) => self.failed(&format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
            }
            if attempt == ATTEMPTS {
                break;
            }
            if self
                .queue
                .deadline()
                .is_some_and(|d| Instant::now() + backoff >= d)
            {
                ExportCounts::add(&self.counts.at_exit, n);
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        ExportCounts::add(&self.counts.export_failed, n);
    }
}
