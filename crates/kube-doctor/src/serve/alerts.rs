//! Alertmanager's webhook payload (version 4), as documented by Alertmanager: what `serve`
//! accepts, and the checks that turn anything else into a 4xx with a clear message.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The webhook body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// Must be "4".
    pub version: String,
    /// Group key (logged, to trace a report back to its alert group).
    #[serde(default)]
    pub group_key: String,
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
}

/// Why a payload is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON of the payload's shape.
    #[error("the body is not an Alertmanager webhook payload: {0}")]
    Malformed(String),
    /// Another payload version.
    #[error(
        "payload version {0:?} is not supported: kube-doctor takes Alertmanager webhook payloads of version \"4\""
    )]
    Version(String),
}

/// Parses and checks a payload.
pub fn parse(body: &[u8]) -> Result<Payload, PayloadError> {
    let p: Payload =
        serde_json::from_slice(body).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    if p.version != "4" {
        return Err(PayloadError::Version(p.version));
    }
    Ok(p)
}

impl Alert {
    /// A firing KubeClientErrors alert.
    pub fn is_client_errors(&self) -> bool {
        self.labels.get("alertname").map(String::as_str) == Some("KubeClientErrors")
    }

    /// The client the alert is about: `job/instance`, the id step 3 gives it.
    pub fn client_key(&self) -> Option<String> {
        let job = self.labels.get("job")?;
        let instance = self.labels.get("instance")?;
        Some(format!("{job}/{instance}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
