//! The diagnosis rules, one per cause, and their registry. `SPECIFIC` rules explain incidents
//! with evidence of a cause; `FALLBACK` rules speak only for incidents nothing else explained.

mod authentication;
mod authorization;
mod benign;
mod configuration;
mod network;
mod quota;
mod rate_limiting;
mod server_side;
mod transient;
mod unknown;

use crate::bundle::{Bundle, StepStatus};
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

/// kube-doctor's own steps that failed the same way the clients did (its own requests are a
/// second witness): steps whose failure note classifies as `category`.
pub fn own_failures(bundle: &Bundle, categories: &[Category]) -> Vec<Evidence> {
    let classifier = Classifier::new();
    bundle
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Failed | StepStatus::Timeout))
        .filter_map(|s| {
            let note = s.note.as_deref()?;
            let c = classifier.classify(note.as_bytes()).category;
            categories.contains(&c).then(|| {
                ev(
                    s.step,
                    format!("kube-doctor step {} ({})", s.step, s.title),
                    Some(bundle.collected_at),
                    format!("kube-doctor's own requests failed the same way: {note}"),
                )
            })
        })
        .collect()
}
