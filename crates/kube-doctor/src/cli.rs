//! What was typed: the clap definitions of every subcommand (contract: DESIGN.md "CLI").
//! Nothing here decides anything; `settings.rs` turns these into the resolved settings.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kube-doctor: finds out why Kubernetes API clients are failing (the KubeClientErrors
/// runbook, automated, read-only).
#[derive(Debug, Parser)]
#[command(
    name = "kube-doctor",
    version = env!("KUBE_DOCTOR_VERSION_LONG"),
    about,
    long_about = None,
    after_help = "Exit codes: 0 nothing wrong (and the client error rates were read); 1 a problem diagnosed; 2 could not run, or could not look at enough to say anything (one line says what to check)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect the playbook's evidence and diagnose it.
    Investigate(InvestigateArgs),
    /// Collect the playbook's evidence into a bundle file.
    Collect(CollectArgs),
    /// Diagnose a bundle file (no network).
    Diagnose(DiagnoseArgs),
    /// Which API clients fail, how much, since when.
    Clients(ClientsArgs),
    /// Classify log lines: one JSON object per input line.
    Classify(ClassifyArgs),
    /// Investigate automatically when Alertmanager fires KubeClientErrors.
    Serve(ServeArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page, or write every command's page into a directory.
    Man(ManArgs),
}

/// How to reach the cluster, as kubectl spells it.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,
    /// Restrict client discovery to this namespace.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

/// Where client error rates come from.
#[derive(Debug, Clone, Args)]
pub struct RateArgs {
    /// Prometheus: an http(s) URL (its path and query string kept), k8s://NAMESPACE/SERVICE:PORT[/PATH]
    /// through the API server's service proxy with kube-doctor's own credentials, auto (find it
    /// in the cluster: prometheus-operator's prometheus-operated Service first, then the common
    /// charts' labels), or none (scrape /metrics directly). Default: auto.
    #[arg(
        long,
        value_name = "URL|k8s://NS/SVC:PORT|auto|none",
        env = "PROMETHEUS_URL"
    )]
    pub prometheus: Option<String>,
    #[command(flatten)]
    pub access: PrometheusArgs,
    /// How far back to look.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub since: Duration,
    /// Error ratio above which a client counts as failing.
    #[arg(long, value_name = "RATIO", default_value_t = 0.01)]
    pub threshold: f64,
    /// Scope to clients matching this: a pod (ns/name), a job/instance, or a user.
    #[arg(long, value_name = "SELECTOR")]
    pub client: Option<String>,
    /// kube-apiserver audit log (JSON lines): per-user error ratios.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

/// How to authenticate to Prometheus and what to scope its queries to (DESIGN.md "Prometheus
/// access"). Files are read when used, never kept or printed. Each flag has an environment
/// variable for serve's Deployment.
#[derive(Debug, Clone, Default, Args)]
pub struct PrometheusArgs {
    /// File holding a bearer token for Prometheus (OpenShift's Thanos querier, kube-rbac-proxy).
    #[arg(
        long,
        value_name = "FILE",
        env = "KUBE_DOCTOR_PROMETHEUS_BEARER_TOKEN_FILE"
    )]
    pub prometheus_bearer_token_file: Option<PathBuf>,
    /// File holding user:password for basic auth (Grafana Cloud: instance id and a token).
    #[arg(
        long,
        value_name = "FILE",
        env = "KUBE_DOCTOR_PROMETHEUS_BASIC_AUTH_FILE"
    )]
    pub prometheus_basic_auth_file: Option<PathBuf>,
    /// A header on every Prometheus request, 'Name: value' (repeatable; X-Scope-OrgID for Mimir,
    /// Cortex, Loki-style tenants). In the environment: one per line.
    #[arg(
        long = "prometheus-header",
        value_name = "'NAME: VALUE'",
        env = "KUBE_DOCTOR_PROMETHEUS_HEADERS",
        value_delimiter = '\n'
    )]
    pub prometheus_headers: Vec<String>,
    /// CA bundle (PEM) that signs Prometheus' serving certificate.
    #[arg(long, value_name = "FILE", env = "KUBE_DOCTOR_PROMETHEUS_CA_FILE")]
    pub prometheus_ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for Prometheus; needs --prometheus-key-file.
    #[arg(long, value_name = "FILE", env = "KUBE_DOCTOR_PROMETHEUS_CERT_FILE")]
    pub prometheus_cert_file: Option<PathBuf>,
    /// Client key (PEM) for --prometheus-cert-file.
    #[arg(long, value_name = "FILE", env = "KUBE_DOCTOR_PROMETHEUS_KEY_FILE")]
    pub prometheus_key_file: Option<PathBuf>,
    /// Do not verify Prometheus' serving certificate (a test setup only).
    #[arg(long, env = "KUBE_DOCTOR_PROMETHEUS_INSECURE_SKIP_TLS_VERIFY")]
    pub prometheus_insecure_skip_tls_verify: bool,
    /// Scope every Prometheus query to this cluster (the value of --cluster-label): for a
    /// global view (Thanos, Mimir, VictoriaMetrics) holding many clusters' series.
    #[arg(long, value_name = "NAME", env = "KUBE_DOCTOR_CLUSTER")]
    pub cluster: Option<String>,
    /// The label that names the cluster in Prometheus.
    #[arg(
        long,
        value_name = "LABEL",
        default_value = "cluster",
        env = "KUBE_DOCTOR_CLUSTER_LABEL"
    )]
    pub cluster_label: String,
    /// The job the API server's metrics are scraped under (default: detected from the data).
    #[arg(long, value_name = "NAME", env = "KUBE_DOCTOR_APISERVER_JOB")]
    pub apiserver_job: Option<String>,
}

