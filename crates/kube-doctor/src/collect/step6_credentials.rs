//! Playbook step 6: who each failing client is and whether its credentials hold. The pod's
//! ServiceAccount (exists? uid? re-created recently?); the Secrets the pod mounts or reads
//! (read one by one, by name - never listed): certificates become x509 metadata checked against
//! the cluster CA from `kube-root-ca.crt`, tokens become JWT claims compared with the
//! ServiceAccount's uid, kubeconfigs give both; TokenReview of those tokens and
//! SubjectAccessReview of the RBAC denials step 5 read, where permitted.
//!
//! Secret data is read into memory here, turned into metadata and dropped. It is never stored,
//! printed or logged: only `CertMetadata`, `TokenClaims` and review results leave this file.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use kube_doctor_core::apf::default_groups;
use kube_doctor_core::bundle::{
    AccessReviewResult, CertEvidence, ClientRates, ObjectRef, PodCredentials, PodLogs,
    ServiceAccountInfo, TokenEvidence, TokenReviewResult,
};
use kube_doctor_core::classify::AuthzDenial;
use kube_doctor_core::credentials::{certificates_from_pem, kubeconfig_credentials, token_claims};

use super::{Collector, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Secrets read per pod at most.
const MAX_SECRETS: usize = 5;
/// SubjectAccessReviews per pod at most.
const MAX_REVIEWS: usize = 5;

pub async fn collect(
    c: &Collector,
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
    let now = c.window.to;
    let mut out = Vec::new();
    for (ns, name) in &pods {
        let pod = match get::<Pod>(c, &ctx, Perm::ns("", "pods", "get", ns), ns, name).await {
            Ok(p) => p,
            Err(SourceError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut creds = PodCredentials {
            pod: ObjectRef::namespaced("Pod", ns, name),
            service_account: None,
            tokens: Vec::new(),
            certificates: Vec::new(),
            cluster_ca: None,
            token_reviews: Vec::new(),
            access_reviews: Vec::new(),
            notes: Vec::new(),
        };
        let spec = pod.spec.clone().unwrap_or_default();
        let sa_name = spec
            .service_account_name
            .clone()
            .unwrap_or_else(|| "default".to_string());
        match get::<ServiceAccount>(
            c,
            &ctx,
            Perm::ns("", "serviceaccounts", "get", ns),
            ns,
            &sa_name,
        )
        .await
        {
            Ok(sa) => {
                creds.service_account = Some(ServiceAccountInfo {
                    name: sa_name.clone(),
                    exists: true,
                    uid: sa.metadata.uid.clone(),
                    created_at: sa.metadata.creation_timestamp.as_ref().map(|t| t.0),
                    automount: spec
                        .automount_service_account_token
                        .or(sa.automount_service_account_token),
                });
            }
            Err(SourceError::NotFound(_)) => {
                creds.service_account = Some(ServiceAccountInfo {
                    name: sa_name.clone(),
                    exists: false,
                    uid: None,
                    created_at: None,
                    automount: spec.automount_service_account_token,
                });
            }
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => creds
                .notes
                .push(format!("ServiceAccount {ns}/{sa_name}: {e}")),
        }
        let ca_pem: Option<String> = match get::<ConfigMap>(
            c,
            &ctx,
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
            Err(_) => None,
        };
        if let Some(pem) = &ca_pem {
            creds.cluster_ca = certificates_from_pem(pem.as_bytes(), None)
                .ok()
                .and_then(|v| v.into_iter().next());
        }
        let sa_uid = creds.service_account.as_ref().and_then(|s| s.uid.clone());
        let mut raw_tokens: Vec<(String, String)> = Vec::new();
        for secret_name in secret_names(&pod).into_iter().take(MAX_SECRETS) {
            let secret = match get::<Secret>(
                c,
                &ctx,
                Perm::ns("", "secrets", "get", ns),
                ns,
                &secret_name,
            )
            .await
            {
                Ok(s) => s,
                Err(SourceError::Forbidden(r)) => {
                    ctx.note_missing(r);
                    creds
                        .notes
                        .push(format!("secret {ns}/{secret_name}: forbidden, not checked"));
                    continue;
                }
                Err(e) => {
                    creds.notes.push(format!("secret {ns}/{secret_name}: {e}"));
                    continue;
                }
            };
            inspect_secret(
                ns,
                &secret_name,
                secret,
                ca_pem.as_deref(),
                sa_uid.as_deref(),
                now,
                &mut creds,
                &mut raw_tokens,
            );
        }
        // TokenReview of the tokens found: does the API server accept them now?
        for (source, token) in raw_tokens {
            let review = TokenReview {
                spec: TokenReviewSpec {
                    token: Some(token),
                    audiences: None,
                },
                ..Default::default()
            };
            let result = c
                .kube
                .call(
                    &ctx,
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
                Ok(r) => {
                    let st = r.status.unwrap_or_default();
                    creds.token_reviews.push(TokenReviewResult {
                        source,
                        authenticated: st.authenticated.unwrap_or(false),
                        user: st.user.and_then(|u| u.username),
                        error: st.error,
                    });
                }
                Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
                Err(e) => creds.notes.push(format!("TokenReview of {source}: {e}")),
            }
        }
        // SubjectAccessReview of the denials the logs named.
        let denials: BTreeSet<AuthzDenial> = logs
            .iter()
            .filter(|l| l.pod.namespace.as_deref() == Some(ns.as_str()) && l.pod.name == *name)
            .flat_map(|l| &l.containers)
            .flat_map(|c| c.authz_denials.iter().map(|d| d.denial.clone()))
            .collect();
        for d in denials.into_iter().take(MAX_REVIEWS) {
            match access_review(c, &ctx, &d).await {
                Ok(r) => creds.access_reviews.push(r),
                Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
                Err(e) => creds
                    .notes
                    .push(format!("SubjectAccessReview for {}: {e}", d.user)),
            }
        }
        out.push(creds);
    }
    let note = format!(
        "{} pods; {} certificates, {} tokens, {} access reviews",
        out.len(),
        out.iter().map(|c| c.certificates.len()).sum::<usize>(),
        out.iter().map(|c| c.tokens.len()).sum::<usize>(),
        out.iter().map(|c| c.access_reviews.len()).sum::<usize>()
    );
    let nothing = out.iter().all(|c| {
        c.service_account.is_none()
            && c.tokens.is_empty()
            && c.certificates.is_empty()
            && c.cluster_ca.is_none()
            && c.token_reviews.is_empty()
            && c.access_reviews.is_empty()
    });
    if nothing && !ctx.missing_rules().is_empty() {
        return Ok(StepEnd::Forbidden(out, note));
    }
    Ok(StepEnd::Done(out, Some(note)))
}

async fn get<K>(
    c: &Collector,
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
    c.kube
        .call(ctx, perm, |client| {
            let (ns, name) = (ns.clone(), name.clone());
            async move { Api::<K>::namespaced(client, &ns).get(&name).await }
        })
        .await
}

/// Secrets the pod mounts or reads: volumes, projected sources, env and envFrom.
fn secret_names(pod: &Pod) -> Vec<String> {
    let mut names = BTreeSet::new();
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    for v in spec.volumes.iter().flatten() {
        if let Some(s) = v.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            names.insert(s);
        }
        for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(s) = &src.secret {
                names.insert(s.name.clone());
            }
        }
    }
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        for e in c.env.iter().flatten() {
            if let Some(r) = e
                .value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
            {
                names.insert(r.name.clone());
            }
        }
        for e in c.env_from.iter().flatten() {
            if let Some(r) = &e.secret_ref {
                names.insert(r.name.clone());
            }
        }
    }
    names.into_iter().collect()
}

