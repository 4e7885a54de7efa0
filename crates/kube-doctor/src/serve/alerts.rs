//! The alert payloads `serve` accepts, and what an alert says about the investigation it asks
//! for: who (its client, and the `cluster`, `namespace`, `pod` that scope it), when (its
//! `startsAt`, from which the onset window is derived) and which form of the rule fired (from
//! the expression in its `generatorURL`).
//!
//! Payloads: Alertmanager's webhook (`"version": "4"`, Alertmanager's documentation,
//! "webhook_config"; Mimir's and Cortex' Alertmanager send the same) and Grafana-managed
//! alerting's webhook contact point (`"orgId"` present, `"version": "1"`; Grafana's
//! documentation, "Configure the webhook notifier"). Anything else is a 4xx with a clear
//! message. Every label value is cluster text: escaped before it is shown.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use kube_doctor_core::bundle::AlertForm;

pub use crate::settings::AlertContext;
use serde::Deserialize;

/// The webhook body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// "4" (Alertmanager) or "1" (Grafana-managed alerting).
    #[serde(default)]
    pub version: String,
    /// Group key (logged, to trace a report back to its alert group).
    #[serde(default)]
    pub group_key: String,
    /// Grafana's organisation id: present only in Grafana-managed alerting's payloads.
    #[serde(default)]
    pub org_id: Option<serde_json::Value>,
    /// The alerts.
    pub alerts: Vec<Alert>,
}

/// One alert.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// firing or resolved.
    pub status: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Fingerprint (logged with the admission).
    #[serde(default)]
    pub fingerprint: String,
    /// When it started firing (Prometheus sends the time the rule's `for:` was satisfied).
    #[serde(default)]
    pub starts_at: Option<String>,
    /// Where it came from: Prometheus' graph URL with the rule's expression (`g0.expr=`), or
    /// Grafana's rule page.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
}

/// Why a payload is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON of the payload's shape.
    #[error("the body is not an Alertmanager webhook payload: {0}")]
    Malformed(String),
    /// Another payload version.
    #[error(
        "payload version {0:?} is not supported: kube-doctor takes Alertmanager webhook payloads of version \"4\" and Grafana-managed alerting's webhook payloads"
    )]
    Version(String),
}

/// Parses and checks a payload.
pub fn parse(body: &[u8]) -> Result<Payload, PayloadError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let p: Payload = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| PayloadError::Malformed(why(&e.path().to_string(), e.inner())))?;
    de.end()
        .map_err(|e| PayloadError::Malformed(why(".", &e)))?;
    let grafana = p.org_id.is_some() && matches!(p.version.as_str(), "1" | "");
    if p.version != "4" && !grafana {
        return Err(PayloadError::Version(kube_doctor_core::escape::one_line(
            &p.version, 40,
        )));
    }
    Ok(p)
}

/// Why a body is not a payload, in the payload's words and a position: never the parser's
/// own message past a missing field's name, which quotes the body's values (a sender's bytes,
/// escape sequences and all) and names Rust types ("struct Payload with 4 elements").
fn why(path: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    // Where in the payload (serde_path_to_error: `alerts[0].labels`); its map keys are the
    // sender's, so escaped and cut.
    let at = match path {
        "" | "." => format!("line {} column {}", e.line(), e.column()),
        p => format!(
            "{} (line {} column {})",
            kube_doctor_core::escape::one_line(p, 100),
            e.line(),
            e.column()
        ),
    };
    const SHAPE: &str = "send Alertmanager's webhook JSON: an object with \"version\": \"4\" and an \"alerts\" list, each alert with \"status\" and \"labels\"";
    if let Some(fault) = kube_doctor_core::escape::json_fault(e) {
        return fault;
    }
    match e.classify() {
        Category::Io => "it could not be read".to_string(),
        _ => match e
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
            .filter(|f| f.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            Some(field) => format!("field \"{field}\" is missing at {at}: {SHAPE}"),
            None => format!("the value at {at} does not have the payload's shape: {SHAPE}"),
        },
    }
}

/// The rule's `for:` when the rules API cannot say (kubernetes-mixin's KubeClientErrors).
pub const UPSTREAM_FOR: Duration = Duration::from_secs(15 * 60);
/// The rule's lookback when its expression is unknown (kubernetes-mixin's `[5m]`).
pub const UPSTREAM_LOOKBACK: Duration = Duration::from_secs(5 * 60);

impl Alert {
    /// A firing KubeClientErrors alert.
    pub fn is_client_errors(&self) -> bool {
        self.labels.get("alertname").map(String::as_str) == Some("KubeClientErrors")
    }

