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
    #[error("did not answer like the Prometheus API (HTTP {status}, {why}, body starts {start})")]
    NotPrometheus {
        /// The HTTP status.
        status: u16,
        /// What is wrong with the body, from the JSON parser's class of error and position
        /// (never the parser's message, which can quote the body; [`crate::escape::json_fault`]):
        /// "cut short: JSON ends at line 1 column 8584", "not JSON (line 1 column 1)",
        /// "JSON of another shape".
        why: String,
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
    #[serde(default, rename = "data")]
    raw_data: Option<serde_json::Value>,
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

/// The `data` of a successful answer, or why there is none.
fn envelope_data(
    status: u16,
    body: &[u8],
    expected: &'static str,
) -> Result<serde_json::Value, AnswerError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| AnswerError::NotPrometheus {
        status,
        why: crate::escape::json_fault(&e).unwrap_or_else(|| "JSON of another shape".to_string()),
        start: crate::escape::one_line(&String::from_utf8_lossy(&body[..body.len().min(60)]), 60),
    })?;
    if env.status != "success" {
        return Err(AnswerError::Refused {
            error_type: crate::escape::one_line(env.error_type.as_deref().unwrap_or("?"), 40),
            message: crate::escape::one_line(env.error.as_deref().unwrap_or(&env.status), 300),
        });
    }
    env.raw_data.ok_or(AnswerError::Shape {
        expected,
        got: "no data".to_string(),
    })
}

