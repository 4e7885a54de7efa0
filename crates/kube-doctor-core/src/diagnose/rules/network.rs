//! Diagnosis rule 5: network. Transport failures (no response: refused, timeouts, resets)
//! together with a NetworkPolicy that denies the pod's egress to the API server, or with
//! policies or API server endpoints that changed within the network window (default 10 min)
//! of the onset -> `network`. Remediation names the policy, the endpoint and the port.
//!
//! Differential diagnosis when nothing changed: one client (or the clients of one node) fails
//! with timeouts or resets while the API server is healthy, answers kube-doctor, shows no
//! trouble that reaches those requests, and other clients are fine -> `network` too: the
//! fault is on that client's own path. The verdict says that no policy or endpoint change was
//! seen and what to check.

use crate::bundle::EgressVerdict;
use crate::category::Category;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Verdict};

pub struct Network;

/// The differential verdict: only this client's path can explain its transport failures.
fn only_this_path(
    ctx: &Context<'_>,
    inc: &crate::diagnose::Incident,
    path: &crate::bundle::NetworkPath,
    mut evidence: Vec<crate::report::Evidence>,
) -> Option<Verdict> {
    let b = ctx.bundle;
    let transport = inc.code("<error>")
        + (inc.log_count(Category::NetworkUnreachable) + inc.log_count(Category::Timeout)) as f64;
    let other: f64 = inc
        .codes
        .iter()
        .filter(|(c, _)| !c.starts_with('2') && c.as_str() != "<error>")
        .map(|(_, n)| n)
        .sum::<f64>()
        + (inc.log_count(Category::TlsCertificate)
            + inc.log_count(Category::Authentication)
            + inc.log_count(Category::Authorization)
            + inc.log_count(Category::ServerError)
            + inc.log_count(Category::RateLimited)) as f64;
    if transport == 0.0 || other > transport {
        return None;
    }
    // The API server is healthy: ready, answering kube-doctor, no trouble that reaches these
    // requests near the onset.
    let ready = b
        .apiserver
        .as_ref()
        .is_some_and(|a| a.readyz.as_ref().is_none_or(|r| r.ok) && a.pods.iter().all(|p| p.ready));
    if !ready || !super::own_unanswered(b).is_empty() {
        return None;
    }
    let trouble = ctx.signals.iter().any(|s| {
        s.kind != crate::bundle::SignalKind::ApfRejections
            && (Context::near(inc.onset, s.first_seen, ctx.windows.server)
                || s.first_seen.is_none())
            && super::server_side::relevant(s, inc)
    });
    if trouble {
        return None;
    }
    // Other clients get answers.
    let clients = b.clients.as_ref()?;
    let failing: std::collections::BTreeSet<&str> = ctx
        .incidents
        .iter()
        .filter(|i| !i.noise)
        .map(|i| i.client.as_str())
        .collect();
    let fine = clients
        .clients
        .iter()
        .filter(|c| c.requests > 0.0 && !failing.contains(c.id.as_str()))
        .count()
        + clients
            .others
            .map_or(0, |o| o.with_traffic.saturating_sub(o.failing) as usize);
    if fine == 0 {
        return None;
    }
    let node = path.node.clone();
    let same_node: Vec<&str> = ctx
        .incidents
        .iter()
        .filter(|i| i.client != inc.client && !i.noise)
        .filter(|i| {
            matches!(&i.target, crate::bundle::Target::Pod { node: n, .. } if n.is_some() && *n == node)
        })
        .map(|i| i.client.as_str())
        .collect();
    let whose = match (&node, same_node.is_empty()) {
        (Some(n), false) => format!(
            "the clients of node {n} ({} and {})",
            inc.client,
            same_node.join(", ")
        ),
        (Some(n), true) => format!("only {} (on node {n})", inc.client),
        (None, _) => format!("only {}", inc.client),
    };
    evidence.push(ev(
        3,
        "rest_client_requests_total",
        Some(ctx.now),
        format!("{fine} other clients get answers from the same API server in the window"),
    ));
    if let Some(r) = b.apiserver.as_ref().and_then(|a| a.readyz.as_ref()) {
        evidence.push(ev(
            1,
            "/readyz",
            Some(r.checked_at),
            format!("the API server is ready ({} checks pass)", r.checks),
        ));
    }
    for probe in path.probes.iter().filter(|p| p.error.is_none()) {
        evidence.push(ev(
            4,
            format!("tcp://{}", probe.endpoint),
            Some(ctx.now),
            format!(
                "kube-doctor reaches the API server itself ({:.1} ms TCP, {:.1} ms TLS)",
                probe.tcp_ms.unwrap_or(0.0),
                probe.tls_ms.unwrap_or(0.0)
            ),
        ));
    }
    Some(Verdict {
        cause: Cause::Network,
        confidence: 0.6,
        summary: format!(
            "{whose} fails with timeouts or resets since {} while the API server is healthy and answers other clients: the fault is on that path. No NetworkPolicy or API server endpoint change was seen.",
            inc.onset.map_or("before the window".to_string(), fmt_time)
        ),
        evidence,
        remediation: vec![
            format!(
                "check the network between {} and the API server: the node's CNI and routes, its conntrack table (conntrack -S: insert_failed, drop), MTU on the path, kube-proxy's rules for the kubernetes Service, any proxy or service-mesh sidecar in the pod, and DNS if it reaches the API server by name",
                node.map_or("the pod".to_string(), |n| format!("node {n}"))
            ),
            "check the pod itself: CPU throttling (container_cpu_cfs_throttled_periods_total) makes requests time out client-side".to_string(),
        ],
        clients: vec![inc.client.clone()],
    })
}

