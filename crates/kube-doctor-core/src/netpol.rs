//! NetworkPolicy egress evaluation (playbook step 4): which policies select a pod, and whether
//! their egress rules let it reach the API server endpoints. Pure: the collector converts the
//! API objects into these plain types.
//!
//! Semantics follow the NetworkPolicy API: a policy isolates a pod for egress when it selects
//! the pod and lists `Egress` in policyTypes (or has egress rules and no policyTypes); an
//! isolated pod may only send what some selecting policy's egress rule allows. Rules are read
//! conservatively: peers given by pod or namespace selectors are assumed not to cover the API
//! server (it usually runs outside pods, on host addresses), ipBlocks are checked exactly.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Timestamp;

use crate::bundle::{EgressVerdict, EndpointAddr, ObjectRef, PolicyVerdict};

/// A label selector.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// matchLabels.
    pub match_labels: BTreeMap<String, String>,
    /// matchExpressions: (key, operator, values).
    pub match_expressions: Vec<(String, String, Vec<String>)>,
}

impl Selector {
    /// Whether the selector selects these labels (an empty selector selects everything).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self
                .match_expressions
                .iter()
                .all(|(k, op, values)| match op.as_str() {
                    "In" => labels.get(k).is_some_and(|v| values.contains(v)),
                    "NotIn" => labels.get(k).is_none_or(|v| !values.contains(v)),
                    "Exists" => labels.contains_key(k),
                    "DoesNotExist" => !labels.contains_key(k),
                    _ => false,
                })
    }
}

/// An egress peer.
#[derive(Debug, Clone)]
pub enum Peer {
    /// ipBlock: CIDR and exceptions.
    IpBlock {
        /// CIDR.
        cidr: String,
        /// Excepted CIDRs.
        except: Vec<String>,
    },
    /// A pod and/or namespace selector.
    Selector,
}

/// One egress rule.
#[derive(Debug, Clone, Default)]
pub struct EgressRule {
    /// (protocol, port, endPort); empty: all ports.
    pub ports: Vec<(String, Option<u16>, Option<u16>)>,
    /// Peers; empty: all destinations.
    pub to: Vec<Peer>,
}

/// A NetworkPolicy, as far as egress goes.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Created.
    pub created_at: Option<Timestamp>,
    /// podSelector.
    pub pod_selector: Selector,
    /// policyTypes as written (empty: unset).
    pub policy_types: Vec<String>,
    /// Egress rules.
    pub egress: Vec<EgressRule>,
    /// Whether the policy has an `egress` field at all.
    pub has_egress_field: bool,
}

impl Policy {
    fn isolates_egress(&self) -> bool {
        if self.policy_types.is_empty() {
            self.has_egress_field
        } else {
            self.policy_types.iter().any(|t| t == "Egress")
        }
    }
}

fn rule_allows(rule: &EgressRule, ep: &EndpointAddr) -> bool {
    let port_ok = rule.ports.is_empty()
        || rule.ports.iter().any(|(proto, port, end)| {
            proto.eq_ignore_ascii_case("TCP")
                && match (port, end) {
                    (None, _) => true,
                    (Some(p), None) => *p == ep.port,
                    (Some(p), Some(e)) => (*p..=*e).contains(&ep.port),
                }
        });
    if !port_ok {
        return false;
    }
    if rule.to.is_empty() {
        return true;
    }
    let Ok(ip) = ep.address.parse::<IpAddr>() else {
        return false;
    };
    rule.to.iter().any(|peer| match peer {
        Peer::IpBlock { cidr, except } => {
            let inside = |c: &str| c.parse::<IpNet>().is_ok_and(|n| n.contains(&ip));
            inside(cidr) && !except.iter().any(|e| inside(e))
        }
        Peer::Selector => false,
    })
}

