//! Prometheus HTTP API answers (`/api/v1/query`, `/api/v1/query_range`), parsed: the pure half
//! of kube-doctor's Prometheus client. The I/O crate sends the request and hands the body here.
//!
//! Shape (Prometheus documentation, "HTTP API", "Expression query result formats"):
//! `{"status": "success" | "error", "data": {"resultType": "matrix" | "vector" | ...,
//! "result": [...]}, "errorType": "...", "error": "..."}`; a matrix entry is
//! `{"metric": {labels}, "values": [[unix_seconds, "value"], ...]}`, a vector entry
//! `{"metric": {labels}, "value": [unix_seconds, "value"]}`. Values are strings so that
//! `NaN`, `+Inf` and `-Inf` survive JSON; they parse to the f64 values of those names.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

/// One series of a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// (time, value), in the order Prometheus gave them (time order).
    pub points: Vec<(Timestamp, f64)>,
}

/// One sample of an instant query.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
}

/// Why an answer could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    /// Not the Prometheus API's envelope.
    #[error("did not answer like the Prometheus API (HTTP {status}, body starts {start})")]
    NotPrometheus {
        /// The HTTP status.
        status: u16,
        /// The body's first characters, escaped.
        start: String,
    },
    /// Prometheus answered with an error.
    #[error("Prometheus refused the query ({error_type}): {message}")]
    Refused {
        /// `errorType` (bad_data, timeout, execution...).
        error_type: String,
        /// `error`, escaped and cut.
        message: String,
    },
    /// A successful answer of another shape than asked for.
    #[error("expected a {expected} result, got {got}")]
    Shape {
        /// What the query should give.
        expected: &'static str,
        /// What came.
        got: String,
    },
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<Data>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct MatrixEntry {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct VectorEntry {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

fn envelope(status: u16, body: &[u8], expected: &'static str) -> Result<Data, AnswerError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|_| AnswerError::NotPrometheus {
        status,
        start: crate::escape::one_line(&String::from_utf8_lossy(&body[..body.len().min(60)]), 60),
    })?;
    if env.status != "success" {
        return Err(AnswerError::Refused {
            error_type: crate::escape::one_line(env.error_type.as_deref().unwrap_or("?"), 40),
            message: crate::escape::one_line(env.error.as_deref().unwrap_or(&env.status), 300),
        });
    }
    let data = env.data.ok_or(AnswerError::Shape {
        expected,
        got: "no data".to_string(),
    })?;
    if data.result_type != expected {
        return Err(AnswerError::Shape {
            expected,
            got: crate::escape::one_line(&data.result_type, 40),
        });
    }
    Ok(data)
}

fn shape(expected: &'static str, e: serde_json::Error) -> AnswerError {
    AnswerError::Shape {
        expected,
        got: crate::escape::one_line(&e.to_string(), 200),
    }
}

/// Parses a `query_range` answer. Points whose value is not a number are dropped.
pub fn parse_range(status: u16, body: &[u8]) -> Result<Vec<RangeSeries>, AnswerError> {
    let data = envelope(status, body, "matrix")?;
    let entries: Vec<MatrixEntry> =
        serde_json::from_value(data.result).map_err(|e| shape("matrix", e))?;
    Ok(entries
        .into_iter()
        .map(|e| RangeSeries {
            labels: e.metric,
            points: e
                .values
                .into_iter()
                .filter_map(|(t, v)| Some((from_seconds(t)?, v.parse().ok()?)))
                .collect(),
        })
        .collect())
}

/// Parses an instant `query` answer. Samples whose value is not a number are dropped.
pub fn parse_instant(status: u16, body: &[u8]) -> Result<Vec<InstantSample>, AnswerError> {
    let data = envelope(status, body, "vector")?;
    let entries: Vec<VectorEntry> =
        serde_json::from_value(data.result).map_err(|e| shape("vector", e))?;
    Ok(entries
        .into_iter()
        .filter_map(|e| {
            Some(InstantSample {
                labels: e.metric,
                value: e.value.1.parse().ok()?,
            })
        })
        .collect())
}

/// A timestamp as Prometheus takes it: Unix seconds with milliseconds.
pub fn seconds(t: Timestamp) -> String {
    format!("{:.3}", t.as_millisecond() as f64 / 1000.0)
}

fn from_seconds(t: f64) -> Option<Timestamp> {
    if !t.is_finite() {
        return None;
    }
    Timestamp::from_millisecond((t * 1000.0).round() as i64).ok()
}

/// A PromQL string literal: `"..."` with backslashes, quotes and newlines escaped, so a value
/// from the cluster or the command line cannot end the string and inject PromQL.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_answer_parses_with_special_values() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"a","code":"200"},"values":[[1700000000,"1"],[1700000015.5,"NaN"],[1700000030,"+Inf"],[1700000045,"x"]]}]}}"#;
        let s = parse_range(200, body).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].labels["job"], "a");
        assert_eq!(s[0].points.len(), 3, "the unparsable point is dropped");
        assert_eq!(s[0].points[0].1, 1.0);
        assert!(s[0].points[1].1.is_nan());
        assert_eq!(
            s[0].points[1].0,
            Timestamp::from_millisecond(1_700_000_015_500).unwrap()
        );
        assert!(s[0].points[2].1.is_infinite());
    }

    #[test]
    fn errors_say_what_came() {
        let e = parse_instant(502, b"<html>bad gateway\n\x1b[2J</html>").unwrap_err();
        assert!(matches!(e, AnswerError::NotPrometheus { status: 502, .. }));
        assert!(
            !e.to_string().contains('\n') && !e.to_string().contains('\x1b'),
            "{e}"
        );
        let e = parse_instant(
            400,
            br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Prometheus refused the query (bad_data): parse error at char 3"
        );
        let e = parse_instant(
            200,
            br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "expected a vector result, got matrix");
        let e = parse_range(
            200,
            br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":1}]}}"#,
        )
        .unwrap_err();
        assert!(matches!(e, AnswerError::Shape { .. }), "{e}");
    }

    #[test]
    fn string_literals_cannot_be_escaped_from() {
        assert_eq!(string_literal("plain"), "\"plain\"");
        assert_eq!(
            string_literal("a\"}) or vector(1) #"),
            "\"a\\\"}) or vector(1) #\""
        );
        assert_eq!(string_literal("back\\slash\n"), "\"back\\\\slash\\n\"");
    }
}
