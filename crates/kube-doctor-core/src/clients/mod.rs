//! Client error rates (playbook step 3, and `kube-doctor clients`): from samples of the
//! counter `rest_client_requests_total{job,instance,code,host}` to which clients fail, in
//! which of the three error views, since when, and whether steadily or now and then.
//!
//! Pure: the I/O layer fetches samples (Prometheus range queries, repeated scrapes of
//! /metrics, or audit log lines turned into counts) and maps targets to pods; this module
//! does the arithmetic. Counter resets (a client restarting) are handled as Prometheus'
//! `increase()` does: a drop means the counter started again from zero.
//!
//! **Onset** is when the non-2xx ratio first exceeded the threshold in a sustained way: the
//! end of the first interval of the last run of intervals over the threshold that reaches the
//! alert's crossing, at most one sample interval after the errors began; a stray error
//! separated from that run by more than a minute of clean traffic is not the onset (the rule
//! is [`judge`]'s, in [`judge::ONSET_MAX_GAP`]).
//! **Pattern**: among intervals from onset on that carried traffic, the share over the
//! threshold is the *coverage*. At least [`Analysis::min_intervals`] intervals with coverage
//! of 0.8 or more is `consistent` (a standing cause: configuration, credentials, policy);
//! anything else that crossed the threshold is `intermittent` (a transient cause).

pub mod audit;
pub mod callee;
pub mod exposition;
pub mod judge;

pub use judge::{Judgement, Threshold, judge};

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::bundle::{
    ClientRates, ErrorRatios, HostRates, Pattern, PatternStat, RatioPoint, Target, Window,
};
use crate::category::Category;

/// The samples of one counter series.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterSeries {
    /// Prometheus job.
    pub job: String,
    /// Prometheus instance.
    pub instance: String,
    /// Status code label ("200", "<error>").
    pub code: String,
    /// The `host` label (the server the client called), if any.
    pub host: Option<String>,
    /// Other target labels that help attribution (namespace, pod).
    pub labels: BTreeMap<String, String>,
    /// (time, counter value), in time order.
    pub points: Vec<(Timestamp, f64)>,
}

/// Settings of one analysis.
#[derive(Debug, Clone, Copy)]
pub struct Analysis {
    /// The window analysed.
    pub window: Window,
    /// Error ratio above which a client fails (the alert's 0.01): gives the collector's
    /// view fields (onset, pattern, noise) and the order.
    pub threshold: Threshold,
    /// Intervals needed before errors can be called consistent.
    pub min_intervals: u32,
}

/// The rate views for every (job, instance), failing clients first (highest non-2xx ratio
/// first), then by id. Targets are `Unknown` unless labels say more (namespace and pod
/// labels give a pod; well-known jobs give the API server or a component); the caller
/// refines them.
pub fn analyze(series: &[CounterSeries], a: &Analysis) -> Vec<ClientRates> {
    let mut by_client: BTreeMap<(String, String), Vec<&CounterSeries>> = BTreeMap::new();
    for s in series {
        by_client
            .entry((s.job.clone(), s.instance.clone()))
            .or_default()
            .push(s);
    }
    let mut out: Vec<ClientRates> = by_client
        .into_iter()
        .map(|((job, instance), group)| client(&job, &instance, &group, a))
        .collect();
    let failing = |c: &ClientRates| judge(c, a.threshold, a.min_intervals).failing();
    out.sort_by(|x, y| {
        let fx = failing(x);
        let fy = failing(y);
        fy.cmp(&fx)
            .then(y.ratios.non_2xx.total_cmp(&x.ratios.non_2xx))
            .then(x.id.cmp(&y.id))
    });
    out
}

/// Per-interval increases of one counter, on the grid of its own samples.
fn increases(points: &[(Timestamp, f64)]) -> Vec<(Timestamp, f64)> {
    points
        .windows(2)
        .map(|w| {
            let (_, prev) = w[0];
            let (at, cur) = w[1];
            // A drop is a reset: the counter restarted from zero.
            let inc = if cur >= prev { cur - prev } else { cur };
            (at, inc)
        })
        .collect()
}

