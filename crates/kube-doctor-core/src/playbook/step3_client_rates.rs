//! Playbook step 3, pure half: client error rates. The PromQL asked, Prometheus series and
//! repeated /metrics scrapes turned into the same counter series, which pods to scrape, who a
//! client is (a pod, its ServiceAccount), which clients the run is scoped to, audit-log counts
//! as clients, and the API server's callees named. The arithmetic is [`crate::clients`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::bundle::{Callees, ClientRates, ClientsEvidence, Target, Window};
use crate::clients::{self, Analysis, CounterSeries, Threshold, audit::AuditCounts, callee};
use crate::prometheus::RangeSeries;

/// The counter every client-go (and kube-rs, with kube-doctor's layer) client exports.
pub const METRIC: &str = "rest_client_requests_total";

/// The labels client series are summed by: the target, the code, and the attribution labels.
pub const BY: &str = "job, instance, code, namespace, pod, host";

/// Labels that tell the replicas of a highly available Prometheus pair apart (kube-prometheus'
/// `prometheus_replica`, the Thanos and Cortex convention `replica`): series that differ only
/// in them are one series seen twice, and are counted once.
pub const REPLICA_LABELS: &str = "prometheus_replica, replica";

/// The range query of step 3 as it was first written: the counters summed per client (an
/// increase of sums; kept for recorded answers, see [`series_from_prometheus`]).
pub fn rates_query() -> String {
    format!("sum by ({BY}) ({METRIC})")
}

/// The range query of step 3: per point, each series' increase since the point before
/// (`step` earlier), summed per client and `cluster_label`. A sum of per-series increases, not
/// an increase of sums: a series that appears or goes away, or a counter that resets, moves
/// only its own increase (a reset counts the value since the reset; a new series its whole
/// value), and the replicas of an HA pair are counted once. Differences of raw samples, not
/// `increase()`: no extrapolation, and no need for two samples inside each step, so the
/// points tile the window whatever the scrape interval. `m` scopes it (the cluster).
pub fn increases_query(
    m: &crate::prometheus::Matchers,
    step: std::time::Duration,
    cluster_label: &str,
) -> String {
    let sel = m.selector(METRIC, &[]);
    let offset = crate::prometheus::duration_ms(step);
    let by = if crate::prometheus::valid_label_name(cluster_label) {
        format!("{BY}, {cluster_label}")
    } else {
        BY.to_string()
    };
    format!(
        "sum by ({by}) (max without ({REPLICA_LABELS}) (({sel} - {sel} offset {offset}) >= 0 or {sel}))"
    )
}

/// Answers of [`increases_query`] (asked from `start` every `step`) as counter series: each
/// client's per-point increases summed up, so the one analysis of counters
/// ([`clients::analyze`]) reads them. A point at `start` is the baseline, as a counter's first
/// sample is (its increase lies before the window); a series that first shows up later starts
/// from zero one step before, so its first increase counts.
pub fn series_from_increases(
    series: Vec<RangeSeries>,
    start: Timestamp,
    step: std::time::Duration,
) -> Vec<CounterSeries> {
    let step = jiff::SignedDuration::try_from(step).unwrap_or(jiff::SignedDuration::ZERO);
    series_from_prometheus(
        series
            .into_iter()
            .map(|mut s| {
                let mut total = 0.0;
                for p in &mut s.points {
                    if p.1.is_finite() {
                        total += p.1;
                    }
                    p.1 = total;
                }
                if let Some(first) = s.points.first().map(|p| p.0)
                    && first > start
                    && let Ok(before) = first.checked_sub(step)
                {
                    s.points.insert(0, (before.max(start), 0.0));
                }
                s
            })
            .collect(),
    )
}