/// Turns one Secret into evidence. The data is borrowed here and dropped with `secret`.
#[allow(clippy::too_many_arguments)]
fn inspect_secret(
    ns: &str,
    name: &str,
    secret: Secret,
    ca_pem: Option<&str>,
    sa_uid: Option<&str>,
    now: jiff::Timestamp,
    creds: &mut PodCredentials,
    raw_tokens: &mut Vec<(String, String)>,
) {
    let data = secret.data.unwrap_or_default();
    for (key, value) in &data {
        let source = format!("secret/{ns}/{name}:{key}");
        let bytes = &value.0;
        let text = std::str::from_utf8(bytes).ok();
        let looks_pem = text.is_some_and(|t| t.contains("-----BEGIN CERTIFICATE-----"));
        let looks_kubeconfig =
            text.is_some_and(|t| t.contains("clusters:") && t.contains("users:"));
        // Legacy ServiceAccount token Secrets and hand-made ones both keep it under "token".
        let looks_token = key == "token";
        if key.ends_with(".key") || key.contains("private") {
            creds
                .notes
                .push(format!("{source}: a private key (not read)"));
        } else if looks_pem {
            match certificates_from_pem(bytes, ca_pem.map(str::as_bytes)) {
                Ok(certs) => {
                    for cert in certs {
                        creds.certificates.push(cert_evidence(&source, cert, now));
                    }
                }
                Err(e) => creds.notes.push(format!("{source}: {e}")),
            }
        } else if looks_kubeconfig {
            match kubeconfig_credentials(text.unwrap_or_default(), ca_pem.map(str::as_bytes)) {
                Ok(kc) => {
                    for (user, cert) in kc.certificates {
                        creds.certificates.push(cert_evidence(
                            &format!("{source} (user {user})"),
                            cert,
                            now,
                        ));
                    }
                    for (user, claims) in kc.tokens {
                        creds.tokens.push(token_evidence(
                            &format!("{source} (user {user})"),
                            claims,
                            sa_uid,
                            now,
                        ));
                    }
                    for (user, token) in kc.raw_tokens {
                        raw_tokens.push((format!("{source} (user {user})"), token));
                    }
                    for user in kc.external {
                        creds.notes.push(format!("{source}: user {user} reads its credentials from files outside the Secret"));
                    }
                }
                Err(e) => creds.notes.push(format!("{source}: {e}")),
            }
        } else if looks_token {
            match text.map(token_claims) {
                Some(Ok(claims)) => {
                    creds
                        .tokens
                        .push(token_evidence(&source, claims, sa_uid, now));
                    raw_tokens.push((source.clone(), text.unwrap_or_default().trim().to_string()));
                }
                _ => creds
                    .notes
                    .push(format!("{source}: a token that is not a JWT")),
            }
        } else {
            creds.notes.push(format!(
                "{source}: not a certificate, token or kubeconfig (not read further)"
            ));
        }
    }
}

