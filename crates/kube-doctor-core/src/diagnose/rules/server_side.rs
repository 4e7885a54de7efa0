//! Diagnosis rule 2: server-side. API server trouble - not ready or restarted, answering 5xx,
//! slow, failing admission webhooks, slow etcd, unavailable aggregated APIs, not answering at
//! all - within the server window (default 5 min) of a client's onset -> `server_side`. Also
//! when the failing client is the API server itself: its callees (webhooks, APIServices) are
//! named.

use crate::bundle::{Callee, SignalKind, Target};
use crate::category::Category;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Verdict};

use super::{own_failures, serving_cert_trouble};

pub struct ServerSide;

impl Rule for ServerSide {
    fn name(&self) -> &'static str {
        "server_side"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        // An expired or untrusted serving certificate explains "unreachable" better.
        let tls_global = !serving_cert_trouble(b).is_empty();
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            let mut evidence = inc.evidence.clone();
            let mut remediation = Vec::new();
            let mut correlated = false;
            let mut what = Vec::new();
            let events = ctx.events_near(
                inc,
                &[EventTopic::ApiServer, EventTopic::Webhook],
                ctx.windows.server,
            );
            if !events.is_empty() {
                correlated = true;
                what.push(format!(
                    "{} event(s) about the API server or its webhooks",
                    events.len()
                ));
                remediation.push("read the events cited (kubectl get events -A --field-selector type!=Normal): they name the failing component".to_string());
                evidence.extend(events);
            }
            if b.server_metrics.is_some() {
                for s in ctx
                    .signals
                    .iter()
                    .filter(|s| s.kind != SignalKind::ApfRejections)
                {
                    let near = Context::near(inc.onset, s.first_seen, ctx.windows.server);
                    let timeless = s.first_seen.is_none();
                    if !(near || timeless) {
                        continue;
                    }
                    correlated |= near;
                    evidence.push(ev(7, s.subject.clone(), s.first_seen, s.detail.clone()));
                    what.push(s.detail.clone());
                    remediation.push(match s.kind {
                        SignalKind::ApiServerUnreachable => "kube-apiserver is not serving: check its process or pod (kubectl -n kube-system get pods -l component=kube-apiserver, or its systemd unit), its last log lines, and etcd (/readyz?verbose). If its serving certificate expired, see the authentication finding.".to_string(),
                        SignalKind::ApiServerRestart => "kube-apiserver restarted: read the previous instance's log and termination reason (OOMKilled? liveness probe?) and check its memory limit and etcd connectivity.".to_string(),
                        SignalKind::WebhookErrors => format!("admission webhook {} is failing or slower than its timeout: check its backend Service and pods; while it is repaired, narrow its rules or matchConditions, or set failurePolicy: Ignore if skipping it is safe.", s.subject),
                        SignalKind::Server5xx => "the API server answers 5xx: check etcd health and latency, admission webhooks, and the API server's log for the failing requests (apiserver_request_total by resource and verb).".to_string(),
                        SignalKind::HighLatency => "API server requests are slow: check etcd latency, in-flight requests and APF queueing (apiserver_flowcontrol_current_inqueue_requests), and expensive LIST calls.".to_string(),
                        SignalKind::EtcdLatency => "etcd is slow: check its disk (wal fsync duration), its leader changes and its database size.".to_string(),
                        SignalKind::ApiServiceUnavailable | SignalKind::ApfRejections => format!("APIService {} is unavailable: check the Service and pods that back it; discovery and every client of that API fail until it is back.", s.subject),
                    });
                }
                // The API server as the failing client: name its callees.
                if matches!(inc.target, Target::ApiServer { .. }) {
                    for h in inc.by_host.iter().filter(|h| h.ratios.non_2xx > 0.0) {
                        let who = match &h.callee {
                            Callee::Webhook {
                                configuration,
                                webhook,
                            } => {
                                remediation.push(format!("the API server's calls to admission webhook {webhook} (configuration {configuration}, {}) fail: repair its backend or relax its failurePolicy/timeout.", h.host));
                                format!("admission webhook {webhook}")
                            }
                            Callee::ApiService { name } => {
                                remediation.push(format!("the API server's calls to APIService {name} ({}) fail: repair the backing Service.", h.host));
                                format!("APIService {name}")
                            }
                            Callee::Loopback => "itself (loopback)".to_string(),
                            Callee::Unknown => format!("host {}", h.host),
                        };
                        correlated = true;
                        evidence.push(ev(
                            3,
                            format!(
                                "rest_client_requests_total{{job=\"kube-apiserver\",host=\"{}\"}}",
                                h.host
                            ),
                            inc.onset,
                            format!(
                                "the API server's calls to {who} failed {:.1} % of the time",
                                h.ratios.non_2xx * 100.0
                            ),
                        ));
                        what.push(format!("its calls to {who} fail"));
                    }
                }
            }
            if let Some(a) = &b.apiserver {
                for p in &a.pods {
                    let restarted = p.last_termination.as_ref().is_some_and(|t| {
                        Context::near(inc.onset, t.finished_at, ctx.windows.server)
                    });
                    let unready = !p.ready
                        && Context::near(inc.onset, p.ready_changed_at, ctx.windows.server);
                    if restarted || unready {
                        correlated = true;
                        let detail = format!(
                            "{} {} (restarts {}, last termination {:?})",
                            p.name,
                            if p.ready { "restarted" } else { "is not ready" },
                            p.restarts,
                            p.last_termination.as_ref().and_then(|t| t.reason.clone())
                        );
                        what.push(detail.clone());
                        evidence.push(ev(
                            1,
                            format!("pod/kube-system/{}", p.name),
                            p.ready_changed_at,
                            detail,
                        ));
                    }
                }
                if let Some(r) = a.readyz.as_ref().filter(|r| !r.ok) {
                    let detail = if r.failed_checks.is_empty() {
                        format!("/readyz failed: {}", r.error.clone().unwrap_or_default())
                    } else {
                        format!("/readyz failed checks: {}", r.failed_checks.join(", "))
                    };
                    what.push(detail.clone());
                    evidence.push(ev(1, "/readyz", Some(r.checked_at), detail));
                }
            }
            // The client saw server errors or no answer, and kube-doctor saw the same.
            let client_side = inc.code("<error>") > 0.0
                || inc.codes.keys().any(|c| c.starts_with('5'))
                || inc.log_count(Category::ServerError) > 0
                || inc.log_mentions(Category::QuotaOrAdmission, "webhook");
            let own = own_failures(
                b,
                &[
                    Category::NetworkUnreachable,
                    Category::ServerError,
                    Category::Timeout,
                ],
            );
            let own_refused = !own.is_empty();
            evidence.extend(own);
            if what.is_empty() && !own_refused {
                continue;
            }
            if !client_side {
                continue;
            }
            if own_refused && what.is_empty() {
                what.push("kube-doctor could not reach it either".to_string());
                remediation.push("kube-apiserver does not answer: check that it runs and listens (its process or pod, its log), and etcd.".to_string());
            }
            // An expired or untrusted certificate explains unreachability better.
            // Only when TLS failures dominate the client's other transport or server errors.
            let tls = tls_global
                || inc.log_count(Category::TlsCertificate)
                    > inc.log_count(Category::ServerError)
                        + inc.log_count(Category::Timeout)
                        + inc.log_count(Category::NetworkUnreachable);
            let mut confidence: f64 = 0.55;
            if correlated {
                confidence += 0.25;
            }
            if own_refused {
                confidence += 0.1;
            }
            if tls {
                confidence -= 0.35;
            }
            out.push(Verdict {
                cause: Cause::ServerSide,
                confidence: confidence.clamp(0.05, 0.95),
                summary: format!(
                    "{} errors began {}; at the same time the API server side: {}.",
                    inc.client,
                    inc.onset
                        .map_or("before the window".to_string(), |t| format!(
                            "at {}",
                            fmt_time(t)
                        )),
                    what.join("; ")
                ),
                evidence,
                remediation,
                clients: vec![inc.client.clone()],
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{bundle, evaluate, named};

    #[test]
    fn a_stopped_or_stalled_server_is_server_side() {
        for fault in ["apiserver-down", "apiserver-slow"] {
            let v = evaluate(&ServerSide, &bundle(fault));
            assert_eq!(
                named(&v),
                vec![(Cause::ServerSide, vec!["demo-clients/127.0.1.1:18081".to_string()])],
                "{fault}"
            );
        }
    }

    #[test]
    fn a_healthy_server_explains_nothing() {
        for fault in ["rbac-revoked", "quota-exceeded", "healthy"] {
            assert!(evaluate(&ServerSide, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
