//! Diagnosis rule 4a: rate limiting. API Priority and Fairness rejections for the FlowSchema
//! the client's requests fall into (or any, when that is unknown), 429s, or client-side
//! throttling, within the APF window (default 5 min) of the onset -> `rate_limiting`.
//! Remediation names the FlowSchema and priority level, their shares and queueing, and what to
//! change.

use crate::bundle::{LimitResponse, PriorityLevelInfo, SignalKind};
use crate::category::Category;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::report::{Cause, Verdict};

pub struct RateLimiting;

fn describe(pl: &PriorityLevelInfo) -> String {
    let lr = match &pl.limit_response {
        Some(LimitResponse::Reject) => "rejects at once when full".to_string(),
        Some(LimitResponse::Queue {
            queues,
            hand_size,
            queue_length_limit,
        }) => format!(
            "queues ({} queues, hand size {}, queue length {})",
            queues.map_or("?".into(), |x| x.to_string()),
            hand_size.map_or("?".into(), |x| x.to_string()),
            queue_length_limit.map_or("?".into(), |x| x.to_string())
        ),
        None => "exempt".to_string(),
    };
    format!(
        "priority level {} ({}): nominalConcurrencyShares {}, lendablePercent {}, borrowingLimitPercent {}, {lr}",
        pl.name,
        pl.kind,
        pl.nominal_shares.map_or("-".into(), |x| x.to_string()),
        pl.lendable_percent.map_or("-".into(), |x| x.to_string()),
        pl.borrowing_limit_percent
            .map_or("unlimited".into(), |x| x.to_string())
    )
}

