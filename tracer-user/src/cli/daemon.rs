//! `tracer daemon`: arguments and the TOML config file, merged into `config::DaemonConfig`.
use std::path::PathBuf;

use clap::Args;

use crate::{
    config::{self, DaemonConfig, DaemonFile},
    error::Error,
    sink::{file::Rotation, route::Output},
};

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// A container to follow by name (repeat for several); followed across restarts and
    /// re-creation, waited for when it does not exist yet.
    #[arg(long = "container", value_name = "NAME")]
    pub containers: Vec<String>,
    /// With --runtime cri: every container of the pod NAMESPACE/NAME (or NAME in --namespace,
    /// or in any namespace), repeat for several; each followed across restarts, its records in
    /// NAMESPACE_POD_CONTAINER.jsonl with --output-dir.
    #[arg(long = "pod", value_name = "[NS/]NAME")]
    pub pods: Vec<String>,
    /// With --runtime cri: every container of the pods whose labels include all of
    /// LABEL=VALUE[,LABEL=VALUE…] (in --namespace, or any), as they come and go; repeat for
    /// pods matching any of several.
    #[arg(long = "selector", value_name = "LABEL=VALUE,…")]
    pub selectors: Vec<String>,
    /// The Kubernetes namespace of --selector and of --pod without NS/. Default: every one.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// The engine that runs them: docker (DOCKER_HOST; the default) or podman (CONTAINER_HOST),
    /// followed through their events; containerd (CONTAINERD_ADDRESS; ids or nerdctl names)
    /// or cri (CONTAINER_RUNTIME_ENDPOINT; Kubernetes container names or ids), asked on each of
    /// containerd's task events and every second.
    #[arg(long, value_name = "ENGINE")]
    pub runtime: Option<crate::model::Runtime>,
    /// TOML config file (keys as the long options, e.g. `containers = ["web"]`,
    /// `output-dir = "/var/log/tracer"`); options given here override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// All containers' JSON lines to this file (default: standard output).
    #[arg(long, short, value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,
    /// One JSON lines file per container: DIR/NAME.jsonl.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Rotate an output file once it reaches this size (K, M, G suffixes).
    #[arg(long, value_name = "BYTES")]
    pub rotate_size: Option<String>,
    /// Rotated files kept (FILE.1 … FILE.N).
    #[arg(long, value_name = "N")]
    pub rotate_keep: Option<u32>,
    /// Serve Prometheus metrics on /metrics and health on /healthz at this address; a bare port
    /// means 127.0.0.1 (loopback).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Only the syscalls in SET, strace's `-e trace=` syntax: names, %classes (%file,
    /// %network…), /regex, ! first to negate, ?name, all, none (docs/cli.md); given again, the
    /// last one counts.
    #[arg(long, visible_alias = "trace", value_name = "SET")]
    pub syscalls: Vec<String>,
    /// Ring buffer size in bytes (K, M, G suffixes; a power of two).
    #[arg(long, value_name = "BYTES")]
    pub ring_size: Option<String>,
    /// Bytes of each buffer and argv string captured.
    #[arg(long, short = 's', value_name = "N")]
    pub string_size: Option<u32>,
    /// Leave out the calls of processes with these names (comm; comma-separated or repeated).
    /// Default: the runtime's own set-up (runc, runc:[0:PARENT], runc:[1:CHILD],
    /// runc:[2:INIT], crun); `--exclude-comm ''` keeps everything.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub exclude_comm: Option<Vec<String>>,
    /// Only the calls whose status is in SET, strace's `-e status=` syntax: successful, failed,
    /// unfinished, … (docs/cli.md).
    #[arg(long, value_name = "SET")]
    pub status: Option<String>,
    /// Output format: json (JSON lines, docs/events.md), text (strace-like lines, each after
    /// `[NAME]` when several containers share the output) or binary (with --output-dir: each
    /// container's kernel records undecoded in DIR/NAME.trec, read later with `tracer show`;
    /// docs/capture-format.md).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<config::policy::DaemonFormat>,
    /// Also send every record as an OpenTelemetry log record over OTLP/gRPC to this receiver
    /// (http://HOST:PORT, e.g. http://127.0.0.1:4317; a bare port means 127.0.0.1): batched,
    /// retried with backoff; a receiver that is down or slow never holds up the other outputs,
    /// the records it misses are counted (docs/otlp.md).
    #[arg(long, value_name = "ENDPOINT")]
    pub otlp: Option<String>,
    /// Stop after this long (default: until SIGTERM or SIGINT).
    #[arg(long, value_name = "DUR")]
    pub duration: Option<humantime::Duration>,
    /// Complain mode: judge every followed container's calls by this Docker seccomp profile,
    /// never enforcing it; each call it would not simply allow gets a `"type": "seccomp"`
    /// record after its own in the container's stream, counted in
    /// tracer_seccomp_findings_total.
    #[arg(long, value_name = "FILE")]
    pub seccomp_watch: Option<PathBuf>,
    /// Benchmarks only: keep the syscall programs attached while nothing is followed (the
    /// daemon attaches them only while it follows a container).
    #[arg(long, hide = true)]
    pub attach_always: bool,
    /// Report each call from its exit alone, as `observe --exit-only`: one program on the
    /// host's syscalls instead of two; calls have no duration, and the calls whose record
    /// needs their entry are left out (execve, accept4, recvfrom, select, poll, sendfile…).
    #[arg(long)]
    pub exit_only: bool,
}

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

