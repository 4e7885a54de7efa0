//! Diagnosis rule 4b: quota and admission. A ResourceQuota that is exhausted where the client
//! writes, with "exceeded quota" refusals (403) in the client's log, its answers or its
//! FailedCreate events -> `quota`. A 403 whose reason is an admission policy (PodSecurity, a
//! LimitRange, a webhook that denied the request) is this rule's too, never RBAC's.
//! Remediation names the quota and resource, used against hard, or the policy.
//!
//! Where the client writes: its own namespace for a workload; for a control-plane component
//! (the controller-manager creating Pods for ReplicaSets), every namespace its FailedCreate
//! events name.

use crate::category::Category;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Verdict};

pub struct Quota;

/// Admission policies that refuse writes with 403 (or 422), recognised in the client's
/// refusal lines: (what to look for, lowercase; the policy; what to do).
const ADMISSION: &[(&str, &str, &str)] = &[
    (
        "violates podsecurity",
        "PodSecurity admission",
        "make the pod spec meet the namespace's pod-security.kubernetes.io/enforce level (the message lists what fails), or change the level if the workload legitimately needs it",
    ),
    (
        "maximum memory usage per container",
        "a LimitRange",
        "fit the container's resources to the namespace's LimitRange (kubectl describe limitrange), or change the LimitRange",
    ),
    (
        "maximum cpu usage per container",
        "a LimitRange",
        "fit the container's resources to the namespace's LimitRange (kubectl describe limitrange), or change the LimitRange",
    ),
    (
        "limit to request ratio",
        "a LimitRange",
        "fit the container's limits and requests to the LimitRange's maxLimitRequestRatio",
    ),
    (
        "must specify limits",
        "a ResourceQuota's required limits",
        "give every container the limits the namespace's ResourceQuota requires",
    ),
    (
        "denied the request",
        "an admission webhook",
        "read the webhook's message for what it refused and change the request, or the webhook's policy",
    ),
    (
        "because it is being terminated",
        "a terminating namespace",
        "the namespace is being deleted: nothing can be created in it; check what holds its finalizers if that is not intended",
    ),
];

/// A 403 whose reason is an admission policy: the client's own refusal lines say which.
fn admission(ctx: &Context<'_>, inc: &crate::diagnose::Incident) -> Option<Verdict> {
    let lines = inc.log_count(Category::QuotaOrAdmission);
    if lines == 0 {
        return None;
    }
    let (needle, policy, fix) = ADMISSION
        .iter()
        .find(|(needle, _, _)| inc.log_mentions(Category::QuotaOrAdmission, needle))?;
    let mut evidence = inc.evidence.clone();
    evidence.extend(ctx.events_near(
        inc,
        &[EventTopic::Quota, EventTopic::Webhook],
        ctx.windows.server,
    ));
    evidence.push(ev(
        5,
        inc.pod
            .as_ref()
            .map_or(inc.client.clone(), |p| p.to_string()),
        inc.log_first(Category::QuotaOrAdmission),
        format!(
            "{lines} refusals by {policy} (\"{needle}\"): {}",
            crate::escape::one_line(
                inc.sample(Category::QuotaOrAdmission).unwrap_or_default(),
                400
            )
        ),
    ));
    Some(Verdict {
        cause: Cause::Quota,
        confidence: 0.8,
        summary: format!(
            "{}'s writes are refused by {policy} since {}: not RBAC, so no grant helps.",
            inc.client,
            inc.onset.map_or("before the window".to_string(), fmt_time)
        ),
        evidence,
        remediation: vec![fix.to_string()],
        clients: vec![inc.client.clone()],
    })
}

