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
    /// How far back to look (1s to 7d).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_since, allow_hyphen_values = true)]
    pub since: Duration,
    /// Error ratio above which a client counts as failing: a ratio between 0 and 1 (0.01, the
    /// KubeClientErrors alert's) or a percentage (1%).
    #[arg(long, value_name = "RATIO|PERCENT%", default_value = "0.01", value_parser = parse_threshold, allow_hyphen_values = true)]
    pub threshold: f64,
    /// Scope to clients matching this: a pod (ns/name), a job/instance, or a user.
    #[arg(long, value_name = "SELECTOR", value_parser = parse_client)]
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
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, allow_hyphen_values = true)]
    pub server_window: Duration,
    /// Authentication or certificate failures within this long of the onset count.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration, allow_hyphen_values = true)]
    pub auth_window: Duration,
    /// APF rejections or throttling within this long of the onset count.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, allow_hyphen_values = true)]
    pub apf_window: Duration,
    /// Network or NetworkPolicy changes within this long of the onset count.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration, allow_hyphen_values = true)]
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
    #[arg(short = 'o', long, value_enum, ignore_case = true, default_value_t = ReportFormat::Text)]
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
    #[arg(long, value_name = "N", default_value = "4", value_parser = parse_max_inflight, allow_hyphen_values = true)]
    pub max_inflight: usize,
    /// Time budget of each playbook step.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub step_timeout: Duration,
    /// Log bytes read per container instance.
    #[arg(long, value_name = "BYTES", default_value = "2MiB", value_parser = parse_bytes, allow_hyphen_values = true)]
    pub log_bytes: usize,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The bundle file ("-" for stdin).
    pub bundle: PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, ignore_case = true, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// Error ratio above which a client counts as failing: a ratio between 0 and 1 (0.01) or a
    /// percentage (1%) (default: the one the bundle was collected with). Judging an old
    /// bundle with another threshold needs no cluster.
    #[arg(long, value_name = "RATIO|PERCENT%", value_parser = parse_threshold, allow_hyphen_values = true)]
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
    #[arg(short = 'o', long, value_enum, ignore_case = true, default_value_t = ClientsFormat::Text)]
    pub output: ClientsFormat,
    /// Without Prometheus: time between the /metrics scrapes.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_positive_duration, allow_hyphen_values = true)]
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
    /// Files to read; standard input when none or for `-`.
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, ignore_case = true, default_value_t = ClassifyFormat::Jsonl)]
    pub output: ClassifyFormat,
    /// Longest line classified whole; longer ones are cut (and said so on stderr).
    #[arg(long, value_name = "BYTES", default_value = "4MiB", value_parser = parse_bytes, allow_hyphen_values = true)]
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
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, allow_hyphen_values = true)]
    pub cooldown: Duration,
    /// Investigations waiting at most (more are refused with 503 and counted).
    #[arg(long, value_name = "N", default_value = "16", value_parser = parse_queue_size, allow_hyphen_values = true)]
    pub queue_size: usize,
    /// Investigations running at once.
    #[arg(long, value_name = "N", default_value = "2", value_parser = parse_count, allow_hyphen_values = true)]
    pub workers: usize,
    /// Reports kept in memory (oldest dropped first).
    #[arg(long, value_name = "N", default_value = "200", value_parser = parse_count, allow_hyphen_values = true)]
    pub keep_reports: usize,
    /// Largest accepted request body.
    #[arg(long, value_name = "BYTES", default_value = "1MiB", value_parser = parse_bytes, allow_hyphen_values = true)]
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

/// The longest duration any flag takes (a year): beyond it a deadline could overflow the clock.
pub const MAX_FLAG_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Parses a duration flag: "15m", "90s", "1h30m", "0s"; at most [`MAX_FLAG_DURATION`].
/// Errors say what to write (clap names the flag and the value before them).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err("a duration cannot be negative: write it like 30s, 15m or 1h".to_string());
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!(
            "a duration needs a unit: write {t}s, {t}m or {t}h (like 30s, 15m or 1h)"
        ));
    }
    let d = humantime::parse_duration(t).map_err(|_| {
        "not a duration: write a number and a unit, like 30s, 15m or 1h".to_string()
    })?;
    if d > MAX_FLAG_DURATION {
        return Err("longer than a year: write it like 30s, 15m or 1h".to_string());
    }
    Ok(d)
}

