//! Server trouble, judged: diagnosis' reading of step 7's measurements. A series over its
//! threshold is a [`ServerSignal`] with the time it started and ended, which the rules
//! correlate with client onsets. Thresholds are [`ServerThresholds`] (settings, not constants
//! of the collector), so an old bundle can be judged again.
//!
//! From a scrape (no series, numbers cumulative since the API server started) the signals have
//! no start time, and say so. A version 1 bundle carries the signals its collector judged
//! (`recorded_signals`); they are used as they are.

use jiff::Timestamp;

use crate::bundle::{RateSource, ServerMeasure, ServerMetrics, ServerSignal, SignalKind};

/// Where server-side numbers become trouble.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerThresholds {
    /// 5xx ratio above which the API server is in trouble (the alert's own 1 %).
    pub server_5xx_ratio: f64,
    /// p99 latency of non-watch requests above which it is slow, seconds. The upstream
    /// apiserver SLO (kubernetes-mixin) counts read requests slower than 1 s as failures.
    pub slow_p99_seconds: f64,
    /// etcd p99 above which etcd is slow, seconds. etcd's own guidance: a healthy member
    /// answers well under 100 ms; half a second is trouble.
    pub etcd_slow_p99_seconds: f64,
}

impl Default for ServerThresholds {
    fn default() -> Self {
        ServerThresholds {
            server_5xx_ratio: 0.01,
            slow_p99_seconds: 1.0,
            etcd_slow_p99_seconds: 0.5,
        }
    }
}

/// First and last time a series exceeds `threshold`, and its peak.
fn over(points: &[(Timestamp, f64)], threshold: f64) -> Option<(Timestamp, Timestamp, f64)> {
    let hits: Vec<&(Timestamp, f64)> = points
        .iter()
        .filter(|(_, v)| v.is_finite() && *v > threshold)
        .collect();
    let first = hits.first()?;
    let last = hits.last()?;
    let peak = hits.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
    Some((first.0, last.0, peak))
}

fn label(s: &std::collections::BTreeMap<String, String>, k: &str) -> String {
    s.get(k).cloned().unwrap_or_default()
}

/// The words that mark an [`SignalKind::ApiServerRestart`] signal as a first start inside the
/// window (not a restart of an instance seen running before); `rules::server_side` reads them.
pub(crate) const STARTED_INSIDE: &str = "inside the window";

