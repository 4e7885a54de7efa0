//! Naming the API server's callees: when the failing client is the API server itself (its
//! `rest_client_requests_total` by `host`), the host is an admission webhook or an aggregated
//! API. This maps a `host` label to the webhook configuration or APIService behind it.

use crate::bundle::{ApiServiceInfo, Callee, WebhookConfig};

/// Who `host` (as in the `host` label: `host:port` or a service DNS name) is, for the API
/// server at `own` (its `instance`, `address:port`, when known). The API server's loopback
/// client dials 127.0.0.1/localhost when it binds every address, else its own bind address:
/// `own` itself.
pub fn name_callee(
    host: &str,
    own: Option<&str>,
    webhooks: &[WebhookConfig],
    api_services: &[ApiServiceInfo],
) -> Callee {
    let bare = host.split(':').next().unwrap_or(host);
    // The loopback client dials the API server's own port: another port on 127.0.0.1 is
    // another server (a webhook whose configuration is gone, say).
    let port = |h: &str| h.rsplit_once(':').map(|(_, p)| p.to_string());
    let own_port = own.is_none_or(|o| port(o) == port(host));
    if (bare == "127.0.0.1" || bare == "localhost" || bare == "[::1]") && own_port
        || own == Some(host)
    {
        // The loopback client, unless a webhook is served on loopback too.
        if let Some(w) = webhooks.iter().find(|w| w.host.as_deref() == Some(host)) {
            return webhook(w);
        }
        return Callee::Loopback;
    }
    if let Some(w) = webhooks.iter().find(|w| {
        w.host.as_deref() == Some(host)
            || w.host
                .as_deref()
                .is_some_and(|h| h.split(':').next() == Some(bare))
    }) {
        return webhook(w);
    }
    // Services are called as name.namespace.svc[:port].
    if let Some(a) = api_services.iter().find(|a| {
        a.service.as_deref().is_some_and(|svc| {
            let (ns, name) = svc.split_once('/').unwrap_or(("", svc));
            bare == format!("{name}.{ns}.svc") || bare.starts_with(&format!("{name}.{ns}."))
        })
    }) {
        return Callee::ApiService {
            name: a.name.clone(),
        };
    }
    Callee::Unknown
}

fn webhook(w: &WebhookConfig) -> Callee {
    Callee::Webhook {
        configuration: w.configuration.clone(),
        webhook: w.webhook.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wh(host: &str) -> WebhookConfig {
        WebhookConfig {
            configuration: "cfg".into(),
            kind: "validating".into(),
            webhook: "w.example.com".into(),
            client: format!("https://{host}/validate"),
            host: Some(host.into()),
            timeout_seconds: Some(2),
            failure_policy: Some("Fail".into()),
            created_at: None,
            rules: vec![],
            service: None,
            ca_bundle: None,
            selectors: Vec::new(),
        }
    }

    #[test]
    fn hosts_map_to_webhooks_apiservices_and_loopback() {
        let whs = [wh("127.0.0.1:17443"), wh("hook.sys.svc:443")];
        let apis = [ApiServiceInfo {
            name: "v1beta1.metrics.k8s.io".into(),
            service: Some("kube-system/metrics-server".into()),
            available: false,
            reason: None,
            message: None,
            changed_at: None,
        }];
        assert!(matches!(
            name_callee("127.0.0.1:17443", None, &whs, &apis),
            Callee::Webhook { .. }
        ));
        assert!(matches!(
            name_callee("hook.sys.svc:443", None, &whs, &apis),
            Callee::Webhook { .. }
        ));
        assert_eq!(
            name_callee("127.0.0.1:6443", None, &whs, &apis),
            Callee::Loopback
        );
        assert_eq!(
            name_callee("metrics-server.kube-system.svc:443", None, &whs, &apis),
            Callee::ApiService {
                name: "v1beta1.metrics.k8s.io".into()
            }
        );
        assert_eq!(
            name_callee("10.1.2.3:443", None, &whs, &apis),
            Callee::Unknown
        );
        // An API server bound to its node's address calls itself there.
        assert_eq!(
            name_callee("10.1.2.3:6443", Some("10.1.2.3:6443"), &whs, &apis),
            Callee::Loopback
        );
        assert_eq!(
            name_callee("10.1.2.4:6443", Some("10.1.2.3:6443"), &whs, &apis),
            Callee::Unknown
        );
        // Another port on loopback, with no webhook configured there: not the loopback.
        assert_eq!(
            name_callee("127.0.0.1:6443", Some("127.0.0.1:6443"), &whs, &apis),
            Callee::Loopback
        );
        assert_eq!(
            name_callee("127.0.0.1:17443", Some("127.0.0.1:16443"), &[], &apis),
            Callee::Unknown
        );
    }
}
