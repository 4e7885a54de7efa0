//! The pure halves of the eight playbook steps: everything a step does with what it read,
//! apart from reading it. The I/O crate's `collect/stepN_*.rs` fetch (Kubernetes API lists,
//! Prometheus answers, /metrics text, pod logs) and call these to parse, merge, aggregate and
//! select, so each is unit-tested on answers recorded from the lab
//! (`tests/fixtures/responses/`).
//!
//! Judgement is not here: thresholds, event topics, server trouble and quota exhaustion are
//! decided by [`crate::diagnose`], so an old bundle can be judged again.

pub mod step1_apiserver_pods;
pub mod step2_events;
pub mod step3_client_rates;
pub mod step4_network_path;
pub mod step5_logs;
pub mod step6_credentials;
pub mod step7_server_metrics;
pub mod step8_quota_and_apf;

/// `n` and the noun for it, for step notes: `count(1, "pod", "pods")` is `"1 pod"`,
/// `count(0, "pod", "pods")` is `"0 pods"`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Recorded answers for the unit tests of the steps (`tests/fixtures/responses/NAME`).
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/responses")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A recorded Kubernetes list answer, as its items.
#[cfg(test)]
pub(crate) fn fixture_items<T: serde::de::DeserializeOwned>(name: &str) -> Vec<T> {
    #[derive(serde::Deserialize)]
    struct List<T> {
        items: Vec<T>,
    }
    let list: List<T> = serde_json::from_slice(&fixture(name))
        .unwrap_or_else(|e| panic!("fixture {name} is not a list of the expected kind: {e}"));
    list.items
}
