//! Diagnosis rule 2: server-side. API server trouble - not ready or restarted, answering 5xx,
//! slow, failing admission webhooks, slow etcd, unavailable aggregated APIs, not answering at
//! all - within the server window (default 5 min) of a client's onset -> `server_side`. Also
//! when the failing client is the API server itself: its callees (webhooks, APIServices) are
//! named.
//!
//! Relevance before correlation: a signal explains a client's errors only when it can affect
//! its requests and produces the kinds of errors the client saw - 5xx and latency explain
//! server errors and timeouts, an unreachable or restarting API server explains requests
//! without an answer, a failing webhook explains only clients whose logs name it (or that
//! meet it as a callee), an unavailable APIService only clients that name its group.

use crate::bundle::{Callee, ServerSignal, SignalKind, Target, WebhookConfig};
use crate::category::Category;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::diagnose::{EventTopic, Incident};
use crate::report::{Cause, Verdict};

use super::{KUBE_DOCTOR, own_failures, own_unanswered, serving_cert_trouble};

pub struct ServerSide;

/// When step 1 found the API server ready (`/readyz` answered ok): the time it asked.
fn ready_now(b: &crate::bundle::Bundle) -> Option<jiff::Timestamp> {
    b.apiserver
        .as_ref()
        .and_then(|a| a.readyz.as_ref())
        .filter(|r| r.ok)
        .map(|r| r.checked_at)
}

/// "from T1 to T2", "at T1" or "in the window", for a signal's first and last point.
fn span(first: Option<jiff::Timestamp>, last: Option<jiff::Timestamp>) -> String {
    match (first, last) {
        (Some(f), Some(l)) if f != l => format!("from {} to {}", fmt_time(f), fmt_time(l)),
        (Some(f), _) => format!("at {}", fmt_time(f)),
        _ => "in the window".to_string(),
    }
}

/// Whether a client's requests meet admission webhooks: its logs say so, or it is the API
/// server calling them.
fn meets_webhooks(inc: &Incident) -> bool {
    inc.log_mentions_any("webhook")
        || inc
            .by_host
            .iter()
            .any(|h| matches!(h.callee, Callee::Webhook { .. }))
}

