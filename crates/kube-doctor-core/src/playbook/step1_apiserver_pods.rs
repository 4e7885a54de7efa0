//! Playbook step 1, pure half: the API server's own health. kube-apiserver pods (status,
//! restarts, readiness), `/readyz?verbose` and `/livez?verbose` answers, and the
//! `default/kubernetes` EndpointSlices, turned into [`ApiServerEvidence`].

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::bundle::{ApiServerPod, EndpointAddr, HealthReport, Termination};

/// The label selector of kube-apiserver static pods (kubeadm, and most installers).
pub const APISERVER_POD_SELECTOR: &str = "component=kube-apiserver";

/// One API server pod's status.
pub fn apiserver_pod(p: &Pod) -> ApiServerPod {
    let status = p.status.as_ref();
    let ready_cond = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"));
    let cs = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|v| v.first());
    let last_termination = cs
        .and_then(|c| c.last_state.as_ref())
        .and_then(|s| s.terminated.as_ref())
        .map(|t| Termination {
            reason: t.reason.clone(),
            exit_code: t.exit_code,
            finished_at: t.finished_at.as_ref().map(|x| x.0),
        });
    ApiServerPod {
        name: p.metadata.name.clone().unwrap_or_default(),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        phase: status.and_then(|s| s.phase.clone()),
        ready: ready_cond.is_some_and(|c| c.status == "True"),
        ready_changed_at: ready_cond.and_then(|c| c.last_transition_time.as_ref().map(|t| t.0)),
        restarts: cs.map_or(0, |c| c.restart_count),
        last_termination,
        started_at: cs
            .and_then(|c| c.state.as_ref())
            .and_then(|s| s.running.as_ref())
            .and_then(|r| r.started_at.as_ref().map(|t| t.0)),
        pod_ip: status.and_then(|s| s.pod_ip.clone()),
    }
}

/// How a `/readyz?verbose` or `/livez?verbose` request ended.
#[derive(Debug, Clone)]
pub enum HealthAnswer {
    /// 200 with this body.
    Ok(String),
    /// Another status; a 500 carries the failed checks in its body.
    Status {
        /// HTTP status.
        code: u16,
        /// Body (or the Status message).
        body: String,
    },
    /// No answer: why, in one line.
    Failed(String),
}

/// The checks of a health answer: `[+]name ok` passed, `[-]name failed: reason` failed.
pub fn health_report(answer: HealthAnswer, checked_at: Timestamp) -> HealthReport {
    let (ok, body, error) = match answer {
        HealthAnswer::Ok(body) => (true, body, None),
        HealthAnswer::Status { code, body } => (false, body, Some(format!("HTTP {code}"))),
        HealthAnswer::Failed(e) => (false, String::new(), Some(e)),
    };
    // An error answer reaches here as kube-doctor's client keeps every Status message:
    // escaped to one line (`escape::one_line`), its newlines written `\n`. They are lines
    // again here (a check's own text holds no backslash-n).
    let body = body.replace("\\n", "\n");
    let checks: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("[+]") || l.starts_with("[-]"))
        .collect();
    let failed_checks = checks
        .iter()
        .filter(|l| l.starts_with("[-]"))
        .map(|l| l.trim_start_matches("[-]").to_string())
        .collect::<Vec<_>>();
    HealthReport {
        ok: ok && failed_checks.is_empty(),
        checked_at,
        checks: checks.len(),
        failed_checks,
        error,
    }
}

/// The `kubernetes` Service's endpoints and when they last changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubernetesEndpoints {
    /// Address and port of each endpoint.
    pub endpoints: Vec<EndpointAddr>,
    /// The newest change to the EndpointSlices (their newest managedFields time).
    pub changed_at: Option<Timestamp>,
}

/// The label that ties EndpointSlices to the `kubernetes` Service.
pub const KUBERNETES_SLICES_SELECTOR: &str = "kubernetes.io/service-name=kubernetes";

/// The endpoints of the `default/kubernetes` EndpointSlices.
pub fn kubernetes_endpoints(slices: &[EndpointSlice]) -> KubernetesEndpoints {
    KubernetesEndpoints {
        endpoints: slices.iter().flat_map(slice_addresses).collect(),
        changed_at: slices
            .iter()
            .flat_map(|s| s.metadata.managed_fields.iter().flatten())
            .filter_map(|m| m.time.as_ref().map(|t| t.0))
            .max(),
    }
}

/// Addresses and ports of one EndpointSlice.
fn slice_addresses(s: &EndpointSlice) -> Vec<EndpointAddr> {
    let ports: Vec<u16> = s
        .ports
        .as_ref()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.port.and_then(|x| u16::try_from(x).ok()))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for e in &s.endpoints {
        let ready = e.conditions.as_ref().and_then(|c| c.ready);
        for a in &e.addresses {
            for p in &ports {
                out.push(EndpointAddr {
                    address: a.clone(),
                    port: *p,
                    ready,
                });
            }
        }
    }
    out
}