/// The longest `--since`: the API server keeps events an hour by default, Prometheus'
/// default retention is 15 days; a week is far beyond any useful incident window and keeps
/// range queries bounded.
pub const MAX_SINCE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The shortest `--since`: a window must hold at least one second (a rate over less holds no
/// sample, and "nothing failed" over nothing would read as healthy).
pub const MIN_SINCE: Duration = Duration::from_secs(1);

/// Parses `--since`: a duration from [`MIN_SINCE`] to [`MAX_SINCE`]. The error quotes the
/// value as typed (clap puts it before the reason).
pub fn parse_since(s: &str) -> Result<Duration, String> {
    const HOW: &str = "give between 1s and 7d, like 15m or 1h";
    match parse_duration(s) {
        Ok(d) if d < MIN_SINCE => Err(format!("shorter than a second: {HOW}")),
        Ok(d) if d > MAX_SINCE => Err(format!("longer than 7 days: {HOW}")),
        Ok(d) => Ok(d),
        Err(e) if e.starts_with("longer than a year") => Err(format!("longer than 7 days: {HOW}")),
        Err(e) => Err(e),
    }
}

/// Parses `--client`: not empty (an empty selector would match nothing, silently).
pub fn parse_client(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err(
            "empty: give a pod (namespace/name), a job/instance or a user, as `kube-doctor clients` lists them"
                .to_string(),
        );
    }
    Ok(s.to_string())
}

/// [`parse_duration`], refusing zero (a timeout or an interval of nothing).
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("must be longer than 0: write it like 5s or 1m".to_string());
    }
    Ok(d)
}

/// Parses `--threshold`: a ratio strictly between 0 and 1 (`0.01`, the KubeClientErrors
/// alert's 1 %) or a percentage strictly between 0 and 100 (`1%`, `2.5 %`). A bare number of
/// 1 or more is refused rather than guessed at (`1` could mean 1 % or 100 %).
pub fn parse_threshold(s: &str) -> Result<f64, String> {
    const HOW: &str = "give a ratio between 0 and 1 like 0.01, or a percentage like 1%";
    let t = s.trim();
    let (number, percent) = match t.strip_suffix('%') {
        Some(n) => (n.trim_end(), true),
        None => (t, false),
    };
    let x: f64 = number
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| format!("not a number: {HOW}"))?;
    let ratio = if percent { x / 100.0 } else { x };
    if ratio > 0.0 && ratio < 1.0 {
        return Ok(ratio);
    }
    Err(if percent {
        "a percentage must be more than 0 and less than 100: write it like 1%".to_string()
    } else if (1.0..100.0).contains(&x) {
        format!(
            "read as a ratio this is {:.0} %, which no error ratio can exceed: for {x} % write {x}% (or the ratio {})",
            x * 100.0,
            x / 100.0
        )
    } else if x <= 0.0 {
        format!("a threshold must be more than 0 (at 0 every error would count): {HOW}")
    } else {
        format!("out of range: {HOW}")
    })
}

/// Parses a count flag: a whole number, at least 1.
pub fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1: give a whole number like 4".to_string()),
        Err(_) if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
            Err("too large: give a whole number like 4".to_string())
        }
        Err(_) => Err("not a whole number of at least 1: give one like 4".to_string()),
    }
}