/// The values of `label` the series carry, sorted, each once (`""` for series without it).
pub fn label_values(series: &[RangeSeries], label: &str) -> Vec<String> {
    let mut v: Vec<String> = series
        .iter()
        .map(|s| s.labels.get(label).cloned().unwrap_or_default())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Prometheus series (of [`rates_query`], or [`series_from_increases`]'s running sums) as
/// counter series.
pub fn series_from_prometheus(series: Vec<RangeSeries>) -> Vec<CounterSeries> {
    series
        .into_iter()
        .map(|s| {
            let get = |k: &str| s.labels.get(k).cloned().unwrap_or_default();
            let labels = ["namespace", "pod"]
                .iter()
                .filter_map(|k| Some((k.to_string(), s.labels.get(*k)?.clone())))
                .collect();
            CounterSeries {
                job: get("job"),
                instance: get("instance"),
                code: get("code"),
                host: s.labels.get("host").cloned(),
                labels,
                points: s.points,
            }
        })
        .collect()
}

/// A pod whose /metrics can be scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodScrape {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The metrics port: `prometheus.io/port`, else a container port named `metrics`.
    pub port: u16,
    /// The pod IP, when it has one.
    pub ip: Option<String>,
}

impl PodScrape {
    /// The instance label a scrape of it carries (`ip:port`, or `name:port` without an IP).
    pub fn instance(&self) -> String {
        format!("{}:{}", self.ip.as_deref().unwrap_or(&self.name), self.port)
    }

    /// Its path through the API server's pod proxy.
    pub fn proxy_path(&self) -> String {
        format!(
            "/api/v1/namespaces/{}/pods/{}:{}/proxy/metrics",
            self.namespace, self.name, self.port
        )
    }
}

/// The pods of a list that expose /metrics.
pub fn pod_scrapes(pods: &[Pod]) -> Vec<PodScrape> {
    pods.iter()
        .filter_map(|pod| {
            let name = pod.metadata.name.clone()?;
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            let annotated = pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("prometheus.io/port"))
                .and_then(|p| p.parse::<u16>().ok());
            let named = pod.spec.as_ref().and_then(|s| {
                s.containers.iter().find_map(|c| {
                    c.ports.as_ref()?.iter().find_map(|p| {
                        (p.name.as_deref() == Some("metrics"))
                            .then(|| u16::try_from(p.container_port).ok())
                            .flatten()
                    })
                })
            });
            Some(PodScrape {
                namespace,
                name,
                port: annotated.or(named)?,
                ip: pod.status.as_ref().and_then(|s| s.pod_ip.clone()),
            })
        })
        .collect()
}

/// Scraped samples of one target: (code, host) -> (scrape time, value) for every sample of
/// the metric, every method.
pub type ScrapedSamples = BTreeMap<(String, Option<String>), Vec<(Timestamp, f64)>>;

/// The samples of repeated scrapes of one target, before they are counter series.
#[derive(Debug, Clone, Default)]
pub struct ScrapedTarget {
    /// Job label given to the target.
    pub job: String,
    /// Instance label.
    pub instance: String,
    /// Attribution labels (namespace, pod).
    pub labels: BTreeMap<String, String>,
    /// The samples so far.
    pub samples: ScrapedSamples,
}

impl ScrapedTarget {
    /// Adds one scrape's samples of [`METRIC`] taken at `at`.
    pub fn add_scrape(&mut self, at: Timestamp, samples: &[crate::clients::exposition::Sample]) {
        for s in samples.iter().filter(|s| s.name == METRIC) {
            let code = s.labels.get("code").cloned().unwrap_or_default();
            let host = s.labels.get("host").cloned();
            self.samples
                .entry((code, host))
                .or_default()
                .push((at, s.value));
        }
    }
}

/// Scraped targets as counter series: per (code, host), summed over method and the other
/// labels at each scrape time, as the Prometheus query sums them.
pub fn series_from_scrapes(targets: Vec<ScrapedTarget>) -> Vec<CounterSeries> {
    let mut out = Vec::new();
    for t in targets {
        for ((code, host), mut points) in t.samples {
            points.sort_by_key(|p| p.0);
            let mut merged: Vec<(Timestamp, f64)> = Vec::new();
            for (at, v) in points {
                match merged.last_mut() {
                    Some(last) if last.0 == at => last.1 += v,
                    _ => merged.push((at, v)),
                }
            }
            out.push(CounterSeries {
                job: t.job.clone(),
                instance: t.instance.clone(),
                code,
                host,
                labels: t.labels.clone(),
                points: merged,
            });
        }
    }
    out
}

/// What a pod is as a client: its namespace, name, ServiceAccount and node.
pub fn pod_target(pod: &Pod) -> Target {
    Target::Pod {
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        service_account: pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone()),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
    }
}

/// The user a pod's requests come as when it uses its ServiceAccount.
pub fn pod_user(pod: &Pod) -> Option<String> {
    let ns = pod.metadata.namespace.as_deref()?;
    let sa = pod.spec.as_ref()?.service_account_name.as_deref()?;
    Some(format!("system:serviceaccount:{ns}:{sa}"))
}

/// The IP of a client's instance label, when it is one (`10.0.0.7:8080` -> `10.0.0.7`).
pub fn instance_ip(instance: &str) -> Option<std::net::IpAddr> {
    if let Ok(sock) = instance.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    instance.parse().ok()
}