/// The server signals of a bundle's step 7, at `t`. `window_from` is the window's start (a
/// process start after it is a start inside the window); `now` is the collection time (an
/// unavailable APIService is trouble until then).
pub fn server_signals(
    m: &ServerMetrics,
    t: &ServerThresholds,
    window_from: Timestamp,
    now: Timestamp,
) -> Vec<ServerSignal> {
    if let Some(recorded) = &m.recorded_signals {
        return recorded.clone();
    }
    let mut signals = Vec::new();
    for s in &m.series {
        let sig = |kind, subject: String, first, last, peak, detail: String| ServerSignal {
            kind,
            subject,
            first_seen: Some(first),
            last_seen: Some(last),
            peak,
            detail,
        };
        match s.measure {
            ServerMeasure::ServerErrorRatio => {
                if let Some((f, l, peak)) = over(&s.points, t.server_5xx_ratio) {
                    signals.push(sig(
                        SignalKind::Server5xx,
                        "apiserver_request_total".into(),
                        f,
                        l,
                        peak,
                        format!(
                            "the API server answered {:.1} % of requests with 5xx at peak",
                            peak * 100.0
                        ),
                    ));
                }
            }
            ServerMeasure::RequestP99Seconds => {
                if let Some((f, l, peak)) = over(&s.points, t.slow_p99_seconds) {
                    signals.push(sig(
                        SignalKind::HighLatency,
                        "apiserver_request_duration_seconds".into(),
                        f,
                        l,
                        peak,
                        format!("p99 request latency reached {peak:.2} s"),
                    ));
                }
            }
            ServerMeasure::ApfRejectedPerSecond => {
                if let Some((f, l, peak)) = over(&s.points, 0.0) {
                    let fs = label(&s.labels, "flow_schema");
                    let pl = label(&s.labels, "priority_level");
                    signals.push(sig(SignalKind::ApfRejections, format!("flow_schema={fs} priority_level={pl}"), f, l, peak,
                        format!("APF rejected up to {peak:.2} requests/s of FlowSchema {fs} (priority level {pl})")));
                }
            }
            ServerMeasure::WebhookErrorsPerSecond => {
                if let Some((f, l, peak)) = over(&s.points, 0.0) {
                    let name = label(&s.labels, "name");
                    signals.push(sig(
                        SignalKind::WebhookErrors,
                        name.clone(),
                        f,
                        l,
                        peak,
                        format!("calls to admission webhook {name} failed up to {peak:.2}/s"),
                    ));
                }
            }
            ServerMeasure::EtcdP99Seconds => {
                if let Some((f, l, peak)) = over(&s.points, t.etcd_slow_p99_seconds) {
                    signals.push(sig(
                        SignalKind::EtcdLatency,
                        "etcd_request_duration_seconds".into(),
                        f,
                        l,
                        peak,
                        format!("etcd p99 request latency reached {peak:.2} s"),
                    ));
                }
            }
            // Prometheus could not scrape the API server: it was down, or its certificate failed.
            ServerMeasure::ApiServerUp => {
                let down: Vec<(Timestamp, f64)> =
                    s.points.iter().map(|(at, v)| (*at, 1.0 - v)).collect();
                if let Some((f, l, _)) = over(&down, 0.5) {
                    // The series as step 7 selected it: the job it was scoped to, else the
                    // jobs it matched (the first version's regex).
                    let subject = match m.apiserver_series.as_ref().and_then(|a| a.job.as_deref()) {
                        Some(job) => format!("up{{job=\"{job}\"}}"),
                        None => format!(
                            "up{{job=~\"{}\"}}",
                            crate::playbook::step7_server_metrics::APISERVER_JOBS
                        ),
                    };
                    signals.push(sig(SignalKind::ApiServerUnreachable, subject, f, l, 1.0,
                        "Prometheus could not scrape the API server (down, or its serving certificate failed)".into()));
                }
            }
            // A process start time that changes inside the window is a restart at that time; a
            // first one inside the window is a start (a new or restarted instance Prometheus had
            // not seen before), whose first minutes' errors are its startup's.
            ServerMeasure::ProcessStartSeconds => {
                let instance = label(&s.labels, "instance");
                if let Some(&(seen, value)) = s.points.first()
                    && let Ok(started) = Timestamp::from_second(value as i64)
                    && started > window_from
                {
                    signals.push(ServerSignal {
                        kind: SignalKind::ApiServerRestart,
                        subject: instance.clone(),
                        first_seen: Some(started),
                        last_seen: Some(seen),
                        peak: 1.0,
                        detail: format!(
                            "kube-apiserver {instance} started at {}, {STARTED_INSIDE}: errors in its first minutes are its startup's",
                            crate::diagnose::fmt_time(started)
                        ),
                    });
                }
                for w in s.points.windows(2) {
                    if w[1].1 > w[0].1 + 0.5 {
                        let started = Timestamp::from_second(w[1].1 as i64).unwrap_or(w[1].0);
                        signals.push(ServerSignal {
                            kind: SignalKind::ApiServerRestart,
                            subject: instance.clone(),
                            first_seen: Some(started),
                            last_seen: Some(w[1].0),
                            peak: 1.0,
                            detail: format!("kube-apiserver {instance} restarted at {started}"),
                        });
                    }
                }
            }
        }
    }
    if matches!(m.source, RateSource::Scrape { .. }) {
        signals.extend(cumulative(m, t, now));
    }
    for a in m.callees.api_services.iter().filter(|a| !a.available) {
        signals.push(ServerSignal {
            kind: SignalKind::ApiServiceUnavailable,
            subject: a.name.clone(),
            first_seen: a.changed_at,
            last_seen: Some(now),
            peak: 1.0,
            detail: format!(
                "APIService {} is not Available: {}",
                a.name,
                a.message.clone().unwrap_or_default()
            ),
        });
    }
    signals
}