/// Parses a size flag: a whole number of bytes, at least 1, optionally with a binary suffix
/// (`KiB`, `MiB`, `GiB`: `2MiB` is 2097152). Any other suffix is named in the error.
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    const HOW: &str = "give a whole number of bytes like 1048576, or 1MiB";
    let t = s.trim();
    let (number, unit) = [("KiB", 1usize << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)]
        .iter()
        .find_map(|(suffix, unit)| t.strip_suffix(suffix).map(|n| (n.trim_end(), *unit)))
        .unwrap_or((t, 1));
    let n = number.parse::<usize>().map_err(|_| {
        let digits = number.trim_start_matches(|c: char| c.is_ascii_digit());
        if unit == 1 && digits.len() < number.len() && !digits.is_empty() {
            format!(
                "unknown unit {:?}: the units are KiB, MiB and GiB ({HOW})",
                digits.trim()
            )
        } else {
            format!("not a size: {HOW}")
        }
    })?;
    match n.checked_mul(unit) {
        Some(0) => Err(format!("must be at least 1 byte: {HOW}")),
        Some(b) => Ok(b),
        None => Err(format!("too large: {HOW}")),
    }
}

/// The most Kubernetes API requests kube-doctor keeps in flight (`--max-inflight`): it is
/// meant to be gentle with a struggling API server (client-go's own default is 5 queries per
/// second with a burst of 10).
pub const MAX_INFLIGHT: usize = 32;

/// [`parse_count`], at most `max`; `why` says why the bound is there.
fn count_at_most(s: &str, max: usize, why: &str) -> Result<usize, String> {
    let n = parse_count(s)?;
    if n > max {
        return Err(format!("at most {max}: {why}"));
    }
    Ok(n)
}

/// Parses `--max-inflight`: a whole number from 1 to [`MAX_INFLIGHT`].
pub fn parse_max_inflight(s: &str) -> Result<usize, String> {
    count_at_most(
        s,
        MAX_INFLIGHT,
        "kube-doctor stays gentle with a struggling API server (the default is 4)",
    )
}

/// The most investigations serve keeps waiting (`--queue-size`): each runs a whole playbook
/// against the API server, so a longer queue only delays answers past any alert's relevance.
pub const MAX_QUEUE_SIZE: usize = 4096;

/// Parses `--queue-size`: a whole number from 1 to [`MAX_QUEUE_SIZE`].
pub fn parse_queue_size(s: &str) -> Result<usize, String> {
    count_at_most(
        s,
        MAX_QUEUE_SIZE,
        "more waiting investigations would only answer alerts long gone (the default is 16)",
    )
}

/// Parses the command line. `--help` and `--version` print and exit here; any other problem
/// is returned as one line naming the flag and the value, what was wrong and what to do
/// (clap's own message, with its usage block and "For more information" dropped and its
/// tips kept on the same line).
pub fn parse() -> Result<Cli, String> {
    match Cli::try_parse() {
        Ok(c) => Ok(c),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => Err(one_line(&e)),
        },
    }
}