    /// The client the alert is about: `job/instance` (the id step 3 gives it), else the
    /// `namespace/pod` it names, else its `namespace`, prefixed with `cluster/` when the alert
    /// carries a cluster. This is the de-duplication key: one investigation per client per
    /// cluster per cool-down.
    pub fn client_key(&self) -> Option<String> {
        let get = |k: &str| {
            self.labels
                .get(k)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let client = match (get("job"), get("instance"), get("namespace"), get("pod")) {
            (Some(job), Some(instance), _, _) => format!("{job}/{instance}"),
            (_, _, Some(ns), Some(pod)) => format!("{ns}/{pod}"),
            (_, _, Some(ns), None) => ns.to_string(),
            _ => return None,
        };
        Some(match get("cluster") {
            Some(c) => format!("{c}/{client}"),
            None => client,
        })
    }

    /// The expression of the rule that fired, from a Prometheus `generatorURL`
    /// (`.../graph?g0.expr=...`).
    pub fn expression(&self) -> Option<String> {
        let u = url::Url::parse(self.generator_url.as_deref()?).ok()?;
        u.query_pairs()
            .find(|(k, _)| k == "g0.expr" || k == "expr")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.trim().is_empty())
    }

    /// When it started firing; `None` when absent, unparsable or the zero time.
    pub fn starts_at(&self) -> Option<Timestamp> {
        let t: Timestamp = self.starts_at.as_deref()?.parse().ok()?;
        (t.as_second() > 0).then_some(t)
    }

    /// What the investigation needs of this alert, with the rule's `for:` and evaluation
    /// interval when the rules API told them (`None`: the upstream `for: 15m` is assumed).
    pub fn context(&self, rule: Option<&RuleTiming>) -> Option<AlertContext> {
        let key = self.client_key()?;
        let expression = self.expression().or_else(|| rule.map(|r| r.query.clone()));
        let form = expression.as_deref().map_or(AlertForm::Unknown, form_of);
        let lookback = expression
            .as_deref()
            .and_then(kube_doctor_core::prometheus::longest_range)
            .unwrap_or(UPSTREAM_LOOKBACK);
        let (for_, for_source) = match rule {
            Some(r) => (r.for_, "the rules API".to_string()),
            None => (
                UPSTREAM_FOR,
                "assumed: the upstream rule's for: 15m (the rules API did not say)".to_string(),
            ),
        };
        let interval = rule.and_then(|r| r.interval).unwrap_or(Duration::ZERO);
        let get = |k: &str| self.labels.get(k).filter(|v| !v.is_empty()).cloned();
        // With job and instance the client is named; namespace and pod only scope when the
        // alert has nothing better.
        let named = get("job").is_some() && get("instance").is_some();
        Some(AlertContext {
            name: self.labels.get("alertname").cloned().unwrap_or_default(),
            key: strip_cluster(&key, get("cluster").as_deref()),
            dedup_key: key,
            starts_at: self.starts_at(),
            form,
            expression,
            for_,
            for_source,
            lookback,
            interval,
            cluster: get("cluster"),
            namespace: get("namespace"),
            pod: if named { None } else { get("pod") },
            instance: get("instance"),
            job: get("job"),
        })
    }
}

fn strip_cluster(key: &str, cluster: Option<&str>) -> String {
    match cluster {
        Some(c) => key
            .strip_prefix(&format!("{c}/"))
            .unwrap_or(key)
            .to_string(),
        None => key.to_string(),
    }
}

/// Which form of KubeClientErrors an expression is: the current upstream one counts 5xx
/// (`code=~"5.."`), the original one everything but 2xx (`code!~"2.."`).
pub fn form_of(expr: &str) -> AlertForm {
    let compact: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
    let has = |needle: &str| compact.contains(needle);
    if has("code!~\"2..\"") || has("code!~'2..'") || has("code!~\"2[0-9]{2}\"") {
        AlertForm::NonSuccess
    } else if has("code=~\"5..\"") || has("code=~'5..'") || has("code=~\"5[0-9]{2}\"") {
        AlertForm::ServerErrors
    } else {
        AlertForm::Unknown
    }
}

/// What Prometheus' rules API says of the rule that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTiming {
    /// Its `for:`.
    pub for_: Duration,
    /// Its group's evaluation interval, when given.
    pub interval: Option<Duration>,
    /// Its expression.
    pub query: String,
}

