//! Playbook step 4: the network path from each failing client pod to the API server. The pod
//! (phase, node, IP, labels), the `default/kubernetes` Service and its EndpointSlices, the
//! NetworkPolicies that select the pod and whether their egress admits the API server
//! (evaluated by `kube_doctor_core::netpol`), and a TCP and TLS handshake from kube-doctor to
//! each endpoint - from kube-doctor, not from the pod: it proves the API server answers and
//! shows its serving certificate, not that the pod's own path works.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{
    ClientRates, EndpointAddr, HandshakeProbe, NetworkPath, ObjectRef, ServiceInfo,
};
use kube_doctor_core::netpol::{self, EgressRule, Peer, Policy, Selector};

use super::{Collector, RunShared, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};
use crate::source::tls_probe;

/// Endpoints probed at most.
const MAX_PROBES: usize = 3;

pub async fn collect(
    c: &Collector,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
    shared: &RunShared,
) -> Result<StepEnd<Vec<NetworkPath>>, StepError> {
    let pods: Vec<(String, String)> = failing
        .iter()
        .filter_map(|f| f.pod().map(|(ns, n)| (ns.to_string(), n.to_string())))
        .collect();
    if pods.is_empty() {
        return Ok(StepEnd::Skipped("no failing client is a pod".to_string()));
    }
    // API errors are recorded and the step goes on: the handshake probes need no API and are
    // the evidence that matters most when the API server cannot be reached.
    let mut notes: Vec<String> = Vec::new();
    let service = c
        .kube
        .call(
            &ctx,
            Perm::ns("", "services", "get", "default"),
            |client| async move {
                Api::<Service>::namespaced(client, "default")
                    .get("kubernetes")
                    .await
            },
        )
        .await;
    let service = match service {
        Ok(s) => Some(ServiceInfo {
            cluster_ip: s.spec.as_ref().and_then(|x| x.cluster_ip.clone()),
            ports: s
                .spec
                .as_ref()
                .and_then(|x| x.ports.as_ref())
                .map(|ps| ps.iter().map(|p| p.port as u16).collect())
                .unwrap_or_default(),
        }),
        Err(SourceError::Forbidden(r)) => {
            ctx.note_missing(r);
            None
        }
        Err(e) => {
            notes.push(format!("the kubernetes Service: {e}"));
            None
        }
    };
    let (endpoints, endpoints_changed_at) = match shared.kubernetes_endpoints(&c.kube, &ctx).await {
        Ok(k) => (k.endpoints, k.changed_at),
        Err(SourceError::Forbidden(r)) => {
            ctx.note_missing(r);
            (Vec::new(), None)
        }
        Err(e) => {
            notes.push(format!("its EndpointSlices: {e}"));
            (Vec::new(), None)
        }
    };
    // What the policies are checked against: the endpoints, else the Service address.
    let targets: Vec<EndpointAddr> = if !endpoints.is_empty() {
        endpoints.clone()
    } else {
        service
            .as_ref()
            .and_then(|s| {
                Some((
                    s.cluster_ip.clone()?,
                    s.ports.first().copied().unwrap_or(443),
                ))
            })
            .map(|(ip, port)| {
                vec![EndpointAddr {
                    address: ip,
                    port,
                    ready: None,
                }]
            })
            .unwrap_or_default()
    };
    let probes = probe(c, &endpoints).await;

    let mut policies_by_ns: BTreeMap<String, Vec<Policy>> = BTreeMap::new();
    for ns in pods
        .iter()
        .map(|(ns, _)| ns.clone())
        .collect::<BTreeSet<_>>()
    {
        let ns2 = ns.clone();
        match c
            .kube
            .call(
                &ctx,
                Perm::ns("networking.k8s.io", "networkpolicies", "list", &ns),
                |client| {
                    let ns = ns2.clone();
                    async move {
                        Api::<NetworkPolicy>::namespaced(client, &ns)
                            .list(&ListParams::default().limit(500))
                            .await
                    }
                },
            )
            .await
        {
            Ok(list) => {
                policies_by_ns.insert(ns, list.items.iter().map(policy).collect());
            }
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => notes.push(format!("NetworkPolicies in {ns}: {e}")),
        }
    }

    let mut out = Vec::new();
    for (ns, name) in &pods {
        let (ns2, n2) = (ns.clone(), name.clone());
        let pod = c
            .kube
            .call(&ctx, Perm::ns("", "pods", "get", ns), |client| {
                let (ns, n) = (ns2.clone(), n2.clone());
                async move { Api::<Pod>::namespaced(client, &ns).get(&n).await }
            })
            .await;
        let pod = match pod {
            Ok(p) => p,
            Err(SourceError::NotFound(_)) => continue,
            Err(SourceError::Forbidden(r)) => return Err(SourceError::Forbidden(r).into()),
            Err(e) => {
                notes.push(format!("pod {ns}/{name}: {e}"));
                Pod::default()
            }
        };
        let labels: BTreeMap<String, String> = pod.metadata.labels.clone().unwrap_or_default();
        let (policies, egress) = netpol::evaluate(
            ns,
            &labels,
            policies_by_ns
                .get(ns)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            &targets,
        );
        out.push(NetworkPath {
            pod: ObjectRef::namespaced("Pod", ns, name),
            phase: pod.status.as_ref().and_then(|s| s.phase.clone()),
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            pod_ip: pod.status.as_ref().and_then(|s| s.pod_ip.clone()),
            labels,
            service: service.clone(),
            endpoints: endpoints.clone(),
            endpoints_changed_at,
            policies,
            egress,
            probes: probes.clone(),
        });
    }
    let denied = out
        .iter()
        .filter(|p| {
            matches!(
                p.egress,
                kube_doctor_core::bundle::EgressVerdict::Denied { .. }
            )
        })
        .count();
    let note = format!(
        "{} pods, egress to the API server denied for {denied}",
        out.len()
    );
    Ok(StepEnd::Done(out, Some(note)))
}

