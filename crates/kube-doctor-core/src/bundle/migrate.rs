//! Bundle migration: version 1 bundles (`kube-doctor/bundle/v1`, written by kube-doctor 0.1
//! before judgement moved out of collection) read as version 2.
//!
//! What changed from v1 to v2, and what the migration does about it:
//! - v1 judged the server at collection (`server_metrics.signals`, with the collector's own
//!   thresholds) and stored no series. v2 stores the series (`server_metrics.series`) and lets
//!   diagnosis judge them. A v1 bundle has no series, so its signals are kept as
//!   `server_metrics.recorded_signals`, which diagnosis reads as they are.
//! - v1 assigned each kept event a `topic`; v2 leaves topics to diagnosis, which derives them
//!   from the event's reason and message. The field is dropped.
//! - v2 records `clients.min_intervals` (intervals needed to call errors consistent), a
//!   property of the rate source: 2 for three scrapes, 3 otherwise, as v1 used.
//!
//! Everything else is the same shape. The migration works on the JSON value, so fields it
//! does not know pass through to the v2 reader, which reports them if they are wrong.

use serde_json::Value;

use super::BUNDLE_SCHEMA;

/// Rewrites a version 1 bundle (as JSON) into version 2. Values that are not of the expected
/// shape are left for the v2 reader to refuse with a field-level message.
pub fn v1_to_v2(mut v: Value) -> Value {
    let Some(root) = v.as_object_mut() else {
        return v;
    };
    root.insert("schema".into(), Value::String(BUNDLE_SCHEMA.into()));
    if let Some(clients) = root.get_mut("clients").and_then(Value::as_object_mut) {
        let scraped = clients
            .get("source")
            .and_then(|s| s.get("kind"))
            .and_then(Value::as_str)
            == Some("scrape");
        clients
            .entry("min_intervals")
            .or_insert(Value::from(if scraped { 2 } else { 3 }));
    }
    if let Some(m) = root
        .get_mut("server_metrics")
        .and_then(Value::as_object_mut)
    {
        let signals = m.remove("signals").unwrap_or(Value::Array(Vec::new()));
        m.insert("recorded_signals".into(), signals);
        m.entry("series").or_insert(Value::Array(Vec::new()));
    }
    if let Some(kept) = root
        .get_mut("events")
        .and_then(|e| e.get_mut("kept"))
        .and_then(Value::as_array_mut)
    {
        for e in kept.iter_mut().filter_map(Value::as_object_mut) {
            e.remove("topic");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BUNDLE_SCHEMA_V1, Bundle, RateSource};

    fn v1_fixture() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/bundles/apf-throttle.json"
        );
        std::fs::read(path).expect("the recorded apf-throttle bundle")
    }

    #[test]
    fn a_recorded_v1_bundle_reads_as_v2() {
        let bytes = v1_fixture();
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(raw["schema"], BUNDLE_SCHEMA_V1);
        let v1_signals = raw["server_metrics"]["signals"].as_array().unwrap().len();
        assert!(v1_signals > 0, "the fixture holds judged signals");

        let b = Bundle::from_json(&bytes).expect("a v1 bundle loads");
        assert_eq!(b.schema, BUNDLE_SCHEMA);
        let m = b.server_metrics.as_ref().unwrap();
        assert_eq!(m.recorded_signals.as_ref().map(Vec::len), Some(v1_signals));
        assert!(m.series.is_empty());
        let c = b.clients.as_ref().unwrap();
        assert!(matches!(c.source, RateSource::Prometheus { .. }));
        assert_eq!(c.min_intervals, 3);
        // Written back, it is a v2 bundle that reads the same.
        let again = Bundle::from_json(&serde_json::to_vec(&b).unwrap()).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn scrape_sources_need_two_intervals_and_topics_go() {
        let v = serde_json::json!({
            "schema": BUNDLE_SCHEMA_V1,
            "clients": {"source": {"kind": "scrape", "interval_seconds": 5.0}},
            "events": {"kept": [{"reason": "x", "topic": "quota"}]},
            "server_metrics": {"signals": [{"kind": "server5xx"}]}
        });
        let out = v1_to_v2(v);
        assert_eq!(out["schema"], BUNDLE_SCHEMA);
        assert_eq!(out["clients"]["min_intervals"], 2);
        assert!(out["events"]["kept"][0].get("topic").is_none());
        assert_eq!(
            out["server_metrics"]["recorded_signals"][0]["kind"],
            "server5xx"
        );
        assert!(out["server_metrics"].get("signals").is_none());
    }

    #[test]
    fn shapes_it_does_not_know_pass_through() {
        assert_eq!(v1_to_v2(Value::from(3)), Value::from(3));
        let out = v1_to_v2(serde_json::json!({"clients": "odd"}));
        assert_eq!(out["clients"], "odd");
    }
}