/// The rule among `rules` that fired `alert`: same name, and the same expression when the
/// alert carries one, else the one whose added labels the alert carries (the lab's `form`).
pub fn rule_for<'a>(
    rules: &'a [kube_doctor_core::prometheus::AlertRule],
    alert: &Alert,
) -> Option<&'a kube_doctor_core::prometheus::AlertRule> {
    let name = alert.labels.get("alertname")?;
    let same_name: Vec<_> = rules.iter().filter(|r| &r.name == name).collect();
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if let Some(expr) = alert.expression() {
        let want = squash(&expr);
        if let Some(r) = same_name.iter().find(|r| squash(&r.query) == want) {
            return Some(r);
        }
    }
    let labelled: Vec<_> = same_name
        .iter()
        .filter(|r| r.labels.iter().all(|(k, v)| alert.labels.get(k) == Some(v)))
        .collect();
    match labelled.as_slice() {
        [one] => Some(one),
        _ => same_name.first().copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(labels: &[(&str, &str)], generator: Option<&str>) -> Alert {
        Alert {
            status: "firing".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fingerprint: String::new(),
            starts_at: Some("2026-11-22T03:00:00Z".into()),
            generator_url: generator.map(str::to_string),
        }
    }

    #[test]
    fn version_and_shape_are_checked() {
        assert!(matches!(
            parse(b"not json"),
            Err(PayloadError::Malformed(_))
        ));
        assert_eq!(
            parse(br#"{"version":"3","alerts":[]}"#).unwrap_err(),
            PayloadError::Version("3".into())
        );
        let p = parse(br#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"KubeClientErrors","job":"j","instance":"i"}}]}"#).unwrap();
        assert_eq!(p.alerts[0].client_key().as_deref(), Some("j/i"));
        assert!(p.alerts[0].is_client_errors());
        // The parser's words and the sender's values stay out of the answer.
        let array = parse(b"[]").unwrap_err().to_string();
        assert!(
            array.contains("the value at line 1 column 2 does not have the payload's shape")
                && array.contains("\"alerts\" list")
                && !array.contains("struct"),
            "{array}"
        );
        let hostile = parse(br#"{"version":"4","alerts":"\u001b[31mEVIL"}"#)
            .unwrap_err()
            .to_string();
        assert!(!hostile.contains("EVIL"), "{hostile}");
        let missing = parse(br#"{"version":"4"}"#).unwrap_err().to_string();
        assert!(missing.contains("field \"alerts\" is missing"), "{missing}");
        let cut = parse(br#"{"version":"4","al"#).unwrap_err().to_string();
        assert!(cut.contains("cut short"), "{cut}");
        // A wrong type deep inside is named by where it is.
        let number = parse(br#"{"version":4,"alerts":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            number.contains("the value at version (line 1 column 12)"),
            "{number}"
        );
        let labels = parse(br#"{"version":"4","alerts":[{"status":"firing","labels":{"a":1}}]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            labels.contains("the value at alerts[0].labels.a "),
            "{labels}"
        );
        // Text after the payload is no payload either.
        assert!(parse(br#"{"version":"4","alerts":[]} x"#).is_err());
        // Version 1 only from Grafana (it carries orgId).
        assert!(parse(br#"{"version":"1","alerts":[]}"#).is_err());
    }

    /// Grafana-managed alerting's webhook payload, as its documentation shows it.
    #[test]
    fn grafana_managed_payloads_are_accepted() {
        let body = br#"{"receiver":"kube-doctor","status":"firing","orgId":1,
          "alerts":[{"status":"firing","labels":{"alertname":"KubeClientErrors","cluster":"prod-eu","namespace":"shop","pod":"cart-7d9"},
            "annotations":{},"startsAt":"2026-11-22T03:00:00.157076+02:00","endsAt":"0001-01-01T00:00:00Z",
            "generatorURL":"https://grafana.example/alerting/grafana/abc/view","fingerprint":"c6eadffa33fcdf37",
            "silenceURL":"","dashboardURL":"","panelURL":"","values":{"B":0.05,"C":1}}],
          "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"https://grafana.example/",
          "version":"1","groupKey":"{}:{alertname=\"KubeClientErrors\"}","truncatedAlerts":0,
          "title":"[FIRING:1] KubeClientErrors","state":"alerting","message":"..."}"#;
        let p = parse(body).unwrap();
        let a = &p.alerts[0];
        assert_eq!(a.client_key().as_deref(), Some("prod-eu/shop/cart-7d9"));
        let c = a.context(None).unwrap();
        assert_eq!(c.key, "shop/cart-7d9");
        assert_eq!(
            c.form,
            AlertForm::Unknown,
            "Grafana's URL holds no expression"
        );
        assert_eq!(c.pod.as_deref(), Some("cart-7d9"));
        assert_eq!(
            c.starts_at,
            Some("2026-11-22T01:00:00.157076Z".parse().unwrap())
        );
    }

    #[test]
    fn keys_scope_by_cluster_namespace_and_pod() {
        let a = alert(
            &[
                ("alertname", "KubeClientErrors"),
                ("cluster", "a"),
                ("job", "apiserver"),
                ("instance", "10.0.0.1:6443"),
                ("namespace", "default"),
            ],
            None,
        );
        assert_eq!(a.client_key().as_deref(), Some("a/apiserver/10.0.0.1:6443"));
        let c = a.context(None).unwrap();
        assert_eq!(c.key, "apiserver/10.0.0.1:6443");
        assert_eq!(c.dedup_key, "a/apiserver/10.0.0.1:6443");
        assert_eq!(c.pod, None);
        let b = alert(
            &[("alertname", "KubeClientErrors"), ("namespace", "demo")],
            None,
        );
        assert_eq!(b.client_key().as_deref(), Some("demo"));
        assert_eq!(
            alert(&[("alertname", "KubeClientErrors")], None).client_key(),
            None
        );
    }

    #[test]
    fn the_expression_tells_the_form_and_the_lookback() {
        let five = "http://prometheus:9090/graph?g0.expr=%28sum%28rate%28rest_client_requests_total%7Bjob%3D%22apiserver%22%2Ccode%3D~%225..%22%7D%5B5m%5D%29%29+by+%28cluster%2C+instance%2C+job%2C+namespace%29+%2F+sum%28rate%28rest_client_requests_total%7Bjob%3D%22apiserver%22%7D%5B5m%5D%29%29+by+%28cluster%2C+instance%2C+job%2C+namespace%29%29+%3E+0.01&g0.tab=1";
        let a = alert(
            &[
                ("alertname", "KubeClientErrors"),
                ("job", "apiserver"),
                ("instance", "i"),
            ],
            Some(five),
        );
        assert!(a.expression().unwrap().contains("code=~\"5..\""));
        let c = a.context(None).unwrap();
        assert_eq!(c.form, AlertForm::ServerErrors);
        assert_eq!(c.lookback, Duration::from_secs(300));
        assert_eq!(c.for_, UPSTREAM_FOR);
        assert!(c.for_source.starts_with("assumed"));
        assert_eq!(
            form_of(
                "sum(rate(rest_client_requests_total{code!~\"2..\"}[10m])) by (job) / sum(rate(rest_client_requests_total[10m])) by (job) > 0.01"
            ),
            AlertForm::NonSuccess
        );
        assert_eq!(form_of("up == 0"), AlertForm::Unknown);
    }

    /// A 15-minute-old alert of a `for: 15m` rule over `[5m]`: the window must reach back past
    /// the 30 minutes since the errors began.
    #[test]
    fn the_onset_bound_reaches_back_over_for_and_lookback() {
        let a = alert(
            &[
                ("alertname", "KubeClientErrors"),
                ("job", "j"),
                ("instance", "i"),
            ],
            None,
        );
        let rule = RuleTiming {
            for_: Duration::from_secs(900),
            interval: Some(Duration::from_secs(30)),
            query: "sum(rate(rest_client_requests_total{code=~\"5..\"}[5m])) by (job, instance) / sum(rate(rest_client_requests_total[5m])) by (job, instance) > 0.01".into(),
        };
        let c = a.context(Some(&rule)).unwrap();
        assert_eq!(c.form, AlertForm::ServerErrors);
        assert_eq!(c.for_source, "the rules API");
        let starts: Timestamp = "2026-11-22T03:00:00Z".parse().unwrap();
        let bound = c.onset_bound().unwrap();
        assert_eq!(
            starts.duration_since(bound),
            jiff::SignedDuration::from_secs(900 + 300 + 30 + 120)
        );
        let info = c.info();
        assert_eq!(info.for_seconds, 900.0);
        assert!(info.describe().contains("5xx-only"), "{}", info.describe());
    }

    #[test]
    fn the_rule_is_found_by_expression_or_labels() {
        use kube_doctor_core::prometheus::AlertRule;
        let rule = |q: &str, form: &str| AlertRule {
            name: "KubeClientErrors".into(),
            query: q.into(),
            for_seconds: 60.0,
            interval_seconds: Some(5.0),
            labels: [("form".to_string(), form.to_string())].into(),
        };
        let rules = vec![
            rule("sum(x{code=~\"5..\"}) > 0.01", "5xx"),
            rule("sum(x{code!~\"2..\"}) > 0.01", "non2xx"),
        ];
        let a = alert(
            &[
                ("alertname", "KubeClientErrors"),
                ("form", "non2xx"),
                ("job", "j"),
                ("instance", "i"),
            ],
            None,
        );
        assert_eq!(rule_for(&rules, &a).unwrap().labels["form"], "non2xx");
        let g = "http://p/graph?g0.expr=sum%28x%7Bcode%3D~%225..%22%7D%29+%3E+0.01";
        let b = alert(
            &[
                ("alertname", "KubeClientErrors"),
                ("job", "j"),
                ("instance", "i"),
            ],
            Some(g),
        );
        assert_eq!(rule_for(&rules, &b).unwrap().labels["form"], "5xx");
    }
}
