//! API Priority and Fairness matching (playbook step 8): which FlowSchema, and so which
//! priority level, a client's requests fall into. FlowSchemas are tried by ascending
//! matchingPrecedence (ties by name, as the API server breaks them); the first whose rules
//! match the request's subject and verb/resource wins.

use crate::bundle::{FlowResourceRule, FlowSchemaInfo, FlowSubject};

/// A request to classify.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// User name.
    pub user: &'a str,
    /// Groups.
    pub groups: &'a [String],
    /// Verb.
    pub verb: &'a str,
    /// API group.
    pub api_group: &'a str,
    /// Resource.
    pub resource: &'a str,
    /// Namespace, `None` for cluster scope.
    pub namespace: Option<&'a str>,
}

fn subject_matches(s: &FlowSubject, user: &str, groups: &[String]) -> bool {
    match s {
        FlowSubject::User { name } => name == "*" || name == user,
        FlowSubject::Group { name } => name == "*" || groups.iter().any(|g| g == name),
        FlowSubject::ServiceAccount { namespace, name } => user
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(ns, n)| ns == namespace && (name == "*" || name == n)),
    }
}

fn has(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x == "*" || x == v)
}

fn rule_matches(r: &FlowResourceRule, req: &Request<'_>) -> bool {
    has(&r.verbs, req.verb)
        && has(&r.api_groups, req.api_group)
        && has(&r.resources, req.resource)
        && match req.namespace {
            Some(ns) => has(&r.namespaces, ns),
            None => r.cluster_scope,
        }
}

/// The FlowSchema a request falls into.
pub fn match_flow_schema<'s>(
    schemas: &'s [FlowSchemaInfo],
    req: &Request<'_>,
) -> Option<&'s FlowSchemaInfo> {
    let mut ordered: Vec<&FlowSchemaInfo> = schemas.iter().collect();
    ordered.sort_by(|a, b| a.precedence.cmp(&b.precedence).then(a.name.cmp(&b.name)));
    ordered.into_iter().find(|fs| {
        fs.rules.iter().any(|rule| {
            rule.subjects
                .iter()
                .any(|s| subject_matches(s, req.user, req.groups))
                && rule.resource_rules.iter().any(|r| rule_matches(r, req))
        })
    })
}

/// The groups the API server gives a ServiceAccount user, or just `system:authenticated`.
pub fn default_groups(user: &str) -> Vec<String> {
    let mut g = vec!["system:authenticated".to_string()];
    if let Some(rest) = user.strip_prefix("system:serviceaccount:")
        && let Some((ns, _)) = rest.split_once(':')
    {
        g.push("system:serviceaccounts".to_string());
        g.push(format!("system:serviceaccounts:{ns}"));
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::FlowRule;

    fn fs(name: &str, precedence: i32, pl: &str, subjects: Vec<FlowSubject>) -> FlowSchemaInfo {
        FlowSchemaInfo {
            name: name.into(),
            precedence,
            priority_level: pl.into(),
            distinguisher: Some("ByUser".into()),
            created_at: None,
            rules: vec![FlowRule {
                subjects,
                resource_rules: vec![FlowResourceRule {
                    verbs: vec!["*".into()],
                    api_groups: vec!["*".into()],
                    resources: vec!["*".into()],
                    namespaces: vec!["*".into()],
                    cluster_scope: true,
                }],
                non_resource_rules: vec![],
            }],
        }
    }

    #[test]
    fn lowest_precedence_matching_schema_wins() {
        let schemas = vec![
            fs(
                "catch-all",
                10000,
                "catch-all",
                vec![FlowSubject::Group {
                    name: "system:authenticated".into(),
                }],
            ),
            fs(
                "jail",
                500,
                "lab-jail",
                vec![FlowSubject::User {
                    name: "alice".into(),
                }],
            ),
            fs(
                "sa",
                600,
                "workload-low",
                vec![FlowSubject::ServiceAccount {
                    namespace: "demo".into(),
                    name: "*".into(),
                }],
            ),
        ];
        let groups = default_groups("alice");
        let req = Request {
            user: "alice",
            groups: &groups,
            verb: "list",
            api_group: "",
            resource: "pods",
            namespace: Some("demo"),
        };
        assert_eq!(match_flow_schema(&schemas, &req).unwrap().name, "jail");
        let user = "system:serviceaccount:demo:app";
        let groups = default_groups(user);
        let req = Request {
            user,
            groups: &groups,
            ..req
        };
        assert_eq!(
            match_flow_schema(&schemas, &req).unwrap().priority_level,
            "workload-low"
        );
        let groups = default_groups("bob");
        let req = Request {
            user: "bob",
            groups: &groups,
            ..req
        };
        assert_eq!(match_flow_schema(&schemas, &req).unwrap().name, "catch-all");
    }
}