/// A clap error as one line. A bad value reads `--flag VALUE: what is wrong and what to give`
/// (as the settings' own errors do); anything else is clap's first line, the indented lines
/// that follow it (the missing arguments) and its tips, without its usage block.
pub fn one_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    if let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) {
        let flag = arg.split_whitespace().next().unwrap_or(arg);
        let value = if value.is_empty() || value.contains(char::is_whitespace) {
            format!("{value:?}")
        } else {
            value.clone()
        };
        let why = match e.get(ContextKind::ValidValue) {
            Some(ContextValue::Strings(valid)) => format!("give one of {}", valid.join(", ")),
            _ => std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "not a usable value; see --help".to_string()),
        };
        let line = if flag.starts_with('-') {
            format!("{flag} {value}: {why}")
        } else {
            // A positional argument: named by its placeholder.
            format!("'{value}' is not a valid {arg}: {why}")
        };
        return kube_doctor_core::escape::one_line(&line, 1000);
    }
    let rendered = e.render().to_string();
    let mut lines = rendered.lines();
    let first = lines
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches("error:")
        .trim()
        .to_string();
    let mut items = Vec::new();
    let mut tips = Vec::new();
    for l in lines {
        let t = l.trim();
        if t.starts_with("Usage:") || t.starts_with("For more information") {
            break;
        }
        if let Some(tip) = t.strip_prefix("tip:") {
            tips.push(tip.trim().to_string());
        } else if !t.is_empty() {
            items.push(t.to_string());
        }
    }
    let mut out = first;
    if !items.is_empty() {
        out = format!("{}: {}", out.trim_end_matches(':'), items.join(", "));
    }
    if !tips.is_empty() {
        out = format!("{out} ({})", tips.join("; "));
    }
    if !out.contains("--help") {
        out.push_str("; see --help");
    }
    kube_doctor_core::escape::one_line(&out, 1000)
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
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    pub max_connections: Option<usize>,
    /// Close a connection that sends nothing, or no whole request head, for this long (also
    /// the idle time allowed on a kept-alive connection).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub header_timeout: Duration,
    /// A request body must have arrived whole this long after serve starts reading it (408
    /// otherwise; at most 32 alert bodies are read at once).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub body_timeout: Duration,
    /// On SIGTERM, wait at most this long for running investigations.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, allow_hyphen_values = true)]
    pub shutdown_grace: Duration,
    /// Reports kept in memory add up to at most this many bytes of JSON (oldest dropped first).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_KEEP_REPORTS_BYTES, value_parser = parse_bytes, allow_hyphen_values = true)]
    pub keep_reports_bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use clap::builder::ValueParser;

    /// The arguments each subcommand needs besides the flag under test.
    fn required(sub: &str) -> Vec<&'static str> {
        match sub {
            "diagnose" => vec!["bundle.json"],
            "serve" => vec!["--listen", "127.0.0.1:0"],
            "collect" => vec!["--out", "b.json"],
            "completions" => vec!["bash"],
            _ => vec![],
        }
    }

    #[test]
    fn every_numeric_and_duration_flag_refuses_bad_input_in_one_line_naming_it() {
        let cmd = Cli::command();
        let mut checked = 0;
        for sub in cmd.get_subcommands() {
            for arg in sub.get_arguments() {
                let id = arg.get_value_parser().type_id();
                let numeric = [
                    ValueParser::new(parse_duration).type_id(),
                    ValueParser::new(parse_since).type_id(),
                    ValueParser::new(parse_count).type_id(),
                    ValueParser::new(parse_max_inflight).type_id(),
                    ValueParser::new(parse_queue_size).type_id(),
                    ValueParser::new(parse_threshold).type_id(),
                    ValueParser::new(clap::value_parser!(u64)).type_id(),
                    ValueParser::new(clap::value_parser!(u32)).type_id(),
                    ValueParser::new(clap::value_parser!(i64)).type_id(),
                    ValueParser::new(clap::value_parser!(u16)).type_id(),
                ]
                .contains(&id);
                let Some(long) = arg.get_long().filter(|_| numeric) else {
                    continue;
                };
                for bad in ["-5", "-1m", "abc", "", "1e400", "99999999999999999999999"] {
                    let flag = format!("--{long}");
                    let mut argv = vec!["kube-doctor", sub.get_name()];
                    argv.extend(required(sub.get_name()));
                    argv.extend([flag.as_str(), bad]);
                    let e = match Cli::try_parse_from(&argv) {
                        Ok(_) => panic!("{argv:?} was accepted"),
                        Err(e) => e,
                    };
                    let line = one_line(&e);
                    assert!(!line.contains('\n'), "{argv:?}: {line}");
                    let shown = if bad.is_empty() {
                        format!("{flag} \"\":")
                    } else {
                        format!("{flag} {bad}:")
                    };
                    assert!(
                        line.starts_with(&shown),
                        "names the input: {argv:?}: {line}"
                    );
                    assert!(
                        line.contains("give") || line.contains("write"),
                        "says what to do: {argv:?}: {line}"
                    );
                    assert!(!line.contains("For more information"), "{line}");
                }
                checked += 1;
            }
        }
        // since, threshold, 4 windows, 3 limits (investigate, collect, clients, serve, diagnose
        // share some), scrape interval, classify's line cap, serve's own: at least 20 in all.
        assert!(checked >= 20, "only {checked} flags checked");
    }

    #[test]
    fn the_threshold_takes_a_ratio_or_a_percentage_and_never_guesses() {
        assert_eq!(parse_threshold("0.01"), Ok(0.01));
        assert_eq!(parse_threshold("1%"), Ok(0.01));
        assert_eq!(parse_threshold("2.5 %"), Ok(0.025));
        let one = parse_threshold("1").unwrap_err();
        assert!(one.contains("100 %") && one.contains("write 1%"), "{one}");
        assert!(one.contains("0.01"), "{one}");
        for bad in ["0", "0%", "100%", "-0.1", "NaN", "inf", "1%%"] {
            assert!(parse_threshold(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn review_cases_read_as_one_clear_line() {
        let err = |argv: &[&str]| one_line(&Cli::try_parse_from(argv).unwrap_err());
        let two = err(&["kube-doctor", "clients", "--threshold", "2"]);
        let parts: Vec<&str> = two.split(": ").collect();
        let unique: std::collections::BTreeSet<&&str> = parts.iter().collect();
        assert_eq!(parts.len(), unique.len(), "nothing said twice: {two}");
        assert!(two.contains("write 2%"), "{two}");
        let since = err(&["kube-doctor", "clients", "--since", "-5m"]);
        assert!(
            since.starts_with("--since -5m: ") && since.contains("negative"),
            "{since}"
        );
        assert!(!since.contains("unexpected argument"), "{since}");
        let missing = err(&["kube-doctor", "serve"]);
        assert!(missing.contains("--listen <ADDR>"), "{missing}");
        let typo = err(&["kube-doctor", "clients", "--sinse", "5m"]);
        assert!(typo.contains("'--since'"), "the tip stays: {typo}");
    }

    #[test]
    fn sizes_take_binary_suffixes_and_durations_are_bounded() {
        assert_eq!(parse_bytes("2MiB"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("0KiB").is_err());
        let tib = parse_bytes("10TiB").unwrap_err();
        assert!(
            tib.starts_with("unknown unit \"TiB\": the units are KiB, MiB and GiB"),
            "{tib}"
        );
        assert!(parse_bytes("1.5MiB").unwrap_err().starts_with("not a size"));
        assert_eq!(parse_max_inflight("32"), Ok(32));
        let many = parse_max_inflight("100000").unwrap_err();
        assert!(many.starts_with("at most 32: "), "{many}");
        assert!(parse_max_inflight("0").is_err());
        assert!(
            parse_queue_size("100000000000")
                .unwrap_err()
                .starts_with("at most 4096")
        );
        assert!(
            parse_max_inflight("99999999999999999999")
                .unwrap_err()
                .starts_with("too large")
        );
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_positive_duration("0s").is_err());
        // --since: a second to a week, said with the value as typed (clap quotes it).
        assert_eq!(parse_since("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_since("7d"), Ok(MAX_SINCE));
        for (bad, why) in [
            ("500ms", "shorter than a second"),
            ("0s", "shorter than a second"),
            ("8d", "longer than 7 days"),
            ("1000d", "longer than 7 days"),
            ("1y", "longer than 7 days"),
        ] {
            let e = parse_since(bad).unwrap_err();
            assert!(e.starts_with(why) && e.contains("1s and 7d"), "{bad}: {e}");
        }
        let since = one_line(
            &Cli::try_parse_from(["kube-doctor", "clients", "--since", "1y"]).unwrap_err(),
        );
        assert!(
            since.starts_with("--since 1y: longer than 7 days"),
            "{since}"
        );
        assert!(
            parse_duration("5")
                .unwrap_err()
                .contains("write 5s, 5m or 5h")
        );
        assert!(
            parse_duration("400d")
                .unwrap_err()
                .contains("longer than a year")
        );
        let cli = Cli::try_parse_from(["kube-doctor", "clients", "--threshold", "5%"]).unwrap();
        let Command::Clients(c) = cli.command else {
            panic!("clients")
        };
        assert_eq!(c.rates.threshold, 0.05);
        assert_eq!(c.rates.since, Duration::from_secs(900));
    }
}