/// The step's note when pods were found: how many, how many not ready or restarted, and
/// (up to three) which, so that one instance of several is named.
pub fn pods_note(pods: &[ApiServerPod]) -> String {
    let unhealthy: Vec<&ApiServerPod> =
        pods.iter().filter(|p| !p.ready || p.restarts > 0).collect();
    let mut note = format!(
        "{} API server pods, {} not ready or restarted",
        pods.len(),
        unhealthy.len()
    );
    let named: Vec<String> = unhealthy
        .iter()
        .take(3)
        .map(|p| {
            let mut s = crate::escape::one_line(&p.name, 100);
            if !p.ready {
                s.push_str(" not ready");
            }
            if p.restarts > 0 {
                s.push_str(&format!(
                    "{} {} restarts",
                    if p.ready { "" } else { "," },
                    p.restarts
                ));
                if let Some(r) = p
                    .last_termination
                    .as_ref()
                    .and_then(|t| t.reason.as_deref())
                {
                    s.push_str(&format!(" (last {})", crate::escape::one_line(r, 40)));
                }
            }
            s
        })
        .collect();
    if !named.is_empty() {
        note.push_str(&format!(": {}", named.join("; ")));
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::{fixture, fixture_items};

    #[test]
    fn pods_give_readiness_restarts_and_last_termination() {
        // The lab's demo pods (KWOK): the mapping is the same for any pod.
        let pods: Vec<Pod> = fixture_items("demo-pods.json");
        assert!(!pods.is_empty());
        for p in &pods {
            let a = apiserver_pod(p);
            assert_eq!(a.name, p.metadata.name.clone().unwrap());
            assert_eq!(a.node.as_deref(), Some("kwok-node-0"));
            assert!(a.ready, "{}: the lab's pods are ready", a.name);
            assert_eq!(a.phase.as_deref(), Some("Running"));
        }
        // A kubeadm-style API server pod that restarted after an OOM kill.
        let p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kube-apiserver-cp-1", "namespace": "kube-system"},
            "spec": {"nodeName": "cp-1", "containers": [{"name": "kube-apiserver"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2026-11-01T10:00:00Z"}],
                "containerStatuses": [{"name": "kube-apiserver", "ready": false, "restartCount": 3, "image": "x", "imageID": "y",
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2026-11-01T09:59:58Z"}}}]}
        }))
        .unwrap();
        let a = apiserver_pod(&p);
        assert!(!a.ready);
        assert_eq!(a.restarts, 3);
        assert_eq!(
            a.last_termination
                .as_ref()
                .and_then(|t| t.reason.as_deref()),
            Some("OOMKilled")
        );
        assert_eq!(
            pods_note(&[a]),
            "1 API server pods, 1 not ready or restarted: kube-apiserver-cp-1 not ready, 3 restarts (last OOMKilled)"
        );
    }

    #[test]
    fn health_answers_name_failed_checks() {
        let at = Timestamp::UNIX_EPOCH;
        let ok = String::from_utf8(fixture("readyz-verbose.txt")).unwrap();
        let r = health_report(HealthAnswer::Ok(ok), at);
        assert!(r.ok);
        assert!(
            r.checks > 10,
            "the lab's API server lists its checks: {}",
            r.checks
        );
        assert!(r.failed_checks.is_empty());
        let bad = "[+]ping ok\n[-]etcd failed: reason withheld\n[+]log ok\nreadyz check failed";
        let r = health_report(
            HealthAnswer::Status {
                code: 500,
                body: bad.into(),
            },
            at,
        );
        assert!(!r.ok);
        assert_eq!(r.failed_checks, vec!["etcd failed: reason withheld"]);
        assert_eq!(r.error.as_deref(), Some("HTTP 500"));
        // As the API client hands an error's body over: escaped to one line.
        let r = health_report(
            HealthAnswer::Status {
                code: 500,
                body: crate::escape::one_line(bad, 1000),
            },
            at,
        );
        assert_eq!(r.failed_checks, vec!["etcd failed: reason withheld"]);
        assert_eq!(r.checks, 3);
        let r = health_report(HealthAnswer::Failed("connection refused".into()), at);
        assert!(!r.ok && r.checks == 0);
    }

    #[test]
    fn slices_give_every_address_and_port() {
        let s: EndpointSlice = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kubernetes", "namespace": "default",
                "managedFields": [{"manager": "kube-apiserver", "operation": "Update", "time": "2026-11-01T10:00:00Z"}]},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                          {"addresses": ["10.0.0.2"], "conditions": {"ready": false}}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]
        }))
        .unwrap();
        let k = kubernetes_endpoints(&[s]);
        assert_eq!(k.endpoints.len(), 2);
        assert_eq!(k.endpoints[1].address, "10.0.0.2");
        assert_eq!(k.endpoints[1].ready, Some(false));
        assert_eq!(k.endpoints[0].port, 6443);
        assert_eq!(k.changed_at, Some("2026-11-01T10:00:00Z".parse().unwrap()));
        assert_eq!(kubernetes_endpoints(&[]), KubernetesEndpoints::default());
    }
}
