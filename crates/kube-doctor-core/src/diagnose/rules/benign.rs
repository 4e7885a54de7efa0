//! The noise rule: errors that are only existence checks answered 404 (or watch streams
//! closing and reconnecting) are expected -> `benign`, saying why the alert fired and how to
//! tune it.

use crate::diagnose::{Context, Rule, ev};
use crate::report::{Cause, Verdict};

pub struct Benign;

impl Rule for Benign {
    fn name(&self) -> &'static str {
        "benign"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        ctx.incidents
            .iter()
            .filter(|i| i.noise)
            .map(|inc| {
                let mut evidence = inc.evidence.clone();
                evidence.push(ev(
                    3,
                    format!("rest_client_requests_total{{client=\"{}\",code=\"404\"}}", inc.client),
                    inc.onset,
                    format!("all {:.0} failed requests are 404 Not Found", inc.code("404")),
                ));
                Verdict {
                    cause: Cause::Benign,
                    confidence: 0.85,
                    summary: format!(
                        "{}'s errors are all 404s - existence checks answered \"not found\", which clients expect. The alert fired because the rule counts every non-2xx code (code!~\"2..\").",
                        inc.client
                    ),
                    evidence,
                    remediation: vec![
                        "nothing is broken; tune the alert: use the current kubernetes-mixin form (code=~\"5..\"), or exclude 404 (code!~\"2..|404\")".to_string(),
                    ],
                    clients: vec![inc.client.clone()],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{bundle, evaluate, named};

    #[test]
    fn a_client_failing_only_with_404s_is_benign() {
        let mut b = bundle("rbac-revoked");
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        let denied = c.codes.remove("403").unwrap();
        c.codes.insert("404".into(), denied);
        let id = c.id.clone();
        let v = evaluate(&Benign, &b);
        assert_eq!(named(&v), vec![(Cause::Benign, vec![id])]);
        assert!(v[0].remediation[0].contains("code=~\"5..\""));
    }

    #[test]
    fn real_errors_are_not_benign() {
        for fault in ["rbac-revoked", "apiserver-down", "healthy"] {
            assert!(evaluate(&Benign, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