/// Evaluates egress from a pod with `labels` in `namespace` to the API server `endpoints`.
pub fn evaluate(
    namespace: &str,
    labels: &BTreeMap<String, String>,
    policies: &[Policy],
    endpoints: &[EndpointAddr],
) -> (Vec<PolicyVerdict>, EgressVerdict) {
    let mut verdicts = Vec::new();
    let mut isolating = Vec::new();
    let mut allowing = Vec::new();
    for p in policies
        .iter()
        .filter(|p| p.namespace == namespace && p.pod_selector.matches(labels))
    {
        let isolates = p.isolates_egress();
        let allows = !isolates
            || (!endpoints.is_empty()
                && endpoints
                    .iter()
                    .all(|ep| p.egress.iter().any(|r| rule_allows(r, ep))));
        let reason = if !isolates {
            "selects the pod but does not restrict egress".to_string()
        } else if p.egress.is_empty() {
            "restricts egress and allows none: all egress from the pod is denied".to_string()
        } else if allows {
            "an egress rule admits the API server endpoints".to_string()
        } else if endpoints.is_empty() {
            "restricts egress; the API server endpoints are unknown, so it cannot be shown to admit them".to_string()
        } else {
            format!(
                "restricts egress and no rule admits the API server at {}",
                endpoints
                    .iter()
                    .map(|e| format!("{}:{}", e.address, e.port))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if isolates {
            isolating.push(p.name.clone());
            if allows {
                allowing.push(p.name.clone());
            }
        }
        verdicts.push(PolicyVerdict {
            policy: ObjectRef::namespaced("NetworkPolicy", &p.namespace, &p.name),
            policy_types: if p.policy_types.is_empty() {
                vec!["(unset)".to_string()]
            } else {
                p.policy_types.clone()
            },
            created_at: p.created_at,
            allows_apiserver: allows,
            reason,
        });
    }
    let verdict = if isolating.is_empty() {
        EgressVerdict::NoPolicy
    } else if !allowing.is_empty() {
        EgressVerdict::Allowed { by: allowing }
    } else {
        EgressVerdict::Denied { by: isolating }
    };
    (verdicts, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ep() -> Vec<EndpointAddr> {
        vec![EndpointAddr {
            address: "10.0.0.10".into(),
            port: 6443,
            ready: Some(true),
        }]
    }

    fn policy(name: &str, sel: &[(&str, &str)], types: &[&str], egress: Vec<EgressRule>) -> Policy {
        Policy {
            name: name.into(),
            namespace: "demo".into(),
            created_at: None,
            pod_selector: Selector {
                match_labels: labels(sel),
                match_expressions: vec![],
            },
            policy_types: types.iter().map(|s| s.to_string()).collect(),
            has_egress_field: !egress.is_empty(),
            egress,
        }
    }

    #[test]
    fn deny_all_egress_denies_the_api_server() {
        let p = policy("deny", &[("app", "x")], &["Egress"], vec![]);
        let (v, verdict) = evaluate("demo", &labels(&[("app", "x")]), &[p], &ep());
        assert_eq!(
            verdict,
            EgressVerdict::Denied {
                by: vec!["deny".into()]
            }
        );
        assert!(!v[0].allows_apiserver);
    }

    #[test]
    fn ip_block_and_port_rules_are_checked() {
        let allow = policy(
            "allow-api",
            &[],
            &["Egress"],
            vec![EgressRule {
                ports: vec![("TCP".into(), Some(6443), None)],
                to: vec![Peer::IpBlock {
                    cidr: "10.0.0.0/24".into(),
                    except: vec![],
                }],
            }],
        );
        let (_, verdict) = evaluate(
            "demo",
            &labels(&[("app", "x")]),
            std::slice::from_ref(&allow),
            &ep(),
        );
        assert_eq!(
            verdict,
            EgressVerdict::Allowed {
                by: vec!["allow-api".into()]
            }
        );
        let mut wrong_port = allow;
        wrong_port.egress[0].ports = vec![("TCP".into(), Some(443), None)];
        let (_, verdict) = evaluate("demo", &labels(&[("app", "x")]), &[wrong_port], &ep());
        assert!(matches!(verdict, EgressVerdict::Denied { .. }));
    }

    #[test]
    fn ingress_only_and_other_pods_do_not_matter() {
        let ingress = policy("ing", &[], &["Ingress"], vec![]);
        let other = policy("other", &[("app", "y")], &["Egress"], vec![]);
        let (v, verdict) = evaluate("demo", &labels(&[("app", "x")]), &[ingress, other], &ep());
        assert_eq!(verdict, EgressVerdict::NoPolicy);
        assert_eq!(v.len(), 1);
    }
}
