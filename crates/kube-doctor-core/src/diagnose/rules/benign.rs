//! The noise rule: the alert fired on expected noise -> `benign`, saying why it fired and how to
//! tune the rule, with the numbers: errors that are only existence checks answered 404, only
//! 409 conflicts of optimistic concurrency, only watch streams ending and reconnecting, or a
//! handful of errors on a client with very little traffic. Always ranked after real failures.

use crate::bundle::Noise;
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
            .filter_map(|inc| Some((inc, inc.noise_kind?)))
            .map(|(inc, kind)| {
                let errors: f64 = inc
                    .codes
                    .iter()
                    .filter(|(c, _)| !c.starts_with('2'))
                    .map(|(_, n)| n)
                    .sum();
                let requests: f64 = inc.codes.values().sum();
                let numbers = format!(
                    "{errors:.0} of {requests:.0} requests failed ({:.1} %)",
                    inc.ratios.non_2xx * 100.0
                );
                let (code, why, confidence, tune) = match kind {
                    Noise::NotFoundChecks => (
                        "404",
                        "its errors are all 404s - existence checks answered \"not found\", which clients expect",
                        0.85,
                        "use the current kubernetes-mixin form (code=~\"5..\"), or exclude 404 (code!~\"2..|404\")",
                    ),
                    Noise::Conflicts => (
                        "409",
                        "its errors are all 409 conflicts - optimistic concurrency: it wrote an object someone else had just changed, reads it again and retries",
                        0.85,
                        "use the current kubernetes-mixin form (code=~\"5..\"), or exclude 409 (code!~\"2..|409\")",
                    ),
                    Noise::NotFoundAndConflicts => (
                        "404|409",
                        "its errors are all 404s and 409s - existence checks answered \"not found\" and optimistic-concurrency conflicts it retries, which controllers expect",
                        0.8,
                        "use the current kubernetes-mixin form (code=~\"5..\"), or exclude them (code!~\"2..|404|409\")",
                    ),
                    Noise::WatchReconnects => (
                        "<error>",
                        "its only errors are watch streams that ended and were re-established (no status code: the connection closed), which every informer does",
                        0.75,
                        "exclude watches from the rule (verb!=\"WATCH\" where the series carry verb, or method!=\"GET\" for long-running requests), or use the 5xx form",
                    ),
                    Noise::LowTraffic => (
                        "",
                        "it sends very few requests, so a handful of errors is more than 1 %",
                        0.6,
                        "give the rule a minimum request rate: ... and sum by (cluster, instance, job, namespace) (rate(rest_client_requests_total[5m])) > 0.1",
                    ),
                };
                let mut evidence = inc.evidence.clone();
                evidence.push(ev(
                    3,
                    crate::diagnose::incident::rate_reference(&inc.client, Some(code)),
                    inc.onset,
                    numbers.clone(),
                ));
                Verdict {
                    cause: Cause::Benign,
                    confidence,
                    summary: format!(
                        "{}: {why}. The alert fired because {numbers} crossed the rule's 1 % (the non-2xx form counts every code that is not 2xx).",
                        inc.client
                    ),
                    evidence,
                    remediation: vec![format!("nothing is broken; tune the alert: {tune}")],
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

    /// The rbac-revoked bundle with its 403s turned into `code` and no log read (a log that
    /// names RBAC denials says the codes are not noise).
    fn with_codes(code: &str) -> crate::bundle::Bundle {
        let mut b = bundle("rbac-revoked");
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        let denied = c.codes.remove("403").unwrap();
        c.codes.insert(code.into(), denied);
        b.logs.clear();
        b
    }

    #[test]
    fn a_client_failing_only_with_404s_is_benign() {
        let b = with_codes("404");
        let id = b.clients.as_ref().unwrap().clients[0].id.clone();
        let v = evaluate(&Benign, &b);
        assert_eq!(named(&v), vec![(Cause::Benign, vec![id])]);
        assert!(v[0].remediation[0].contains("code=~\"5..\""));
    }

    #[test]
    fn conflicts_reconnects_and_little_traffic_are_benign_with_their_numbers() {
        let b = with_codes("409");
        let v = evaluate(&Benign, &b);
        assert!(
            v[0].summary.contains("optimistic concurrency"),
            "{}",
            v[0].summary
        );
        assert!(
            v[0].summary.contains("requests failed"),
            "the numbers: {}",
            v[0].summary
        );
        // Transport errors whose every log line is a watch ending: reconnects.
        let mut b = bundle("rbac-revoked");
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        let denied = c.codes.remove("403").unwrap();
        c.codes.insert("<error>".into(), denied);
        for cl in &mut b.logs[0].containers {
            for s in cl.categories.values_mut() {
                s.expected = s.count;
            }
        }
        let v = evaluate(&Benign, &b);
        assert!(v[0].summary.contains("watch streams"), "{}", v[0].summary);
        assert!(v[0].remediation[0].contains("WATCH"));
    }

    /// The rbac-revoked bundle with a second client whose errors are only 404s.
    fn with_a_noisy_client() -> crate::bundle::Bundle {
        let mut b = bundle("rbac-revoked");
        let mut noisy = b.clients.as_ref().unwrap().clients[0].clone();
        noisy.id = "demo-clients/noisy".into();
        noisy.target = crate::bundle::Target::Unknown;
        let denied = noisy.codes.remove("403").unwrap();
        noisy.codes.insert("404".into(), denied);
        b.clients.as_mut().unwrap().clients.push(noisy);
        b
    }

    #[test]
    fn noise_is_ranked_after_real_failures() {
        let b = with_a_noisy_client();
        let r = crate::diagnose::diagnose(&b, &crate::diagnose::Settings::default());
        assert_eq!(r.verdicts.first().unwrap().cause, Cause::Authorization);
        assert_eq!(r.verdicts.last().unwrap().cause, Cause::Benign);
    }

    /// The report's client list shows every client over the threshold (as the alert does);
    /// step 3's note counts the ones investigated. A noisy client is tagged as noise in the
    /// list, listed after the real failures, and counted apart in the note, so the two agree
    /// (a new user saw "Failing clients" list four while step 3 said "1 over 1.0 %").
    #[test]
    fn noise_is_listed_as_noise_and_counted_apart_by_step_3() {
        let b = with_a_noisy_client();
        let note = crate::playbook::step3_client_rates::note(
            b.clients.as_ref().unwrap(),
            crate::clients::Threshold::ALERT,
        );
        assert!(
            note.ends_with("1 over 1.0 % errors; 1 more over it are expected noise (only 404s, 409s, watch reconnects or little traffic)"),
            "{note}"
        );
        let r = crate::diagnose::diagnose(&b, &crate::diagnose::Settings::default());
        assert_eq!(r.clients.len(), 2);
        assert_eq!(r.clients[0].noise, None, "the real failure first");
        assert_eq!(r.clients[1].id, "demo-clients/noisy");
        assert_eq!(
            r.clients[1].noise,
            Some(crate::bundle::Noise::NotFoundChecks)
        );
        let mut text = Vec::new();
        crate::report::text::render(&mut text, &r, false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("Failing clients"), "{text}");
        let line = text
            .lines()
            .find(|l| l.contains("demo-clients/noisy"))
            .unwrap();
        assert!(
            line.contains("· expected noise: only 404 existence checks"),
            "{line}"
        );
        let mut md = Vec::new();
        crate::report::markdown::render(&mut md, &r).unwrap();
        assert!(
            String::from_utf8(md)
                .unwrap()
                .contains("expected noise: only 404")
        );
        // The JSON report carries it; a real failure has no `noise` key.
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["clients"][1]["noise"], "not_found_checks");
        assert!(json["clients"][0].get("noise").is_none());
        // Only noise: the heading does not call it failing.
        let mut only = r.clone();
        only.clients.remove(0);
        let mut text = Vec::new();
        crate::report::text::render(&mut text, &only, false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("Over the threshold, all expected noise"),
            "{text}"
        );
        assert!(!text.contains("Failing clients"), "{text}");
    }

    /// Judged again at another threshold, step 3's note says the count at that threshold (it
    /// said `1 over 1.0 %` next to "No API client is over the error threshold").
    #[test]
    fn step_3_is_judged_again_at_the_threshold_asked() {
        let b = bundle("rbac-revoked");
        let settings = crate::diagnose::Settings {
            threshold: Some(crate::clients::Threshold::new(0.5).unwrap()),
            ..Default::default()
        };
        let r = crate::diagnose::diagnose(&b, &settings);
        assert!(r.clients.is_empty());
        let note = r
            .steps
            .iter()
            .find(|s| s.step == 3)
            .unwrap()
            .note
            .clone()
            .unwrap();
        assert!(
            note.ends_with("0 over 50.0 % errors (judged at 50.0 %; collected at 1.0 %)"),
            "{note}"
        );
        // At the collection's own threshold the recorded note stands.
        let r = crate::diagnose::diagnose(&b, &crate::diagnose::Settings::default());
        assert_eq!(
            r.steps.iter().find(|s| s.step == 3).unwrap().note,
            b.step(3).unwrap().note
        );
    }

    #[test]
    fn real_errors_are_not_benign() {
        for fault in ["rbac-revoked", "apiserver-down", "healthy"] {
            assert!(evaluate(&Benign, &bundle(fault)).is_empty(), "{fault}");
        }
    }
}