/// What step 4 and 5 found on the API server's path to one callee (`host`): its configuration
/// (failurePolicy, timeout, selectors), its Service and endpoints, its serving certificate
/// against the `caBundle`, its backend's log. Returns (evidence, remediation first, findings).
fn callee_findings(
    ctx: &Context<'_>,
    inc: &Incident,
    host: &str,
) -> (Vec<crate::report::Evidence>, Vec<String>, Vec<String>) {
    let b = ctx.bundle;
    let (mut evidence, mut fix, mut what) = (Vec::new(), Vec::new(), Vec::new());
    let Some(path) = b
        .callee_paths
        .iter()
        .find(|p| p.client == inc.client && p.host == host)
    else {
        return (evidence, fix, what);
    };
    let e = |s: &str| crate::escape::one_line(s, 300);
    let webhook = match &path.callee {
        Callee::Webhook {
            configuration,
            webhook,
        } => b
            .server_metrics
            .iter()
            .flat_map(|m| &m.callees.webhooks)
            .find(|w| &w.configuration == configuration && &w.webhook == webhook),
        _ => None,
    };
    if let Some(w) = webhook {
        let (ev7, f, wh) = webhook_findings(ctx, w);
        evidence.push(ev7);
        fix.extend(f);
        what.extend(wh);
    }
    let at = path.service.as_ref().map_or(path.host.clone(), |s| {
        format!("service/{}/{}", s.namespace, s.name)
    });
    match (&path.service, path.service_exists) {
        (Some(s), Some(false)) => {
            what.push(format!(
                "its Service {}/{} does not exist",
                s.namespace, s.name
            ));
            evidence.push(ev(
                4,
                at.clone(),
                Some(ctx.now),
                "the Service does not exist",
            ));
            fix.push(format!(
                "create the Service {}/{} the webhook calls, or fix the webhook's clientConfig",
                s.namespace, s.name
            ));
        }
        (Some(s), _) => {
            let ready = path
                .endpoints
                .iter()
                .filter(|ep| ep.ready != Some(false))
                .count();
            evidence.push(ev(
                4,
                at.clone(),
                Some(ctx.now),
                format!(
                    "{} endpoints, {ready} ready{}",
                    path.endpoints.len(),
                    if path.backend_pods.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (pods {})",
                            path.backend_pods
                                .iter()
                                .map(|p| e(&p.name))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
            ));
            if ready == 0 {
                what.push(format!(
                    "its Service {}/{} has no ready endpoint",
                    s.namespace, s.name
                ));
                fix.push(format!("the backend behind {}/{} is down (no ready endpoint): check its pods (kubectl -n {} get pods,endpointslices -l ...), their readiness and logs", s.namespace, s.name, s.namespace));
            }
        }
        _ => {}
    }
    if let Some(p) = &path.probe {
        match (&p.error, &p.serving_cert) {
            (Some(err), _) => {
                what.push(format!(
                    "kube-doctor's TLS handshake to it failed ({})",
                    e(err)
                ));
                evidence.push(ev(
                    4,
                    format!("tls://{}", p.endpoint),
                    Some(ctx.now),
                    format!("handshake failed: {}", e(err)),
                ));
            }
            (None, Some(c)) => {
                let expired = c.not_after < ctx.now;
                let untrusted = c.chains_to_cluster_ca == Some(false);
                // An expired certificate is dated when it expired; a valid one when it was
                // seen (its notAfter, a year ahead, is no moment of the incident).
                let seen_at = if expired {
                    c.not_after
                } else if c.not_before > ctx.now {
                    c.not_before
                } else {
                    ctx.now
                };
                evidence.push(ev(
                    4,
                    format!("tls://{}", p.endpoint),
                    Some(seen_at),
                    format!(
                        "serving certificate {} (issuer {}), valid {} to {}{}",
                        e(&c.subject),
                        e(&c.issuer),
                        fmt_time(c.not_before),
                        fmt_time(c.not_after),
                        match c.chains_to_cluster_ca {
                            Some(true) => ", signed by the webhook's caBundle",
                            Some(false) => ", NOT signed by the webhook's caBundle",
                            None => "",
                        }
                    ),
                ));
                if expired {
                    what.push(format!(
                        "its serving certificate expired at {}",
                        fmt_time(c.not_after)
                    ));
                    fix.push(format!("renew the serving certificate of {} (it expired at {}); the API server refuses the handshake until then", at, fmt_time(c.not_after)));
                }
                if untrusted {
                    what.push(
                        "its serving certificate is not signed by the CA in the webhook's caBundle"
                            .to_string(),
                    );
                    fix.push(format!("the serving certificate of {at} is not signed by the webhook's caBundle: update the caBundle to the CA that signed it (cert-manager's CA injector does this), or re-issue the certificate from that CA"));
                }
            }
            _ => {}
        }
    }
    for n in &path.notes {
        evidence.push(ev(4, at.clone(), Some(ctx.now), e(n)));
    }
    // The backend's own log.
    for l in b
        .logs
        .iter()
        .filter(|l| l.role.is_some() && path.backend_pods.contains(&l.pod))
    {
        let errors: u64 = l.containers.iter().map(|c| c.error_lines).sum();
        let sample = l
            .containers
            .iter()
            .flat_map(|c| c.categories.values())
            .flat_map(|s| &s.samples)
            .next();
        if errors > 0 || sample.is_some() {
            evidence.push(ev(
                5,
                l.pod.to_string(),
                None,
                format!(
                    "{errors} error lines in the backend's log{}",
                    sample.map_or(String::new(), |s| format!(": {}", e(s)))
                ),
            ));
        }
    }
    (evidence, fix, what)
}

/// What to do about a failing webhook while it is repaired, said after its backend advice.
const WEBHOOK_MITIGATION: &str = "; while it is repaired, narrow its rules or matchConditions, or set failurePolicy: Ignore if skipping it is safe";

/// Says a webhook's mitigation once: when its failurePolicy finding (`admission webhook W has
/// failurePolicy Fail: ... set failurePolicy: Ignore, or narrow its rules`) is in the advice,
/// the backend advice about W drops [`WEBHOOK_MITIGATION`].
pub(crate) fn mitigation_once(remediation: &mut [String]) {
    let with_policy: Vec<String> = remediation
        .iter()
        .filter_map(|r| {
            r.strip_prefix("admission webhook ")
                .and_then(|rest| rest.split_once(" has failurePolicy Fail"))
                .map(|(name, _)| name.to_string())
        })
        .collect();
    for r in remediation.iter_mut() {
        let about = with_policy
            .iter()
            .any(|name| r.starts_with(&format!("admission webhook {name} is failing")));
        if about && r.contains(WEBHOOK_MITIGATION) {
            *r = r.replacen(WEBHOOK_MITIGATION, "", 1);
        }
    }
}

/// What a webhook's configuration says (step 7's list): its evidence (what it calls,
/// failurePolicy, timeout, what it intercepts), what to change, and what is wrong with it.
fn webhook_findings(
    ctx: &Context<'_>,
    w: &WebhookConfig,
) -> (crate::report::Evidence, Vec<String>, Vec<String>) {
    let e = |s: &str| crate::escape::one_line(s, 300);
    let (mut fix, mut what) = (Vec::new(), Vec::new());
    let evidence = ev(
        7,
        format!("{}webhookconfiguration/{}", w.kind, e(&w.configuration)),
        w.created_at,
        format!(
            "webhook {}: calls {}, failurePolicy {}, timeoutSeconds {}, intercepts {}{}",
            e(&w.webhook),
            e(&w.client),
            w.failure_policy.as_deref().unwrap_or("Fail"),
            w.timeout_seconds
                .map_or("10".to_string(), |t| t.to_string()),
            e(&w.rules.join("; ")),
            if w.selectors.is_empty() {
                String::new()
            } else {
                format!(", only where {}", e(&w.selectors.join(", ")))
            }
        ),
    );
    if w.failure_policy.as_deref().unwrap_or("Fail") == "Fail" {
        fix.push(format!(
            "admission webhook {} has failurePolicy Fail: every request it intercepts ({}) fails while it does; if skipping it is safe while it is repaired, set failurePolicy: Ignore, or narrow its rules or selectors",
            e(&w.webhook),
            e(&w.rules.join("; "))
        ));
    }
    if let Some(ca) = &w.ca_bundle
        && ca.not_after < ctx.now
    {
        what.push(format!(
            "its caBundle's CA expired at {}",
            fmt_time(ca.not_after)
        ));
        fix.push(format!(
            "the caBundle of webhook {} holds a CA that expired at {}: put the current CA in it",
            e(&w.webhook),
            fmt_time(ca.not_after)
        ));
    }
    (evidence, fix, what)
}

/// Whether a server signal can explain this client's errors (see the module's doc).
pub fn relevant(s: &ServerSignal, inc: &Incident) -> bool {
    let k = inc.failure_kinds();
    match s.kind {
        SignalKind::Server5xx => k.server || k.timeout,
        SignalKind::HighLatency | SignalKind::EtcdLatency => k.timeout || k.server || k.transport,
        SignalKind::ApiServerUnreachable => k.transport,
        // An API server as the client: only its own restart, not another instance's.
        SignalKind::ApiServerRestart => match &inc.target {
            Target::ApiServer { instance } => s.subject == *instance,
            _ => k.transport || k.server || k.denied,
        },
        SignalKind::WebhookErrors => {
            let calls_it = inc.by_host.iter().any(|h| {
                matches!(&h.callee, Callee::Webhook { webhook, .. } if *webhook == s.subject)
                    && h.ratios.non_2xx > 0.0
            });
            calls_it
                || ((inc.log_mentions_any(&s.subject)
                    || inc.log_mentions_any("failed calling webhook"))
                    && (k.server || k.timeout || inc.log_count(Category::QuotaOrAdmission) > 0))
        }
        SignalKind::ApiServiceUnavailable => {
            let group = s
                .subject
                .split_once('.')
                .map_or(s.subject.as_str(), |(_, g)| g);
            inc.by_host
                .iter()
                .any(|h| matches!(&h.callee, Callee::ApiService { name } if *name == s.subject))
                || inc.log_mentions_any(group)
                || inc.log_mentions_any("unable to handle the request")
        }
        SignalKind::ApfRejections => true,
    }
}

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
            // Webhook events only reach a client whose requests meet a webhook.
            let topics: &[EventTopic] = if meets_webhooks(inc) {
                &[EventTopic::ApiServer, EventTopic::Webhook]
            } else {
                &[EventTopic::ApiServer]
            };
            let events = ctx.events_near(inc, topics, ctx.windows.server);
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
                    // A start inside the window explains only errors that began in its first
                    // two minutes, after it.
                    let near = if is_start(s) {
                        matches!((s.first_seen, inc.onset), (Some(started), Some(onset))
                            if onset >= started
                                && onset.duration_since(started) <= jiff::SignedDuration::from_mins(2))
                    } else {
                        Context::near(inc.onset, s.first_seen, ctx.windows.server)
                    };
                    let timeless = s.first_seen.is_none();
                    if !(near || timeless) || !relevant(s, inc) {
                        continue;
                    }
                    correlated |= near;
                    evidence.push(ev(7, s.subject.clone(), s.first_seen, s.detail.clone()));
                    what.push(s.detail.clone());
                    remediation.push(match s.kind {
                        SignalKind::ApiServerUnreachable => match ready_now(b) {
                            // Down in the window, ready when step 1 asked: an outage that
                            // ended (a restart, most often), not one to repair now.
                            Some(checked) => format!("kube-apiserver was not serving {} and /readyz said ok at {} (step 1): unless that was a planned restart, find why it stopped - its pod's last termination and previous log (kubectl -n kube-system describe pod -l component=kube-apiserver; kubectl logs --previous), or its systemd unit's journal - and etcd's health at that time.", span(s.first_seen, s.last_seen), fmt_time(checked)),
                            None => "kube-apiserver is not serving: check its process or pod (kubectl -n kube-system get pods -l component=kube-apiserver, or its systemd unit), its last log lines, and etcd (/readyz?verbose). If its serving certificate expired, see the authentication finding.".to_string(),
                        },
                        SignalKind::ApiServerRestart if is_start(s) => "kube-apiserver started inside the window: while it starts (not ready, its post-start hooks and caches filling) its own and its clients' requests fail, so errors that stopped since need nothing; if the start was not planned, read the previous instance's log and termination reason (OOMKilled? liveness probe?).".to_string(),
                        SignalKind::ApiServerRestart => "kube-apiserver restarted: read the previous instance's log and termination reason (OOMKilled? liveness probe?) and check its memory limit and etcd connectivity.".to_string(),
                        SignalKind::WebhookErrors => {
                            // Its backend by name when step 7 listed the configuration: a
                            // Service, or the URL it calls directly.
                            let config = b
                                .server_metrics
                                .iter()
                                .flat_map(|m| &m.callees.webhooks)
                                .find(|w| w.webhook == s.subject);
                            let name = crate::escape::one_line(&s.subject, 300);
                            let backend = match config {
                                Some(w) => match &w.service {
                                    Some(svc) => format!(
                                        "check its backend Service {}/{} and its pods",
                                        crate::escape::one_line(&svc.namespace, 100),
                                        crate::escape::one_line(&svc.name, 100)
                                    ),
                                    None => format!(
                                        "check the server it calls by URL, {}",
                                        crate::escape::one_line(&w.client, 300)
                                    ),
                                },
                                None => "check its backend".to_string(),
                            };
                            // A runnable command (arguments shell-quoted; none when the kind
                            // or name could not be one).
                            let show = config
                                .filter(|w| matches!(w.kind.as_str(), "validating" | "mutating"))
                                .and_then(|w| {
                                    Some(format!(
                                        " (kubectl get {}webhookconfiguration {} -o yaml shows it)",
                                        w.kind,
                                        crate::names::shell_arg(&w.configuration)?
                                    ))
                                })
                                .unwrap_or_default();
                            format!("admission webhook {name} is failing or slower than its timeout: {backend}{show}{WEBHOOK_MITIGATION}.")
                        }
                        SignalKind::Server5xx => "the API server answers 5xx: check etcd health and latency, admission webhooks, and the API server's log for the failing requests (apiserver_request_total by resource and verb).".to_string(),
                        SignalKind::HighLatency => "API server requests are slow: check etcd latency, in-flight requests and APF queueing (apiserver_flowcontrol_current_inqueue_requests), and expensive LIST calls.".to_string(),
                        SignalKind::EtcdLatency => "etcd is slow: check its disk (wal fsync duration), its leader changes and its database size.".to_string(),
                        SignalKind::ApiServiceUnavailable | SignalKind::ApfRejections => format!("APIService {} is unavailable: check the Service and pods that back it; discovery and every client of that API fail until it is back.", s.subject),
                    });
                }
                // The client's own log names an admission webhook its requests fail in, and no
                // webhook metric says so (the API server's metrics unseen, as on a managed
                // control plane, or no failure in the window): the webhook's configuration, from
                // its log and step 7's list.
                let signalled: Vec<&str> = ctx
                    .signals
                    .iter()
                    .filter(|s| s.kind == SignalKind::WebhookErrors)
                    .map(|s| s.subject.as_str())
                    .collect();
                let named = b
                    .server_metrics
                    .iter()
                    .flat_map(|m| &m.callees.webhooks)
                    .filter(|w| {
                        !signalled.contains(&w.webhook.as_str())
                            && inc.logs.values().flat_map(|l| &l.samples).any(|l| {
                                let l = l.to_ascii_lowercase();
                                l.contains("failed calling webhook")
                                    && l.contains(&w.webhook.to_ascii_lowercase())
                            })
                    });
                for w in named {
                    correlated = true;
                    let name = crate::escape::one_line(&w.webhook, 300);
                    what.push(format!(
                        "its requests fail in admission webhook {name} (its log: failed calling webhook){}",
                        w.service.as_ref().map_or(String::new(), |s| format!(
                            ", whose backend is the Service {}/{}",
                            crate::escape::one_line(&s.namespace, 100),
                            crate::escape::one_line(&s.name, 100)
                        ))
                    ));
                    let (ev7, fix, wh) = webhook_findings(ctx, w);
                    evidence.push(ev7);
                    what.extend(wh);
                    remediation.extend(fix);
                    remediation.push(format!("admission webhook {name} fails the client's requests: check its backend{} (its pods, readiness and log); while it is repaired, narrow its rules or matchConditions, or set failurePolicy: Ignore if skipping it is safe.", w.service.as_ref().map_or(String::new(), |s| format!(" Service {}/{}", crate::escape::one_line(&s.namespace, 100), crate::escape::one_line(&s.name, 100)))));
                }
                // The API server as the failing client: name its callees.
                if let Target::ApiServer { instance } = &inc.target {
                    // Its own series: `job` is the client id without `/instance`.
                    let job = inc
                        .client
                        .strip_suffix(&format!("/{instance}"))
                        .unwrap_or(&inc.client);
                    // Its loopback calls fail with 404s and 409s as any client's do; only
                    // server errors or no answer are a finding there.
                    for h in inc.by_host.iter().filter(|h| {
                        if h.callee == Callee::Loopback {
                            h.ratios.server_5xx > 0.0 || h.ratios.transport > 0.0
                        } else {
                            h.ratios.non_2xx > 0.0
                        }
                    }) {
                        let who = match &h.callee {
                            Callee::Webhook {
                                configuration,
                                webhook,
                            } => {
                                // Said once: the webhook signal's advice (step 7) already
                                // sends the reader to its backend.
                                let advised = format!(
                                    "admission webhook {} is failing",
                                    crate::escape::one_line(webhook, 300)
                                );
                                if !remediation.iter().any(|r| r.starts_with(&advised)) {
                                    remediation.push(format!("the API server's calls to admission webhook {} (configuration {}, {}) fail: repair its backend or relax its failurePolicy/timeout.", crate::escape::one_line(webhook, 300), crate::escape::one_line(configuration, 300), crate::escape::one_line(&h.host, 300)));
                                }
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
                                "rest_client_requests_total{{job={},instance={},host={}}}",
                                crate::prometheus::string_literal(job),
                                crate::prometheus::string_literal(instance),
                                crate::prometheus::string_literal(&h.host)
                            ),
                            inc.onset,
                            if h.callee == Callee::Loopback {
                                // 404s and 409s are not counted there (see the filter above).
                                format!(
                                    "the API server's calls to {who} got a server error or no answer {:.1} % of the time (404 and 409 not counted)",
                                    (h.ratios.server_5xx + h.ratios.transport) * 100.0
                                )
                            } else {
                                format!(
                                    "the API server's calls to {who} failed {:.1} % of the time",
                                    h.ratios.non_2xx * 100.0
                                )
                            },
                        ));
                        what.push(format!("its calls to {who} fail"));
                        let (e, r, w) = callee_findings(ctx, inc, &h.host);
                        evidence.extend(e);
                        remediation.splice(0..0, r);
                        what.extend(w);
                    }
                }
            }
            // An API server instance that stopped or restarted near the onset.
            let mut instance_down = false;
            if let Some(a) = &b.apiserver {
                // An API server as the client: only its own pod (by its address), when known.
                let own_host = match &inc.target {
                    Target::ApiServer { instance } => instance
                        .rsplit_once(':')
                        .map(|(h, _)| h.trim_matches(['[', ']']).to_string()),
                    _ => None,
                };
                for p in a.pods.iter().filter(|p| match (&own_host, &p.pod_ip) {
                    (Some(h), Some(ip)) => h == ip,
                    _ => true,
                }) {
                    let restarted = p.last_termination.as_ref().is_some_and(|t| {
                        Context::near(inc.onset, t.finished_at, ctx.windows.server)
                    });
                    let unready = !p.ready
                        && Context::near(inc.onset, p.ready_changed_at, ctx.windows.server);
                    if restarted || unready {
                        correlated = true;
                        instance_down = true;
                        let detail = format!(
                            "{}{} {} since {} (restarts {}{})",
                            p.name,
                            p.node
                                .as_deref()
                                .map_or(String::new(), |n| format!(" on node {n}")),
                            if p.ready { "restarted" } else { "is not ready" },
                            p.ready_changed_at.map_or("?".to_string(), fmt_time),
                            p.restarts,
                            p.last_termination
                                .as_ref()
                                .map_or(String::new(), |t| format!(
                                    ", last terminated: {} exit {}",
                                    t.reason.as_deref().unwrap_or("?"),
                                    t.exit_code
                                ))
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
            // An API server that is shutting down answers 429 ("apiserver is shutting down",
            // with Retry-After) to the requests that still reach it: without API Priority and
            // Fairness rejecting near the onset, a client's 429s at an instance's stop are that.
            let apf_near = ctx.signals.iter().any(|s| {
                s.kind == SignalKind::ApfRejections
                    && (s.first_seen.is_none()
                        || Context::near(inc.onset, s.first_seen, ctx.windows.apf))
            });
            let shutdown_429 = instance_down && inc.code("429") > 0.0 && !apf_near;
            if shutdown_429 {
                what.push(format!(
                    "its {:.0} answers 429 came as an API server stopped (a stopping kube-apiserver answers 429 \"apiserver is shutting down\" to the requests that still reach it), not from API Priority and Fairness",
                    inc.code("429")
                ));
                remediation.push("an API server instance stopped: find why (its pod's last state and log: kubectl -n kube-system describe pod, kubectl logs --previous) and bring it back; behind a load balancer the other instances serve, and clients retry 429s after Retry-After.".to_string());
            }
            // The client saw server errors or no answer, and kube-doctor saw the same.
            let client_side = shutdown_429
                || inc.code("<error>") > 0.0
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
            mitigation_once(&mut remediation);
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
        // kube-doctor is an API client too: when no client's rates explain anything and its
        // own requests get no answer, that is the finding.
        if ctx.incidents.iter().all(|i| i.noise) {
            let own: Vec<_> = own_unanswered(b)
                .into_iter()
                .filter(|(_, c)| *c != Category::TlsCertificate)
                .map(|(e, _)| e)
                .collect();
            if !own.is_empty() {
                let mut evidence = own;
                let mut seen = Vec::new();
                if let Some(r) = b.apiserver.as_ref().and_then(|a| a.readyz.as_ref()) {
                    if !r.failed_checks.is_empty() {
                        seen.push(format!(
                            "/readyz names failed checks: {}",
                            r.failed_checks.join(", ")
                        ));
                        evidence.push(ev(
                            1,
                            "/readyz",
                            Some(r.checked_at),
                            format!("failed checks: {}", r.failed_checks.join(", ")),
                        ));
                    } else if let Some(e) = &r.error {
                        evidence.push(ev(
                            1,
                            "/readyz",
                            Some(r.checked_at),
                            format!("/readyz did not answer: {e}"),
                        ));
                    }
                }
                let etcd = seen.iter().any(|s| s.contains("etcd"));
                let mut remediation = vec![format!(
                    "kube-doctor gets no answer from the API server at {}: check that kube-apiserver runs and listens (its pod or process, its log), the network path from here to it, and the server URL in the kubeconfig used",
                    crate::escape::one_line(&b.cluster.server, 200)
                )];
                if etcd {
                    remediation.insert(0, "the API server answers /readyz but names etcd as failing: check etcd (its members, disk, its log; etcdctl endpoint health)".to_string());
                }
                out.push(Verdict {
                    cause: Cause::ServerSide,
                    confidence: if etcd { 0.85 } else { 0.7 },
                    summary: format!(
                        "kube-doctor itself gets no answer from the API server at {}{}: no client's error rates could be weighed against it.",
                        crate::escape::one_line(&b.cluster.server, 200),
                        if seen.is_empty() { String::new() } else { format!(" ({})", seen.join("; ")) }
                    ),
                    evidence,
                    remediation,
                    clients: vec![KUBE_DOCTOR.to_string()],
                });
            }
        }
        out
    }
}

/// Whether `s` is an API server's first start inside the window (step 7's process start time,
/// see `signals::server_signals`), not a restart of an instance seen running before.
fn is_start(s: &ServerSignal) -> bool {
    s.kind == SignalKind::ApiServerRestart
        && s.detail.contains(crate::diagnose::signals::STARTED_INSIDE)
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
                vec![(
                    Cause::ServerSide,
                    vec!["demo-clients/127.0.1.1:18081".to_string()]
                )],
                "{fault}"
            );
        }
    }

    /// A verdict's summary, evidence (reference and detail) and remediation, one per line.
    fn verdict_text(v: &crate::report::Verdict) -> String {
        format!(
            "{}\n{}\n{}",
            v.summary,
            v.evidence
                .iter()
                .map(|e| format!("{} {}", e.reference, e.detail))
                .collect::<Vec<_>>()
                .join("\n"),
            v.remediation.join("\n")
        )
    }

    /// Recorded on the kube-prometheus-stack lab with three API servers (`webhook-5xx`): the
    /// API server at 198.18.7.10 is the failing client; the verdict names the webhook, its
    /// configuration, Service, failurePolicy and timeout, and the instance's own series
    /// (`job="apiserver"`, not another stack's job name).
    #[test]
    fn kps_webhook_5xx_names_the_webhook_and_the_instance() {
        let v = evaluate(&ServerSide, &bundle("kps-webhook-5xx"));
        let top = v
            .iter()
            .find(|v| v.clients.iter().any(|c| c == "apiserver/198.18.7.10:26443"))
            .expect("a server_side verdict about the API server at 198.18.7.10");
        let all = verdict_text(top);
        for want in [
            "admission webhook policy.lab.kube-doctor.io",
            "validatingwebhookconfiguration/lab-policy",
            "service/policy/policy-webhook",
            "failurePolicy Fail",
            "timeoutSeconds 5",
            r#"rest_client_requests_total{job="apiserver",instance="198.18.7.10:26443",host="policy-webhook.policy.svc:443"}"#,
        ] {
            assert!(all.contains(want), "{want} not in:\n{all}");
        }
        assert!(!all.contains("kube-apiserver\""), "{all}");
    }

    /// Recorded on the lab in its managed shape (no control-plane pods, no API server series,
    /// `/metrics` forbidden) during `webhook-5xx`: nothing on the server side is visible but the
    /// webhook's configuration, and the kube-rs client's own log names the webhook it fails
    /// in. The verdict is server_side, naming the webhook, its configuration, Service,
    /// failurePolicy and timeout - not "configuration" for want of server metrics.
    #[test]
    fn managed_webhook_5xx_names_the_webhook_from_the_clients_log() {
        let b = bundle("kps-managed-webhook-5xx");
        let r = crate::diagnose::diagnose(&b, &Default::default());
        let top = r.top().expect("a verdict");
        assert_eq!(top.cause, Cause::ServerSide, "{}", top.summary);
        assert_eq!(
            top.clients,
            vec!["demo-kubers/198.18.7.131:28082".to_string()]
        );
        let all = verdict_text(top);
        for want in [
            "admission webhook policy.lab.kube-doctor.io",
            "validatingwebhookconfiguration/lab-policy",
            "Service policy/policy-webhook",
            "failurePolicy Fail",
            "timeoutSeconds 5",
        ] {
            assert!(all.contains(want), "{want} not in:\n{all}");
        }
    }

    /// The API server at 198.18.7.10 failing to call the webhook is not explained by another
    /// instance's restart (seen on the lab: instance 1 restarted two minutes before).
    #[test]
    fn another_instances_restart_does_not_explain_an_api_servers_calls() {
        use crate::bundle::{ServerSignal, SignalKind, Termination};
        let mut b = bundle("kps-webhook-5xx");
        let onset = crate::diagnose::testing::recorded_onset(&b, "apiserver/198.18.7.10:26443");
        let before = onset
            .checked_sub(jiff::SignedDuration::from_secs(120))
            .unwrap();
        for (i, p) in b.apiserver.as_mut().unwrap().pods.iter_mut().enumerate() {
            p.pod_ip = Some(format!("198.18.7.1{i}"));
            if i == 1 {
                p.restarts = 1;
                p.ready_changed_at = Some(before);
                p.last_termination = Some(Termination {
                    reason: Some("Error".into()),
                    exit_code: 1,
                    finished_at: Some(before),
                });
            }
        }
        b.server_metrics.as_mut().unwrap().recorded_signals = Some(vec![ServerSignal {
            kind: SignalKind::ApiServerRestart,
            subject: "198.18.7.11:26443".into(),
            first_seen: Some(before),
            last_seen: Some(before),
            peak: 1.0,
            detail: "kube-apiserver 198.18.7.11:26443 restarted".into(),
        }]);
        let v = evaluate(&ServerSide, &b);
        let api = v
            .iter()
            .find(|v| v.clients[0] == "apiserver/198.18.7.10:26443")
            .expect("a verdict about the API server at 198.18.7.10");
        assert!(
            !api.summary.contains("control-plane-1") && !api.summary.contains("198.18.7.11"),
            "{}",
            api.summary
        );
        assert!(
            api.summary.contains("policy.lab.kube-doctor.io"),
            "{}",
            api.summary
        );
    }

    /// Recorded on the kube-prometheus-stack lab, `apiserver-down --instance 1` of three: the
    /// controller-manager's only errors are 429s from the instance as it stopped; the top
    /// cause is that instance stopping (server_side), not API Priority and Fairness.
    #[test]
    fn kps_429s_from_a_stopping_instance_are_server_side() {
        let b = bundle("kps-apiserver-down-1");
        let v = evaluate(&ServerSide, &b);
        let kcm = v
            .iter()
            .find(|v| {
                v.clients
                    .iter()
                    .any(|c| c.starts_with("kube-controller-manager/"))
            })
            .expect("a server_side verdict about the controller-manager");
        assert!(
            kcm.summary.contains(
                "kube-apiserver-lab-control-plane-1 on node lab-control-plane-1 is not ready"
            ) && kcm.summary.contains("apiserver is shutting down"),
            "{}",
            kcm.summary
        );
        let r = crate::diagnose::diagnose(&b, &Default::default());
        let top = r.top().expect("a verdict");
        assert_eq!(top.cause, Cause::ServerSide, "{}", top.summary);
        assert!(top.confidence > 0.6, "{}", top.confidence);
    }

    #[test]
    fn a_webhook_failing_for_another_client_does_not_explain_read_timeouts() {
        use crate::bundle::{ServerSignal, SignalKind};
        // The kube-rs client's reads time out (network-blackhole); a webhook fails at the same
        // time for someone else's ConfigMap creates.
        let mut b = bundle("network-blackhole");
        let onset = b.clients.as_ref().unwrap().clients[0].onset;
        let hook = ServerSignal {
            kind: SignalKind::WebhookErrors,
            subject: "validate.other-team.example.com".into(),
            first_seen: onset,
            last_seen: onset,
            peak: 2.0,
            detail: "calls to admission webhook validate.other-team.example.com failed up to 2/s"
                .into(),
        };
        b.server_metrics.as_mut().unwrap().recorded_signals = Some(vec![hook.clone()]);
        assert!(
            evaluate(&ServerSide, &b).is_empty(),
            "not relevant to its reads"
        );
        // A client whose own log names the webhook is explained by it.
        let inc = crate::diagnose::Prepared::new(&b, &Default::default())
            .incidents
            .remove(0);
        assert!(!relevant(&hook, &inc));
    }

    /// The API server as the failing client: its calls to an admission webhook fail because
    /// the webhook's serving certificate expired; the verdict names the webhook, its
    /// configuration and failurePolicy, the Service, and what to change.
    #[test]
    fn the_api_server_failing_to_call_a_webhook_names_it_and_why() {
        use crate::bundle::{
            Callee, CalleePath, CertMetadata, EndpointAddr, ErrorRatios, HandshakeProbe, HostRates,
            ObjectRef, ServiceRef, Target, WebhookConfig,
        };
        let mut b = bundle("apiserver-slow");
        let host = "guard-svc.guard.svc:443".to_string();
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        c.id = "apiserver/10.0.0.1:6443".into();
        c.target = Target::ApiServer {
            instance: "10.0.0.1:6443".into(),
        };
        c.by_host = vec![HostRates {
            host: host.clone(),
            callee: Callee::Webhook {
                configuration: "guard".into(),
                webhook: "guard.example.com".into(),
            },
            requests: 100.0,
            ratios: ErrorRatios {
                server_5xx: 0.0,
                non_2xx: 0.5,
                transport: 0.5,
            },
        }];
        let svc = ServiceRef {
            namespace: "guard".into(),
            name: "guard-svc".into(),
            port: 443,
            path: Some("/validate".into()),
        };
        b.server_metrics.as_mut().unwrap().callees.webhooks = vec![WebhookConfig {
            configuration: "guard".into(),
            kind: "validating".into(),
            webhook: "guard.example.com".into(),
            client: "guard/guard-svc:443/validate".into(),
            host: Some(host.clone()),
            timeout_seconds: Some(10),
            failure_policy: Some("Fail".into()),
            created_at: None,
            rules: vec!["CREATE configmaps".into()],
            service: Some(svc.clone()),
            ca_bundle: None,
            selectors: Vec::new(),
        }];
        let expired = CertMetadata {
            subject: "CN=guard-svc.guard.svc".into(),
            common_name: Some("guard-svc.guard.svc".into()),
            organizations: Vec::new(),
            issuer: "CN=guard-ca".into(),
            serial: "01".into(),
            not_before: "2025-01-01T00:00:00Z".parse().unwrap(),
            not_after: "2025-06-01T00:00:00Z".parse().unwrap(),
            dns_names: vec!["guard-svc.guard.svc".into()],
            ip_addresses: Vec::new(),
            is_ca: false,
            fingerprint_sha256: "00".into(),
            chains_to_cluster_ca: Some(true),
        };
        b.callee_paths = vec![CalleePath {
            client: "apiserver/10.0.0.1:6443".into(),
            host: host.clone(),
            callee: Callee::Webhook {
                configuration: "guard".into(),
                webhook: "guard.example.com".into(),
            },
            service: Some(svc),
            service_exists: Some(true),
            endpoints: vec![EndpointAddr {
                address: "10.1.0.7".into(),
                port: 8443,
                ready: Some(true),
            }],
            backend_pods: vec![ObjectRef::namespaced("Pod", "guard", "guard-0")],
            probe: Some(HandshakeProbe {
                endpoint: "10.1.0.7:8443".into(),
                tcp_ms: Some(0.3),
                tls_ms: Some(2.0),
                error: None,
                serving_cert: Some(expired),
            }),
            notes: Vec::new(),
        }];
        let v = evaluate(&ServerSide, &b);
        assert_eq!(v.len(), 1, "{v:?}");
        let v = &v[0];
        assert!(
            v.summary.contains("admission webhook guard.example.com"),
            "{}",
            v.summary
        );
        assert!(
            v.summary.contains("serving certificate expired"),
            "{}",
            v.summary
        );
        let fix = v.remediation.join("\n");
        assert!(
            fix.contains("renew the serving certificate of service/guard/guard-svc"),
            "{fix}"
        );
        assert!(fix.contains("failurePolicy Fail"), "{fix}");
        assert!(
            v.evidence
                .iter()
                .any(|e| e.detail.contains("timeoutSeconds 10"))
        );
    }

    #[test]
    fn a_healthy_server_explains_nothing() {
        for fault in ["rbac-revoked", "quota-exceeded", "healthy"] {
            assert!(evaluate(&ServerSide, &bundle(fault)).is_empty(), "{fault}");
        }
    }

    /// An outage that ended: Prometheus could not scrape the API server for a while, but step
    /// 1 found `/readyz` ok. The advice says it *was* not serving (from when to when) and
    /// points at why it stopped, not "is not serving: check its process" (seen on the lab
    /// after an API server restart, while step 1 said ready).
    #[test]
    fn an_outage_that_ended_is_reported_as_past() {
        let mut b = bundle("apiserver-down");
        let still = verdict_text(&evaluate(&ServerSide, &b)[0]);
        assert!(still.contains("kube-apiserver is not serving"), "{still}");
        let checked = b.collected_at;
        // Step 1 could not look while it was down; here it found it ready.
        let a = b
            .apiserver
            .get_or_insert_with(|| crate::bundle::ApiServerEvidence {
                source: crate::bundle::ApiServerSource::HealthEndpoints,
                pods: vec![],
                readyz: None,
                livez: None,
                endpoints: vec![],
            });
        a.readyz = Some(crate::bundle::HealthReport {
            ok: true,
            checked_at: checked,
            failed_checks: vec![],
            checks: 40,
            error: None,
        });
        let v = evaluate(&ServerSide, &b);
        let all = verdict_text(&v[0]);
        assert!(
            all.contains("kube-apiserver was not serving from "),
            "{all}"
        );
        assert!(
            all.contains(&format!("/readyz said ok at {}", fmt_time(checked))),
            "{all}"
        );
        assert!(!all.contains("kube-apiserver is not serving"), "{all}");
    }
}
