//! Diagnosis rule 3b: authorization. 403 RBAC denials in the client's log ("User X cannot VERB
//! resource R ..."), confirmed by a SubjectAccessReview when kube-doctor may ask one ->
//! `authorization`. Remediation is the Role (or ClusterRole) and binding that grants exactly
//! the denied verb on the denied resource to the denied subject.

use std::collections::BTreeSet;

use crate::category::Category;
use crate::classify::AuthzDenial;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Verdict};

pub struct Authorization;

/// The YAML that grants a denial.
pub fn grant_yaml(d: &AuthzDenial) -> String {
    let name = format!(
        "{}-{}-{}",
        d.user.rsplit(':').next().unwrap_or("client"),
        d.verb,
        d.resource.replace('.', "-")
    );
    let subject = match d
        .user
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        Some((ns, sa)) => format!("{{kind: ServiceAccount, name: {sa}, namespace: {ns}}}"),
        None => format!(
            "{{kind: User, name: \"{}\", apiGroup: rbac.authorization.k8s.io}}",
            d.user
        ),
    };
    let resource = match &d.subresource {
        Some(s) => format!("{}/{s}", d.resource),
        None => d.resource.clone(),
    };
    match (&d.namespace, &d.path) {
        (_, Some(path)) => format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\nrules:\n- nonResourceURLs: [\"{path}\"]\n  verbs: [{verb}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {name}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}}}\nsubjects: [{subject}]",
            verb = d.verb
        ),
        (Some(ns), None) => format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: {name}, namespace: {ns}}}\nrules:\n- apiGroups: [\"{group}\"]\n  resources: [\"{resource}\"]\n  verbs: [{verb}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {name}, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {name}}}\nsubjects: [{subject}]",
            group = d.api_group.clone().unwrap_or_default(),
            verb = d.verb
        ),
        (None, None) => format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\nrules:\n- apiGroups: [\"{group}\"]\n  resources: [\"{resource}\"]\n  verbs: [{verb}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {name}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}}}\nsubjects: [{subject}]",
            group = d.api_group.clone().unwrap_or_default(),
            verb = d.verb
        ),
    }
}