fn envelope(status: u16, body: &[u8], expected: &'static str) -> Result<Data, AnswerError> {
    let raw = envelope_data(status, body, expected)?;
    let data: Data = serde_json::from_value(raw).map_err(|e| shape(expected, e))?;
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

/// Whether `name` is a valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Label matchers put on every selector of a query: the cluster (`--cluster`), the API
/// server's job. Values are PromQL string literals ([`string_literal`]), so nothing typed or
/// read from the cluster can end a selector and inject PromQL; label names are checked with
/// [`valid_label_name`] by whoever builds one (a name that is not valid is left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matchers(Vec<String>);

impl Matchers {
    /// No matcher.
    pub fn none() -> Matchers {
        Matchers::default()
    }

    /// These matchers and `label="value"` (left out when `label` is not a label name).
    pub fn eq(mut self, label: &str, value: &str) -> Matchers {
        if valid_label_name(label) {
            self.0.push(format!("{label}={}", string_literal(value)));
        }
        self
    }

    /// These matchers and `label=~"a|b"` for the exact values given (each escaped as a
    /// regular expression and as a string literal).
    pub fn one_of(mut self, label: &str, values: &[&str]) -> Matchers {
        if valid_label_name(label) && !values.is_empty() {
            let alternatives: Vec<String> = values.iter().map(|v| regex_quote(v)).collect();
            self.0.push(format!(
                "{label}=~{}",
                string_literal(&alternatives.join("|"))
            ));
        }
        self
    }

    /// `metric{matchers, extra...}`: a selector with these matchers and `extra` (PromQL
    /// matchers written by kube-doctor, such as `code=~"5.."`).
    pub fn selector(&self, metric: &str, extra: &[&str]) -> String {
        let all: Vec<&str> = self
            .0
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect();
        if all.is_empty() {
            metric.to_string()
        } else {
            format!("{metric}{{{}}}", all.join(", "))
        }
    }

    /// Whether there is no matcher.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `s` with the characters RE2 gives a meaning escaped, so it matches only itself.
pub fn regex_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A PromQL duration of whole milliseconds (`7500ms`), at least 1 ms.
pub fn duration_ms(d: std::time::Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// One alerting rule as Prometheus' `/api/v1/rules` describes it (Prometheus documentation,
/// "Rules": `data.groups[].rules[]` with `type: "alerting"`; Thanos and Mimir's ruler answer
/// the same shape).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// `name`: the alert name.
    pub name: String,
    /// `query`: the rule's expression.
    pub query: String,
    /// `duration`: the rule's `for:`, seconds.
    pub for_seconds: f64,
    /// The group's evaluation `interval`, seconds (`None` when not given).
    pub interval_seconds: Option<f64>,
    /// `labels`: the labels the rule adds.
    pub labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RulesData {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct RuleGroup {
    #[serde(default)]
    interval: Option<f64>,
    #[serde(default)]
    rules: Vec<serde_json::Value>,
}

/// Parses a `/api/v1/rules` answer into its alerting rules (recording rules are skipped).
pub fn parse_rules(status: u16, body: &[u8]) -> Result<Vec<AlertRule>, AnswerError> {
    let raw = envelope_data(status, body, "rules")?;
    let data: RulesData = serde_json::from_value(raw).map_err(|e| shape("rules", e))?;
    let mut out = Vec::new();
    for g in data.groups {
        for r in g.rules {
            if r.get("type").and_then(|t| t.as_str()) != Some("alerting") {
                continue;
            }
            let text = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            out.push(AlertRule {
                name: text("name").to_string(),
                query: text("query").to_string(),
                for_seconds: r.get("duration").and_then(|v| v.as_f64()).unwrap_or(0.0),
                interval_seconds: g.interval,
                labels: r
                    .get("labels")
                    .and_then(|l| serde_json::from_value(l.clone()).ok())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// The longest range selector (`[5m]`, `[1h30m]`) of a PromQL expression, the lookback a rule
/// reads before each evaluation; `None` when it has none.
pub fn longest_range(expr: &str) -> Option<std::time::Duration> {
    let mut best: Option<std::time::Duration> = None;
    let mut rest = expr;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        // A subquery's range is the part before ':'.
        let inside = after[..close].split(':').next().unwrap_or_default().trim();
        if let Some(d) = promql_duration(inside) {
            best = Some(best.map_or(d, |b| b.max(d)));
        }
        rest = &after[close..];
    }
    best
}

/// A PromQL duration (`90s`, `5m`, `1h30m`, `1d`, `250ms`) as a `Duration`.
pub fn promql_duration(s: &str) -> Option<std::time::Duration> {
    let mut total_ms: u64 = 0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit_ms = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 7 * 86_400_000,
            'y' => 365 * 86_400_000,
            _ => return None,
        };
        total_ms = total_ms.checked_add(n.checked_mul(unit_ms)?)?;
        any = true;
    }
    (any && num.is_empty()).then(|| std::time::Duration::from_millis(total_ms))
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
        assert!(e.to_string().contains("not JSON (line 1 column 1)"), "{e}");
        let cut = parse_range(
            200,
            br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"x"#,
        )
        .unwrap_err();
        assert!(e.to_string().len() < 300);
        assert!(
            cut.to_string()
                .contains("cut short: JSON ends at line 1 column"),
            "{cut}"
        );
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

    #[test]
    fn matchers_scope_every_selector_and_cannot_be_escaped() {
        let m = Matchers::none().eq("cluster", "prod\"} or vector(1) #");
        assert_eq!(
            m.selector("up", &["code=~\"5..\""]),
            "up{cluster=\"prod\\\"} or vector(1) #\", code=~\"5..\"}"
        );
        assert_eq!(Matchers::none().selector("up", &[]), "up");
        // A label name that is not one is left out rather than written into the query.
        assert!(Matchers::none().eq("clu ster", "x").is_empty());
        assert!(valid_label_name("_cluster1") && !valid_label_name("1x") && !valid_label_name(""));
        let m = Matchers::none().one_of("instance", &["10.0.0.1:6443", "[fd00::1]:6443"]);
        assert_eq!(
            m.selector("up", &[]),
            "up{instance=~\"10\\\\.0\\\\.0\\\\.1:6443|\\\\[fd00::1\\\\]:6443\"}"
        );
        assert_eq!(
            duration_ms(std::time::Duration::from_millis(7500)),
            "7500ms"
        );
    }

    #[test]
    fn rule_lookbacks_and_durations() {
        assert_eq!(
            longest_range("sum(rate(x[5m])) / sum(rate(x[1h30m])) > 0.01"),
            Some(std::time::Duration::from_secs(5400))
        );
        assert_eq!(
            longest_range("max_over_time(rate(x[1m])[10m:30s])"),
            Some(std::time::Duration::from_secs(600))
        );
        assert_eq!(longest_range("up == 0"), None);
        assert_eq!(
            promql_duration("250ms"),
            Some(std::time::Duration::from_millis(250))
        );
        assert_eq!(
            promql_duration("1d"),
            Some(std::time::Duration::from_secs(86400))
        );
        assert_eq!(promql_duration("5"), None);
        assert_eq!(promql_duration("5x"), None);
    }

    /// `/api/v1/rules` as Prometheus documents it: alerting and recording rules in groups.
    #[test]
    fn the_rules_api_gives_for_interval_and_expression() {
        let body = br#"{"status":"success","data":{"groups":[{"name":"kubernetes-system-clients","file":"/etc/rules.yaml","interval":30,"limit":0,
          "rules":[{"state":"firing","name":"KubeClientErrors","query":"(sum(rate(rest_client_requests_total{code=~\"5..\"}[5m])) by (instance, job) / sum(rate(rest_client_requests_total[5m])) by (instance, job)) > 0.01",
             "duration":900,"keepFiringFor":0,"labels":{"severity":"warning"},"annotations":{},"alerts":[],"health":"ok","type":"alerting"},
            {"name":"code_resource:apiserver_request_total:rate5m","query":"sum(x)","health":"ok","type":"recording"}]}]}}"#;
        let rules = parse_rules(200, body).unwrap();
        assert_eq!(rules.len(), 1, "recording rules are skipped");
        let r = &rules[0];
        assert_eq!(r.name, "KubeClientErrors");
        assert_eq!(r.for_seconds, 900.0);
        assert_eq!(r.interval_seconds, Some(30.0));
        assert_eq!(r.labels["severity"], "warning");
        assert!(r.query.contains("code=~\"5..\""));
        let e = parse_rules(403, b"Forbidden").unwrap_err();
        assert!(matches!(e, AnswerError::NotPrometheus { status: 403, .. }));
    }
}
