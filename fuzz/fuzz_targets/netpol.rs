//! NetworkPolicy egress matching (step 4) on policies, labels and endpoints built by the
//! fuzzer. Properties: never panics; one verdict per policy that selects the pod; the
//! overall verdict agrees with the per-policy ones; the policy order does not matter.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use kube_doctor_core::bundle::{EgressVerdict, EndpointAddr};
use kube_doctor_core::netpol::{EgressRule, Peer, Policy, Selector, evaluate};
use libfuzzer_sys::fuzz_target;

/// Small alphabets so that names, labels and CIDRs collide often enough to match.
fn word(i: u8) -> String {
    ["a", "b", "app", "web", "", "x-y", "*", "kube-system"][usize::from(i % 8)].to_string()
}

#[derive(Arbitrary, Debug)]
struct In {
    namespace: u8,
    labels: Vec<(u8, u8)>,
    policies: Vec<P>,
    endpoints: Vec<(Addr, u16, Option<bool>)>,
}

#[derive(Arbitrary, Debug)]
enum Addr {
    V4([u8; 4]),
    V6([u16; 8]),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct P {
    name: u8,
    namespace: u8,
    match_labels: Vec<(u8, u8)>,
    exprs: Vec<(u8, u8, Vec<u8>)>,
    types: Vec<u8>,
    egress: Vec<R>,
    has_egress_field: bool,
}

#[derive(Arbitrary, Debug)]
struct R {
    ports: Vec<(bool, Option<u16>, Option<u16>)>,
    to: Vec<Option<(Addr, u8, Vec<(Addr, u8)>)>>,
}

fn addr(a: &Addr) -> String {
    match a {
        Addr::V4(o) => std::net::Ipv4Addr::from(*o).to_string(),
        Addr::V6(s) => std::net::Ipv6Addr::from(*s).to_string(),
        Addr::Text(t) => t.clone(),
    }
}

fn cidr(a: &Addr, len: u8) -> String {
    format!("{}/{}", addr(a), len % 130)
}

fn labels(kv: &[(u8, u8)]) -> BTreeMap<String, String> {
    kv.iter().map(|(k, v)| (word(*k), word(*v))).collect()
}

fn policy(p: &P, i: usize) -> Policy {
    let ops = ["In", "NotIn", "Exists", "DoesNotExist", "Bogus"];
    Policy {
        // Distinct names, so that order independence is well defined.
        name: format!("{}-{i}", word(p.name)),
        namespace: word(p.namespace),
        created_at: None,
        pod_selector: Selector {
            match_labels: labels(&p.match_labels),
            match_expressions: p
                .exprs
                .iter()
                .map(|(k, op, vs)| {
                    (
                        word(*k),
                        ops[usize::from(*op) % ops.len()].to_string(),
                        vs.iter().map(|v| word(*v)).collect(),
                    )
                })
                .collect(),
        },
        policy_types: p
            .types
            .iter()
            .map(|t| ["Egress", "Ingress", "egress"][usize::from(*t % 3)].to_string())
            .collect(),
        egress: p
            .egress
            .iter()
            .map(|r| EgressRule {
                ports: r
                    .ports
                    .iter()
                    .map(|(tcp, port, end)| {
                        (if *tcp { "TCP" } else { "UDP" }.to_string(), *port, *end)
                    })
                    .collect(),
                to: r
                    .to
                    .iter()
                    .map(|peer| match peer {
                        None => Peer::Selector,
                        Some((a, len, except)) => Peer::IpBlock {
                            cidr: cidr(a, *len),
                            except: except.iter().map(|(a, l)| cidr(a, *l)).collect(),
                        },
                    })
                    .collect(),
            })
            .collect(),
        has_egress_field: p.has_egress_field,
    }
}

fn names(v: &EgressVerdict) -> (u8, Vec<String>) {
    match v {
        EgressVerdict::NoPolicy => (0, vec![]),
        EgressVerdict::Allowed { by } => (1, sorted(by)),
        EgressVerdict::Denied { by } => (2, sorted(by)),
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fuzz_target!(|input: In| {
    let ns = word(input.namespace);
    let pod = labels(&input.labels);
    let policies: Vec<Policy> = input
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| policy(p, i))
        .collect();
    let endpoints: Vec<EndpointAddr> = input
        .endpoints
        .iter()
        .map(|(a, port, ready)| EndpointAddr {
            address: addr(a),
            port: *port,
            ready: *ready,
        })
        .collect();
    let (verdicts, overall) = evaluate(&ns, &pod, &policies, &endpoints);
    let selecting = policies
        .iter()
        .filter(|p| p.namespace == ns && p.pod_selector.matches(&pod))
        .count();
    assert_eq!(verdicts.len(), selecting);
    match &overall {
        EgressVerdict::NoPolicy => {}
        EgressVerdict::Allowed { by } => {
            assert!(!by.is_empty());
            assert!(by.iter().all(|n| {
                verdicts
                    .iter()
                    .any(|v| v.policy.name == *n && v.allows_apiserver)
            }));
        }
        EgressVerdict::Denied { by } => {
            assert!(!by.is_empty());
            assert!(
                verdicts
                    .iter()
                    .all(|v| !by.contains(&v.policy.name) || !v.allows_apiserver)
            );
        }
    }
    let mut reversed = policies.clone();
    reversed.reverse();
    let (_, again) = evaluate(&ns, &pod, &reversed, &endpoints);
    assert_eq!(
        names(&overall),
        names(&again),
        "policy order changed the verdict"
    );
});