impl Rule for Authorization {
    fn name(&self) -> &'static str {
        "authorization"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            let lines = inc.log_count(Category::Authorization);
            // A 403 that is a quota refusal is the quota rule's.
            let quota_lines = if inc.log_mentions(Category::QuotaOrAdmission, "quota") {
                inc.log_count(Category::QuotaOrAdmission)
            } else {
                0
            };
            let code_403 = inc.code("403");
            if lines == 0 && (code_403 == 0.0 || quota_lines > 0) {
                continue;
            }
            let denials: BTreeSet<_> = inc
                .pod
                .as_ref()
                .map(|p| {
                    b.logs
                        .iter()
                        .filter(|l| &l.pod == p)
                        .flat_map(|l| &l.containers)
                        .flat_map(|c| c.authz_denials.clone())
                        .map(|d| (d.denial, d.count, d.first_at))
                        .collect()
                })
                .unwrap_or_default();
            // Bare "Forbidden" lines beside quota refusals, and no RBAC denial named: the 403s
            // are the quota's (a client printing one refusal over several lines).
            if denials.is_empty() && quota_lines > 0 {
                continue;
            }
            let mut evidence = inc.evidence.clone();
            evidence.extend(ctx.events_near(inc, &[EventTopic::Authorization], ctx.windows.auth));
            for (d, count, first) in &denials {
                evidence.push(ev(
                    5,
                    inc.pod
                        .as_ref()
                        .map_or(inc.client.clone(), |p| p.to_string()),
                    *first,
                    format!(
                        "{count} lines: User \"{}\" cannot {} {}{} in {}",
                        d.user,
                        d.verb,
                        d.resource,
                        d.subresource
                            .as_ref()
                            .map(|s| format!("/{s}"))
                            .unwrap_or_default(),
                        d.namespace
                            .as_deref()
                            .map_or("the cluster scope".to_string(), |n| format!(
                                "namespace {n}"
                            ))
                    ),
                ));
            }
            let mut confirmed = 0;
            let mut allowed_now = 0;
            if let Some(c) = inc
                .pod
                .as_ref()
                .and_then(|p| b.credentials.iter().find(|c| &c.pod == p))
            {
                for r in &c.access_reviews {
                    if r.allowed {
                        allowed_now += 1;
                    } else {
                        confirmed += 1;
                    }
                    evidence.push(ev(
                        6,
                        format!(
                            "subjectaccessreview/{} {} {}",
                            r.denial.user, r.denial.verb, r.denial.resource
                        ),
                        Some(ctx.now),
                        format!(
                            "SubjectAccessReview now: {}{}",
                            if r.allowed {
                                "allowed (the denial has since been fixed)"
                            } else {
                                "denied"
                            },
                            r.reason
                                .as_ref()
                                .map(|x| format!(" ({x})"))
                                .unwrap_or_default()
                        ),
                    ));
                }
            }
            if code_403 > 0.0 && lines == 0 {
                evidence.push(ev(
                    3,
                    format!(
                        "rest_client_requests_total{{client=\"{}\",code=\"403\"}}",
                        inc.client
                    ),
                    inc.onset,
                    format!("{code_403:.0} requests answered 403"),
                ));
            }
            let mut remediation: Vec<String> = denials
                .iter()
                .map(|(d, _, _)| {
                    format!(
                        "grant {} {} {} to {} (verify with: kubectl auth can-i {} {}{} --as {}):\n{}",
                        d.verb,
                        d.resource,
                        d.namespace.as_deref().map_or("cluster-wide".to_string(), |n| format!("in {n}")),
                        d.user,
                        d.verb,
                        d.resource,
                        d.namespace.as_deref().map_or(String::new(), |n| format!(" -n {n}")),
                        d.user,
                        grant_yaml(d)
                    )
                })
                .collect();
            if remediation.is_empty() {
                remediation.push("the API server answers 403 but the log names no denial: run the client with higher verbosity, or read the audit log (responseStatus.code 403) to see the verb and resource, then grant them".to_string());
            }
            // Every denial is allowed again now: RBAC was restored, or the API server's
            // authorizer was still syncing after a restart. Worth saying, not the top cause.
            let healed = confirmed == 0 && allowed_now > 0;
            if healed {
                remediation.insert(0, "the denied requests are allowed now (SubjectAccessReview): the RoleBinding was restored, or the 403s came from an API server that had just restarted and had not yet loaded RBAC; if they recur, check for something deleting the binding (audit log: verb=delete resource=rolebindings)".to_string());
            }
            let confidence = if confirmed > 0 {
                0.93
            } else if healed {
                0.4
            } else if !denials.is_empty() {
                0.8
            } else {
                0.55
            };
            let what: Vec<String> = denials
                .iter()
                .map(|(d, _, _)| format!("{} cannot {} {}", d.user, d.verb, d.resource))
                .collect();
            out.push(Verdict {
                cause: Cause::Authorization,
                confidence,
                summary: format!(
                    "{} is denied by RBAC since {}{}{}.",
                    inc.client,
                    inc.onset.map_or("before the window".to_string(), fmt_time),
                    if what.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", what.join("; "))
                    },
                    if confirmed > 0 {
                        " (confirmed by SubjectAccessReview)"
                    } else if healed {
                        " (no longer: SubjectAccessReview allows it now)"
                    } else {
                        ""
                    }
                ),
                evidence,
                remediation,
                clients: vec![inc.client.clone()],
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{bundle, evaluate, named};

    #[test]
    fn a_denial_confirmed_by_review_is_authorization_with_the_grant() {
        let v = evaluate(&Authorization, &bundle("rbac-revoked"));
        assert_eq!(
            named(&v),
            vec![(Cause::Authorization, vec!["demo-clients/127.0.1.3:18082".to_string()])]
        );
        assert_eq!(v[0].confidence, 0.93, "confirmed by SubjectAccessReview");
        assert!(v[0].remediation[0].contains("kind: RoleBinding"), "{:?}", v[0].remediation);
    }

    #[test]
    fn a_quota_refusal_is_not_rbac() {
        for fault in ["quota-exceeded", "healthy", "apf-throttle"] {
            assert!(evaluate(&Authorization, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