/// `--pod`, `--selector` and `--namespace` (the command line's, else the file's): CRI's pod
/// selections.
fn pod_selections(
    a: &DaemonArgs,
    f: &DaemonFile,
    runtime: crate::model::Runtime,
) -> Result<Vec<crate::runtime::cri::PodSpec>, Error> {
    let pick = |cli: &Vec<String>, file: &Vec<String>| match cli.is_empty() {
        true => file.clone(),
        false => cli.clone(),
    };
    let (pods, selectors) = (pick(&a.pods, &f.pods), pick(&a.selectors, &f.selectors));
    let namespace = a.namespace.as_deref().or(f.namespace.as_deref());
    if pods.is_empty() && selectors.is_empty() {
        if namespace.is_some() {
            return Err(usage(
                "--namespace is the Kubernetes namespace of --pod or --selector: give one of them too".into(),
            ));
        }
        return Ok(Vec::new());
    }
    if runtime != crate::model::Runtime::Cri {
        return Err(usage(format!(
            "--pod and --selector select Kubernetes pods, found through CRI; the daemon's engine is {runtime}: add --runtime cri"
        )));
    }
    let mut out = Vec::new();
    for p in &pods {
        out.push(config::parse_pod(p, namespace)?);
    }
    for s in &selectors {
        out.push(crate::runtime::cri::PodSpec {
            selector: config::parse_selector("--selector", s)?,
            namespace: namespace.map(str::to_string),
            ..Default::default()
        });
    }
    out.dedup();
    Ok(out)
}

impl TryFrom<DaemonArgs> for DaemonConfig {
    type Error = Error;

