//! Playbook step 6, pure half: who a client pod is and whether its credentials hold. Which
//! Secrets a pod mounts or reads; a Secret's data turned into certificate metadata, token
//! claims and kubeconfig credentials (the data is borrowed and dropped, never stored); the
//! ServiceAccount as it is now; and the TokenReview and SubjectAccessReview asked and
//! answered.
//!
//! Raw tokens leave this module only as [`RawToken`]s for a TokenReview: a type that cannot be
//! printed, serialized or cloned, so no code path can store one by accident.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::authentication::v1::TokenReviewStatus;
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReviewSpec, SubjectAccessReviewStatus,
};
use k8s_openapi::api::core::v1::{Pod, Secret, ServiceAccount};

use crate::apf::default_groups;
use crate::bundle::{
    AccessReviewResult, CertEvidence, CertMetadata, ClientRates, PodCredentials,
    ServiceAccountInfo, TokenClaims, TokenEvidence, TokenReviewResult,
};
use crate::classify::AuthzDenial;
use crate::credentials::{certificates_from_pem, kubeconfig_credentials, token_claims};

/// Secrets read per pod at most.
pub const MAX_SECRETS: usize = 5;
/// SubjectAccessReviews per pod at most.
pub const MAX_REVIEWS: usize = 5;

/// A token found in a Secret, held only to ask a TokenReview about it. Not `Debug`,
/// `Clone` or `Serialize`: it can be handed to a review and dropped, nothing else.
pub struct RawToken {
    /// Where it was found (`secret/ns/name:key`).
    pub source: String,
    token: String,
}

impl RawToken {
    /// The token, to put in a TokenReview's spec.
    pub fn expose(self) -> (String, String) {
        (self.source, self.token)
    }
}

/// Secrets the pod mounts or reads: volumes, projected sources, env and envFrom, in name
/// order, at most [`MAX_SECRETS`].
pub fn secret_names(pod: &Pod) -> Vec<String> {
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
    names.into_iter().take(MAX_SECRETS).collect()
}

/// The pod's ServiceAccount name (`default` when unset).
pub fn service_account_name(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".to_string())
}

/// The ServiceAccount as it is now, or as missing (`sa` is `None` when it was not found).
pub fn service_account_info(
    pod: &Pod,
    name: &str,
    sa: Option<&ServiceAccount>,
) -> ServiceAccountInfo {
    let pod_automount = pod
        .spec
        .as_ref()
        .and_then(|s| s.automount_service_account_token);
    ServiceAccountInfo {
        name: name.to_string(),
        exists: sa.is_some(),
        uid: sa.and_then(|s| s.metadata.uid.clone()),
        created_at: sa.and_then(|s| s.metadata.creation_timestamp.as_ref().map(|t| t.0)),
        automount: pod_automount.or(sa.and_then(|s| s.automount_service_account_token)),
    }
}

/// The cluster CA from `kube-root-ca.crt`'s `ca.crt`, as metadata.
pub fn cluster_ca(pem: &str) -> Option<CertMetadata> {
    certificates_from_pem(pem.as_bytes(), None)
        .ok()
        .and_then(|v| v.into_iter().next())
}

/// Turns one Secret into evidence on `creds` and the tokens worth a TokenReview. The data is
/// borrowed here and dropped with `secret`; private keys are not read at all.
pub fn inspect_secret(
    ns: &str,
    name: &str,
    secret: Secret,
    ca_pem: Option<&str>,
    now: Timestamp,
    creds: &mut PodCredentials,
) -> Vec<RawToken> {
    let sa_uid = creds.service_account.as_ref().and_then(|s| s.uid.clone());
    let sa_uid = sa_uid.as_deref();
    let mut raw = Vec::new();
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
                        raw.push(RawToken {
                            source: format!("{source} (user {user})"),
                            token,
                        });
                    }
                    for user in kc.external {
                        creds.notes.push(format!(
                            "{source}: user {user} reads its credentials from files outside the Secret"
                        ));
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
                    raw.push(RawToken {
                        source: source.clone(),
                        token: text.unwrap_or_default().trim().to_string(),
                    });
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
    raw
}

fn cert_evidence(source: &str, cert: CertMetadata, now: Timestamp) -> CertEvidence {
    CertEvidence {
        source: source.to_string(),
        expired: cert.not_after < now,
        not_yet_valid: cert.not_before > now,
        cert,
    }
}