/// Correlation windows of the diagnosis rules.
#[derive(Debug, Clone, Args)]
pub struct WindowArgs {
    /// Server trouble within this long of the onset counts.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub server_window: Duration,
    /// Authentication or certificate failures within this long of the onset count.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub auth_window: Duration,
    /// APF rejections or throttling within this long of the onset count.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub apf_window: Duration,
    /// Network or NetworkPolicy changes within this long of the onset count.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub network_window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct InvestigateArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub rates: RateArgs,
    #[command(flatten)]
    pub windows: WindowArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// Also save the collected bundle here.
    #[arg(long, value_name = "FILE")]
    pub save_bundle: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub rates: RateArgs,
    /// Where to write the bundle.
    #[arg(long, value_name = "BUNDLE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Load discipline: how hard kube-doctor may lean on a struggling API server.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Kubernetes API requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub max_inflight: usize,
    /// Time budget of each playbook step.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub step_timeout: Duration,
    /// Log bytes read per container instance.
    #[arg(long, default_value_t = 2 * 1024 * 1024)]
    pub log_bytes: usize,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The bundle file ("-" for stdin).
    pub bundle: PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// Error ratio above which a client counts as failing (default: the one the bundle was
    /// collected with). Judging an old bundle with another threshold needs no cluster.
    #[arg(long, value_name = "RATIO")]
    pub threshold: Option<f64>,
    #[command(flatten)]
    pub windows: WindowArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientsFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ClientsArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub rates: RateArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ClientsFormat::Text)]
    pub output: ClientsFormat,
    /// Without Prometheus: time between the /metrics scrapes.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub scrape_interval: Duration,
    /// Show every client, not only failing ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassifyFormat {
    /// One JSON object per input line (the contract).
    Jsonl,
    /// category, code, client and the line.
    Text,
    /// Counts per category, client and code (one JSON object).
    Summary,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Files to read; standard input when none.
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ClassifyFormat::Jsonl)]
    pub output: ClassifyFormat,
    /// Longest line classified whole; longer ones are cut (and said so on stderr).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub max_line_bytes: usize,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// File holding the bearer token required on /api/* (or KUBE_DOCTOR_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Serve /api/* without a token. Only for a trusted network.
    #[arg(long)]
    pub insecure_no_auth: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub rates: RateArgs,
    #[command(flatten)]
    pub windows: WindowArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// At most one investigation per client per this long.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub cooldown: Duration,
    /// Investigations waiting at most (more are refused with 503 and counted).
    #[arg(long, default_value_t = 16)]
    pub queue_size: usize,
    /// Investigations running at once.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Reports kept in memory (oldest dropped first).
    #[arg(long, default_value_t = 200)]
    pub keep_reports: usize,
    /// Largest accepted request body.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Post a Slack-compatible message here for each report.
    #[arg(long, value_name = "URL")]
    pub notify_webhook: Option<String>,
    /// Do not create Kubernetes Events on client pods.
    #[arg(long)]
    pub no_events: bool,
    #[command(flatten)]
    pub serve_limits: ServeLimitArgs,
}

/// Parses "15m", "90s", "1h30m".
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration ({e}); write it like 30s, 15m or 1h"))
}

/// The shells completion scripts are generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for (to standard output).
    #[arg(value_enum)]
    pub shell: Shell,
    /// Name of the command the script completes: `kube-doctor`, or the kubectl plugin's file
    /// name `kubectl-client_doctor`.
    #[arg(long, value_name = "NAME", default_value = "kube-doctor")]
    pub bin_name: String,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (kube-doctor.1, kube-doctor-investigate.1, ...) into this
    /// directory; without it, the top-level page goes to standard output.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Bytes of report JSON `serve` keeps in memory unless `--keep-reports-bytes` says otherwise
/// (64 MiB).
pub const DEFAULT_KEEP_REPORTS_BYTES: usize = 64 * 1024 * 1024;

/// `serve`'s bounds on what clients can make it hold, and its shutdown grace (flags of
/// `serve`, flattened into its arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeLimitArgs {
    /// Connections served at once [default: 8192, lowered to what the open-file limit allows].
    /// 32 more may only ask /healthz, /readyz and /metrics; others are closed at once.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Close a connection that sends nothing, or no whole request head, for this long (also
    /// the idle time allowed on a kept-alive connection).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// A request body must have arrived whole this long after serve starts reading it (408
    /// otherwise; at most 32 alert bodies are read at once).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// On SIGTERM, wait at most this long for running investigations.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Reports kept in memory add up to at most this many bytes of JSON (oldest dropped first).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_KEEP_REPORTS_BYTES)]
    pub keep_reports_bytes: usize,
}
