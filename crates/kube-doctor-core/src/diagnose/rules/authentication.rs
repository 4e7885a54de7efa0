//! Diagnosis rule 3a: authentication. Expired or not-yet-valid certificates (the client's, or
//! the API server's serving certificate), certificates from another CA, expired or invalid
//! tokens, a token issued for a ServiceAccount uid that no longer exists (the account was
//! re-created), with 401 or x509 lines within the auth window (default 2 min) of the onset ->
//! `authentication`. Remediation names the certificate or token, its validity, and how to
//! rotate it. A 403 for `system:anonymous` (or `system:unauthenticated`) is authentication
//! too: the client presents no credentials, or none the API server accepts - never a reason
//! to grant anything.

use crate::bundle::{CertMetadata, PodCredentials};
use crate::category::Category;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Evidence, Verdict};

use super::{KUBE_DOCTOR, own_unanswered, serving_cert_trouble};

pub struct Authentication;

fn cert_line(c: &CertMetadata) -> String {
    format!(
        "subject {}, issuer {}, valid {} to {}",
        c.subject,
        c.issuer,
        fmt_time(c.not_before),
        fmt_time(c.not_after)
    )
}

/// The denials for `system:anonymous` or `system:unauthenticated` in an incident's logs:
/// (user, lines, first line's time).
fn anonymous_denials(
    b: &crate::bundle::Bundle,
    inc: &crate::diagnose::Incident,
) -> Vec<(String, u64, Option<jiff::Timestamp>)> {
    let Some(p) = &inc.pod else {
        return Vec::new();
    };
    b.logs
        .iter()
        .filter(|l| &l.pod == p)
        .flat_map(|l| &l.containers)
        .flat_map(|c| &c.authz_denials)
        .filter(|d| {
            matches!(
                d.denial.user.as_str(),
                "system:anonymous" | "system:unauthenticated"
            )
        })
        .map(|d| (d.denial.user.clone(), d.count, d.first_at))
        .collect()
}

