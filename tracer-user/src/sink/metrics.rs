//! Prometheus metrics (prometheus-client) and the HTTP endpoint serving them with `/healthz`
//! (hyper). Record counters are a sink (updated once per batch); the follower reports through
//! `FollowReport`; the ring buffer gauges are read from the reader when scraped.
use std::{
    collections::HashMap,
    convert::Infallible,
    io,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{
    Request, Response, StatusCode, body::Incoming, server::conn::http1, service::service_fn,
};
use hyper_util::rt::TokioIo;
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, text::encode},
    metrics::{
        MetricType,
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::{ConstGauge, Gauge},
    },
    registry::Registry,
};
use tokio::net::TcpListener;

use super::{Lost, Sink};
use crate::{
    decode::{DecodeError, errno, syscalls},
    model::{
        Event, ExportCounts, Gauges,
        export::DROP_REASONS,
        seccomp::{Finding, Verdict},
        summary::TargetCount,
    },
    runtime::follow::FollowReport,
};

/// Container labels cached by [`Counting`] before it starts over.
const NAMES_KEPT: usize = 4096;

/// Records of events that belong to no followed container.
const UNATTRIBUTED: &str = "_unattributed";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecordLabels {
    pub container: String,
    pub syscall: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrnoLabels {
    pub container: String,
    pub syscall: String,
    pub errno: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
    pub kernel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub container: String,
    pub syscall: String,
    pub verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ContainerLabel {
    pub container: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub container: String,
    pub state: String,
}

/// A followed container's state, one gauge per state set to 1 for the current one.
pub const STATES: [&str; 4] = ["waiting", "following", "stopped", "unsupported"];

pub struct Metrics {
    registry: Registry,
    pub records: Family<RecordLabels, Counter>,
    /// From the kernel's summary maps: every followed call, whatever the filters show.
    pub syscalls: Family<RecordLabels, Counter>,
    pub syscall_errors: Family<ErrnoLabels, Counter>,
    /// Bytes of records written, by container.
    pub output_bytes: Family<ContainerLabel, Counter>,
    /// `--seccomp-watch`'s findings.
    pub seccomp_findings: Family<FindingLabels, Counter>,
    pub decode_errors: Counter,
    pub lost: Counter,
    /// The same losses, by the container whose record it was (counted in the kernel).
    pub container_lost: Family<ContainerLabel, Counter>,
    ring_fill: Gauge,
    ring_peak: Gauge,
    pub followed: Gauge,
    pub state: Family<StateLabels, Gauge>,
    pub starts: Family<ContainerLabel, Counter>,
    pub follow_gap: Family<ContainerLabel, Gauge<f64, AtomicU64>>,
    pub docker_connected: Gauge,
    /// False once the reader or the writer has stopped: /healthz answers 503.
    pub healthy: AtomicBool,
}

impl Metrics {
    pub fn new(ring_size: u32) -> Metrics {
        let mut registry = Registry::with_prefix("tracer");
        let m = Metrics {
            records: Family::default(),
            syscalls: Family::default(),
            syscall_errors: Family::default(),
            output_bytes: Family::default(),
            seccomp_findings: Family::default(),
            decode_errors: Counter::default(),
            lost: Counter::default(),
            container_lost: Family::default(),
            ring_fill: Gauge::default(),
            ring_peak: Gauge::default(),
            followed: Gauge::default(),
            state: Family::default(),
            starts: Family::default(),
            follow_gap: Family::default(),
            docker_connected: Gauge::default(),
            healthy: AtomicBool::new(true),
            registry: Registry::default(),
        };
        registry.register(
            "records",
            "Syscall records written, by container and syscall",
            m.records.clone(),
        );
        registry.register(
            "syscalls",
            "Syscalls made by the followed containers' processes (counted in the kernel, whatever --syscalls, --status and --exclude-comm show), by container and syscall",
            m.syscalls.clone(),
        );
        registry.register(
            "syscall_errors",
            "Of tracer_syscalls_total, the calls that failed, by errno",
            m.syscall_errors.clone(),
        );
        registry.register(
            "output_bytes",
            "Bytes of records written to the container's output",
            m.output_bytes.clone(),
        );
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").into(),
                kernel: kernel_release(),
            })
            .set(1);
        registry.register(
            "build_info",
            "1, labelled with tracer's version and the kernel it runs on",
            build,
        );
        registry.register(
            "seccomp_findings",
            "Calls the --seccomp-watch profile would not simply have allowed, by container, syscall and verdict (would_deny, would_kill, would_trap, would_log, would_trace, would_notify)",
            m.seccomp_findings.clone(),
        );
        registry.register(
            "lost_events",
            "Records the kernel could not store (ring buffer full), all containers",
            m.lost.clone(),
        );
        registry.register(
            "container_lost_events",
            "Of tracer_lost_events_total, the records of this container (counted in the kernel)",
            m.container_lost.clone(),
        );
        registry.register(
            "decode_errors",
            "Records that could not be decoded",
            m.decode_errors.clone(),
        );
        registry.register(
            "ring_buffer_fill_bytes",
            "Bytes waiting in the ring buffer when the reader last woke",
            m.ring_fill.clone(),
        );
        registry.register(
            "ring_buffer_peak_fill_bytes",
            "Largest ring buffer fill seen since start",
            m.ring_peak.clone(),
        );
        let size: Gauge = Gauge::default();
        size.set(i64::from(ring_size));
        registry.register("ring_buffer_size_bytes", "Ring buffer size", size);
        registry.register(
            "targets_followed",
            "Containers whose cgroup is in the kernel filter now",
            m.followed.clone(),
        );
        registry.register(
            "target_state",
            "1 for each named container's current state (waiting, following, stopped, unsupported)",
            m.state.clone(),
        );
        registry.register(
            "target_starts",
            "Incarnations (starts, restarts, re-creations) of a container followed",
            m.starts.clone(),
        );
        registry.register(
            "follow_gap_seconds",
            "Last start: time the cgroup entered the filter minus the container's start time (negative: followed before its process started)",
            m.follow_gap.clone(),
        );
        registry.register(
            "docker_connected",
            "1 while the Docker events stream is connected",
            m.docker_connected.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Adds the OTLP export's counters (`--otlp`), read from `counts` when scraped.
    pub fn with_otlp(mut self, counts: Arc<ExportCounts>) -> Metrics {
        self.registry
            .register_collector(Box::new(OtlpCollector(counts)));
        self
    }

    /// Sets `name`'s state gauge (one of [`STATES`]).
    pub fn set_state(&self, name: &str, state: &str) {
        for s in STATES {
            self.state
                .get_or_create(&StateLabels {
                    container: name.to_string(),
                    state: s.to_string(),
                })
                .set(i64::from(s == state));
        }
    }

    /// The text exposition, after copying the reader's gauges.
    pub fn render(&self, gauges: &Gauges) -> String {
        self.ring_fill
            .set(gauges.fill_bytes.load(Ordering::Relaxed) as i64);
        self.ring_peak
            .set(gauges.peak_fill_bytes.load(Ordering::Relaxed) as i64);
        let lost = gauges.lost.load(Ordering::Relaxed);
        let seen = self.lost.get();
        if lost > seen {
            self.lost.inc_by(lost - seen);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// `uname -r`.
fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

impl FollowReport for Metrics {
    fn state(&self, name: &str, state: &str) {
        self.set_state(name, state);
    }

    fn started(&self, name: &str, first: bool) {
        if first {
            self.followed.inc();
        }
        self.starts
            .get_or_create(&ContainerLabel {
                container: name.to_string(),
            })
            .inc();
    }

    fn stopped(&self, _name: &str) {
        self.followed.dec();
    }

    fn follow_gap(&self, name: &str, seconds: f64) {
        self.follow_gap
            .get_or_create(&ContainerLabel {
                container: name.to_string(),
            })
            .set(seconds);
    }

    fn engine_connected(&self, up: bool) {
        self.docker_connected.set(i64::from(up));
    }

    fn forget(&self, name: &str) {
        for s in STATES {
            self.state.remove(&StateLabels {
                container: name.to_string(),
                state: s.to_string(),
            });
        }
        let c = ContainerLabel {
            container: name.to_string(),
        };
        self.starts.remove(&c);
        self.follow_gap.remove(&c);
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

/// `tracer_otlp_*`: the export's counters as they are when scraped.
#[derive(Debug)]
struct OtlpCollector(Arc<ExportCounts>);

impl Collector for OtlpCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &self.0;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        for (name, help, value) in [
            (
                "otlp_records_exported",
                "Records the OTLP receiver accepted",
                get(&c.exported),
            ),
            (
                "otlp_export_failures",
                "OTLP export requests that failed (every attempt, retries included)",
                get(&c.failures),
            ),
        ] {
            let counter = ConstCounter::new(value);
            let m = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(m)?;
        }
        let mut m = encoder.encode_descriptor(
            "otlp_records_dropped",
            "Records not exported, by reason: queue_full (receiver down, slow or refusing), export_failed (every attempt failed), rejected (by the receiver), at_exit (flush deadline passed)",
            None,
            MetricType::Counter,
        )?;
        for reason in DROP_REASONS {
            let label = ReasonLabel {
                reason: reason.to_string(),
            };
            ConstCounter::new(c.dropped_for(reason)).encode(m.encode_family(&label)?)?;
        }
        let queued = ConstGauge::new(i64::try_from(get(&c.queued)).unwrap_or(i64::MAX));
        let m = encoder.encode_descriptor(
            "otlp_queue_records",
            "Records waiting for the OTLP export",
            None,
            queued.metric_type(),
        )?;
        queued.encode(m)
    }
}

/// The sink that counts records by container and syscall: counted in a plain map per batch,
/// added to the labelled counters at each flush.
pub struct Counting {
    metrics: Arc<Metrics>,
    batch: HashMap<(Option<Arc<str>>, u32), u64>,
    findings: HashMap<(Option<Arc<str>>, u32, Verdict), u64>,
    /// Container labels (name, or `NS/POD/NAME`) by id, shared by every count of a container.
    names: HashMap<String, Arc<str>>,
}

impl Counting {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Counting {
            metrics,
            batch: HashMap::new(),
            findings: HashMap::new(),
            names: HashMap::new(),
        }
    }

    /// The container label of `e`, shared.
    fn label(&mut self, e: &Event) -> Option<Arc<str>> {
        e.container
            .as_ref()
            .map(|c| match self.names.get(c.id.as_str()) {
                Some(n) => n.clone(),
                None => {
                    // Bounded like the registry: containers that come and go are not remembered.
                    if self.names.len() >= NAMES_KEPT {
                        self.names.clear();
                    }
                    let n: Arc<str> = Arc::from(c.label().as_ref());
                    self.names.insert(c.id.clone(), n.clone());
                    n
                }
            })
    }
}

impl Sink for Counting {
    fn event(&mut self, e: &Event) -> io::Result<()> {
        let name = self.label(e);
        *self.batch.entry((name, e.call.nr)).or_default() += 1;
        Ok(())
    }

    fn seccomp(&mut self, e: &Event, f: &Finding) -> io::Result<()> {
        let name = self.label(e);
        *self
            .findings
            .entry((name, e.call.nr, f.verdict))
            .or_default() += 1;
        Ok(())
    }

    fn lost(&mut self, _lost: &Lost) -> io::Result<()> {
        Ok(())
    }

    fn undecodable(&mut self, _e: &DecodeError) {
        self.metrics.decode_errors.inc();
    }

    fn counts(&mut self, counts: &[TargetCount]) -> io::Result<()> {
        for c in counts {
            let container = c
                .container
                .as_ref()
                .map_or(UNATTRIBUTED.into(), |c| c.label().into_owned());
            if c.is_lost() {
                self.metrics
                    .container_lost
                    .get_or_create(&ContainerLabel { container })
                    .inc_by(c.calls);
                continue;
            }
            let syscall = syscalls::display_name(c.nr).into_owned();
            if c.calls > 0 {
                self.metrics
                    .syscalls
                    .get_or_create(&RecordLabels {
                        container: container.clone(),
                        syscall: syscall.clone(),
                    })
                    .inc_by(c.calls);
            }
            for &(errno, n) in &c.errnos {
                self.metrics
                    .syscall_errors
                    .get_or_create(&ErrnoLabels {
                        container: container.clone(),
                        syscall: syscall.clone(),
                        errno: errno::name(errno as i32),
                    })
                    .inc_by(n);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        for ((name, nr), n) in self.batch.drain() {
            self.metrics
                .records
                .get_or_create(&RecordLabels {
                    container: name.as_deref().unwrap_or(UNATTRIBUTED).to_string(),
                    syscall: syscalls::display_name(nr).into_owned(),
                })
                .inc_by(n);
        }
        for ((name, nr, verdict), n) in self.findings.drain() {
            self.metrics
                .seccomp_findings
                .get_or_create(&FindingLabels {
                    container: name.as_deref().unwrap_or(UNATTRIBUTED).to_string(),
                    syscall: syscalls::display_name(nr).into_owned(),
                    verdict: verdict.as_str().to_string(),
                })
                .inc_by(n);
        }
        Ok(())
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn handle(req: &Request<Incoming>, metrics: &Metrics, gauges: &Gauges) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/metrics" => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.render(gauges),
        ),
        "/healthz" if metrics.healthy.load(Ordering::Relaxed) => {
            reply(StatusCode::OK, "text/plain", "ok\n".into())
        }
        "/healthz" => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "reader or writer stopped\n".into(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics or /healthz\n".into(),
        ),
    }
}

/// Serves until the task is dropped; one task per connection.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, gauges: Arc<Gauges>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let (metrics, gauges) = (metrics.clone(), gauges.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let r = handle(&req, &metrics, &gauges);
                async move { Ok::<_, Infallible>(r) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "metrics connection");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        decode::{self, tests as fixtures},
        model::{Container, Runtime},
    };

    #[test]
    fn findings_are_counted_by_container_syscall_and_verdict() {
        let metrics = Arc::new(Metrics::new(1 << 20));
        let mut c = Counting::new(metrics.clone());
        let nr = syscalls::number("fchmodat").expect("fchmodat");
        let ev = decode::decode(&fixtures::bytes(&fixtures::record(0, nr, 0))).expect("decodes");
        let mut e = decode::event(ev, decode::args::Options::default());
        e.container = Some(Arc::new(Container {
            id: "abc".into(),
            name: "web".into(),
            runtime: Runtime::Docker,
            pod: None,
        }));
        let f = Finding {
            verdict: Verdict::WouldDeny,
            action: "SCMP_ACT_ERRNO",
            errno: Some(1),
            rule: Some(0),
            profile: Arc::from("p.json"),
        };
        for _ in 0..2 {
            c.event(&e).expect("counts");
            c.seccomp(&e, &f).expect("counts");
        }
        c.flush().expect("flushes");
        let text = metrics.render(&Gauges::default());
        assert!(
            text.contains(
                "tracer_seccomp_findings_total{container=\"web\",syscall=\"fchmodat\",verdict=\"would_deny\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("tracer_records_total{container=\"web\",syscall=\"fchmodat\"} 2\n"),
            "{text}"
        );
    }
}
