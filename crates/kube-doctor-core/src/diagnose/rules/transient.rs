//! Diagnosis rule 7: intermittent errors with no more specific cause -> `transient`: network
//! instability, API server load, resource contention; what to watch next.

use crate::bundle::Pattern;
use crate::diagnose::{Context, Rule, fmt_time};
use crate::report::{Cause, Verdict};

pub struct Transient;

impl Rule for Transient {
    fn name(&self) -> &'static str {
        "transient"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        ctx.incidents
            .iter()
            .filter(|i| !i.noise && i.pattern == Pattern::Intermittent)
            .map(|inc| Verdict {
                cause: Cause::Transient,
                confidence: 0.4,
                summary: format!(
                    "{} fails now and then since {} without a correlated cause: typical of network instability, API server load or resource contention.",
                    inc.client,
                    inc.onset.map_or("before the window".to_string(), fmt_time)
                ),
                evidence: inc.evidence.clone(),
                remediation: vec![
                    "watch whether the bursts line up with API server load (apiserver_request_duration_seconds, in-flight requests) or node and network events".to_string(),
                    "make sure the client retries with backoff; if the bursts continue, re-run with --since 1h to widen the correlation".to_string(),
                ],
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
    fn intermittent_errors_are_transient_when_nothing_else_speaks() {
        let v = evaluate(&Transient, &bundle("apf-throttle"));
        assert_eq!(
            named(&v),
            vec![(Cause::Transient, vec!["demo-clients/127.0.1.1:18081".to_string()])]
        );
        assert!(v[0].confidence < 0.5);
    }

    #[test]
    fn steady_errors_are_not_transient() {
        for fault in ["rbac-revoked", "apiserver-down", "healthy"] {
            assert!(evaluate(&Transient, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
