//! Diagnosis rule 4b: quota. A ResourceQuota in the client's namespace that is exhausted, with
//! "exceeded quota" refusals (403) in the client's log or answers -> `quota`. Remediation names
//! the quota and resource, used against hard.

use crate::category::Category;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Verdict};

pub struct Quota;

impl Rule for Quota {
    fn name(&self) -> &'static str {
        "quota"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            let refusals = inc.log_mentions(Category::QuotaOrAdmission, "quota");
            let exhausted: Vec<_> = b
                .quota_and_flow_control
                .iter()
                .flat_map(|q| &q.quotas)
                .filter(|q| q.quota.namespace.as_deref() == inc.namespace())
                .flat_map(|q| {
                    q.resources
                        .iter()
                        .filter(|r| crate::playbook::step8_quota_and_apf::exhausted(r))
                        .map(move |r| (q, r))
                })
                .collect();
            if !refusals && exhausted.is_empty() {
                continue;
            }
            if !refusals && inc.code("403") == 0.0 {
                continue;
            }
            let mut evidence = inc.evidence.clone();
            evidence.extend(ctx.events_near(inc, &[EventTopic::Quota], ctx.windows.server));
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
            if refusals {
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
            vec![(Cause::Quota, vec!["demo-clients/127.0.1.2:18083".to_string()])]
        );
        assert!(v[0].summary.contains("demo-configmaps"), "{}", v[0].summary);
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
    fn no_quota_trouble_no_verdict() {
        for fault in ["rbac-revoked", "apf-throttle", "healthy"] {
            assert!(evaluate(&Quota, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