fn cert_evidence(
    source: &str,
    cert: kube_doctor_core::bundle::CertMetadata,
    now: jiff::Timestamp,
) -> CertEvidence {
    CertEvidence {
        source: source.to_string(),
        expired: cert.not_after < now,
        not_yet_valid: cert.not_before > now,
        cert,
    }
}

fn token_evidence(
    source: &str,
    claims: kube_doctor_core::bundle::TokenClaims,
    sa_uid: Option<&str>,
    now: jiff::Timestamp,
) -> TokenEvidence {
    let matches = match (claims.service_account_uid.as_deref(), sa_uid) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    TokenEvidence {
        source: source.to_string(),
        expired: claims.expires_at.is_some_and(|e| e < now),
        service_account_uid_matches: matches,
        claims,
    }
}

async fn access_review(
    c: &Collector,
    ctx: &StepCtx,
    d: &AuthzDenial,
) -> Result<AccessReviewResult, SourceError> {
    let groups = default_groups(&d.user);
    let spec = SubjectAccessReviewSpec {
        user: Some(d.user.clone()),
        groups: Some(groups),
        resource_attributes: d.path.is_none().then(|| ResourceAttributes {
            verb: Some(d.verb.clone()),
            group: d.api_group.clone(),
            resource: Some(d.resource.clone()),
            subresource: d.subresource.clone(),
            namespace: d.namespace.clone(),
            ..Default::default()
        }),
        non_resource_attributes: d.path.as_ref().map(|p| NonResourceAttributes {
            path: Some(p.clone()),
            verb: Some(d.verb.clone()),
        }),
        ..Default::default()
    };
    let review = SubjectAccessReview {
        spec,
        ..Default::default()
    };
    let r = c
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
    let st = r.status.unwrap_or_default();
    Ok(AccessReviewResult {
        denial: d.clone(),
        allowed: st.allowed,
        denied: st.denied.unwrap_or(false),
        reason: st.reason.filter(|s| !s.is_empty()),
        evaluation_error: st.evaluation_error.filter(|s| !s.is_empty()),
    })
}