/// Whether a client matches `--client`: its id, job or instance, a pod as `ns/name` or
/// `name`, a pod's namespace (an alert that names only a namespace), or a user.
pub fn selected(selector: Option<&str>, c: &ClientRates) -> bool {
    let Some(sel) = selector else {
        return true;
    };
    if c.id == sel || c.instance == sel || c.job == sel {
        return true;
    }
    if let Some((ns, name)) = c.pod() {
        return sel == format!("{ns}/{name}") || sel == name || sel == ns;
    }
    c.user.as_deref() == Some(sel)
}

/// Audit-log counts as clients, one per user.
pub fn audit_clients(
    counts: &AuditCounts,
    window: Window,
    threshold: Threshold,
) -> Vec<ClientRates> {
    let analysis = Analysis {
        window,
        threshold,
        min_intervals: 3,
    };
    let mut rates = clients::analyze(&counts.series, &analysis);
    for r in &mut rates {
        r.id = format!("user:{}", r.instance);
        r.user = Some(r.instance.clone());
        r.user_agent = counts.user_agents.get(&r.instance).cloned();
        r.target = Target::User {
            name: r.instance.clone(),
        };
    }
    rates
}

/// Names the callees of API-server clients (which webhook, which APIService) from step 7's
/// configuration lists.
pub fn name_callees(evidence: &mut ClientsEvidence, callees: &Callees) {
    for r in &mut evidence.clients {
        let own = match &r.target {
            Target::ApiServer { instance } => Some(instance.clone()),
            _ => None,
        };
        for h in &mut r.by_host {
            h.callee = callee::name_callee(
                &h.host,
                own.as_deref(),
                &callees.webhooks,
                &callees.api_services,
            );
        }
    }
}

/// Why step 3 has nothing to judge although it read clients: not one request counted in the
/// window (a window shorter than two of Prometheus' scrapes, `--since 1s`, has no rate), which
/// is "could not look", never "healthy". `None` when some client has requests, or none was read.
pub fn nothing_counted(evidence: &ClientsEvidence) -> Option<String> {
    (!evidence.clients.is_empty() && evidence.clients.iter().all(|c| c.requests <= 0.0)).then(|| {
        format!(
            "no requests counted in the window for the {} read: it is shorter than Prometheus needs for a rate (two scrapes); widen --since (the alert uses 15m)",
            super::count(evidence.clients.len(), "client", "clients")
        )
    })
}

/// The clients over `threshold` and not noise: the ones the later steps investigate.
pub fn failing(evidence: &ClientsEvidence, threshold: Threshold) -> Vec<ClientRates> {
    evidence
        .clients
        .iter()
        .filter(|c| clients::judge(c, threshold, evidence.min_intervals).failing())
        .cloned()
        .collect()
}

