//! Diagnosis rule 5: network. Transport failures (no response: refused, timeouts, resets)
//! together with a NetworkPolicy that denies the pod's egress to the API server, or with
//! policies or API server endpoints that changed within the network window (default 10 min)
//! of the onset -> `network`. Remediation names the policy, the endpoint and the port.

use crate::bundle::EgressVerdict;
use crate::category::Category;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Verdict};

pub struct Network;

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
                    remediation.push(format!(
                        "NetworkPolicy {} blocks egress from {} to the API server ({}): add an egress rule that allows it, for example:\n  egress:\n  - to:\n    - ipBlock: {{cidr: <API server address>/32}}\n    ports:\n    - {{protocol: TCP, port: {}}}",
                        p.policy,
                        path.pod,
                        endpoints.join(", "),
                        path.endpoints.first().map_or(443, |e| e.port)
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
            vec![(Cause::Network, vec!["demo-clients/127.0.1.3:18082".to_string()])]
        );
        assert!(v[0].remediation.join(" ").contains("deny-egress-demo-kubers"));
    }

    #[test]
    fn no_policy_or_endpoint_change_no_network_verdict() {
        for fault in ["rbac-revoked", "quota-exceeded", "healthy"] {
            assert!(evaluate(&Network, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
