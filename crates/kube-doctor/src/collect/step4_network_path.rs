//! Playbook step 4: the failing client and its network path to the API server. Fetches the
//! `default/kubernetes` Service, its endpoints (the context's shared read), the
//! NetworkPolicies of each failing pod's namespace and each pod, and makes a TCP and TLS
//! handshake from kube-doctor to each endpoint - from kube-doctor, not from the pod: it proves
//! the API server answers and shows its serving certificate, not that the pod's own path
//! works. A pod or namespace that cannot be read is noted; the others go on. The pure half is
//! `kube_doctor_core::playbook::step4_network_path`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{CalleePath, ClientRates, NetworkPath};
use kube_doctor_core::netpol::Policy;
use kube_doctor_core::playbook::step4_network_path::{
    SharedPath, failing_callees, network_path, note, policy, probe_targets, service_info,
};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};
use crate::source::tls_probe;

/// What step 4 found: each failing pod's path, and each failing callee's path when the
/// failing client is the API server.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// Failing client pods' paths to the API server.
    pub pods: Vec<NetworkPath>,
    /// The API server's paths to the callees it fails to call.
    pub callees: Vec<CalleePath>,
}

/// Runs step 4 for the pods among `failing`, and for the callees of the API-server clients
/// among them.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
) -> Result<StepEnd<Paths>, StepError> {
    let api_servers = failing
        .iter()
        .any(|f| matches!(f.target, kube_doctor_core::bundle::Target::ApiServer { .. }));
    let callees = if api_servers {
        callee_paths(cx, &ctx, failing).await
    } else {
        Vec::new()
    };
    let pods: Vec<(String, String)> = failing
        .iter()
        .filter_map(|f| f.pod().map(|(ns, n)| (ns.to_string(), n.to_string())))
        .collect();
    if pods.is_empty() {
        if !callees.is_empty() {
            let note = format!(
                "{} of the API server looked at",
                kube_doctor_core::playbook::count(callees.len(), "callee", "callees")
            );
            return Ok(StepEnd::Done(
                Paths {
                    pods: Vec::new(),
                    callees,
                },
                Some(note),
            ));
        }
        return Ok(StepEnd::Skipped(
            "no failing client is a pod or an API server calling a webhook".to_string(),
        ));
    }
    // API errors are recorded and the step goes on: the handshake probes need no API and are
    // the evidence that matters most when the API server cannot be reached.
    let mut notes: Vec<String> = Vec::new();
    let service = match cx
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
        .await
    {
        Ok(s) => Some(service_info(&s)),
        Err(SourceError::Forbidden(r)) => {
            ctx.note_missing(r);
            None
        }
        Err(e) => {
            notes.push(format!("the kubernetes Service: {e}"));
            None
        }
    };
    let endpoints = match cx.kubernetes_endpoints(&ctx).await {
        Ok(k) => k,
        Err(SourceError::Forbidden(r)) => {
            ctx.note_missing(r);
            Default::default()
        }
        Err(e) => {
            notes.push(format!("its EndpointSlices: {e}"));
            Default::default()
        }
    };
    let mut probes = Vec::new();
    for (host, port) in probe_targets(&endpoints.endpoints, &cx.kube.server) {
        probes.push(tls_probe::handshake(&host, port, Duration::from_secs(3)).await);
    }
    let shared = SharedPath {
        service,
        endpoints,
        probes,
    };

    let mut policies_by_ns: BTreeMap<String, Vec<Policy>> = BTreeMap::new();
    for ns in pods
        .iter()
        .map(|(ns, _)| ns.clone())
        .collect::<BTreeSet<_>>()
    {
        let ns2 = ns.clone();
        match cx
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
        let pod = cx
            .kube
            .call(&ctx, Perm::ns("", "pods", "get", ns), |client| {
                let (ns, n) = (ns2.clone(), n2.clone());
                async move { Api::<Pod>::namespaced(client, &ns).get(&n).await }
            })
            .await;
        let policies = policies_by_ns
            .get(ns)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let path = match &pod {
            Ok(p) => network_path(ns, name, Ok(p), policies, &shared),
            Err(SourceError::NotFound(_)) => continue,
            Err(SourceError::Forbidden(r)) => {
                ctx.note_missing(r.clone());
                network_path(
                    ns,
                    name,
                    Err(format!("forbidden: missing {r}")),
                    policies,
                    &shared,
                )
            }
            Err(e) => network_path(ns, name, Err(e.to_string()), policies, &shared),
        };
        out.push(path);
    }
    let mut note = note(&out);
    if !notes.is_empty() {
        note.push_str(&format!("; {}", notes.join("; ")));
    }
    if !callees.is_empty() {
        note.push_str(&format!(
            "; {} of the API server looked at",
            kube_doctor_core::playbook::count(callees.len(), "callee", "callees")
        ));
    }
    let forbidden = !out.is_empty()
        && out.iter().all(|p| p.read_error.is_some())
        && !ctx.missing_rules().is_empty();
    let paths = Paths { pods: out, callees };
    if forbidden {
        return Ok(StepEnd::Forbidden(paths, note));
    }
    Ok(StepEnd::Done(paths, Some(note)))
}