/// The step's note: `"N clients, K over 1.0 % errors"`, where K counts the clients the later
/// steps investigate (over the threshold and not noise), and, when clients over the threshold
/// are expected noise, `"; M more over it are expected noise (only 404s, 409s, watch
/// reconnects or little traffic)"`, so the note and the report's client list (which shows
/// every client over the threshold) count the same clients.
pub fn note(evidence: &ClientsEvidence, threshold: Threshold) -> String {
    let mut failing = 0;
    let mut noise = 0;
    for c in &evidence.clients {
        let j = clients::judge(c, threshold, evidence.min_intervals);
        if j.failing() {
            failing += 1;
        } else if j.over {
            noise += 1;
        }
    }
    let mut note = format!(
        "{}, {failing} over {threshold} errors",
        super::count(evidence.clients.len(), "client", "clients")
    );
    if noise > 0 {
        note.push_str(&format!(
            "; {noise} more over it are expected noise (only 404s, 409s, watch reconnects or little traffic)"
        ));
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded on the kube-prometheus-stack lab while its three API servers started: each one's
    /// loopback client dials its own bind address (`host` = its own `instance`), not
    /// 127.0.0.1; that is the loopback, not an unknown callee.
    #[test]
    fn an_api_server_calling_its_own_address_is_its_loopback() {
        let b = crate::diagnose::testing::bundle("kps-webhook-5xx-at-start");
        let mut clients = b.clients.clone().unwrap();
        name_callees(&mut clients, &b.server_metrics.as_ref().unwrap().callees);
        let api = clients
            .clients
            .iter()
            .find(|c| c.id == "apiserver/198.18.7.10:26443")
            .unwrap();
        let callee = |host: &str| {
            api.by_host
                .iter()
                .find(|h| h.host == host)
                .map(|h| h.callee.clone())
        };
        assert_eq!(
            callee("198.18.7.10:26443"),
            Some(crate::bundle::Callee::Loopback)
        );
        assert!(matches!(
            callee("policy-webhook.policy.svc:443"),
            Some(crate::bundle::Callee::Webhook { .. })
        ));
    }
    /// A window with no request counted is nothing to judge (the healthy lab's clients, their
    /// requests set to 0 as `--since 1s` reads them); with requests it is judged as usual.
    #[test]
    fn a_window_with_no_request_counted_is_nothing_to_judge() {
        let b = crate::diagnose::testing::bundle("healthy");
        let mut clients = b.clients.clone().unwrap();
        assert_eq!(nothing_counted(&clients), None);
        for c in &mut clients.clients {
            c.requests = 0.0;
        }
        let why = nothing_counted(&clients).unwrap();
        assert!(
            why.starts_with("no requests counted in the window for the 6 clients read"),
            "{why}"
        );
        clients.clients.clear();
        assert_eq!(nothing_counted(&clients), None);
    }
    use crate::bundle::{RateSource, Window};
    use crate::playbook::{fixture, fixture_items};

    fn lab_window(series: &[CounterSeries]) -> Window {
        let from = series
            .iter()
            .filter_map(|s| s.points.first())
            .map(|p| p.0)
            .min()
            .unwrap();
        let to = series
            .iter()
            .filter_map(|s| s.points.last())
            .map(|p| p.0)
            .max()
            .unwrap();
        Window { from, to }
    }

    #[test]
    fn recorded_prometheus_rates_give_the_failing_client() {
        // rest_client_requests_total from the lab's Prometheus while rbac-revoked made the
        // kube-rs client's lists answer 403.
        let series =
            crate::prometheus::parse_range(200, &fixture("prom-rates-rbac-revoked.json")).unwrap();
        let counters = series_from_prometheus(series);
        assert!(counters.iter().any(|c| c.code == "403"));
        let window = lab_window(&counters);
        let analysis = Analysis {
            window,
            threshold: Threshold::ALERT,
            min_intervals: 3,
        };
        let evidence = ClientsEvidence {
            source: RateSource::Prometheus {
                url: "http://prometheus".into(),
            },
            threshold: 0.01,
            step_seconds: 15.0,
            min_intervals: 3,
            clients: clients::analyze(&counters, &analysis),
            others: None,
            notes: Vec::new(),
            scope: None,
        };
        let failing = failing(&evidence, Threshold::ALERT);
        assert_eq!(
            failing.len(),
            1,
            "{:?}",
            failing.iter().map(|c| &c.id).collect::<Vec<_>>()
        );
        assert_eq!(failing[0].pod(), Some(("demo", "demo-kubers")));
        assert!(failing[0].codes.get("403").is_some_and(|n| *n > 0.0));
        assert!(note(&evidence, Threshold::ALERT).ends_with("1 over 1.0 % errors"));
        // At a threshold above its ratio nothing fails.
        let high = Threshold::new(0.99).unwrap();
        assert!(super::failing(&evidence, high).is_empty());
    }

    #[test]
    fn scrapes_sum_methods_per_code_and_host() {
        let text = String::from_utf8(fixture("kubers-client-metrics.txt")).unwrap();
        let samples = crate::clients::exposition::parse(&text, |n| n == METRIC).unwrap();
        assert!(!samples.is_empty());
        let mut t = ScrapedTarget {
            job: "pod-metrics".into(),
            instance: "127.0.1.2:18082".into(),
            ..Default::default()
        };
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        t.add_scrape(t0, &samples);
        // The second scrape: every sample 10 higher.
        let later: Vec<_> = samples
            .iter()
            .cloned()
            .map(|mut s| {
                s.value += 10.0;
                s
            })
            .collect();
        t.add_scrape(t0 + jiff::SignedDuration::from_secs(5), &later);
        let series = series_from_scrapes(vec![t]);
        for s in &series {
            assert_eq!(s.points.len(), 2, "one point per scrape: {s:?}");
            let methods = samples
                .iter()
                .filter(|x| {
                    x.labels.get("code") == Some(&s.code) && x.labels.get("host") == s.host.as_ref()
                })
                .count() as f64;
            assert_eq!(s.points[1].1 - s.points[0].1, 10.0 * methods);
        }
    }

    #[test]
    fn pods_to_scrape_and_who_they_are() {
        let pods: Vec<Pod> = fixture_items("demo-pods.json");
        let scrapes = pod_scrapes(&pods);
        assert_eq!(
            scrapes.len(),
            3,
            "the three lab clients expose /metrics: {scrapes:?}"
        );
        let kubers = scrapes.iter().find(|s| s.name == "demo-kubers").unwrap();
        assert_eq!(kubers.port, 18082);
        assert!(kubers.instance().ends_with(":18082"));
        assert_eq!(
            kubers.proxy_path(),
            "/api/v1/namespaces/demo/pods/demo-kubers:18082/proxy/metrics"
        );
        let pod = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some("demo-kubers"))
            .unwrap();
        assert_eq!(
            pod_user(pod).as_deref(),
            Some("system:serviceaccount:demo:kubers-client")
        );
        assert!(matches!(
            pod_target(pod),
            Target::Pod { service_account: Some(ref sa), .. } if sa == "kubers-client"
        ));
    }

    #[test]
    fn instances_and_selectors() {
        assert_eq!(
            instance_ip("10.0.0.7:8080"),
            Some("10.0.0.7".parse().unwrap())
        );
        assert_eq!(
            instance_ip("[fd00::7]:8080"),
            Some("fd00::7".parse().unwrap())
        );
        assert_eq!(instance_ip("10.0.0.7"), Some("10.0.0.7".parse().unwrap()));
        assert_eq!(instance_ip("api.internal:443"), None);
        let c = crate::clients::analyze(
            &[CounterSeries {
                job: "demo".into(),
                instance: "10.0.0.7:8080".into(),
                code: "200".into(),
                host: None,
                labels: [("namespace", "demo"), ("pod", "web-1")]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                points: vec![
                    (Timestamp::from_second(10).unwrap(), 1.0),
                    (Timestamp::from_second(20).unwrap(), 2.0),
                ],
            }],
            &Analysis {
                window: Window {
                    from: Timestamp::from_second(0).unwrap(),
                    to: Timestamp::from_second(30).unwrap(),
                },
                threshold: Threshold::ALERT,
                min_intervals: 3,
            },
        )
        .remove(0);
        for yes in [
            None,
            Some("demo/10.0.0.7:8080"),
            Some("demo"),
            Some("demo/web-1"),
            Some("web-1"),
        ] {
            assert!(selected(yes, &c), "{yes:?}");
        }
        assert!(!selected(Some("other/web-1"), &c));
    }

    /// Per-series increases, summed per client: a counter that resets, a series that appears
    /// and one that goes away each move only their own increase, and the points become a
    /// running sum that the one counter analysis reads.
    #[test]
    fn increases_become_running_sums() {
        let q = increases_query(
            &crate::prometheus::Matchers::none().eq("cluster", "a"),
            std::time::Duration::from_millis(7500),
            "cluster",
        );
        assert_eq!(
            q,
            "sum by (job, instance, code, namespace, pod, host, cluster) (max without (prometheus_replica, replica) ((rest_client_requests_total{cluster=\"a\"} - rest_client_requests_total{cluster=\"a\"} offset 7500ms) >= 0 or rest_client_requests_total{cluster=\"a\"}))"
        );
        let t = |s: i64| Timestamp::from_second(1_700_000_000 + s).unwrap();
        let labels = |code: &str| -> std::collections::BTreeMap<String, String> {
            [
                ("job", "j"),
                ("instance", "i"),
                ("code", code),
                ("cluster", "a"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let answer = vec![
            RangeSeries {
                labels: labels("200"),
                points: vec![(t(0), 50.0), (t(10), 10.0), (t(20), 10.0), (t(30), 10.0)],
            },
            RangeSeries {
                labels: labels("403"),
                points: vec![(t(20), 5.0), (t(30), 5.0)],
            },
        ];
        assert_eq!(label_values(&answer, "cluster"), vec!["a".to_string()]);
        let counters = series_from_increases(answer, t(0), std::time::Duration::from_secs(10));
        assert_eq!(
            counters[0].points.iter().map(|p| p.1).collect::<Vec<_>>(),
            vec![50.0, 60.0, 70.0, 80.0]
        );
        assert_eq!(
            counters[1].points,
            vec![(t(10), 0.0), (t(20), 5.0), (t(30), 10.0)]
        );
        let window = Window {
            from: t(0),
            to: t(30),
        };
        let c = clients::analyze(
            &counters,
            &Analysis {
                window,
                threshold: Threshold::ALERT,
                min_intervals: 3,
            },
        );
        assert_eq!(c.len(), 1);
        // The first point is the baseline: 30 requests with 200 after it, and both of the
        // 403 series' increases (it appeared at 20 s).
        assert_eq!(c[0].requests, 40.0, "{:?}", c[0]);
        assert_eq!(c[0].codes.get("403"), Some(&10.0));
    }
}
