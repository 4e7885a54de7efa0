//! Playbook step 4, pure half: the network path from a client pod to the API server. The
//! `kubernetes` Service, NetworkPolicies as [`crate::netpol`] reads them, what the policies are
//! checked against (the endpoints, else the Service address), where kube-doctor's own
//! handshakes go, and one pod's [`NetworkPath`].

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::bundle::{
    Callee, Callees, ClientRates, EndpointAddr, HandshakeProbe, NetworkPath, ObjectRef,
    ServiceInfo, ServiceRef,
};
use crate::clients::{Threshold, callee};
use crate::netpol::{self, EgressRule, Peer, Policy, Selector};
use crate::playbook::step1_apiserver_pods::KubernetesEndpoints;

/// Endpoints probed at most.
pub const MAX_PROBES: usize = 3;

/// The `kubernetes` Service's address.
pub fn service_info(s: &Service) -> ServiceInfo {
    ServiceInfo {
        cluster_ip: s.spec.as_ref().and_then(|x| x.cluster_ip.clone()),
        ports: s
            .spec
            .as_ref()
            .and_then(|x| x.ports.as_ref())
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| u16::try_from(p.port).ok())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// What policies are checked against: the endpoints, else the Service's cluster IP.
pub fn policy_targets(
    endpoints: &[EndpointAddr],
    service: Option<&ServiceInfo>,
) -> Vec<EndpointAddr> {
    if !endpoints.is_empty() {
        return endpoints.to_vec();
    }
    service
        .and_then(|s| {
            Some(EndpointAddr {
                address: s.cluster_ip.clone()?,
                port: s.ports.first().copied().unwrap_or(443),
                ready: None,
            })
        })
        .into_iter()
        .collect()
}

/// Where kube-doctor's handshakes go: up to [`MAX_PROBES`] endpoints, else the API server URL
/// it uses itself.
pub fn probe_targets(endpoints: &[EndpointAddr], server_url: &str) -> Vec<(String, u16)> {
    let mut targets: Vec<(String, u16)> = endpoints
        .iter()
        .take(MAX_PROBES)
        .map(|e| (e.address.clone(), e.port))
        .collect();
    if targets.is_empty()
        && let Some(hp) = host_port(server_url)
    {
        targets.push(hp);
    }
    targets
}

/// The host and port of a URL (the scheme's default port when it has none).
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let u = url::Url::parse(url).ok()?;
    let host = match u.host()? {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    Some((host, u.port_or_known_default()?))
}

fn selector(s: &LabelSelector) -> Selector {
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

/// A NetworkPolicy, as far as egress goes. Named ports (strings) cannot be resolved without
/// the destination pod and are read as "any port" only when they are the rule's only ports.
pub fn policy(np: &NetworkPolicy) -> Policy {
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
                            Some(IntOrString::Int(n)) => u16::try_from(n).ok(),
                            _ => None,
                        };
                        (
                            p.protocol.unwrap_or_else(|| "TCP".to_string()),
                            port,
                            p.end_port.and_then(|e| u16::try_from(e).ok()),
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

/// What the path of every pod shares: the Service, its endpoints and kube-doctor's probes.
#[derive(Debug, Clone, Default)]
pub struct SharedPath {
    /// The `kubernetes` Service.
    pub service: Option<ServiceInfo>,
    /// Its endpoints and when they changed.
    pub endpoints: KubernetesEndpoints,
    /// kube-doctor's handshakes.
    pub probes: Vec<HandshakeProbe>,
}

/// One pod's path: its policies evaluated against the targets. `pod` is `Err` when the pod
/// could not be read (then nothing is evaluated for it and the reason is kept).
pub fn network_path(
    namespace: &str,
    name: &str,
    pod: Result<&Pod, String>,
    policies: &[Policy],
    shared: &SharedPath,
) -> NetworkPath {
    let targets = policy_targets(&shared.endpoints.endpoints, shared.service.as_ref());
    let (pod, read_error) = match pod {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e)),
    };
    let labels: BTreeMap<String, String> = pod
        .and_then(|p| p.metadata.labels.clone())
        .unwrap_or_default();
    let (policies, egress) = if pod.is_some() {
        netpol::evaluate(namespace, &labels, policies, &targets)
    } else {
        (Vec::new(), crate::bundle::EgressVerdict::NoPolicy)
    };
    NetworkPath {
        pod: ObjectRef::namespaced("Pod", namespace, name),
        phase: pod.and_then(|p| p.status.as_ref()?.phase.clone()),
        node: pod.and_then(|p| p.spec.as_ref()?.node_name.clone()),
        pod_ip: pod.and_then(|p| p.status.as_ref()?.pod_ip.clone()),
        labels,
        service: shared.service.clone(),
        endpoints: shared.endpoints.endpoints.clone(),
        endpoints_changed_at: shared.endpoints.changed_at,
        policies,
        egress,
        probes: shared.probes.clone(),
        read_error,
    }
}

/// A callee the API server fails to call, to look at: which client, which host, who, and the
/// Service it calls.
#[derive(Debug, Clone, PartialEq)]
pub struct FailingCallee {
    /// The API server's client id.
    pub client: String,
    /// The `host` it dials.
    pub host: String,
    /// Who that is.
    pub callee: Callee,
    /// The Service, when it calls one.
    pub service: Option<ServiceRef>,
}

/// The callees the failing API-server clients fail to call (their `by_host` entries over
/// `threshold`), named from the webhook configurations and APIServices; at most
/// [`MAX_CALLEES`]. Its calls to itself (the loopback client) are left out.
pub fn failing_callees(
    failing: &[ClientRates],
    callees: &Callees,
    api_services: &[(String, ServiceRef)],
    threshold: Threshold,
) -> Vec<FailingCallee> {
    let mut out = Vec::new();
    for c in failing {
        let crate::bundle::Target::ApiServer { instance } = &c.target else {
            continue;
        };
        for h in c
            .by_host
            .iter()
            .filter(|h| threshold.exceeded_by(h.ratios.non_2xx))
        {
            let callee = callee::name_callee(
                &h.host,
                Some(instance),
                &callees.webhooks,
                &callees.api_services,
            );
            // Its calls to itself take no network path worth probing.
            if callee == Callee::Loopback {
                continue;
            }
            let service = match &callee {
                Callee::Webhook {
                    configuration,
                    webhook,
                } => callees
                    .webhooks
                    .iter()
                    .find(|w| &w.configuration == configuration && &w.webhook == webhook)
                    .and_then(|w| w.service.clone()),
                Callee::ApiService { name } => api_services
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, s)| s.clone()),
                _ => None,
            };
            out.push(FailingCallee {
                client: c.id.clone(),
                host: h.host.clone(),
                callee,
                service,
            });
        }
    }
    out.truncate(MAX_CALLEES);
    out
}