impl Rule for Quota {
    fn name(&self) -> &'static str {
        "quota"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            // A component's refusals are the FailedCreate events its controllers wrote.
            let controller_refusals: Vec<&crate::bundle::EventRecord> = if inc.is_component() {
                b.events
                    .iter()
                    .flat_map(|e| e.kept.iter().zip(ctx.event_topics))
                    .filter(|(e, t)| {
                        **t == Some(EventTopic::Quota)
                            && e.reason == "FailedCreate"
                            && (Context::near(inc.onset, e.last_seen, ctx.windows.server)
                                || Context::near(inc.onset, e.first_seen, ctx.windows.server))
                    })
                    .map(|(e, _)| e)
                    .collect()
            } else {
                Vec::new()
            };
            let written: std::collections::BTreeSet<&str> = controller_refusals
                .iter()
                .filter_map(|e| e.involved.namespace.as_deref())
                .chain(inc.namespace())
                .collect();
            let refusals = inc.log_mentions(Category::QuotaOrAdmission, "quota")
                || !controller_refusals.is_empty();
            let exhausted: Vec<_> = b
                .quota_and_flow_control
                .iter()
                .flat_map(|q| &q.quotas)
                .filter(|q| {
                    q.quota
                        .namespace
                        .as_deref()
                        .is_some_and(|n| written.contains(n))
                })
                .flat_map(|q| {
                    q.resources
                        .iter()
                        .filter(|r| crate::playbook::step8_quota_and_apf::exhausted(r))
                        .map(move |r| (q, r))
                })
                .collect();
            if !refusals && exhausted.is_empty() {
                if let Some(v) = admission(ctx, inc) {
                    out.push(v);
                }
                continue;
            }
            if !refusals && inc.code("403") == 0.0 {
                continue;
            }
            // Bare 403s beside RBAC denials in the client's own log and no quota refusal: the
            // denials' (a new user's lab run: an RBAC fault cleared a minute before a quota
            // fault had its client named first as refused by the quota).
            if !refusals && inc.log_count(Category::Authorization) > 0 {
                continue;
            }
            let mut evidence = inc.evidence.clone();
            evidence.extend(ctx.events_near(inc, &[EventTopic::Quota], ctx.windows.server));
            for e in controller_refusals.iter().take(5) {
                evidence.push(crate::diagnose::event_evidence(
                    e,
                    &crate::escape::one_line(&e.message, 400),
                ));
            }
            let mut remediation = Vec::new();
            for (q, r) in &exhausted {
                evidence.push(ev(
                    8,
                    q.quota.to_string(),
                    q.created_at,
                    format!(
                        "{}: used {} of hard {}",
                        r.resource,
                        r.used.clone().unwrap_or_default(),
                        r.hard
                    ),
                ));
                remediation.push(format!(
                    "ResourceQuota {} caps {} at {} and {} are used: raise spec.hard.{} or delete what uses it (kubectl -n {} describe resourcequota {})",
                    q.quota.name,
                    r.resource,
                    r.hard,
                    r.used.clone().unwrap_or_default(),
                    r.resource,
                    q.quota.namespace.clone().unwrap_or_default(),
                    q.quota.name
                ));
            }
            if refusals && !inc.is_component() {
                evidence.push(ev(
                    5,
                    inc.pod
                        .as_ref()
                        .map_or(inc.client.clone(), |p| p.to_string()),
                    inc.log_first(Category::QuotaOrAdmission),
                    format!(
                        "{} quota refusals: {}",
                        inc.log_count(Category::QuotaOrAdmission),
                        inc.sample(Category::QuotaOrAdmission).unwrap_or_default()
                    ),
                ));
            }
            let created_near = exhausted
                .iter()
                .any(|(q, _)| Context::near(inc.onset, q.created_at, ctx.windows.apf));
            let confidence: f64 = 0.6
                + if refusals { 0.2 } else { 0.0 }
                + if !exhausted.is_empty() { 0.1 } else { 0.0 }
                + if created_near { 0.05 } else { 0.0 };
            if remediation.is_empty() {
                remediation.push("the client's creates exceed a ResourceQuota: kubectl describe resourcequota in its namespace, then raise the limit or free resources".to_string());
            }
            out.push(Verdict {
                cause: Cause::Quota,
                confidence: confidence.min(0.95),
                summary: format!(
                    "{} is refused by a ResourceQuota since {}{}.",
                    inc.client,
                    inc.onset.map_or("before the window".to_string(), fmt_time),
                    exhausted
                        .first()
                        .map(|(q, r)| format!(
                            ": {} {} is exhausted ({} of {})",
                            q.quota.name,
                            r.resource,
                            r.used.clone().unwrap_or_default(),
                            r.hard
                        ))
                        .unwrap_or_default()
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
    fn an_exhausted_quota_with_refusals_is_quota() {
        let v = evaluate(&Quota, &bundle("quota-exceeded"));
        assert_eq!(
            named(&v),
            vec![(
                Cause::Quota,
                vec!["demo-clients/127.0.1.2:18083".to_string()]
            )]
        );
        assert!(v[0].summary.contains("demo-configmaps"), "{}", v[0].summary);
    }

    /// Recorded on the lab by a new user: `rbac-revoked` cleared about a minute before
    /// `quota-exceeded`, in a 3-minute window. The kube-rs client's 403s were RBAC's (its log
    /// names the denials); only the Python client is refused by the quota.
    #[test]
    fn rbac_403s_beside_an_exhausted_quota_are_not_the_quotas() {
        let v = evaluate(&Quota, &bundle("quota-after-rbac"));
        assert_eq!(
            named(&v),
            vec![(
                Cause::Quota,
                vec!["demo-clients/127.0.9.3:23183".to_string()]
            )]
        );
    }

    #[test]
    fn exhaustion_is_judged_from_the_quantities_not_the_collectors_flag() {
        let mut b = bundle("quota-exceeded");
        for q in &mut b.quota_and_flow_control.as_mut().unwrap().quotas {
            for r in &mut q.resources {
                // A forged "exhausted" on the collector's view changes nothing.
                r.exhausted = false;
            }
        }
        assert!(!evaluate(&Quota, &b).is_empty());
    }

    #[test]
    fn a_controller_over_a_pod_quota_is_quota_where_it_writes() {
        // kube-controller-manager's ReplicaSet controller hits a pods=0 quota in another
        // namespace: its 403s and FailedCreate events (recorded from the lab) and the quota.
        use crate::bundle::{
            EventRecord, EventsEvidence, ObjectRef, QuotaInfo, QuotaResource, Target,
        };
        let mut b = bundle("quota-exceeded");
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        c.target = Target::Component {
            name: "kube-controller-manager".into(),
            pod: None,
        };
        c.id = "kube-controller-manager/127.0.0.1:10257".into();
        let at = c.onset;
        b.logs.clear();
        b.events = Some(EventsEvidence {
            namespaces: vec!["kube-system".into()],
            scanned: 1,
            kept: vec![EventRecord {
                involved: ObjectRef::namespaced("ReplicaSet", "shop", "web-7d9f"),
                reason: "FailedCreate".into(),
                message: "Error creating: pods \"web-7d9f-x\" is forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0".into(),
                event_type: "Warning".into(),
                count: 9,
                first_seen: at,
                last_seen: at,
                source: Some("replicaset-controller".into()),
            }],
            truncated: false,
            unreadable: Vec::new(),
        });
        b.quota_and_flow_control.as_mut().unwrap().quotas = vec![QuotaInfo {
            quota: ObjectRef::namespaced("ResourceQuota", "shop", "no-pods"),
            created_at: None,
            resources: vec![QuotaResource {
                resource: "pods".into(),
                hard: "0".into(),
                used: Some("0".into()),
                exhausted: true,
            }],
        }];
        let v = evaluate(&Quota, &b);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].summary.contains("no-pods"), "{}", v[0].summary);
        assert!(
            v[0].evidence
                .iter()
                .any(|e| e.reference.contains("FailedCreate"))
        );
        // ... and RBAC does not speak: the 403s are the quota's.
        let r = crate::diagnose::diagnose(&b, &Default::default());
        assert_eq!(r.top().unwrap().cause, Cause::Quota);
        assert!(
            r.verdicts.iter().all(|v| v.cause != Cause::Authorization),
            "{:?}",
            r.verdicts
        );
    }

    #[test]
    fn an_admission_denial_is_not_rbac() {
        let mut b = bundle("quota-exceeded");
        for p in &mut b.logs {
            for c in &mut p.containers {
                for s in c.categories.values_mut() {
                    for l in &mut s.samples {
                        *l = l.replace(
                            "exceeded quota: demo-configmaps",
                            "violates PodSecurity \"restricted:latest\": runAsNonRoot != true",
                        );
                    }
                }
            }
        }
        b.quota_and_flow_control.as_mut().unwrap().quotas.clear();
        let v = evaluate(&Quota, &b);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].summary.contains("PodSecurity") && v[0].summary.contains("not RBAC"));
    }

    #[test]
    fn no_quota_trouble_no_verdict() {
        for fault in ["rbac-revoked", "apf-throttle", "healthy"] {
            assert!(evaluate(&Quota, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