impl Rule for Authentication {
    fn name(&self) -> &'static str {
        "authentication"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        // An expired serving certificate fails every client's handshake at once.
        let serving_trouble = serving_cert_trouble(b);
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            let lines_401 = inc.log_count(Category::Authentication);
            let lines_tls = inc.log_count(Category::TlsCertificate);
            let code_401 = inc.code("401");
            let no_answer = inc.code("<error>") > 0.0;
            let serving = !serving_trouble.is_empty() && (lines_tls > 0 || no_answer);
            let anonymous = anonymous_denials(b, inc);
            if lines_401 == 0
                && lines_tls == 0
                && code_401 == 0.0
                && !serving
                && anonymous.is_empty()
            {
                continue;
            }
            let mut evidence: Vec<Evidence> = inc.evidence.clone();
            evidence.extend(ctx.events_near(inc, &[EventTopic::Authentication], ctx.windows.auth));
            let mut remediation = Vec::new();
            let mut findings = Vec::new();
            let mut credential_evidence = false;
            for (cat, what) in [
                (Category::Authentication, "401 Unauthorized"),
                (Category::TlsCertificate, "x509/TLS"),
            ] {
                if inc.log_count(cat) > 0 {
                    evidence.push(ev(
                        5,
                        inc.pod
                            .as_ref()
                            .map_or(inc.client.clone(), |p| p.to_string()),
                        inc.log_first(cat),
                        format!(
                            "{} {what} lines, first at {}: {}",
                            inc.log_count(cat),
                            inc.log_first(cat).map_or("?".to_string(), fmt_time),
                            inc.sample(cat).unwrap_or_default()
                        ),
                    ));
                }
            }
            let near = Context::near(
                inc.onset,
                inc.log_first(Category::Authentication)
                    .or(inc.log_first(Category::TlsCertificate)),
                ctx.windows.auth,
            ) || inc.onset.is_some() && code_401 > 0.0;
            let creds: Option<&PodCredentials> = inc
                .pod
                .as_ref()
                .and_then(|p| b.credentials.iter().find(|c| &c.pod == p));
            if let Some(c) = creds {
                for e in &c.certificates {
                    if e.cert.is_ca {
                        continue;
                    }
                    let cn = e.cert.common_name.clone().unwrap_or_default();
                    if e.expired || e.not_yet_valid {
                        credential_evidence = true;
                        let state = if e.expired {
                            "expired"
                        } else {
                            "not yet valid"
                        };
                        findings.push(format!(
                            "its client certificate for {cn} is {state} (valid {} to {})",
                            fmt_time(e.cert.not_before),
                            fmt_time(e.cert.not_after)
                        ));
                        evidence.push(ev(
                            6,
                            e.source.clone(),
                            Some(if e.expired {
                                e.cert.not_after
                            } else {
                                e.cert.not_before
                            }),
                            format!("client certificate {state}: {}", cert_line(&e.cert)),
                        ));
                        remediation.push(format!(
                            "issue a new client certificate for CN={cn}{} (the current one is {state}: valid until {}), put it in {} and restart the client so it loads it; check the clocks if it is not yet valid",
                            if e.cert.organizations.is_empty() { String::new() } else { format!(", O={}", e.cert.organizations.join(",")) },
                            fmt_time(e.cert.not_after),
                            e.source
                        ));
                    } else if e.cert.chains_to_cluster_ca == Some(false) {
                        credential_evidence = true;
                        findings.push(format!(
                            "its client certificate for {cn} is not signed by the cluster CA"
                        ));
                        evidence.push(ev(
                            6,
                            e.source.clone(),
                            None,
                            format!(
                                "client certificate does not chain to the cluster CA: {}",
                                cert_line(&e.cert)
                            ),
                        ));
                        remediation.push(format!("re-issue the client certificate for CN={cn} from the cluster's CA (the one in kube-root-ca.crt) and update {}", e.source));
                    }
                }
                let sa = c.service_account.as_ref();
                for t in &c.tokens {
                    if t.expired {
                        credential_evidence = true;
                        findings.push(format!(
                            "its token expired at {}",
                            t.claims.expires_at.map_or("?".to_string(), fmt_time)
                        ));
                        evidence.push(ev(
                            6,
                            t.source.clone(),
                            t.claims.expires_at,
                            format!(
                                "token for {} expired",
                                t.claims.subject.clone().unwrap_or_default()
                            ),
                        ));
                        remediation.push(format!("restart the pod so the kubelet projects a fresh token (a projected ServiceAccount token is renewed on its own); a token copied into {} must be replaced: mint one for {} with kubectl create token, which lasts 1 h unless --duration asks for longer (the API server caps it)", t.source, t.claims.subject.clone().unwrap_or_default()));
                    }
                    if t.service_account_uid_matches == Some(false) {
                        credential_evidence = true;
                        let sa_name = sa.map_or("?".to_string(), |s| s.name.clone());
                        let recreated = sa.and_then(|s| s.created_at);
                        findings.push(format!(
                            "its token was issued for ServiceAccount {sa_name} uid {}, but that account now has uid {} (re-created {})",
                            t.claims.service_account_uid.clone().unwrap_or_default(),
                            sa.and_then(|s| s.uid.clone()).unwrap_or_default(),
                            recreated.map_or("?".to_string(), fmt_time)
                        ));
                        evidence.push(ev(6, format!("serviceaccount/{}/{sa_name}", c.pod.namespace.clone().unwrap_or_default()), recreated, "the ServiceAccount was deleted and re-created: tokens bound to the old uid are invalid".to_string()));
                        evidence.push(ev(
                            6,
                            t.source.clone(),
                            t.claims.issued_at,
                            format!(
                                "token bound to ServiceAccount uid {}",
                                t.claims.service_account_uid.clone().unwrap_or_default()
                            ),
                        ));
                        remediation.push(format!(
                            "restart the pod so the kubelet projects a token bound to the re-created ServiceAccount {sa_name}; a token copied into {1} must be replaced: kubectl -n {0} create token {sa_name} mints one that lasts 1 h unless --duration asks for longer (the API server caps it)",
                            c.pod.namespace.clone().unwrap_or_default(),
                            t.source
                        ));
                    }
                }
                if let Some(s) = sa.filter(|s| !s.exists) {
                    credential_evidence = true;
                    findings.push(format!("its ServiceAccount {} no longer exists", s.name));
                    evidence.push(ev(
                        6,
                        format!(
                            "serviceaccount/{}/{}",
                            c.pod.namespace.clone().unwrap_or_default(),
                            s.name
                        ),
                        None,
                        "ServiceAccount missing".to_string(),
                    ));
                    remediation.push(format!("re-create ServiceAccount {} (and its RoleBindings), then give the client a new token", s.name));
                }
                for r in c.token_reviews.iter().filter(|r| !r.authenticated) {
                    credential_evidence = true;
                    evidence.push(ev(
                        6,
                        r.source.clone(),
                        Some(ctx.now),
                        format!(
                            "TokenReview: the API server rejects this token ({})",
                            r.error
                                .clone()
                                .unwrap_or_else(|| "not authenticated".to_string())
                        ),
                    ));
                }
            }
            if !anonymous.is_empty() {
                credential_evidence = true;
                let n: u64 = anonymous.iter().map(|(_, n, _)| n).sum();
                let first = anonymous.iter().filter_map(|(_, _, f)| *f).min();
                let who = anonymous[0].0.clone();
                evidence.push(ev(
                    5,
                    inc.pod.as_ref().map_or(inc.client.clone(), |p| p.to_string()),
                    first,
                    format!("{n} lines: its requests are denied as {who}: the API server sees no credentials"),
                ));
                findings.push(format!(
                    "its requests arrive as {who}: it presents no credentials, or none the API server accepts"
                ));
                remediation.push(format!(
                    "the client sends no usable credentials (denied as {who}): check that its ServiceAccount token is mounted (automountServiceAccountToken, the projected volume), that its kubeconfig names a user with a token or certificate, and its client library version (a known cause: a library that stops sending the token after a refresh); do not grant anything to {who}"
                ));
            }
            if serving {
                evidence.extend(serving_trouble.iter().cloned());
                if let Some(c) = b.network.iter().flat_map(|p| &p.probes).find_map(|p| {
                    p.serving_cert
                        .as_ref()
                        .filter(|c| c.not_after < ctx.now || c.not_before > ctx.now)
                }) {
                    findings.push(format!(
                        "the API server's serving certificate is {} (valid {} to {}), so TLS verification fails",
                        if c.not_after < ctx.now { "expired" } else { "not yet valid" },
                        fmt_time(c.not_before),
                        fmt_time(c.not_after)
                    ));
                    remediation.push(format!(
                        "renew the API server's serving certificate (for example kubeadm certs renew apiserver) for {} and restart the API server; every client rejects it until then",
                        if c.dns_names.is_empty() { c.subject.clone() } else { c.dns_names.join(", ") }
                    ));
                } else {
                    findings.push("TLS verification of the API server fails (kube-doctor's own requests fail the same way)".to_string());
                    remediation.push("check the API server's serving certificate (openssl s_client -connect HOST:PORT | openssl x509 -noout -dates -subject) and the CA bundle clients use".to_string());
                }
            }
            if !credential_evidence && !serving && !near {
                continue;
            }
            let mut confidence: f64 = 0.5;
            if credential_evidence || serving {
                confidence += 0.35;
            }
            if near {
                confidence += 0.1;
            }
            if remediation.is_empty() {
                remediation.push("the API server rejects the client's credentials: check which user it authenticates as (kubectl auth whoami with its kubeconfig), whether its token or certificate expired, and the API server's log for the authentication error".to_string());
            }
            let summary = if findings.is_empty() {
                format!(
                    "{} gets 401/x509 errors since {}, but its credentials could not be read to say why.",
                    inc.client,
                    inc.onset.map_or("before the window".to_string(), fmt_time)
                )
            } else {
                // Only the server's certificate is wrong: the client rejects the server, the
                // server does not reject the client.
                let what = if serving && !credential_evidence {
                    "cannot verify the API server"
                } else {
                    "fails to authenticate"
                };
                format!(
                    "{} {what} since {}: {}.",
                    inc.client,
                    inc.onset.map_or("before the window".to_string(), fmt_time),
                    findings.join("; ")
                )
            };
            out.push(Verdict {
                cause: Cause::Authentication,
                confidence: confidence.min(0.97),
                summary,
                evidence,
                remediation,
                clients: vec![inc.client.clone()],
            });
        }
        // kube-doctor's own TLS handshakes fail and no client's rates say more.
        if ctx.incidents.iter().all(|i| i.noise) {
            let own: Vec<_> = own_unanswered(b)
                .into_iter()
                .filter(|(_, c)| *c == Category::TlsCertificate)
                .map(|(e, _)| e)
                .collect();
            if !own.is_empty() {
                let mut evidence = own;
                evidence.extend(serving_trouble.iter().cloned());
                out.push(Verdict {
                    cause: Cause::Authentication,
                    confidence: 0.75,
                    summary: format!(
                        "kube-doctor itself cannot verify the API server at {}: its TLS handshakes fail, so no client's error rates could be weighed against it.",
                        crate::escape::one_line(&b.cluster.server, 200)
                    ),
                    evidence,
                    remediation: vec![
                        "check the API server's serving certificate (openssl s_client -connect HOST:PORT | openssl x509 -noout -dates -subject -ext subjectAltName) and the CA in the kubeconfig used".to_string(),
                    ],
                    clients: vec![KUBE_DOCTOR.to_string()],
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{bundle, evaluate, named};

    /// An expired serving certificate: the client rejects the server (not "fails to
    /// authenticate"), and kube-doctor's five steps that failed with the same TLS error are one
    /// evidence line naming the five steps, not the same text five times.
    #[test]
    fn an_expired_serving_certificate_reads_as_the_server_rejected_once() {
        let v = evaluate(&Authentication, &bundle("apiserver-cert-expired"));
        assert!(
            v[0].summary.contains("cannot verify the API server since"),
            "{}",
            v[0].summary
        );
        let own: Vec<_> = v[0]
            .evidence
            .iter()
            .filter(|e| e.reference.starts_with("kube-doctor step"))
            .collect();
        assert_eq!(own.len(), 1, "{own:?}");
        assert!(
            own[0]
                .reference
                .starts_with("kube-doctor steps 1 (API server pods), 2 (Events), "),
            "{}",
            own[0].reference
        );
        assert_eq!(own[0].step, 1);
        // A client whose own credentials fail still "fails to authenticate".
        let v = evaluate(&Authentication, &bundle("expired-client-cert"));
        assert!(
            v[0].summary.contains("fails to authenticate"),
            "{}",
            v[0].summary
        );
    }

    #[test]
    fn expired_certificates_and_invalidated_tokens_are_authentication() {
        for (fault, client) in [
            ("expired-client-cert", "demo-clients/127.0.1.1:18081"),
            ("token-invalid", "demo-clients/127.0.1.2:18083"),
            ("apiserver-cert-expired", "demo-clients/127.0.1.2:18083"),
        ] {
            let v = evaluate(&Authentication, &bundle(fault));
            assert_eq!(
                named(&v),
                vec![(Cause::Authentication, vec![client.to_string()])],
                "{fault}"
            );
            assert!(v[0].confidence >= 0.7, "{fault}: {}", v[0].confidence);
        }
    }

    #[test]
    fn a_client_denied_as_anonymous_fails_to_authenticate() {
        let mut b = bundle("rbac-revoked");
        for d in &mut b.logs[0].containers[0].authz_denials {
            d.denial.user = "system:anonymous".into();
        }
        let v = evaluate(&Authentication, &b);
        assert_eq!(v.len(), 1);
        assert!(v[0].summary.contains("no credentials"), "{}", v[0].summary);
        assert!(
            v[0].remediation
                .iter()
                .any(|r| r.contains("do not grant anything to system:anonymous"))
        );
        // ... and authorization grants nothing to it.
        let a = evaluate(&super::super::authorization::Authorization, &b);
        assert!(
            a.iter()
                .all(|v| !v.remediation.join(" ").contains("kind: RoleBinding")),
            "{a:?}"
        );
    }

    #[test]
    fn no_credential_trouble_no_verdict() {
        for fault in ["healthy", "rbac-revoked", "apf-throttle", "quota-exceeded"] {
            assert!(
                evaluate(&Authentication, &bundle(fault)).is_empty(),
                "{fault}"
            );
        }
    }
}