/// Signals from numbers cumulative since the API server started (a scrape): no start time.
fn cumulative(m: &ServerMetrics, t: &ServerThresholds, now: Timestamp) -> Vec<ServerSignal> {
    let mut signals = Vec::new();
    for a in m.apf.iter().filter(|a| a.rejected > 0.0) {
        signals.push(ServerSignal {
            kind: SignalKind::ApfRejections,
            subject: format!("flow_schema={} priority_level={}", a.flow_schema, a.priority_level),
            first_seen: None,
            last_seen: Some(now),
            peak: a.rejected,
            detail: format!(
                "APF has rejected {} requests of FlowSchema {} (priority level {}) since the API server started",
                a.rejected, a.flow_schema, a.priority_level
            ),
        });
    }
    if m.ratio_5xx > t.server_5xx_ratio {
        signals.push(ServerSignal {
            kind: SignalKind::Server5xx,
            subject: "apiserver_request_total".to_string(),
            first_seen: None,
            last_seen: Some(now),
            peak: m.ratio_5xx,
            detail: format!(
                "{:.1} % of requests since start were answered 5xx",
                m.ratio_5xx * 100.0
            ),
        });
    }
    for w in m.webhooks.iter().filter(|w| w.errors > 0.0) {
        signals.push(ServerSignal {
            kind: SignalKind::WebhookErrors,
            subject: w.name.clone(),
            first_seen: None,
            last_seen: Some(now),
            peak: w.errors,
            detail: format!(
                "{} calls to admission webhook {} failed since the API server started",
                w.errors, w.name
            ),
        });
    }
    signals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{ApfStat, ApiServiceInfo, Callees, ServerSeries};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn metrics(series: Vec<ServerSeries>, source: RateSource) -> ServerMetrics {
        ServerMetrics {
            source,
            requests_by_class: Default::default(),
            ratio_5xx: 0.0,
            ratio_429: 0.0,
            latency: Vec::new(),
            inflight: Default::default(),
            apf: Vec::new(),
            webhooks: Vec::new(),
            etcd: Vec::new(),
            series,
            recorded_signals: None,
            callees: Callees::default(),
            notes: Vec::new(),
            apiserver_series: None,
        }
    }

    fn series(measure: ServerMeasure, values: &[f64]) -> ServerSeries {
        ServerSeries {
            measure,
            labels: Default::default(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (t(i as i64 * 60), *v))
                .collect(),
        }
    }

    #[test]
    fn series_over_their_thresholds_are_signals_with_times() {
        let m = metrics(
            vec![
                series(
                    ServerMeasure::ServerErrorRatio,
                    &[0.0, 0.002, 0.04, 0.03, 0.0],
                ),
                series(ServerMeasure::RequestP99Seconds, &[0.1, 0.2, 0.3]),
                series(ServerMeasure::ApiServerUp, &[1.0, 0.0, 0.0, 1.0]),
                series(
                    ServerMeasure::ProcessStartSeconds,
                    &[1_699_999_000.0, 1_699_999_000.0, 1_700_000_100.0],
                ),
            ],
            RateSource::Prometheus { url: "p".into() },
        );
        let s = server_signals(&m, &ServerThresholds::default(), t(0), t(600));
        let kinds: Vec<SignalKind> = s.iter().map(|x| x.kind).collect();
        assert_eq!(
            kinds,
            vec![
                SignalKind::Server5xx,
                SignalKind::ApiServerUnreachable,
                SignalKind::ApiServerRestart
            ]
        );
        assert_eq!(s[0].first_seen, Some(t(120)));
        assert_eq!(s[0].last_seen, Some(t(180)));
        assert_eq!(s[1].first_seen, Some(t(60)));
        // The subject is the series step 7 read: the jobs it matched, or the job it chose
        // (kube-prometheus-stack's `apiserver`, not the mixin default).
        assert_eq!(
            s[1].subject,
            "up{job=~\"kube-apiserver|apiserver|kubernetes-apiservers\"}"
        );
        let mut kps = m.clone();
        kps.apiserver_series = Some(crate::bundle::ApiServerSeries {
            job: Some("apiserver".into()),
            chosen_because: "its targets are the kubernetes Service's endpoints".into(),
            other_jobs: Vec::new(),
            recording_rules: Vec::new(),
            instances: Vec::new(),
        });
        let s2 = server_signals(&kps, &ServerThresholds::default(), t(0), t(600));
        assert_eq!(s2[1].subject, "up{job=\"apiserver\"}");
        assert_eq!(s[2].first_seen, Some(t(100)));
        // Judged again with a looser threshold, the 5xx are not trouble.
        let loose = ServerThresholds {
            server_5xx_ratio: 0.05,
            ..Default::default()
        };
        assert!(
            server_signals(&m, &loose, t(0), t(600))
                .iter()
                .all(|x| x.kind != SignalKind::Server5xx)
        );
    }

    /// A just-started lab: the API server's start time is inside the window, so its loopback's
    /// startup errors are explained by the start (seen on the plain lab, where they were
    /// diagnosed as a failing API server with nothing more to say).
    #[test]
    fn a_start_inside_the_window_is_a_signal() {
        let m = metrics(
            vec![series(
                ServerMeasure::ProcessStartSeconds,
                &[1_699_999_000.0, 1_699_999_000.0],
            )],
            RateSource::Prometheus { url: "p".into() },
        );
        let before = Timestamp::from_second(1_699_998_000).unwrap();
        let s = server_signals(&m, &ServerThresholds::default(), before, t(600));
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].kind, SignalKind::ApiServerRestart);
        assert_eq!(s[0].first_seen, Timestamp::from_second(1_699_999_000).ok());
        assert!(s[0].detail.contains("inside the window"), "{}", s[0].detail);
        // Started before the window: nothing to say.
        let after = Timestamp::from_second(1_700_000_000).unwrap();
        assert!(server_signals(&m, &ServerThresholds::default(), after, t(600)).is_empty());
    }

    #[test]
    fn scrapes_give_signals_without_start_and_recorded_ones_are_kept() {
        let mut m = metrics(
            Vec::new(),
            RateSource::Scrape {
                interval_seconds: 0.0,
            },
        );
        m.apf.push(ApfStat {
            flow_schema: "fs".into(),
            priority_level: "pl".into(),
            rejected: 3.0,
            reasons: Default::default(),
            in_queue: 0.0,
        });
        m.callees.api_services.push(ApiServiceInfo {
            name: "v1beta1.metrics.k8s.io".into(),
            service: Some("kube-system/metrics-server".into()),
            available: false,
            reason: None,
            message: Some("no endpoints".into()),
            changed_at: Some(t(5)),
        });
        let s = server_signals(&m, &ServerThresholds::default(), t(0), t(600));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].first_seen, None);
        assert_eq!(s[1].kind, SignalKind::ApiServiceUnavailable);
        assert_eq!(s[1].first_seen, Some(t(5)));
        m.recorded_signals = Some(Vec::new());
        assert!(server_signals(&m, &ServerThresholds::default(), t(0), t(600)).is_empty());
    }
}
