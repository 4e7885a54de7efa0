//! Playbook step 1: the API server itself. Its pods in kube-system
//! (`component=kube-apiserver`): phase, readiness, restarts and the last termination. Where
//! there are none (managed control planes; an API server run as a process, as in the lab) the
//! step falls back to `/readyz?verbose`, `/livez?verbose` and the `default/kubernetes`
//! EndpointSlices, and says so.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{
    ApiServerEvidence, ApiServerPod, ApiServerSource, EndpointAddr, HealthReport, Termination,
};

use super::{Collector, RunShared, StepEnd, StepError};
use crate::source::kube::{Kube, Perm, SourceError, StepCtx};

pub async fn collect(
    c: &Collector,
    ctx: Arc<StepCtx>,
    shared: &RunShared,
) -> Result<StepEnd<ApiServerEvidence>, StepError> {
    let pods = c
        .kube
        .call(
            &ctx,
            Perm::ns("", "pods", "list", "kube-system"),
            |client| async move {
                Api::<Pod>::namespaced(client, "kube-system")
                    .list(
                        &ListParams::default()
                            .labels("component=kube-apiserver")
                            .limit(50),
                    )
                    .await
            },
        )
        .await;
    let pods = match pods {
        Ok(list) => list.items.iter().map(apiserver_pod).collect::<Vec<_>>(),
        Err(SourceError::Forbidden(rule)) => {
            ctx.note_missing(rule);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    // Errors reading the endpoints are said in the step's note; the step goes on.
    let (endpoints, endpoints_error) = match shared.kubernetes_endpoints(&c.kube, &ctx).await {
        Ok(k) => (k.endpoints, String::new()),
        Err(SourceError::Forbidden(rule)) => {
            ctx.note_missing(rule);
            (Vec::new(), String::new())
        }
        Err(e) => (Vec::new(), format!("; the kubernetes EndpointSlices: {e}")),
    };
    if !pods.is_empty() {
        let unhealthy = pods.iter().filter(|p| !p.ready || p.restarts > 0).count();
        let note = format!(
            "{} API server pods, {unhealthy} not ready or restarted{endpoints_error}",
            pods.len()
        );
        return Ok(StepEnd::Done(
            ApiServerEvidence {
                source: ApiServerSource::Pods,
                pods,
                readyz: None,
                livez: None,
                endpoints,
            },
            Some(note),
        ));
    }
    let readyz = health(&c.kube, &ctx, "/readyz?verbose", "/readyz").await;
    let livez = health(&c.kube, &ctx, "/livez?verbose", "/livez").await;
    let note = format!(
        "no kube-apiserver pods in kube-system (managed control plane, or run as a process): used /readyz and /livez; readyz {}{endpoints_error}",
        if readyz.ok { "ok" } else { "NOT ok" }
    );
    Ok(StepEnd::Done(
        ApiServerEvidence {
            source: ApiServerSource::HealthEndpoints,
            pods,
            readyz: Some(readyz),
            livez: Some(livez),
            endpoints,
        },
        Some(note),
    ))
}

fn apiserver_pod(p: &Pod) -> ApiServerPod {
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
    }
}

/// `/readyz?verbose` or `/livez?verbose`: a 500 carries the failed checks in its body.
async fn health(
    kube: &Kube,
    ctx: &StepCtx,
    path: &'static str,
    perm: &'static str,
) -> HealthReport {
    let checked_at = Timestamp::now();
    let result = kube
        .call(ctx, Perm::url(perm), |client| async move {
            client
                .request_text(
                    http::Request::get(path)
                        .body(Vec::new())
                        .expect("valid request"),
                )
                .await
        })
        .await;
    let (ok, body, error) = match result {
        Ok(body) => (true, body, None),
        Err(SourceError::Api { code, message }) => (false, message, Some(format!("HTTP {code}"))),
        Err(e) => (false, String::new(), Some(e.to_string())),
    };
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

/// The `default/kubernetes` Service's endpoints, from its EndpointSlices, and when the slices
/// last changed (their newest managedFields time). Steps 1 and 4 both need them; they read
/// them once per run through [`super::RunShared`].
pub async fn read_kubernetes_endpoints(
    kube: &Kube,
    ctx: &StepCtx,
) -> Result<KubernetesEndpoints, SourceError> {
    let list = kube
        .call(
            ctx,
            Perm::ns("discovery.k8s.io", "endpointslices", "list", "default"),
            |client| async move {
                Api::<EndpointSlice>::namespaced(client, "default")
                    .list(
                        &ListParams::default()
                            .labels("kubernetes.io/service-name=kubernetes")
                            .limit(10),
                    )
                    .await
            },
        )
        .await?;
    Ok(KubernetesEndpoints {
        endpoints: list.items.iter().flat_map(slice_addresses).collect(),
        changed_at: list
            .items
            .iter()
            .flat_map(|s| s.metadata.managed_fields.iter().flatten())
            .filter_map(|m| m.time.as_ref().map(|t| t.0))
            .max(),
    })
}

/// The `kubernetes` Service's endpoints and when they last changed.
#[derive(Debug, Clone)]
pub struct KubernetesEndpoints {
    /// Address and port of each endpoint.
    pub endpoints: Vec<EndpointAddr>,
    /// The newest change to the EndpointSlices.
    pub changed_at: Option<Timestamp>,
}

/// Addresses and ports of one EndpointSlice.
fn slice_addresses(s: &EndpointSlice) -> Vec<EndpointAddr> {
    let ports: Vec<u16> = s
        .ports
        .as_ref()
        .map(|ps| ps.iter().filter_map(|p| p.port.map(|x| x as u16)).collect())
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
