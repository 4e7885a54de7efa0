//! Playbook step 5: the failing clients' logs, classified. Every container of each failing
//! pod, the current and the previous instance, from the window's start on, capped in bytes
//! (`--log-bytes`). A pod or log that cannot be read is noted on it; the others go on. The pure
//! half (classification, redaction before samples are cut) is
//! `kube_doctor_core::playbook::step5_logs`.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Service};
use kube::Api;
use kube::api::LogParams;
use kube_doctor_core::bundle::{ClientRates, ObjectRef, PodLogs};
use kube_doctor_core::classify::Classifier;
use kube_doctor_core::classify::target::ApiServerHosts;
use kube_doctor_core::playbook::step5_logs::{self, LogRead, classify_log, note, unreadable};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Backend pods read per failing callee, at most.
const BACKENDS_PER_CALLEE: usize = 2;

/// The backend pods of the callees the API-server clients among `failing` fail to call, with
/// what they are.
async fn backends(
    cx: &Context,
    ctx: &StepCtx,
    failing: &[ClientRates],
) -> Vec<(String, String, Option<String>)> {
    if !failing
        .iter()
        .any(|f| matches!(f.target, kube_doctor_core::bundle::Target::ApiServer { .. }))
    {
        return Vec::new();
    }
    let configs = cx.callee_configs(ctx).await;
    let mut out = Vec::new();
    for t in kube_doctor_core::playbook::step4_network_path::failing_callees(
        failing,
        &configs.callees,
        &configs.api_service_refs,
        cx.settings.threshold,
    ) {
        let Some(svc) = &t.service else { continue };
        let role = match &t.callee {
            kube_doctor_core::bundle::Callee::Webhook { webhook, .. } => {
                format!("backend of admission webhook {webhook}")
            }
            kube_doctor_core::bundle::Callee::ApiService { name } => {
                format!("backend of APIService {name}")
            }
            _ => format!("backend of {}", t.host),
        };
        if let Ok(b) = cx.service_backends(ctx, &svc.namespace, &svc.name).await {
            for p in b.pods.iter().take(BACKENDS_PER_CALLEE) {
                let entry = (
                    p.namespace.clone().unwrap_or_default(),
                    p.name.clone(),
                    Some(role.clone()),
                );
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
    }
    out
}

/// The API server's host names and addresses as the cluster gives them: the kubeconfig's
/// server, the `default/kubernetes` Service's ClusterIP, the addresses of its EndpointSlices
/// (each read that fails only leaves its addresses out, and is said in `notes`).
async fn api_server_hosts(cx: &Context, ctx: &StepCtx, notes: &mut Vec<String>) -> ApiServerHosts {
    let mut hosts = ApiServerHosts::new();
    if let Some(c) = &cx.settings.cluster {
        hosts.add(&c.server);
    }
    match cx
        .kube
        .call(
            ctx,
            Perm::ns("", "services", "get", "default"),
            |client| async move {
                Api::<Service>::namespaced(client, "default")
                    .get("kubernetes")
                    .await
            },
        )
        .await
    {
        Ok(svc) => {
            for ip in svc
                .spec
                .iter()
                .flat_map(|s| s.cluster_ip.iter().chain(s.cluster_ips.iter().flatten()))
            {
                hosts.add(ip);
            }
        }
        Err(e) => notes.push(format!("the kubernetes Service's ClusterIP: {e}")),
    }
    match cx.kubernetes_endpoints(ctx).await {
        Ok(eps) => {
            for ep in &eps.endpoints {
                hosts.add(&ep.address);
            }
        }
        Err(e) => notes.push(format!("the kubernetes Service's endpoints: {e}")),
    }
    hosts
}

/// Runs step 5 for the pods among `failing`.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
) -> Result<StepEnd<Vec<PodLogs>>, StepError> {
    // Workload pods, and control-plane components' mirror pods (their logs are there too).
    let mut pods: Vec<(String, String, Option<String>)> = failing
        .iter()
        .filter_map(|f| {
            f.log_pod()
                .map(|(ns, n)| (ns.to_string(), n.to_string(), None))
        })
        .collect();
    // For the API server as the client: the backends of the callees it fails to call.
    pods.extend(backends(cx, &ctx, failing).await);
    if pods.is_empty() {
        return Ok(StepEnd::Skipped("no failing client is a pod".to_string()));
    }
    let mut host_notes = Vec::new();
    let api_server = api_server_hosts(cx, &ctx, &mut host_notes).await;
    let classifier = Classifier::shared();
    let window = cx.settings.window;
    let since_seconds = window.seconds().ceil() as i64;
    let log_bytes = cx.settings.limits.log_bytes;
    let mut out = Vec::new();
    let mut forbidden = 0;
    for (ns, name, role) in &pods {
        let mut logs = PodLogs {
            pod: ObjectRef::namespaced("Pod", ns, name),
            role: role.clone(),
            containers: Vec::new(),
            read_error: None,
        };
        let (ns2, n2) = (ns.clone(), name.clone());
        let pod = match cx
            .kube
            .call(&ctx, Perm::ns("", "pods", "get", ns), |client| {
                let (ns, n) = (ns2.clone(), n2.clone());
                async move { Api::<Pod>::namespaced(client, &ns).get(&n).await }
            })
            .await
        {
            Ok(p) => p,
            Err(SourceError::NotFound(_)) => continue,
            Err(e) => {
                if let SourceError::Forbidden(r) = &e {
                    ctx.note_missing(r.clone());
                    forbidden += 1;
                }
                logs.read_error = Some(e.to_string());
                out.push(logs);
                continue;
            }
        };
        let containers: Vec<String> = pod
            .spec
            .as_ref()
            .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        let mut pod_forbidden = false;
        for container in containers {
            for previous in [false, true] {
                let lp = LogParams {
                    container: Some(container.clone()),
                    previous,
                    since_seconds: (!previous).then_some(since_seconds),
                    limit_bytes: Some(log_bytes as i64),
                    timestamps: true,
                    ..Default::default()
                };
                let (ns3, n3) = (ns.clone(), name.clone());
                let text = cx
                    .kube
                    .call(&ctx, Perm::ns("", "pods/log", "get", ns), |client| {
                        let (ns, n, lp) = (ns3.clone(), n3.clone(), lp.clone());
                        async move { Api::<Pod>::namespaced(client, &ns).logs(&n, &lp).await }
                    })
                    .await;
                match text {
                    Ok(text) => {
                        let read = LogRead {
                            container: &container,
                            previous,
                            text: &text,
                            cap: log_bytes,
                            since: window.from,
                            // A webhook backend's log is about what it serves, not calls.
                            api_server: role.is_none().then_some(&api_server),
                        };
                        logs.containers
                            .push(cx.with_redactor(|r| classify_log(classifier, r, read)));
                    }
                    // No previous instance: the container never restarted.
                    Err(SourceError::Api { code: 400, .. } | SourceError::NotFound(_))
                        if previous => {}
                    Err(e) => {
                        if let SourceError::Forbidden(r) = &e {
                            ctx.note_missing(r.clone());
                            pod_forbidden = true;
                        }
                        logs.containers
                            .push(unreadable(&container, previous, e.to_string()));
                    }
                }
            }
        }
        if pod_forbidden {
            forbidden += 1;
        }
        out.push(logs);
    }
    let mut note = note(&out);
    if !host_notes.is_empty() {
        note.push_str(&format!(
            "; not known, so not told apart from other hosts: {}",
            host_notes.join("; ")
        ));
    }
    if !out.is_empty() && forbidden == out.len() {
        return Ok(StepEnd::Forbidden(out, note));
    }
    if step5_logs::nothing_read(&out) {
        return Ok(StepEnd::Failed(Some(out), note));
    }
    Ok(StepEnd::Done(out, Some(note)))
}