/// Callees looked at, at most.
pub const MAX_CALLEES: usize = 5;

/// The step's note: `"2 pods, egress to the API server denied for 1 of them"`; pods whose
/// network path could not be read are counted apart and never as allowed (`"1 pod, egress ...
/// denied for none; 1 pod could not be read"`, or only `"1 pod could not be read"`).
pub fn note(paths: &[NetworkPath]) -> String {
    use super::count;
    let unread = paths.iter().filter(|p| p.read_error.is_some()).count();
    let read = paths.len() - unread;
    let denied = paths
        .iter()
        .filter(|p| p.read_error.is_none())
        .filter(|p| matches!(p.egress, crate::bundle::EgressVerdict::Denied { .. }))
        .count();
    let mut parts = Vec::new();
    if read > 0 || unread == 0 {
        parts.push(format!(
            "{}, egress to the API server denied for {}",
            count(read, "pod", "pods"),
            if denied == 0 {
                "none".to_string()
            } else {
                format!("{denied} of them")
            }
        ));
    }
    if unread > 0 {
        parts.push(format!(
            "{} could not be read",
            count(unread, "pod", "pods")
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::EgressVerdict;
    use crate::playbook::fixture_items;

    #[test]
    fn the_recorded_blackhole_policy_denies_the_kubers_pod() {
        // NetworkPolicies and pods of namespace demo recorded during network-blackhole.
        let nps: Vec<NetworkPolicy> = fixture_items("demo-networkpolicies-blackhole.json");
        let policies: Vec<Policy> = nps.iter().map(policy).collect();
        assert!(policies.iter().any(|p| p.name == "deny-egress-demo-kubers"));
        let pods: Vec<Pod> = fixture_items("demo-pods.json");
        let shared = SharedPath {
            service: Some(ServiceInfo {
                cluster_ip: Some("10.96.0.1".into()),
                ports: vec![443],
            }),
            ..Default::default()
        };
        let pod_of = |n: &str| {
            pods.iter()
                .find(|p| p.metadata.name.as_deref() == Some(n))
                .unwrap()
        };
        let kubers = network_path(
            "demo",
            "demo-kubers",
            Ok(pod_of("demo-kubers")),
            &policies,
            &shared,
        );
        assert!(
            matches!(&kubers.egress, EgressVerdict::Denied { by } if by.contains(&"deny-egress-demo-kubers".to_string())),
            "{:?}",
            kubers.egress
        );
        let python = network_path(
            "demo",
            "demo-python",
            Ok(pod_of("demo-python")),
            &policies,
            &shared,
        );
        assert_eq!(python.egress, EgressVerdict::NoPolicy);
        assert_eq!(
            note(&[kubers, python]),
            "2 pods, egress to the API server denied for 1 of them"
        );
    }

    #[test]
    fn the_api_servers_failing_webhook_calls_name_their_service() {
        use crate::bundle::{ErrorRatios, HostRates, Target, WebhookConfig};
        let w = WebhookConfig {
            configuration: "guard".into(),
            kind: "validating".into(),
            webhook: "guard.example.com".into(),
            client: "guard/guard-svc:443/validate".into(),
            host: Some("guard-svc.guard.svc:443".into()),
            timeout_seconds: Some(10),
            failure_policy: Some("Fail".into()),
            created_at: None,
            rules: vec!["CREATE configmaps".into()],
            service: Some(ServiceRef {
                namespace: "guard".into(),
                name: "guard-svc".into(),
                port: 443,
                path: Some("/validate".into()),
            }),
            ca_bundle: None,
            selectors: Vec::new(),
        };
        let callees = Callees {
            webhooks: vec![w],
            api_services: Vec::new(),
        };
        let rates = |non_2xx| ErrorRatios {
            server_5xx: non_2xx,
            non_2xx,
            transport: 0.0,
        };
        let mut api = crate::playbook::step8_quota_and_apf::tests_support::client(
            "apiserver",
            "10.0.0.1:6443",
        );
        api.target = Target::ApiServer {
            instance: "10.0.0.1:6443".into(),
        };
        api.by_host = vec![
            HostRates {
                host: "guard-svc.guard.svc:443".into(),
                callee: Callee::Unknown,
                requests: 100.0,
                ratios: rates(0.4),
            },
            HostRates {
                host: "[::1]:6443".into(),
                callee: Callee::Unknown,
                requests: 1000.0,
                ratios: rates(0.0),
            },
        ];
        let f = failing_callees(&[api], &callees, &[], Threshold::ALERT);
        assert_eq!(f.len(), 1, "only the failing host");
        assert_eq!(f[0].client, "apiserver/10.0.0.1:6443");
        assert!(
            matches!(&f[0].callee, Callee::Webhook { webhook, .. } if webhook == "guard.example.com")
        );
        assert_eq!(
            f[0].service.as_ref().unwrap().dns_name(),
            "guard-svc.guard.svc"
        );
    }

    #[test]
    fn an_unreadable_pod_is_noted_not_evaluated() {
        let p = network_path(
            "demo",
            "gone",
            Err("timed out".into()),
            &[],
            &SharedPath::default(),
        );
        assert_eq!(p.read_error.as_deref(), Some("timed out"));
        assert_eq!(p.egress, EgressVerdict::NoPolicy);
        assert_eq!(note(&[p]), "1 pod could not be read");
    }

    #[test]
    fn targets_fall_back_to_the_service_and_the_server_url() {
        let svc = ServiceInfo {
            cluster_ip: Some("10.96.0.1".into()),
            ports: vec![443],
        };
        let t = policy_targets(&[], Some(&svc));
        assert_eq!((t[0].address.as_str(), t[0].port), ("10.96.0.1", 443));
        assert!(policy_targets(&[], None).is_empty());
        assert_eq!(
            probe_targets(&[], "https://127.0.0.1:16443"),
            vec![("127.0.0.1".to_string(), 16443)]
        );
        assert_eq!(
            host_port("https://[fd00::1]/"),
            Some(("fd00::1".into(), 443))
        );
        assert_eq!(
            host_port("https://api.example.com:6443/x?y"),
            Some(("api.example.com".into(), 6443))
        );
        assert_eq!(host_port("not a url"), None);
    }
}
