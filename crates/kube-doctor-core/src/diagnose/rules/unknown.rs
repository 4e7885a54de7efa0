//! The no-correlation rule: failing clients with no pattern to go on -> `unknown`, with the
//! window widened to one hour (done by the engine) and what to check next: network changes,
//! the usage pattern, API server capacity, client library versions. (No client rates at all
//! is not a verdict: the report's outcome is then "blind", exit 2.)

use crate::bundle::Pattern;
use crate::diagnose::{Context, Rule};
use crate::report::{Cause, Verdict};

pub struct Unknown;

const NEXT: &[&str] = &[
    "re-run with --since 1h (or more) so the onset and its surroundings are in the window",
    "check network changes around the onset (NetworkPolicies, CNI, load balancers, DNS)",
    "check the client's usage pattern (a new deployment, a burst of work, more replicas)",
    "check the API server's capacity (in-flight requests, APF queueing, etcd latency)",
    "check the client library version (known bugs in its retry, watch or auth-refresh code)",
];

impl Rule for Unknown {
    fn name(&self) -> &'static str {
        "unknown"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        ctx
            .incidents
            .iter()
            .filter(|i| !i.noise && i.pattern == Pattern::None)
            .map(|inc| Verdict {
                cause: Cause::Unknown,
                confidence: 0.2,
                summary: format!(
                    "{} fails, but nothing in the evidence correlates with it, even within one hour.",
                    inc.client
                ),
                evidence: inc.evidence.clone(),
                remediation: NEXT.iter().map(|s| s.to_string()).collect(),
                clients: vec![inc.client.clone()],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{bundle, evaluate, named};

    #[test]
    fn errors_without_a_pattern_say_what_to_check_next() {
        let mut b = bundle("rbac-revoked");
        // Counts over the threshold but no series to date them by: no pattern to go on.
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        c.series.clear();
        let id = c.id.clone();
        b.logs.clear();
        let v = evaluate(&Unknown, &b);
        assert_eq!(named(&v), vec![(Cause::Unknown, vec![id])]);
        assert!(v[0].remediation.iter().any(|r| r.contains("--since 1h")));
    }

    #[test]
    fn dated_errors_are_not_unknown() {
        for fault in ["rbac-revoked", "apf-throttle", "healthy"] {
            assert!(evaluate(&Unknown, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