impl Rule for RateLimiting {
    fn name(&self) -> &'static str {
        "rate_limiting"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            let lines = inc.log_count(Category::RateLimited);
            let code_429 = inc.code("429");
            let client_side = inc.log_mentions(Category::RateLimited, "client-side throttling")
                || inc.log_mentions(Category::RateLimited, "rate limiter");
            if lines == 0 && code_429 == 0.0 {
                continue;
            }
            let mut evidence = inc.evidence.clone();
            evidence.extend(ctx.events_near(inc, &[EventTopic::Throttling], ctx.windows.apf));
            let mut remediation = Vec::new();
            let matched = b
                .quota_and_flow_control
                .as_ref()
                .and_then(|q| q.client_matches.iter().find(|m| m.client_id == inc.client));
            let mut apf_near = false;
            let mut schema_named = None;
            if b.server_metrics.is_some() {
                for s in ctx
                    .signals
                    .iter()
                    .filter(|s| s.kind == SignalKind::ApfRejections)
                {
                    let ours = matched
                        .and_then(|mm| mm.flow_schema.as_ref())
                        .is_none_or(|fs| s.subject.contains(&format!("flow_schema={fs} ")));
                    if !ours {
                        continue;
                    }
                    let near = Context::near(inc.onset, s.first_seen, ctx.windows.apf)
                        || s.first_seen.is_none();
                    if near {
                        apf_near = true;
                        evidence.push(ev(
                            7,
                            format!(
                                "apiserver_flowcontrol_rejected_requests_total{{{}}}",
                                s.subject.replace(' ', ",")
                            ),
                            s.first_seen,
                            s.detail.clone(),
                        ));
                        schema_named = Some(s.subject.clone());
                    }
                }
            }
            if let Some(mm) = matched {
                evidence.push(ev(
                    8,
                    format!(
                        "flowschema/{}",
                        mm.flow_schema
                            .clone()
                            .unwrap_or_else(|| "(none)".to_string())
                    ),
                    None,
                    format!(
                        "requests of {} ({}) fall into FlowSchema {} -> priority level {}",
                        mm.user,
                        mm.request,
                        mm.flow_schema.clone().unwrap_or_default(),
                        mm.priority_level.clone().unwrap_or_default()
                    ),
                ));
                if let Some(q) = &b.quota_and_flow_control {
                    if let Some(pl) = mm
                        .priority_level
                        .as_ref()
                        .and_then(|n| q.priority_levels.iter().find(|p| &p.name == n))
                    {
                        evidence.push(ev(
                            8,
                            format!("prioritylevelconfiguration/{}", pl.name),
                            pl.created_at,
                            describe(pl),
                        ));
                        let starved = pl.nominal_shares == Some(0)
                            || matches!(pl.limit_response, Some(LimitResponse::Reject));
                        remediation.push(format!(
                            "{} serves FlowSchema {}: {}, or move {} to a FlowSchema of a better-provisioned priority level (lower matchingPrecedence wins)",
                            pl.name,
                            mm.flow_schema.clone().unwrap_or_default(),
                            if starved { "it has no seats of its own or rejects at once; give it nominalConcurrencyShares, let it borrow (borrowingLimitPercent), or queue instead of Reject" } else { "raise its nominalConcurrencyShares or queue length" },
                            mm.user
                        ));
                    }
                    if let Some(fs) = mm
                        .flow_schema
                        .as_ref()
                        .and_then(|n| q.flow_schemas.iter().find(|f| &f.name == n))
                        && Context::near(inc.onset, fs.created_at, ctx.windows.apf)
                    {
                        evidence.push(ev(8, format!("flowschema/{}", fs.name), fs.created_at, format!("FlowSchema {} (precedence {}) was created {} - just before the errors", fs.name, fs.precedence, fs.created_at.map_or("?".into(), fmt_time))));
                        remediation.insert(0, format!("FlowSchema {} appeared at the onset; if it is not intended, delete it (kubectl delete flowschema {})", fs.name, fs.name));
                    }
                }
            }
            if lines > 0 {
                evidence.push(ev(
                    5,
                    inc.pod
                        .as_ref()
                        .map_or(inc.client.clone(), |p| p.to_string()),
                    inc.log_first(Category::RateLimited),
                    format!(
                        "{lines} throttling/429 lines: {}",
                        inc.sample(Category::RateLimited).unwrap_or_default()
                    ),
                ));
            }
            if code_429 > 0.0 {
                evidence.push(ev(
                    3,
                    crate::diagnose::incident::rate_reference(&inc.client, Some("429")),
                    inc.onset,
                    format!("{code_429:.0} requests answered 429 Too Many Requests"),
                ));
            }
            if client_side {
                remediation.push("the client throttles itself (client-side rate limiter): raise its QPS and Burst, or make it issue fewer requests (informers and caches instead of polling)".to_string());
            }
            if remediation.is_empty() {
                remediation.push("the API server rejects the client with 429: find its FlowSchema (kubectl get flowschemas) and priority level, and either provision that level or reduce the client's request rate".to_string());
            }
            let confidence: f64 = 0.55
                + if apf_near { 0.3 } else { 0.0 }
                + if matched.is_some() { 0.05 } else { 0.0 }
                + if code_429 > 0.0 { 0.05 } else { 0.0 };
            out.push(Verdict {
                cause: Cause::RateLimiting,
                confidence: confidence.min(0.95),
                summary: format!(
                    "{} is rate limited since {}{}.",
                    inc.client,
                    inc.onset.map_or("before the window".to_string(), fmt_time),
                    schema_named
                        .map(|s| format!(": API Priority and Fairness rejects its requests ({s})"))
                        .unwrap_or_else(|| if client_side {
                            ": it throttles itself".to_string()
                        } else {
                            ": the API server answers 429".to_string()
                        })
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
    fn apf_rejections_of_the_clients_flow_schema_are_rate_limiting() {
        let v = evaluate(&RateLimiting, &bundle("apf-throttle"));
        assert_eq!(
            named(&v),
            vec![(
                Cause::RateLimiting,
                vec!["demo-clients/127.0.1.1:18081".to_string()]
            )]
        );
        let fix = v[0].remediation.join(" ");
        assert!(
            fix.contains("lab-squeeze-demo-clientgo") && fix.contains("lab-jail"),
            "{fix}"
        );
    }

    #[test]
    fn no_throttling_no_verdict() {
        for fault in ["rbac-revoked", "quota-exceeded", "healthy"] {
            assert!(
                evaluate(&RateLimiting, &bundle(fault)).is_empty(),
                "{fault}"
            );
        }
    }
}
