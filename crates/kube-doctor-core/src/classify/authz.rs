//! Who was denied what: the user, verb, resource, API group and namespace of an RBAC denial
//! ("User \"x\" cannot list resource \"pods\" in API group \"\" in the namespace \"demo\""), so
//! that diagnosis can ask a SubjectAccessReview and write the Role that fixes it.
//!
//! Lines come with their quotes escaped to any depth (plain text, JSON, Debug-printed JSON), so
//! every quote in the pattern accepts leading backslashes.

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

/// One RBAC denial as the API server phrased it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AuthzDenial {
    /// The user the API server authenticated ("system:serviceaccount:demo:app").
    pub user: String,
    /// The verb that was denied (list, get, watch, create...).
    pub verb: String,
    /// The resource ("pods"), empty for non-resource URLs.
    pub resource: String,
    /// The subresource ("log" of "pods/log"), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// The API group ("" for the core group), when the message names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// The namespace, `None` at the cluster scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A non-resource URL ("/metrics"), for `cannot get path` denials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

pub(crate) struct AuthzExtractor {
    re: Regex,
}

const Q: &str = r#"\\*""#;

impl AuthzExtractor {
    pub(crate) fn new() -> AuthzExtractor {
        let v = r#"[^"\\]"#;
        let pattern = format!(
            r#"(?i)user {Q}(?P<user>{v}+){Q} cannot (?P<verb>[a-z]+) (?:resource {Q}(?P<res>{v}+){Q}(?: in api group {Q}(?P<group>{v}*){Q})?|path {Q}(?P<path>{v}+){Q}|(?P<oldres>[a-z0-9][a-z0-9./-]*))(?: in the namespace {Q}(?P<ns>{v}+)(?:{Q})?)?"#
        );
        AuthzExtractor {
            re: Regex::new(&pattern).expect("authz pattern is valid"),
        }
    }

    pub(crate) fn extract(&self, line: &[u8]) -> Option<AuthzDenial> {
        let caps = self.re.captures(line)?;
        let text = |name: &str| {
            caps.name(name)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        };
        let user = text("user")?;
        let verb = text("verb")?.to_ascii_lowercase();
        let mut api_group = text("group");
        let (resource, path) = match (text("res"), text("path"), text("oldres")) {
            (Some(r), _, _) => (r, None),
            (None, Some(p), _) => (String::new(), Some(p)),
            (None, None, Some(old)) => {
                // Old form: "cannot list pods.metrics.k8s.io at the cluster scope".
                match old.split_once('.') {
                    Some((r, g)) if api_group.is_none() => {
                        api_group = Some(g.to_string());
                        (r.to_string(), None)
                    }
                    _ => (old, None),
                }
            }
            (None, None, None) => return None,
        };
        let (resource, subresource) = match resource.split_once('/') {
            Some((r, s)) => (r.to_string(), Some(s.to_string())),
            None => (resource, None),
        };
        Some(AuthzDenial {
            user,
            verb,
            resource,
            subresource,
            api_group,
            namespace: text("ns"),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(line: &str) -> AuthzDenial {
        AuthzExtractor::new()
            .extract(line.as_bytes())
            .unwrap_or_else(|| panic!("no denial found in {line}"))
    }

    #[test]
    fn current_message_with_namespace() {
        let d = x(
            r#"pods is forbidden: User "system:serviceaccount:demo:app" cannot list resource "pods" in API group "" in the namespace "demo""#,
        );
        assert_eq!(d.user, "system:serviceaccount:demo:app");
        assert_eq!(d.verb, "list");
        assert_eq!(d.resource, "pods");
        assert_eq!(d.api_group.as_deref(), Some(""));
        assert_eq!(d.namespace.as_deref(), Some("demo"));
    }

    #[test]
    fn escaped_quotes_cluster_scope_and_subresource() {
        let d = x(
            r#"{"msg":"deployments.apps is forbidden: User \"u\" cannot get resource \"deployments/scale\" in API group \"apps\" at the cluster scope"}"#,
        );
        assert_eq!(d.user, "u");
        assert_eq!(d.resource, "deployments");
        assert_eq!(d.subresource.as_deref(), Some("scale"));
        assert_eq!(d.api_group.as_deref(), Some("apps"));
        assert_eq!(d.namespace, None);
        let d = x(
            r#"message: "pods is forbidden: User \\\"x\\\" cannot watch resource \\\"pods\\\" in API group \\\"\\\" in the namespace \\\"n\\\"""#,
        );
        assert_eq!(d.user, "x");
        assert_eq!(d.namespace.as_deref(), Some("n"));
    }

    #[test]
    fn old_forms_and_paths() {
        let d = x(
            r#"pods is forbidden: User "system:serviceaccount:default:default" cannot list pods at the cluster scope"#,
        );
        assert_eq!(d.resource, "pods");
        assert_eq!(d.api_group, None);
        let d = x(
            r#"nodes.metrics.k8s.io is forbidden: User "(...)" cannot list nodes.metrics.k8s.io at the cluster scope"#,
        );
        assert_eq!(d.resource, "nodes");
        assert_eq!(d.api_group.as_deref(), Some("metrics.k8s.io"));
        let d = x(r#"Forbidden! User "xxxxxxx" cannot get path "/"."#);
        assert_eq!(d.path.as_deref(), Some("/"));
        assert_eq!(d.resource, "");
    }
}