fn token_evidence(
    source: &str,
    claims: TokenClaims,
    sa_uid: Option<&str>,
    now: Timestamp,
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

/// A TokenReview's answer.
pub fn token_review_result(source: String, status: Option<TokenReviewStatus>) -> TokenReviewResult {
    let st = status.unwrap_or_default();
    TokenReviewResult {
        source,
        authenticated: st.authenticated.unwrap_or(false),
        user: st.user.and_then(|u| u.username),
        error: st.error,
    }
}

/// The identities a pod's requests may come as, from the cluster's own objects (never from
/// its logs): its ServiceAccount's user, and the CNs of the client certificates and the
/// subjects of the tokens found in the Secrets it mounts.
pub fn pod_identities(ns: &str, service_account: &str, creds: &PodCredentials) -> BTreeSet<String> {
    let mut ids = BTreeSet::from([format!("system:serviceaccount:{ns}:{service_account}")]);
    ids.extend(
        creds
            .certificates
            .iter()
            .filter(|c| !c.cert.is_ca)
            .filter_map(|c| c.cert.common_name.clone()),
    );
    ids.extend(creds.tokens.iter().filter_map(|t| t.claims.subject.clone()));
    ids
}

/// The identities a client's requests may come as: [`pod_identities`] of its pod (when step 6
/// read it) and the user step 3 attributed to it.
pub fn client_identities(client: &ClientRates, creds: &[PodCredentials]) -> BTreeSet<String> {
    identities(&client.target, client.user.as_deref(), creds)
}

/// [`client_identities`] from a client's target and attributed user.
pub fn identities(
    target: &crate::bundle::Target,
    user: Option<&str>,
    creds: &[PodCredentials],
) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = user.iter().map(|u| u.to_string()).collect();
    if let crate::bundle::Target::Pod {
        namespace,
        name,
        service_account,
        ..
    } = target
    {
        let c = creds.iter().find(|c| {
            c.pod.namespace.as_deref() == Some(namespace.as_str()) && c.pod.name == *name
        });
        let sa = c
            .and_then(|c| c.service_account.as_ref().map(|s| s.name.clone()))
            .or_else(|| service_account.clone());
        if let Some(sa) = &sa {
            ids.insert(format!("system:serviceaccount:{namespace}:{sa}"));
        }
        if let (Some(c), Some(sa)) = (c, &sa) {
            ids.extend(pod_identities(namespace, sa, c));
        }
    }
    ids
}

/// The denials a pod's logs named, split into those about one of its `identities` (at most
/// [`MAX_REVIEWS`], in a stable order: worth a SubjectAccessReview) and those naming someone
/// else (a log line is evidence, not authority: never reviewed or acted on).
pub fn denials_to_review(
    logs: &[crate::bundle::PodLogs],
    ns: &str,
    name: &str,
    identities: &BTreeSet<String>,
) -> (Vec<AuthzDenial>, Vec<AuthzDenial>) {
    let all: BTreeSet<AuthzDenial> = logs
        .iter()
        .filter(|l| l.pod.namespace.as_deref() == Some(ns) && l.pod.name == name)
        .flat_map(|l| &l.containers)
        .flat_map(|c| c.authz_denials.iter().map(|d| d.denial.clone()))
        .collect();
    let (own, foreign): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|d| identities.contains(&d.user));
    (own.into_iter().take(MAX_REVIEWS).collect(), foreign)
}

/// The SubjectAccessReview that asks whether a denial still holds.
pub fn access_review_spec(d: &AuthzDenial) -> SubjectAccessReviewSpec {
    SubjectAccessReviewSpec {
        user: Some(d.user.clone()),
        groups: Some(default_groups(&d.user)),
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
    }
}

/// A SubjectAccessReview's answer.
pub fn access_review_result(
    d: &AuthzDenial,
    status: Option<SubjectAccessReviewStatus>,
) -> AccessReviewResult {
    let st = status.unwrap_or_default();
    AccessReviewResult {
        denial: d.clone(),
        allowed: st.allowed,
        denied: st.denied.unwrap_or(false),
        reason: st.reason.filter(|s| !s.is_empty()),
        evaluation_error: st.evaluation_error.filter(|s| !s.is_empty()),
    }
}

/// Whether nothing at all was learnt about a pod's credentials.
pub fn nothing_learnt(c: &PodCredentials) -> bool {
    c.service_account.is_none()
        && c.tokens.is_empty()
        && c.certificates.is_empty()
        && c.cluster_ca.is_none()
        && c.token_reviews.is_empty()
        && c.access_reviews.is_empty()
}

/// The step's note.
pub fn note(out: &[PodCredentials]) -> String {
    use super::count;
    let mut note = format!(
        "{}; {}, {}, {}",
        count(out.len(), "pod", "pods"),
        count(
            out.iter().map(|c| c.certificates.len()).sum(),
            "certificate",
            "certificates"
        ),
        count(out.iter().map(|c| c.tokens.len()).sum(), "token", "tokens"),
        count(
            out.iter().map(|c| c.access_reviews.len()).sum(),
            "access review",
            "access reviews"
        )
    );
    let unread = out.iter().filter(|c| c.read_error.is_some()).count();
    if unread > 0 {
        note.push_str(&format!(
            "; {} could not be read",
            count(unread, "pod", "pods")
        ));
    }
    note
}

