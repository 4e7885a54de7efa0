//! The diagnosis rules, one per cause, and their registry. `SPECIFIC` rules explain incidents
//! with evidence of a cause; `FALLBACK` rules speak only for incidents nothing else explained.

mod authentication;
mod authorization;
mod benign;
mod configuration;
mod network;
mod quota;
mod rate_limiting;
pub(crate) mod server_side;
mod transient;
mod unknown;

use crate::bundle::{Bundle, StepRecord, StepStatus};
use crate::category::Category;
use crate::classify::Classifier;
use crate::report::Evidence;

use super::{Rule, ev};

/// Rules that name a cause from its evidence.
pub static SPECIFIC: &[&dyn Rule] = &[
    &server_side::ServerSide,
    &authentication::Authentication,
    &authorization::Authorization,
    &rate_limiting::RateLimiting,
    &quota::Quota,
    &network::Network,
    &benign::Benign,
];

/// Rules for what the specific ones left unexplained.
pub static FALLBACK: &[&dyn Rule] = &[
    &configuration::Configuration,
    &transient::Transient,
    &unknown::Unknown,
];

/// The API server's serving certificate is expired or not yet valid, as kube-doctor's own
/// handshakes (step 4) and its own failed requests show. Evidence for every client at once.
pub fn serving_cert_trouble(bundle: &Bundle) -> Vec<Evidence> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in &bundle.network {
        for probe in &path.probes {
            if let Some(c) = &probe.serving_cert
                && (c.not_after < bundle.collected_at || c.not_before > bundle.collected_at)
                && seen.insert(probe.endpoint.clone())
            {
                // Dated when it stopped being valid, or when it will start to be.
                let (state, at) = if c.not_after < bundle.collected_at {
                    ("expired", c.not_after)
                } else {
                    ("not yet valid", c.not_before)
                };
                out.push(ev(
                    4,
                    format!("tls://{}", probe.endpoint),
                    Some(at),
                    format!(
                        "the API server's serving certificate is {state}: subject {}, issuer {}, valid {} to {}",
                        crate::escape::one_line(&c.subject, 300),
                        crate::escape::one_line(&c.issuer, 300),
                        super::fmt_time(c.not_before),
                        super::fmt_time(c.not_after)
                    ),
                ));
            }
        }
    }
    out.extend(own_failures(bundle, &[Category::TlsCertificate]));
    out
}

/// The name kube-doctor gives itself as a client in a verdict about its own requests: it is an
/// API client too, and when it gets no answer that is evidence.
pub const KUBE_DOCTOR: &str = "kube-doctor";

/// kube-doctor's own Kubernetes API requests that got no answer: steps that failed or timed
/// out with a note that kube-doctor itself wrote for a transport failure, a timeout or a run
/// stopped because the API server stopped answering (the notes of `collect`), or that
/// classifies as a network, timeout or TLS failure. Each with its category.
pub fn own_unanswered(bundle: &Bundle) -> Vec<(Evidence, Category)> {
    let classifier = Classifier::shared();
    let failed = bundle
        .steps
        .iter()
        .filter(|s| (s.step != 3 && s.step != 7) || s.prometheus_queries == 0)
        .filter(|s| matches!(s.status, StepStatus::Failed | StepStatus::Timeout))
        .filter_map(|s| {
            let note = s.note.as_deref()?;
            let c = match classifier.classify(note.as_bytes()).category {
                c @ (Category::TlsCertificate
                | Category::NetworkUnreachable
                | Category::Timeout) => c,
                _ if s.status == StepStatus::Timeout
                    || note.contains("no answer from the API server")
                    || note.contains("the API server stopped answering") =>
                {
                    Category::Timeout
                }
                _ => return None,
            };
            Some((s, note, c))
        });
    same_note(failed)
        .into_iter()
        .map(|(steps, note, c)| {
            (
                ev(
                    steps[0].step,
                    steps_reference(&steps),
                    Some(bundle.collected_at),
                    format!("kube-doctor's own requests got no answer: {note}"),
                ),
                c,
            )
        })
        .collect()
}

/// kube-doctor's own failed steps grouped by their note and kind, in step order: steps that
/// failed the same way make one evidence line.
fn same_note<'a, K: PartialEq>(
    failed: impl Iterator<Item = (&'a StepRecord, &'a str, K)>,
) -> Vec<(Vec<&'a StepRecord>, &'a str, K)> {
    let mut groups: Vec<(Vec<&StepRecord>, &str, K)> = Vec::new();
    for (s, note, k) in failed {
        match groups.iter_mut().find(|g| g.1 == note && g.2 == k) {
            Some(g) => g.0.push(s),
            None => groups.push((vec![s], note, k)),
        }
    }
    groups
}

/// How evidence from kube-doctor's own steps names them: `kube-doctor step 1 (API server
/// pods)`, or, when several steps failed with the same note (one evidence line for all of
/// them, not the same text five times), `kube-doctor steps 1 (API server pods), 2 (Events)`.
fn steps_reference(steps: &[&StepRecord]) -> String {
    let named: Vec<String> = steps
        .iter()
        .map(|s| format!("{} ({})", s.step, s.title))
        .collect();
    format!(
        "kube-doctor step{} {}",
        if steps.len() == 1 { "" } else { "s" },
        named.join(", ")
    )
}

/// kube-doctor's own steps that failed the same way the clients did (its own requests are a
/// second witness): steps whose failure note classifies as `category`.
pub fn own_failures(bundle: &Bundle, categories: &[Category]) -> Vec<Evidence> {
    let classifier = Classifier::shared();
    let failed = bundle
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Failed | StepStatus::Timeout))
        .filter_map(|s| {
            let note = s.note.as_deref()?;
            let c = classifier.classify(note.as_bytes()).category;
            categories.contains(&c).then_some((s, note, ()))
        });
    same_note(failed)
        .into_iter()
        .map(|(steps, note, ())| {
            ev(
                steps[0].step,
                steps_reference(&steps),
                Some(bundle.collected_at),
                format!("kube-doctor's own requests failed the same way: {note}"),
            )
        })
        .collect()
}
