//! Playbook step 6: the failing clients' certificates and ServiceAccount tokens - valid, for
//! whom, until when. Fetches each failing pod, its ServiceAccount, the cluster CA
//! (`kube-root-ca.crt`) and the Secrets the pod mounts or reads (one by one, by name - never
//! listed); asks a TokenReview of the tokens found and a SubjectAccessReview of the RBAC
//! denials step 5 read, where permitted, and lists the Roles of the namespaces where one is
//! still denied (an existing Role that grants it is bound rather than a new one written). A pod
//! that cannot be read is noted on it; the others go on. Secret data is handed straight to the pure half
//! (`kube_doctor_core::playbook::step6_credentials`), which keeps only metadata and claims.

use std::sync::Arc;

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::Role;
use kube::Api;
use kube::api::{ListParams, PostParams};
use kube_doctor_core::bundle::{
    AccessReviewResult, ClientRates, MAX_ROLES, PodCredentials, PodLogs, PolicyRuleSummary,
    RoleRules,
};
use kube_doctor_core::classify::AuthzDenial;
use kube_doctor_core::playbook::step6_credentials::{
    access_review_result, access_review_spec, cluster_ca, denials_to_review, empty, inspect_secret,
    note, nothing_learnt, pod_identities, secret_names, service_account_info, service_account_name,
    token_review_result,
};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Runs step 6 for the pods among `failing`, reviewing the denials in `logs`.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
    logs: &[PodLogs],
) -> Result<StepEnd<Vec<PodCredentials>>, StepError> {
    let pods: Vec<(String, String)> = failing
        .iter()
        .filter_map(|f| f.pod().map(|(ns, n)| (ns.to_string(), n.to_string())))
        .collect();
    if pods.is_empty() {
        return Ok(StepEnd::Skipped("no failing client is a pod".to_string()));
    }
    let mut out = Vec::new();
    for (ns, name) in &pods {
        let mut creds = empty(ns, name);
        match get::<Pod>(cx, &ctx, Perm::ns("", "pods", "get", ns), ns, name).await {
            Ok(pod) => pod_credentials(cx, &ctx, ns, name, &pod, logs, &mut creds).await,
            Err(SourceError::NotFound(_)) => continue,
            Err(e) => {
                if let SourceError::Forbidden(r) = &e {
                    ctx.note_missing(r.clone());
                }
                creds.read_error = Some(e.to_string());
            }
        }
        out.push(creds);
    }
    let note = note(&out);
    if out.iter().all(nothing_learnt) && !ctx.missing_rules().is_empty() {
        return Ok(StepEnd::Forbidden(out, note));
    }
    Ok(StepEnd::Done(out, Some(note)))
}

