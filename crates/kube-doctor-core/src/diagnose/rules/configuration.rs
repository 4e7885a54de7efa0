//! Diagnosis rule 6: consistent errors with no more specific cause -> `configuration`: a
//! standing fault of the client's configuration, credentials or the API server's capacity,
//! with what to check for each.

use crate::bundle::Pattern;
use crate::diagnose::{Context, Rule, fmt_time};
use crate::report::{Cause, Verdict};

pub struct Configuration;

impl Rule for Configuration {
    fn name(&self) -> &'static str {
        "configuration"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        ctx.incidents
            .iter()
            .filter(|i| !i.noise && i.pattern == Pattern::Consistent)
            .map(|inc| {
                let cats: Vec<String> = inc.categories.iter().map(|(c, n)| format!("{c} {n}")).collect();
                Verdict {
                    cause: Cause::Configuration,
                    confidence: 0.45,
                    summary: format!(
                        "{} has failed steadily since {} ({}), and no server trouble, credential, RBAC, throttling, quota or network change explains it.",
                        inc.client,
                        inc.onset.map_or("before the window".to_string(), fmt_time),
                        cats.join(", ")
                    ),
                    evidence: inc.evidence.clone(),
                    remediation: vec![
                        "check the client's configuration: the API server URL and CA bundle it uses, its credentials (kubectl auth whoami with its kubeconfig), and what it requests (an old API version, a missing CRD)".to_string(),
                        "check the API server's capacity: in-flight requests and APF queueing at the onset".to_string(),
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
    fn consistent_errors_are_configuration_when_nothing_else_speaks() {
        // As a fallback the engine asks it only about unexplained clients; on its own it
        // speaks for every consistent incident.
        let v = evaluate(&Configuration, &bundle("rbac-revoked"));
        assert_eq!(
            named(&v),
            vec![(Cause::Configuration, vec!["demo-clients/127.0.1.3:18082".to_string()])]
        );
        assert!(v[0].confidence < 0.5, "a fallback is never confident");
    }

    #[test]
    fn intermittent_errors_are_not_configuration() {
        for fault in ["apf-throttle", "network-blackhole", "healthy"] {
            assert!(evaluate(&Configuration, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