/// The API server's paths to the webhooks and APIServices it fails to call: each one's
/// Service, its endpoints, and a TLS handshake to one ready endpoint checked against the
/// webhook's `caBundle`.
async fn callee_paths(cx: &Context, ctx: &StepCtx, failing: &[ClientRates]) -> Vec<CalleePath> {
    let configs = cx.callee_configs(ctx).await;
    let targets = failing_callees(
        failing,
        &configs.callees,
        &configs.api_service_refs,
        cx.settings.threshold,
    );
    let mut out = Vec::new();
    for t in targets {
        let mut path = CalleePath {
            client: t.client.clone(),
            host: t.host.clone(),
            callee: t.callee.clone(),
            service: t.service.clone(),
            service_exists: None,
            endpoints: Vec::new(),
            backend_pods: Vec::new(),
            probe: None,
            notes: Vec::new(),
        };
        let Some(svc) = &t.service else {
            path.notes
                .push("it calls a URL, not a Service: its host is probed directly".into());
            if let Some((host, port)) = t
                .host
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.trim_matches(['[', ']']).to_string(), p.parse().ok()?)))
            {
                path.probe = Some(tls_probe::handshake(&host, port, Duration::from_secs(3)).await);
            }
            out.push(path);
            continue;
        };
        let (ns, name) = (svc.namespace.clone(), svc.name.clone());
        match cx
            .kube
            .call(ctx, Perm::ns("", "services", "get", &ns), |client| {
                let (ns, name) = (ns.clone(), name.clone());
                async move { Api::<Service>::namespaced(client, &ns).get(&name).await }
            })
            .await
        {
            Ok(_) => path.service_exists = Some(true),
            Err(SourceError::NotFound(_)) => path.service_exists = Some(false),
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => path.notes.push(format!("service {ns}/{name}: {e}")),
        }
        match cx.service_backends(ctx, &ns, &name).await {
            Ok(b) => {
                path.endpoints = b.endpoints;
                path.backend_pods = b.pods;
            }
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => path.notes.push(format!("endpoints of {ns}/{name}: {e}")),
        }
        // The API server checks the serving certificate against the caBundle, for the name
        // NAME.NAMESPACE.svc: so does the probe.
        if let Some(ep) = path.endpoints.iter().find(|e| e.ready != Some(false)) {
            let ca = match &t.callee {
                kube_doctor_core::bundle::Callee::Webhook {
                    configuration,
                    webhook,
                } => configs
                    .ca_bundles
                    .get(&(configuration.clone(), webhook.clone()))
                    .map(Vec::as_slice),
                _ => None,
            };
            path.probe = Some(
                tls_probe::handshake_as(
                    &ep.address,
                    ep.port,
                    Some(&svc.dns_name()),
                    ca,
                    Duration::from_secs(3),
                )
                .await,
            );
        }
        out.push(path);
    }
    out
}