    fn try_from(a: DaemonArgs) -> Result<Self, Error> {
        let f = match &a.config {
            Some(path) => DaemonFile::read(path)?,
            None => DaemonFile::default(),
        };
        let runtime = a.runtime.or(f.runtime).unwrap_or_default();
        let pods = pod_selections(&a, &f, runtime)?;
        let mut containers = if a.containers.is_empty() {
            f.containers
        } else {
            a.containers
        };
        containers.retain(|c| !c.trim().is_empty());
        containers.sort();
        containers.dedup();
        if containers.is_empty() && pods.is_empty() {
            return Err(usage(
                "no container to follow: give --container NAME (repeatable), --pod or --selector with --runtime cri, or `containers` in the --config file".into(),
            ));
        }
        if let Some(bad) = containers.iter().find(|c| !config::valid_container_name(c)) {
            return Err(usage(format!(
                "bad container name {bad:?}: Docker names use [a-zA-Z0-9][a-zA-Z0-9_.-]*"
            )));
        }
        let output = match (a.output.or(f.output), a.output_dir.or(f.output_dir)) {
            (Some(_), Some(_)) => {
                return Err(usage(
                    "both output and output-dir given: choose one file for all containers or one directory".into(),
                ));
            }
            (Some(p), None) => Output::File(p),
            (None, Some(d)) => {
                if !d.is_dir() {
                    return Err(usage(format!(
                        "--output-dir {} is not a directory; create it first",
                        d.display()
                    )));
                }
                Output::Dir(d)
            }
            (None, None) => Output::Stdout,
        };
        let rotation = match a.rotate_size.or(f.rotate_size) {
            Some(s) => Some(Rotation {
                max_bytes: config::parse_size("--rotate-size", &s)?,
                keep: a
                    .rotate_keep
                    .or(f.rotate_keep)
                    .unwrap_or(config::DEFAULT_KEEP),
            }),
            None => None,
        };
        if rotation.is_some() && output == Output::Stdout {
            return Err(usage(
                "--rotate-size needs --output FILE or --output-dir DIR".into(),
            ));
        }
        let metrics = match a.metrics.or(f.metrics) {
            Some(m) => Some(config::metrics_addr(&m)?),
            None => None,
        };
        let sets = if a.syscalls.is_empty() {
            f.syscalls.into_iter().collect()
        } else {
            a.syscalls
        };
        let otlp = match a.otlp.or(f.otlp) {
            Some(e) => Some(config::parse_otlp(&e)?),
            None => None,
        };
        let ring_size = a.ring_size.or(f.ring_size);
        let string_size = a
            .string_size
            .or(f.string_size)
            .unwrap_or(config::DEFAULT_STRING_SIZE);
        let policies = config::policy::parse_all(&f.container)?;
        if pods.is_empty()
            && let Some(name) = policies.keys().find(|n| !containers.contains(n))
        {
            return Err(usage(format!(
                "[container.\"{name}\"] in the config file names no followed container: add it to containers (or --container {name}), or remove the table"
            )));
        }
        if !matches!(output, Output::Dir(_))
            && let Some((name, _)) = policies
                .iter()
                .find(|(_, p)| p.format.is_some() && p.output.is_none())
        {
            return Err(usage(format!(
                "[container.\"{name}\"] format applies to an output of the container's own: add output = \"FILE\" to the table, or use output-dir"
            )));
        }
        let status = match a.status.as_deref().or(f.status.as_deref()) {
            Some(s) => config::status::parse("--status", s)?,
            None => crate::filter::StatusSet::ALL,
        };
        let format = a.format.or(f.format).unwrap_or_default();
        let otlp_given = otlp.is_some();
        let seccomp_watch = a.seccomp_watch.or(f.seccomp_watch);
        check_binary(
            format,
            &output,
            &policies,
            otlp_given,
            seccomp_watch.is_some(),
        )?;
        Ok(DaemonConfig {
            status,
            format,
            policies,
            containers,
            pods,
            runtime,
            output,
            rotation,
            metrics,
            syscalls: config::parse_syscalls("--syscalls", &sets)?,
            ring_size: config::parse_ring_size(
                ring_size.as_deref().unwrap_or(config::DEFAULT_RING_SIZE),
            )?,
            string_size: config::check_string_size(string_size)?,
            duration: config::check_duration(
                "--duration",
                a.duration.map(std::time::Duration::from),
                std::time::Duration::ZERO,
            )?,
            exclude_comm: a.exclude_comm.or(f.exclude_comm).unwrap_or_else(|| {
                config::DEFAULT_DAEMON_EXCLUDE_COMM
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
            otlp,
            seccomp_watch,
            attach_always: a.attach_always,
            exit_only: a.exit_only || f.exit_only.unwrap_or(false),
        })
    }
}

/// Binary recordings hold the kernel's records undecoded, one file per container: what
/// works on decoded records (filters, complain mode, OTLP) is applied when `tracer show`
/// reads them, and one shared output cannot hold several containers' recordings.
fn check_binary(
    format: config::policy::DaemonFormat,
    output: &Output,
    policies: &std::collections::BTreeMap<String, config::policy::Policy>,
    otlp: bool,
    seccomp_watch: bool,
) -> Result<(), Error> {
    if format == config::policy::DaemonFormat::Binary {
        if !matches!(output, Output::Dir(_)) {
            return Err(usage(
                "--format binary writes a recording per container: give --output-dir DIR".into(),
            ));
        }
        if otlp || seccomp_watch {
            let what = if otlp { "--otlp" } else { "--seccomp-watch" };
            return Err(usage(format!(
                "{what} needs decoded records and --format binary decodes none: use --format json, or give the containers to decode format = \"json\" in their tables"
            )));
        }
    }
    for (name, p) in policies {
        if p.format.unwrap_or(format) != config::policy::DaemonFormat::Binary {
            continue;
        }
        let key = if p.status.is_some() {
            "status"
        } else if p.exclude_comm.is_some() {
            "exclude-comm"
        } else if p.seccomp_watch.is_some() {
            "seccomp-watch"
        } else {
            continue;
        };
        return Err(usage(format!(
            "[container.\"{name}\"] {key} applies to decoded records and this container is recorded undecoded (format binary): filter when reading it (tracer show FILE --status …, --exclude-comm …), or give the table format = \"json\""
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{error::exit, model::Runtime};

    fn args(containers: &[&str]) -> DaemonArgs {
        DaemonArgs {
            containers: containers.iter().map(|s| s.to_string()).collect(),
            pods: Vec::new(),
            selectors: Vec::new(),
            namespace: None,
            runtime: None,
            config: None,
            output: None,
            output_dir: None,
            rotate_size: None,
            rotate_keep: None,
            metrics: None,
            syscalls: Vec::new(),
            ring_size: None,
            string_size: None,
            duration: None,
            exclude_comm: None,
            status: None,
            format: None,
            otlp: None,
            seccomp_watch: None,
            attach_always: false,
            exit_only: false,
        }
    }

    fn config_file(text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "tracer-daemon-{}-{}.toml",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn pods_by_name_and_label_through_cri_only() {
        use crate::runtime::cri::PodSpec;
        let mut a = args(&[]);
        a.runtime = Some(Runtime::Cri);
        a.pods = vec!["shop/web".into(), "db".into()];
        a.selectors = vec!["app=web, tier=front".into()];
        a.namespace = Some("prod".into());
        let c = DaemonConfig::try_from(a).expect("valid");
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            c.pods,
            [
                PodSpec {
                    pod: Some("web".into()),
                    namespace: Some("shop".into()),
                    ..PodSpec::default()
                },
                PodSpec {
                    pod: Some("db".into()),
                    namespace: Some("prod".into()),
                    ..PodSpec::default()
                },
                PodSpec {
                    selector: vec![pair("app", "web"), pair("tier", "front")],
                    namespace: Some("prod".into()),
                    ..PodSpec::default()
                },
            ]
        );
        assert!(c.containers.is_empty());
        // From the config file.
        let mut a = args(&[]);
        a.config = Some(config_file(
            "runtime = \"cri\"\nselectors = [\"app=api\"]\nnamespace = \"ns1\"\n",
        ));
        let c = DaemonConfig::try_from(a).expect("valid");
        assert_eq!(c.pods.len(), 1);
        assert_eq!(c.pods[0].selector, [pair("app", "api")]);
        let err = |f: &dyn Fn(&mut DaemonArgs)| {
            let mut a = args(&[]);
            f(&mut a);
            let e = DaemonConfig::try_from(a).expect_err("refused");
            assert_eq!(e.exit_code(), exit::USAGE);
            e.to_string()
        };
        let e = err(&|a| a.selectors = vec!["app=web".into()]);
        assert!(e.contains("add --runtime cri"), "{e}");
        let e = err(&|a| {
            a.containers = vec!["web".into()];
            a.namespace = Some("x".into());
        });
        assert!(e.contains("--namespace"), "{e}");
        for bad in ["", "a/", "/a", "a/b/c"] {
            let e = err(&|a| {
                a.runtime = Some(Runtime::Cri);
                a.pods = vec![bad.into()];
            });
            assert!(e.contains("bad --pod"), "{bad}: {e}");
        }
        let e = err(&|a| {
            a.runtime = Some(Runtime::Cri);
            a.selectors = vec!["app".into()];
        });
        assert!(e.contains("bad --selector"), "{e}");
    }

    #[test]
    fn the_engine_is_docker_unless_told() {
        let engine = |flag: Option<Runtime>, file: &str| {
            let mut a = args(&[]);
            a.runtime = flag;
            a.config = Some(config_file(&format!("containers = [\"web\"]\n{file}")));
            DaemonConfig::try_from(a).map(|c| c.runtime)
        };
        assert_eq!(engine(None, "").ok(), Some(Runtime::Docker));
        assert_eq!(
            engine(None, "runtime = \"podman\"\n").ok(),
            Some(Runtime::Podman)
        );
        assert_eq!(
            engine(Some(Runtime::Docker), "runtime = \"podman\"\n").ok(),
            Some(Runtime::Docker)
        );
        assert_eq!(
            engine(Some(Runtime::Cri), "runtime = \"containerd\"\n").ok(),
            Some(Runtime::Cri)
        );
        assert_eq!(
            engine(None, "runtime = \"containerd\"\n").ok(),
            Some(Runtime::Containerd)
        );
    }

    #[test]
    fn the_runtime_s_set_up_is_left_out_unless_told() {
        let c = DaemonConfig::try_from(args(&["web"])).expect("valid");
        assert!(
            c.exclude_comm.iter().any(|n| n == "runc:[2:INIT]"),
            "{:?}",
            c.exclude_comm
        );
        let p = config_file("containers = [\"web\"]\nexclude-comm = []\n");
        let mut a = args(&[]);
        a.config = Some(p.clone());
        assert!(
            DaemonConfig::try_from(a)
                .expect("valid")
                .exclude_comm
                .is_empty()
        );
        let mut a = args(&[]);
        a.config = Some(p);
        a.exclude_comm = Some(vec!["sh".into()]);
        assert_eq!(
            DaemonConfig::try_from(a).expect("valid").exclude_comm,
            ["sh"]
        );
    }

    #[test]
    fn file_values_and_overrides() {
        let p = config_file(
            "containers = [\"web\", \"db\"]\noutput = \"/tmp/x.jsonl\"\nrotate-size = \"1M\"\nmetrics = \"127.0.0.1:9464\"\nsyscalls = [\"openat\"]\notlp = \"http://127.0.0.1:4317\"\nseccomp-watch = \"/etc/p.json\"\n",
        );
        let mut a = args(&[]);
        a.config = Some(p.clone());
        let c = DaemonConfig::try_from(a).expect("valid");
        assert_eq!(c.containers, ["db", "web"]);
        assert_eq!(c.output, Output::File("/tmp/x.jsonl".into()));
        assert_eq!(
            c.rotation,
            Some(Rotation {
                max_bytes: 1 << 20,
                keep: config::DEFAULT_KEEP
            })
        );
        assert_eq!(c.metrics, "127.0.0.1:9464".parse().ok());
        assert_eq!(c.syscalls.len(), 1);
        assert_eq!(
            c.otlp.as_ref().map(|e| e.as_str()),
            Some("http://127.0.0.1:4317")
        );
        assert_eq!(c.seccomp_watch, Some(PathBuf::from("/etc/p.json")));
        // The command line wins.
        let mut a = args(&["api"]);
        a.config = Some(p.clone());
        a.rotate_keep = Some(2);
        a.metrics = Some("127.0.0.1:9999".into());
        a.otlp = Some("4318".into());
        a.seccomp_watch = Some("mine.json".into());
        let c = DaemonConfig::try_from(a).expect("valid");
        assert_eq!(
            c.otlp.as_ref().map(|e| e.as_str()),
            Some("http://127.0.0.1:4318")
        );
        assert_eq!(c.seccomp_watch, Some(PathBuf::from("mine.json")));
        assert_eq!(c.containers, ["api"]);
        assert_eq!(c.rotation.map(|r| r.keep), Some(2));
        assert_eq!(c.metrics, "127.0.0.1:9999".parse().ok());
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn syscall_sets_in_strace_s_syntax() {
        let nr = |n: &str| crate::decode::syscalls::number(n).expect(n);
        let p = config_file("containers = [\"web\"]\nsyscalls = \"!getppid\"\n");
        let mut a = args(&[]);
        a.config = Some(p.clone());
        let c = DaemonConfig::try_from(a).expect("valid");
        assert!(!c.syscalls.contains(&nr("getppid")) && c.syscalls.contains(&nr("openat")));
        // The command line wins; the last --syscalls counts.
        let mut a = args(&[]);
        a.config = Some(p.clone());
        a.syscalls = vec!["%network".into(), "%pure,openat".into()];
        let c = DaemonConfig::try_from(a).expect("valid");
        assert!(c.syscalls.contains(&nr("getppid")) && c.syscalls.contains(&nr("openat")));
        assert!(!c.syscalls.contains(&nr("connect")));
        let mut a = args(&["web"]);
        a.syscalls = vec!["%fiel".into()];
        let e = DaemonConfig::try_from(a).expect_err("unknown class");
        assert!(
            e.to_string()
                .starts_with("unknown syscall class %fiel in --syscalls"),
            "{e}"
        );
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn bad_input_is_a_usage_error_naming_the_fix() {
        let unknown_key = config_file("containers = [\"web\"]\nbogus = 1\n");
        let mut cases: Vec<(DaemonArgs, &str)> = Vec::new();
        cases.push((args(&[]), "--container"));
        cases.push((args(&["bad name"]), "bad container name"));
        let mut a = args(&["web"]);
        a.config = Some(unknown_key.clone());
        cases.push((a, "bogus"));
        let mut a = args(&["web"]);
        a.config = Some("/nonexistent/tracer.toml".into());
        cases.push((a, "cannot read config file"));
        let mut a = args(&["web"]);
        a.rotate_size = Some("1M".into());
        cases.push((a, "--rotate-size needs"));
        let mut a = args(&["web"]);
        a.output = Some("/tmp/a".into());
        a.rotate_size = Some("0".into());
        cases.push((a, "bad --rotate-size"));
        let mut a = args(&["web"]);
        a.metrics = Some("localhost".into());
        cases.push((a, "bad --metrics"));
        let mut a = args(&["web"]);
        a.output_dir = Some("/nonexistent-dir".into());
        cases.push((a, "not a directory"));
        let mut a = args(&["web"]);
        a.otlp = Some("https://127.0.0.1:4317".into());
        cases.push((a, "bad --otlp"));
        let binary = Some(config::policy::DaemonFormat::Binary);
        let mut a = args(&["web"]);
        a.format = binary;
        cases.push((a, "--format binary writes a recording per container"));
        let tmp = std::env::temp_dir();
        let mut a = args(&["web"]);
        (a.format, a.output_dir) = (binary, Some(tmp.clone()));
        a.otlp = Some("4317".into());
        cases.push((a, "--otlp needs decoded records"));
        let status_binary = config_file(&format!(
            "containers = [\"web\"]\noutput-dir = {tmp:?}\n[container.web]\nformat = \"binary\"\nstatus = \"failed\"\n"
        ));
        let mut a = args(&[]);
        a.config = Some(status_binary.clone());
        cases.push((a, "[container.\"web\"] status applies to decoded records"));
        for (a, needle) in cases {
            let e = DaemonConfig::try_from(a).expect_err(needle);
            assert_eq!(e.exit_code(), exit::USAGE);
            let msg = e.to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
        let _ = std::fs::remove_file(unknown_key);
        let _ = std::fs::remove_file(status_binary);
    }
}