fn is_success(code: &str) -> bool {
    code.starts_with('2')
}

fn is_server_error(code: &str) -> bool {
    code.starts_with('5')
}

fn is_transport(code: &str) -> bool {
    code.parse::<u16>().is_err()
}

#[derive(Default, Clone, Copy)]
struct Tally {
    requests: f64,
    errors: f64,
    server: f64,
    transport: f64,
}

impl Tally {
    fn add(&mut self, code: &str, n: f64) {
        self.requests += n;
        if !is_success(code) {
            self.errors += n;
        }
        if is_server_error(code) {
            self.server += n;
        }
        if is_transport(code) {
            self.transport += n;
        }
    }

    fn ratios(&self) -> ErrorRatios {
        let r = |x: f64| {
            if self.requests > 0.0 {
                x / self.requests
            } else {
                0.0
            }
        };
        ErrorRatios {
            server_5xx: r(self.server),
            non_2xx: r(self.errors),
            transport: r(self.transport),
        }
    }
}

fn client(job: &str, instance: &str, group: &[&CounterSeries], a: &Analysis) -> ClientRates {
    let mut per_interval: BTreeMap<Timestamp, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let mut codes: BTreeMap<String, f64> = BTreeMap::new();
    let mut hosts: BTreeMap<String, Tally> = BTreeMap::new();
    for s in group {
        for (at, inc) in increases(&s.points) {
            if at <= a.window.from || at > a.window.to {
                continue;
            }
            per_interval.entry(at).or_default().add(&s.code, inc);
            total.add(&s.code, inc);
            *codes.entry(s.code.clone()).or_default() += inc;
            if let Some(h) = &s.host {
                hosts.entry(h.clone()).or_default().add(&s.code, inc);
            }
        }
    }
    codes.retain(|_, n| *n > 0.0);
    let series: Vec<RatioPoint> = per_interval
        .iter()
        .map(|(at, t)| RatioPoint {
            at: *at,
            requests: t.requests,
            errors: t.errors,
            server_errors: t.server,
            transport_errors: t.transport,
        })
        .collect();
    let mut categories: BTreeMap<Category, u64> = BTreeMap::new();
    for (code, n) in &codes {
        let c = Category::from_status_code(code);
        if c.is_error() {
            *categories.entry(c).or_default() += n.round() as u64;
        }
    }
    let seconds = a.window.seconds().max(1.0);
    let labels = &group[0].labels;
    let by_host = if hosts.len() > 1 || job_is_apiserver(job) {
        hosts
            .iter()
            .map(|(host, t)| HostRates {
                host: host.clone(),
                callee: crate::bundle::Callee::Unknown,
                requests: t.requests,
                ratios: t.ratios(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut rates = ClientRates {
        id: format!("{job}/{instance}"),
        job: job.to_string(),
        instance: instance.to_string(),
        target: target_from_labels(job, instance, labels),
        requests: total.requests,
        request_rate: total.requests / seconds,
        ratios: total.ratios(),
        codes,
        onset: None,
        pattern: Pattern::None,
        pattern_stat: PatternStat::default(),
        categories,
        noise: None,
        by_host,
        series,
        user: None,
        user_agent: None,
    };
    set_collection_view(&mut rates, a.threshold, a.min_intervals);
    rates
}

/// Scopes client evidence to the clients `keep` selects (`--client`, an alert), remembering
/// how many of the others had traffic and were over `threshold` (a differential diagnosis
/// needs to know that other clients were fine). Nothing is recorded when nothing is dropped.
pub fn scope(
    e: &mut crate::bundle::ClientsEvidence,
    keep: impl Fn(&ClientRates) -> bool,
    threshold: Threshold,
) {
    let (kept, others): (Vec<ClientRates>, Vec<ClientRates>) = std::mem::take(&mut e.clients)
        .into_iter()
        .partition(|c| keep(c));
    e.clients = kept;
    if !others.is_empty() {
        let with_traffic: Vec<&ClientRates> = others.iter().filter(|c| c.requests > 0.0).collect();
        e.others = Some(crate::bundle::OtherClients {
            with_traffic: with_traffic.len() as u32,
            failing: with_traffic
                .iter()
                .filter(|c| judge(c, threshold, e.min_intervals).failing())
                .count() as u32,
        });
    }
}

/// Fills a client's collector-view fields (onset, pattern, noise) at `threshold`, from the
/// same [`judge`] diagnosis uses.
pub fn set_collection_view(c: &mut ClientRates, threshold: Threshold, min_intervals: u32) {
    let j = judge(c, threshold, min_intervals);
    c.onset = j.onset;
    c.pattern = j.pattern;
    c.pattern_stat = j.pattern_stat;
    c.noise = j.noise;
}

/// Whether a job name is the API server's own client metrics.
pub fn job_is_apiserver(job: &str) -> bool {
    matches!(
        job,
        "kube-apiserver" | "apiserver" | "kubernetes-apiservers"
    )
}

/// The control-plane components that are API clients, as their job (and static pod) names
/// say: kubeadm names their static pods `COMPONENT-NODENAME` in kube-system, and
/// kube-prometheus-stack scrapes them under these job names with a `pod` label. (etcd is not
/// an API client; a kube-system pod called `etcd-backup` is not a component.)
pub const COMPONENTS: [&str; 4] = [
    "kube-controller-manager",
    "kube-scheduler",
    "cloud-controller-manager",
    "kube-proxy",
];

/// The control-plane component a job, or a kube-system pod name, belongs to.
pub fn component_of(job: &str, namespace: Option<&str>, pod: Option<&str>) -> Option<&'static str> {
    if let Some(c) = COMPONENTS.iter().find(|c| **c == job) {
        return Some(c);
    }
    let pod = pod.filter(|_| namespace == Some("kube-system"))?;
    COMPONENTS
        .iter()
        .find(|c| {
            pod.strip_prefix(**c)
                .is_some_and(|rest| rest.starts_with('-'))
        })
        .copied()
}

fn target_from_labels(job: &str, instance: &str, labels: &BTreeMap<String, String>) -> Target {
    let (ns, pod) = (labels.get("namespace"), labels.get("pod"));
    if let Some(name) = component_of(job, ns.map(String::as_str), pod.map(String::as_str))
        .filter(|_| !job_is_apiserver(job))
    {
        return Target::Component {
            name: name.to_string(),
            pod: ns
                .zip(pod)
                .map(|(ns, p)| crate::bundle::ObjectRef::namespaced("Pod", ns, p)),
        };
    }
    if let (Some(ns), Some(pod)) = (ns, pod) {
        return Target::Pod {
            namespace: ns.clone(),
            name: pod.clone(),
            service_account: None,
            node: None,
        };
    }
    if job_is_apiserver(job) {
        return Target::ApiServer {
            instance: instance.to_string(),
        };
    }
    match job {
        "kubelet" => Target::Node {
            name: labels
                .get("node")
                .cloned()
                .unwrap_or_else(|| instance.split(':').next().unwrap_or(instance).to_string()),
        },
        _ => Target::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn series(job: &str, code: &str, values: &[f64]) -> CounterSeries {
        CounterSeries {
            job: job.into(),
            instance: "10.0.0.1:8080".into(),
            code: code.into(),
            host: Some("10.96.0.1:443".into()),
            labels: BTreeMap::new(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (t(i as i64 * 10), *v))
                .collect(),
        }
    }

    fn analysis(points: usize) -> Analysis {
        Analysis {
            window: Window {
                from: t(0),
                to: t(points as i64 * 10),
            },
            threshold: Threshold::ALERT,
            min_intervals: 3,
        }
    }

    #[test]
    fn steady_errors_after_onset_are_consistent() {
        let ok = series("app", "200", &[0., 10., 20., 30., 40., 50., 60.]);
        let bad = series("app", "401", &[0., 0., 0., 5., 10., 15., 20.]);
        let r = &analyze(&[ok, bad], &analysis(7))[0];
        assert_eq!(r.onset, Some(t(30)));
        assert_eq!(r.pattern, Pattern::Consistent);
        assert_eq!(r.pattern_stat.intervals_with_traffic, 4);
        assert!((r.ratios.non_2xx - 20.0 / 80.0).abs() < 1e-9);
        assert_eq!(r.ratios.server_5xx, 0.0);
        assert_eq!(r.categories.get(&Category::Authentication), Some(&20));
        assert!(judge(r, Threshold::ALERT, 3).failing());
    }

    #[test]
    fn errors_that_come_and_go_are_intermittent() {
        let ok = series("app", "200", &[0., 10., 20., 30., 40., 50., 60., 70.]);
        let bad = series("app", "<error>", &[0., 0., 3., 3., 3., 6., 6., 6.]);
        let r = &analyze(&[ok, bad], &analysis(8))[0];
        assert_eq!(r.onset, Some(t(20)));
        assert_eq!(r.pattern, Pattern::Intermittent);
        assert!(r.ratios.transport > 0.0);
        assert_eq!(r.categories.get(&Category::NetworkUnreachable), Some(&6));
    }

    #[test]
    fn counter_resets_count_as_restarts_not_negative_traffic() {
        let ok = series("app", "200", &[0., 100., 5., 15.]);
        let r = &analyze(&[ok], &analysis(4))[0];
        assert_eq!(r.requests, 100.0 + 5.0 + 10.0);
        assert_eq!(r.pattern, Pattern::None);
        assert_eq!(r.onset, None);
    }

    #[test]
    fn only_404s_are_noise() {
        let ok = series("app", "200", &[0., 10., 20., 30.]);
        let nf = series("app", "404", &[0., 5., 10., 15.]);
        let r = &analyze(&[ok, nf], &analysis(4))[0];
        assert_eq!(r.noise, Some(crate::bundle::Noise::NotFoundChecks));
        assert!(!judge(r, Threshold::ALERT, 3).failing());
    }

    #[test]
    fn targets_come_from_labels_and_jobs() {
        let mut s = series("demo-clients", "200", &[0., 1.]);
        s.labels.insert("namespace".into(), "demo".into());
        s.labels.insert("pod".into(), "app-1".into());
        let r = &analyze(&[s], &analysis(2))[0];
        assert_eq!(r.pod(), Some(("demo", "app-1")));
        let s = series("kube-apiserver", "200", &[0., 1.]);
        let r = &analyze(&[s], &analysis(2))[0];
        assert!(matches!(r.target, Target::ApiServer { .. }));
        assert_eq!(r.by_host.len(), 1);
        // kube-prometheus-stack scrapes the controller-manager with a pod label: it is a
        // control-plane component with a mirror pod, not a workload.
        let mut s = series("kube-controller-manager", "200", &[0., 1.]);
        s.labels.insert("namespace".into(), "kube-system".into());
        s.labels
            .insert("pod".into(), "kube-controller-manager-cp-1".into());
        let r = &analyze(&[s], &analysis(2))[0];
        assert_eq!(r.pod(), None, "not a workload pod");
        assert_eq!(
            r.log_pod(),
            Some(("kube-system", "kube-controller-manager-cp-1"))
        );
        assert!(
            matches!(&r.target, Target::Component { name, .. } if name == "kube-controller-manager")
        );
        assert_eq!(
            component_of("x", Some("kube-system"), Some("kube-scheduler-cp-2")),
            Some("kube-scheduler")
        );
        assert_eq!(
            component_of("x", Some("demo"), Some("kube-scheduler-cp-2")),
            None
        );
        assert_eq!(
            component_of("x", Some("kube-system"), Some("etcd-backup")),
            None
        );
    }
}