/// Handshakes to up to three endpoints, or to the API server URL kube-doctor uses when the
/// `kubernetes` Service has no endpoints.
async fn probe(c: &Collector, endpoints: &[EndpointAddr]) -> Vec<HandshakeProbe> {
    let mut targets: Vec<(String, u16)> = endpoints
        .iter()
        .take(MAX_PROBES)
        .map(|e| (e.address.clone(), e.port))
        .collect();
    if targets.is_empty()
        && let Some((host, port)) = host_port(&c.kube.server)
    {
        targets.push((host, port));
    }
    let mut out = Vec::new();
    for (host, port) in targets {
        out.push(tls_probe::handshake(&host, port, Duration::from_secs(3)).await);
    }
    out
}

fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split("://").nth(1)?;
    let authority = rest.split('/').next()?;
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.trim_matches(['[', ']']).to_string(), p.parse().ok()?)),
        None => Some((authority.to_string(), 443)),
    }
}

fn selector(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector) -> Selector {
    Selector {
        match_labels: s.match_labels.clone().unwrap_or_default(),
        match_expressions: s
            .match_expressions
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.key, e.operator, e.values.unwrap_or_default()))
            .collect(),
    }
}

fn policy(np: &NetworkPolicy) -> Policy {
    let spec = np.spec.clone().unwrap_or_default();
    let egress = spec.egress.clone();
    Policy {
        name: np.metadata.name.clone().unwrap_or_default(),
        namespace: np.metadata.namespace.clone().unwrap_or_default(),
        created_at: np.metadata.creation_timestamp.as_ref().map(|t| t.0),
        pod_selector: spec.pod_selector.as_ref().map(selector).unwrap_or_default(),
        policy_types: spec.policy_types.clone().unwrap_or_default(),
        has_egress_field: egress.is_some(),
        egress: egress
            .unwrap_or_default()
            .into_iter()
            .map(|r| EgressRule {
                ports: r
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| {
                        let port = match p.port {
                            Some(
                                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n),
                            ) => Some(n as u16),
                            _ => None,
                        };
                        (
                            p.protocol.unwrap_or_else(|| "TCP".to_string()),
                            port,
                            p.end_port.map(|e| e as u16),
                        )
                    })
                    .collect(),
                to: r
                    .to
                    .unwrap_or_default()
                    .into_iter()
                    .map(|peer| match peer.ip_block {
                        Some(b) => Peer::IpBlock {
                            cidr: b.cidr,
                            except: b.except.unwrap_or_default(),
                        },
                        None => Peer::Selector,
                    })
                    .collect(),
            })
            .collect(),
    }
}