/// The `to:` entries of an egress rule that lets the pod reach the API server: one `ipBlock`
/// per `kubernetes` endpoint address (policies see the endpoint, after the Service's address
/// is translated), each checked to be an IP address before it goes into YAML; a placeholder
/// when none is known.
fn ip_blocks(path: &crate::bundle::NetworkPath) -> String {
    let blocks: Vec<String> = path
        .endpoints
        .iter()
        .filter_map(|e| e.address.parse::<std::net::IpAddr>().ok())
        .map(|ip| {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            format!("    - ipBlock: {{cidr: {ip}/{bits}}}\n")
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if blocks.is_empty() {
        "    - ipBlock: {cidr: <API server address>/32}\n".to_string()
    } else {
        blocks.concat()
    }
}

impl Rule for Network {
    fn name(&self) -> &'static str {
        "network"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            let transport = inc.code("<error>") > 0.0
                || inc.log_count(Category::NetworkUnreachable) > 0
                || inc.log_count(Category::Timeout) > 0;
            if !transport {
                continue;
            }
            let Some(path) = inc
                .pod
                .as_ref()
                .and_then(|p| b.network.iter().find(|n| &n.pod == p))
            else {
                continue;
            };
            let mut evidence = inc.evidence.clone();
            evidence.extend(ctx.events_near(
                inc,
                &[EventTopic::NetworkPolicy, EventTopic::ClientError],
                ctx.windows.network,
            ));
            let mut remediation = Vec::new();
            let mut found = false;
            let endpoints: Vec<String> = if path.endpoints.is_empty() {
                path.service
                    .as_ref()
                    .and_then(|s| {
                        Some(format!(
                            "{}:{}",
                            s.cluster_ip.clone()?,
                            s.ports.first().copied().unwrap_or(443)
                        ))
                    })
                    .into_iter()
                    .collect()
            } else {
                path.endpoints
                    .iter()
                    .map(|e| format!("{}:{}", e.address, e.port))
                    .collect()
            };
            if let EgressVerdict::Denied { by } = &path.egress {
                found = true;
                for p in path.policies.iter().filter(|p| by.contains(&p.policy.name)) {
                    evidence.push(ev(
                        4,
                        p.policy.to_string(),
                        p.created_at,
                        format!("{}: {}", p.policy.name, p.reason),
                    ));
                    let blocks = ip_blocks(path);
                    let known = !blocks.contains("<API server address>");
                    remediation.push(format!(
                        "NetworkPolicy {} blocks egress from {} to the API server ({}): add an egress rule that allows it, for example:\n  egress:\n  - to:\n{}    ports:\n    - {{protocol: TCP, port: {}}}{}",
                        p.policy,
                        path.pod,
                        endpoints.join(", "),
                        blocks,
                        path.endpoints
                            .first()
                            .map_or("<API server port>".to_string(), |e| e.port.to_string()),
                        if known {
                            ""
                        } else {
                            "\n(The API server's endpoints were not found: a NetworkPolicy sees the endpoint, not the Service's ClusterIP, so take the addresses and port from kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes.)"
                        }
                    ));
                }
            }
            for p in &path.policies {
                if Context::near(inc.onset, p.created_at, ctx.windows.network)
                    && !matches!(&path.egress, EgressVerdict::Denied { by } if by.contains(&p.policy.name))
                {
                    found = true;
                    evidence.push(ev(
                        4,
                        p.policy.to_string(),
                        p.created_at,
                        format!(
                            "NetworkPolicy {} selecting the pod was created at {}, near the onset",
                            p.policy.name,
                            p.created_at.map_or("?".into(), fmt_time)
                        ),
                    ));
                }
            }
            if Context::near(inc.onset, path.endpoints_changed_at, ctx.windows.network) {
                found = true;
                evidence.push(ev(
                    4,
                    "endpointslice/default/kubernetes",
                    path.endpoints_changed_at,
                    format!(
                        "the kubernetes Service's endpoints changed near the onset (now {})",
                        endpoints.join(", ")
                    ),
                ));
                remediation.push("the API server endpoints changed: check that clients resolve and reach the new addresses (kube-proxy rules, load balancer, firewall)".to_string());
            }
            if !found {
                if let Some(v) = only_this_path(ctx, inc, path, evidence) {
                    out.push(v);
                }
                continue;
            }
            if inc.log_count(Category::NetworkUnreachable) + inc.log_count(Category::Timeout) > 0 {
                let c = if inc.log_count(Category::Timeout)
                    > inc.log_count(Category::NetworkUnreachable)
                {
                    Category::Timeout
                } else {
                    Category::NetworkUnreachable
                };
                evidence.push(ev(
                    5,
                    path.pod.to_string(),
                    inc.log_first(c),
                    format!(
                        "{} transport failures in its log: {}",
                        inc.log_count(Category::NetworkUnreachable)
                            + inc.log_count(Category::Timeout),
                        inc.sample(c).unwrap_or_default()
                    ),
                ));
            }
            for probe in path.probes.iter().filter(|p| p.error.is_none()) {
                evidence.push(ev(4, format!("tcp://{}", probe.endpoint), Some(ctx.now), format!("kube-doctor reaches the API server itself ({:.1} ms TCP, {:.1} ms TLS): the fault is on the client's path", probe.tcp_ms.unwrap_or(0.0), probe.tls_ms.unwrap_or(0.0))));
            }
            let denied = matches!(path.egress, EgressVerdict::Denied { .. });
            out.push(Verdict {
                cause: Cause::Network,
                confidence: if denied { 0.9 } else { 0.7 },
                summary: format!(
                    "{} cannot reach the API server since {}: {}.",
                    inc.client,
                    inc.onset.map_or("before the window".to_string(), fmt_time),
                    match &path.egress {
                        EgressVerdict::Denied { by } => format!(
                            "NetworkPolicy {} denies its egress to {}",
                            by.join(", "),
                            endpoints.join(", ")
                        ),
                        _ => "its network path changed at the onset".to_string(),
                    }
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
    fn a_policy_denying_egress_is_network() {
        let v = evaluate(&Network, &bundle("network-blackhole"));
        assert_eq!(
            named(&v),
            vec![(
                Cause::Network,
                vec!["demo-clients/127.0.1.3:18082".to_string()]
            )]
        );
        let fix = v[0].remediation.join(" ");
        assert!(fix.contains("deny-egress-demo-kubers"), "{fix}");
        // Without the `kubernetes` endpoints (not recorded there) the address is left to fill.
        assert!(
            fix.contains("ipBlock: {cidr: <API server address>/32}"),
            "{fix}"
        );
        // With them, the egress rule names each, not a placeholder.
        let mut b = bundle("network-blackhole");
        for p in &mut b.network {
            p.endpoints = vec![
                crate::bundle::EndpointAddr {
                    address: "192.0.2.10".into(),
                    port: 6443,
                    ready: Some(true),
                },
                crate::bundle::EndpointAddr {
                    address: "192.0.2.11".into(),
                    port: 6443,
                    ready: Some(true),
                },
            ];
        }
        let fix = evaluate(&Network, &b)[0].remediation.join(" ");
        for want in [
            "- ipBlock: {cidr: 192.0.2.10/32}",
            "- ipBlock: {cidr: 192.0.2.11/32}",
            "port: 6443",
        ] {
            assert!(fix.contains(want), "{want} not in {fix}");
        }
        assert!(!fix.contains("<API server address>"), "{fix}");
    }

    /// An endpoint address that is not an IP address never reaches the YAML.
    #[test]
    fn only_ip_addresses_become_ip_blocks() {
        let mut b = bundle("network-blackhole");
        let path = &mut b.network[0];
        path.endpoints = vec![crate::bundle::EndpointAddr {
            address: "10.0.0.1}\n    - ipBlock: {cidr: 0.0.0.0/0".to_string(),
            port: 443,
            ready: None,
        }];
        assert_eq!(
            ip_blocks(path),
            "    - ipBlock: {cidr: <API server address>/32}\n"
        );
        path.endpoints[0].address = "fd00::1".to_string();
        assert_eq!(ip_blocks(path), "    - ipBlock: {cidr: fd00::1/128}\n");
    }

    #[test]
    fn one_client_losing_packets_with_nothing_changed_is_its_path() {
        // network-blackhole without its NetworkPolicy: the kube-rs client times out, the
        // API server is ready and the other clients get answers.
        let mut b = bundle("network-blackhole");
        for p in &mut b.network {
            p.policies.clear();
            p.egress = EgressVerdict::NoPolicy;
        }
        // The run was scoped to the kube-rs client; the two others were fine.
        assert!(
            evaluate(&Network, &b).is_empty(),
            "no peers known, no differential"
        );
        b.clients.as_mut().unwrap().others = Some(crate::bundle::OtherClients {
            with_traffic: 2,
            failing: 0,
        });
        let v = evaluate(&Network, &b);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].summary
                .contains("No NetworkPolicy or API server endpoint change"),
            "{}",
            v[0].summary
        );
        assert!(v[0].summary.contains("kwok-node-0"), "{}", v[0].summary);
        assert!(
            v[0].evidence
                .iter()
                .any(|e| e.detail.contains("other clients get answers"))
        );
        // Not when the API server itself is down: every client then fails.
        assert!(evaluate(&Network, &bundle("apiserver-down")).is_empty());
    }

    #[test]
    fn no_policy_or_endpoint_change_no_network_verdict() {
        for fault in ["rbac-revoked", "quota-exceeded", "healthy"] {
            assert!(evaluate(&Network, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
