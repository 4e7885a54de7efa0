//! Where `serve`'s reports go besides the store: a `KubeDoctorDiagnosis` Warning Event on each
//! failing client pod the top verdict names (serve's only write to the cluster), and an
//! optional Slack-compatible chat message.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::Api;
use kube::api::PostParams;
use kube_doctor_core::report::Report;

use crate::source::kube::{Kube, Perm, StepCtx};

/// Where reports go besides the store.
pub struct Sinks {
    /// Creates Events on client pods, when enabled.
    pub kube: Option<Kube>,
    /// Posts chat messages, when configured.
    pub notifier: Option<Notifier>,
}

/// A Kubernetes Event on each failing client pod the report names, with the verdict.
pub async fn announce(kube: &Kube, r: &Report) -> Result<(), String> {
    let Some(top) = r.top().filter(|_| r.problem_found()) else {
        return Ok(());
    };
    for c in &r.clients {
        let kube_doctor_core::bundle::Target::Pod {
            namespace, name, ..
        } = &c.target
        else {
            continue;
        };
        if !top.clients.contains(&c.id) {
            continue;
        }
        let now = Timestamp::now();
        let message: String = format!(
            "{} ({:.0}%): {}",
            top.cause,
            top.confidence * 100.0,
            top.summary
        )
        .chars()
        .take(1000)
        .collect();
        let event = Event {
            metadata: ObjectMeta {
                generate_name: Some(format!("{name}.kube-doctor.")),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                namespace: Some(namespace.clone()),
                name: Some(name.clone()),
                api_version: Some("v1".into()),
                ..Default::default()
            },
            reason: Some("KubeDoctorDiagnosis".into()),
            message: Some(message),
            type_: Some("Warning".into()),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            action: Some("Diagnosed".into()),
            reporting_component: Some("kube-doctor".into()),
            reporting_instance: Some("kube-doctor".into()),
            source: Some(EventSource {
                component: Some("kube-doctor".into()),
                host: None,
            }),
            ..Default::default()
        };
        let ctx = StepCtx::new(0, Duration::from_secs(10));
        kube.call(
            &ctx,
            Perm::ns("", "events", "create", namespace),
            |client| {
                let (ev, ns) = (event.clone(), namespace.clone());
                async move {
                    Api::<Event>::namespaced(client, &ns)
                        .create(&PostParams::default(), &ev)
                        .await
                }
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Posts a Slack-compatible message (`{"text": ...}`) for each report with a problem.
pub struct Notifier {
    http: reqwest::Client,
    url: String,
}

impl Notifier {
    /// A notifier posting to `url` (a secret: never printed or logged).
    pub fn new(url: String) -> anyhow::Result<Notifier> {
        let parsed = url::Url::parse(&url)
            .map_err(|e| anyhow::anyhow!("--notify-webhook is not a URL ({e}); give it like https://hooks.slack.com/services/..."))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("--notify-webhook is not an http(s) URL");
        }
        Ok(Notifier {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| anyhow::anyhow!("cannot build an HTTP client: {e}"))?,
            url,
        })
    }

    /// Posts the report's top verdict, if it names a problem. Failures are logged without
    /// the URL.
    pub async fn post(&self, r: &Report) {
        let Some(top) = r.top().filter(|_| r.problem_found()) else {
            return;
        };
        let text = format!(
            "*KubeClientErrors* — {} ({:.0}%): {}\nDo: {}",
            top.cause,
            top.confidence * 100.0,
            top.summary,
            top.remediation
                .first()
                .map(|s| s.lines().next().unwrap_or_default())
                .unwrap_or_default()
        );
        if let Err(e) = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({"text": text}))
            .send()
            .await
        {
            tracing::warn!(error = %kube_doctor_core::escape::error_chain(&e.without_url(), 1000), "could not post the notification");
        }
    }
}
