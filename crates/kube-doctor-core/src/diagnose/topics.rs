//! What an event is about: diagnosis' reading of step 2's events. The collector keeps every
//! Warning event that may concern API clients; which topic it belongs to (and so which rule
//! cites it) is decided here, from its reason and message, with the same classifier as log
//! lines.

use serde::{Deserialize, Serialize};

use crate::Category;
use crate::bundle::EventRecord;
use crate::classify::Classifier;

/// What a kept event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTopic {
    /// API client failures (failed to list/watch, connection errors).
    ClientError,
    /// Authentication and certificates.
    Authentication,
    /// RBAC denials.
    Authorization,
    /// Throttling and API Priority and Fairness.
    Throttling,
    /// Admission webhooks.
    Webhook,
    /// ResourceQuota and LimitRange.
    Quota,
    /// NetworkPolicy.
    NetworkPolicy,
    /// The API server, etcd, leader election.
    ApiServer,
}

/// The topic of an event, if it has one of interest.
pub fn event_topic(e: &EventRecord, classifier: &Classifier) -> Option<EventTopic> {
    topic(&e.reason, &e.message, classifier)
}

/// The topic of a reason and message.
pub fn topic(reason: &str, message: &str, classifier: &Classifier) -> Option<EventTopic> {
    // kube-doctor serve's own verdicts (bundles recorded before step 2 dropped them, or edited)
    // are never evidence of anything: a past run's "RBAC denies" would read as a current fault.
    if reason == "KubeDoctorDiagnosis" {
        return None;
    }
    let text = format!("{reason}: {message}");
    let lower = text.to_ascii_lowercase();
    if lower.contains("networkpolicy") || lower.contains("network policy") {
        return Some(EventTopic::NetworkPolicy);
    }
    if lower.contains("leaderelection") || lower.contains("apiserver") || lower.contains("etcd") {
        return Some(EventTopic::ApiServer);
    }
    match classifier.classify(text.as_bytes()).category {
        Category::TlsCertificate | Category::Authentication => Some(EventTopic::Authentication),
        Category::Authorization => Some(EventTopic::Authorization),
        Category::RateLimited => Some(EventTopic::Throttling),
        Category::QuotaOrAdmission if lower.contains("webhook") || lower.contains("admission") => {
            Some(EventTopic::Webhook)
        }
        Category::QuotaOrAdmission => Some(EventTopic::Quota),
        Category::ServerError => Some(EventTopic::ApiServer),
        Category::NetworkUnreachable | Category::Timeout | Category::Other => {
            Some(EventTopic::ClientError)
        }
        Category::NotFound | Category::InvalidRequest | Category::None => {
            (reason == "FailedCreate" && lower.contains("quota")).then_some(EventTopic::Quota)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new user saw a past run's `KubeDoctorDiagnosis ... authorization (93%) ... denied by
    /// RBAC` Events cited first in a network verdict of a bundle recorded before step 2 dropped
    /// them: they have no topic, so they are never evidence.
    #[test]
    fn kube_doctors_own_events_are_never_evidence() {
        let c = Classifier::shared();
        assert_eq!(
            topic(
                "KubeDoctorDiagnosis",
                "authorization (93%): demo-clients/127.0.1.3:18082 is denied by RBAC",
                c
            ),
            None
        );
        let b = crate::diagnose::testing::bundle("network-blackhole");
        let r = crate::diagnose::diagnose(&b, &crate::diagnose::Settings::default());
        assert!(
            r.verdicts
                .iter()
                .flat_map(|v| &v.evidence)
                .all(|e| !e.detail.contains("KubeDoctorDiagnosis")
                    && !e.reference.contains("KubeDoctorDiagnosis")),
            "{:?}",
            r.verdicts
        );
    }

    #[test]
    fn topics_from_reason_and_message() {
        let c = Classifier::shared();
        let cases = [
            (
                "FailedCreate",
                "Error creating: pods \"x\" is forbidden: exceeded quota: q, requested: pods=1",
                Some(EventTopic::Quota),
            ),
            (
                "FailedCreate",
                "Internal error occurred: failed calling webhook \"v.example.com\": context deadline exceeded",
                Some(EventTopic::Webhook),
            ),
            (
                "PolicyViolation",
                "NetworkPolicy deny-all blocks egress",
                Some(EventTopic::NetworkPolicy),
            ),
            ("LeaderElection", "lost lease", Some(EventTopic::ApiServer)),
            (
                "FailedMount",
                "MountVolume.SetUp failed: x509: certificate has expired or is not yet valid",
                Some(EventTopic::Authentication),
            ),
            ("BackOff", "Back-off restarting failed container", None),
        ];
        for (reason, message, want) in cases {
            assert_eq!(topic(reason, message, c), want, "{reason}: {message}");
        }
    }
}