async fn pod_credentials(
    cx: &Context,
    ctx: &StepCtx,
    ns: &str,
    name: &str,
    pod: &Pod,
    logs: &[PodLogs],
    creds: &mut PodCredentials,
) {
    let now = cx.settings.window.to;
    let sa_name = service_account_name(pod);
    match get::<ServiceAccount>(
        cx,
        ctx,
        Perm::ns("", "serviceaccounts", "get", ns),
        ns,
        &sa_name,
    )
    .await
    {
        Ok(sa) => creds.service_account = Some(service_account_info(pod, &sa_name, Some(&sa))),
        Err(SourceError::NotFound(_)) => {
            creds.service_account = Some(service_account_info(pod, &sa_name, None));
        }
        Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
        Err(e) => creds
            .notes
            .push(format!("ServiceAccount {ns}/{sa_name}: {e}")),
    }
    let ca_pem: Option<String> = match get::<ConfigMap>(
        cx,
        ctx,
        Perm::ns("", "configmaps", "get", ns),
        ns,
        "kube-root-ca.crt",
    )
    .await
    {
        Ok(cm) => cm.data.and_then(|d| d.get("ca.crt").cloned()),
        Err(SourceError::Forbidden(r)) => {
            ctx.note_missing(r);
            None
        }
        Err(e) => {
            creds
                .notes
                .push(format!("configmap {ns}/kube-root-ca.crt: {e}"));
            None
        }
    };
    creds.cluster_ca = ca_pem.as_deref().and_then(cluster_ca);
    let mut raw_tokens = Vec::new();
    for secret_name in secret_names(pod) {
        match get::<Secret>(
            cx,
            ctx,
            Perm::ns("", "secrets", "get", ns),
            ns,
            &secret_name,
        )
        .await
        {
            Ok(secret) => raw_tokens.extend(inspect_secret(
                ns,
                &secret_name,
                secret,
                ca_pem.as_deref(),
                now,
                creds,
            )),
            Err(SourceError::Forbidden(r)) => {
                ctx.note_missing(r);
                creds
                    .notes
                    .push(format!("secret {ns}/{secret_name}: forbidden, not checked"));
            }
            Err(e) => creds.notes.push(format!("secret {ns}/{secret_name}: {e}")),
        }
    }
    // TokenReview of the tokens found: does the API server accept them now?
    for raw in raw_tokens {
        let (source, token) = raw.expose();
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: Some(token),
                audiences: None,
            },
            ..Default::default()
        };
        let result = cx
            .kube
            .call(
                ctx,
                Perm::cluster("authentication.k8s.io", "tokenreviews", "create"),
                |client| {
                    let review = review.clone();
                    async move {
                        Api::<TokenReview>::all(client)
                            .create(&PostParams::default(), &review)
                            .await
                    }
                },
            )
            .await;
        match result {
            Ok(r) => creds
                .token_reviews
                .push(token_review_result(source, r.status)),
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => creds.notes.push(format!("TokenReview of {source}: {e}")),
        }
    }
    // SubjectAccessReview of the denials the logs named about this pod's own identities; a
    // denial naming anyone else is a log line's claim, noted and never acted on.
    let identities = pod_identities(ns, &sa_name, creds);
    let (own, foreign) = denials_to_review(logs, ns, name, &identities);
    for d in &foreign {
        creds.notes.push(format!(
            "its log names a denial for {}, which is not this pod's identity: not reviewed",
            kube_doctor_core::escape::one_line(&d.user, 200)
        ));
    }
    for d in own {
        match access_review(cx, ctx, &d).await {
            Ok(r) => creds.access_reviews.push(r),
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => creds
                .notes
                .push(format!("SubjectAccessReview for {}: {e}", d.user)),
        }
    }
    // The Roles where a denial still holds: one of them may grant it already.
    let still_denied: std::collections::BTreeSet<String> = creds
        .access_reviews
        .iter()
        .filter(|r| !r.allowed && r.denial.path.is_none())
        .filter_map(|r| r.denial.namespace.clone())
        .collect();
    for ns in still_denied {
        let ns2 = ns.clone();
        match cx
            .kube
            .call(
                ctx,
                Perm::ns("rbac.authorization.k8s.io", "roles", "list", &ns),
                |client| {
                    let ns = ns2.clone();
                    async move {
                        Api::<Role>::namespaced(client, &ns)
                            .list(&ListParams::default().limit(MAX_ROLES as u32))
                            .await
                    }
                },
            )
            .await
        {
            Ok(list) => creds.roles.extend(
                list.items
                    .iter()
                    .take(MAX_ROLES)
                    .map(|r| role_rules(&ns, r)),
            ),
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => creds.notes.push(format!("Roles in {ns}: {e}")),
        }
    }
}

/// A Role's name and rules (nothing else of it is kept).
fn role_rules(ns: &str, r: &Role) -> RoleRules {
    RoleRules {
        namespace: ns.to_string(),
        name: r.metadata.name.clone().unwrap_or_default(),
        rules: r
            .rules
            .iter()
            .flatten()
            .map(|p| PolicyRuleSummary {
                api_groups: p.api_groups.clone().unwrap_or_default(),
                resources: p.resources.clone().unwrap_or_default(),
                verbs: p.verbs.clone(),
                resource_names: p.resource_names.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

async fn get<K>(
    cx: &Context,
    ctx: &StepCtx,
    perm: Perm,
    ns: &str,
    name: &str,
) -> Result<K, SourceError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let (ns, name) = (ns.to_string(), name.to_string());
    cx.kube
        .call(ctx, perm, |client| {
            let (ns, name) = (ns.clone(), name.clone());
            async move { Api::<K>::namespaced(client, &ns).get(&name).await }
        })
        .await
}

async fn access_review(
    cx: &Context,
    ctx: &StepCtx,
    d: &AuthzDenial,
) -> Result<AccessReviewResult, SourceError> {
    let review = SubjectAccessReview {
        spec: access_review_spec(d),
        ..Default::default()
    };
    let r = cx
        .kube
        .call(
            ctx,
            Perm::cluster("authorization.k8s.io", "subjectaccessreviews", "create"),
            |client| {
                let review = review.clone();
                async move {
                    Api::<SubjectAccessReview>::all(client)
                        .create(&PostParams::default(), &review)
                        .await
                }
            },
        )
        .await?;
    Ok(access_review_result(d, r.status))
}