/// An empty record for a pod.
pub fn empty(ns: &str, name: &str) -> PodCredentials {
    PodCredentials {
        roles: Vec::new(),
        pod: crate::bundle::ObjectRef::namespaced("Pod", ns, name),
        service_account: None,
        tokens: Vec::new(),
        certificates: Vec::new(),
        cluster_ca: None,
        token_reviews: Vec::new(),
        access_reviews: Vec::new(),
        notes: Vec::new(),
        read_error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::fixture_items;

    #[test]
    fn the_recorded_pods_name_their_secrets() {
        let pods: Vec<Pod> = fixture_items("demo-pods.json");
        let by = |n: &str| {
            pods.iter()
                .find(|p| p.metadata.name.as_deref() == Some(n))
                .unwrap()
        };
        // The client-go pod mounts its client certificate's Secret; the others their
        // kubeconfig Secrets.
        for (pod, sa) in [
            ("demo-clientgo", "clientgo"),
            ("demo-kubers", "kubers-client"),
        ] {
            let p = by(pod);
            assert!(!secret_names(p).is_empty(), "{pod} mounts a Secret");
            assert_eq!(service_account_name(p), sa);
        }
    }

    #[test]
    fn a_secret_becomes_metadata_and_a_token_to_review() {
        // A kube-root-ca-like CA is not needed for this: an unsigned-looking JWT and a note
        // for a private key.
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMiLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVtbzp4IiwiZXhwIjoxNzAwMDAwMDAwLCJrdWJlcm5ldGVzLmlvIjp7Im5hbWVzcGFjZSI6ImRlbW8iLCJzZXJ2aWNlYWNjb3VudCI6eyJuYW1lIjoieCIsInVpZCI6InUtMSJ9fX0.c2ln";
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x-token", "namespace": "demo"},
            "data": {
                "token": base64_of(jwt),
                "tls.key": base64_of("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
                "other": base64_of("hello")
            }
        }))
        .unwrap();
        let mut creds = empty("demo", "x");
        creds.service_account = Some(ServiceAccountInfo {
            name: "x".into(),
            exists: true,
            uid: Some("u-2".into()),
            created_at: None,
            automount: None,
        });
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let raw = inspect_secret("demo", "x-token", secret, None, now, &mut creds);
        assert_eq!(raw.len(), 1);
        assert_eq!(creds.tokens.len(), 1);
        let t = &creds.tokens[0];
        assert!(t.expired);
        assert_eq!(
            t.service_account_uid_matches,
            Some(false),
            "re-created ServiceAccount"
        );
        assert!(
            creds
                .notes
                .iter()
                .any(|n| n.contains("private key (not read)"))
        );
        assert!(
            creds
                .notes
                .iter()
                .any(|n| n.contains(":other: not a certificate"))
        );
        let json = serde_json::to_string(&creds).unwrap();
        assert!(!json.contains("eyJhbGci"), "no token in the evidence");
        let (source, token) = raw.into_iter().next().unwrap().expose();
        assert_eq!(source, "secret/demo/x-token:token");
        assert_eq!(token, jwt);
    }

    fn base64_of(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn only_denials_of_the_pods_own_identity_are_reviewed() {
        let deny = |user: &str| AuthzDenial {
            user: user.into(),
            verb: "list".into(),
            resource: "secrets".into(),
            subresource: None,
            api_group: None,
            namespace: None,
            path: None,
        };
        let logs = vec![crate::bundle::PodLogs {
            pod: crate::bundle::ObjectRef::namespaced("Pod", "demo", "p"),
            role: None,
            containers: vec![crate::bundle::ContainerLogs {
                container: "c".into(),
                previous: false,
                bytes_read: 0,
                truncated: false,
                lines: 2,
                error_lines: 2,
                categories: Default::default(),
                authz_denials: [
                    "system:serviceaccount:demo:app",
                    "system:serviceaccount:kube-system:attacker",
                ]
                .iter()
                .map(|u| crate::bundle::AuthzDenialCount {
                    denial: deny(u),
                    count: 1,
                    first_at: None,
                    last_at: None,
                })
                .collect(),
                fetch_error: None,
                other_hosts: Default::default(),
            }],
            read_error: None,
        }];
        let ids = pod_identities("demo", "app", &empty("demo", "p"));
        let (own, foreign) = denials_to_review(&logs, "demo", "p", &ids);
        assert_eq!(own, vec![deny("system:serviceaccount:demo:app")]);
        assert_eq!(
            foreign,
            vec![deny("system:serviceaccount:kube-system:attacker")]
        );
    }

    #[test]
    fn access_reviews_ask_for_the_denied_subject() {
        let d = AuthzDenial {
            user: "system:serviceaccount:demo:kubers-client".into(),
            verb: "list".into(),
            resource: "configmaps".into(),
            subresource: None,
            api_group: None,
            namespace: Some("demo".into()),
            path: None,
        };
        let spec = access_review_spec(&d);
        assert_eq!(spec.user.as_deref(), Some(d.user.as_str()));
        assert!(
            spec.groups
                .unwrap()
                .contains(&"system:serviceaccounts:demo".to_string())
        );
        let ra = spec.resource_attributes.unwrap();
        assert_eq!(ra.namespace.as_deref(), Some("demo"));
        assert!(spec.non_resource_attributes.is_none());
        let r = access_review_result(
            &d,
            Some(SubjectAccessReviewStatus {
                allowed: false,
                reason: Some(String::new()),
                ..Default::default()
            }),
        );
        assert!(!r.allowed && r.reason.is_none());
    }
}
