//! Playbook step 8, pure half: quota and flow control. ResourceQuotas as used against hard,
//! FlowSchemas and PriorityLevelConfigurations as [`crate::apf`] reads them, who a client's
//! requests come as (its certificate, token or ServiceAccount from step 6), and which
//! FlowSchema they fall into. Quantities are compared with `kube_quantity` (the Kubernetes
//! quantity grammar: decimal and binary suffixes, exponents, milli-units).

use std::cmp::Ordering;

use k8s_openapi::api::core::v1::ResourceQuota;
use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube_quantity::ParsedQuantity;

use crate::apf::{self, Request};
use crate::bundle::{
    ApfMatch, ClientRates, FlowNonResourceRule, FlowResourceRule, FlowRule, FlowSchemaInfo,
    FlowSubject, LimitResponse, ObjectRef, PodCredentials, PriorityLevelInfo, QuotaAndFlowControl,
    QuotaInfo, QuotaResource,
};

/// `used` compared with `hard`, as quantities; `None` when either does not parse.
pub fn compare_quantities(used: &str, hard: &str) -> Option<Ordering> {
    let u = ParsedQuantity::try_from(&Quantity(used.to_string())).ok()?;
    let h = ParsedQuantity::try_from(&Quantity(hard.to_string())).ok()?;
    u.partial_cmp(&h)
}

/// Whether a quota resource is used up (used >= hard); `false` when unknown.
pub fn exhausted(r: &QuotaResource) -> bool {
    r.used
        .as_deref()
        .and_then(|u| compare_quantities(u, &r.hard))
        .is_some_and(|o| o != Ordering::Less)
}

/// One ResourceQuota: hard from its status (what the quota controller enforces), else its
/// spec; used from its status.
pub fn quota(q: &ResourceQuota) -> QuotaInfo {
    let hard = q
        .status
        .as_ref()
        .and_then(|s| s.hard.clone())
        .or_else(|| q.spec.as_ref().and_then(|s| s.hard.clone()))
        .unwrap_or_default();
    let used = q
        .status
        .as_ref()
        .and_then(|s| s.used.clone())
        .unwrap_or_default();
    QuotaInfo {
        quota: ObjectRef::namespaced(
            "ResourceQuota",
            q.metadata.namespace.as_deref().unwrap_or_default(),
            q.metadata.name.as_deref().unwrap_or_default(),
        ),
        created_at: q.metadata.creation_timestamp.as_ref().map(|t| t.0),
        resources: hard
            .iter()
            .map(|(res, h)| {
                let mut r = QuotaResource {
                    resource: res.clone(),
                    hard: h.0.clone(),
                    used: used.get(res).map(|x| x.0.clone()),
                    exhausted: false,
                };
                r.exhausted = exhausted(&r);
                r
            })
            .collect(),
    }
}

/// A FlowSchema, with what matching needs.
pub fn flow_schema(fs: &FlowSchema) -> FlowSchemaInfo {
    let spec = fs.spec.clone().unwrap_or_default();
    FlowSchemaInfo {
        name: fs.metadata.name.clone().unwrap_or_default(),
        precedence: spec.matching_precedence.unwrap_or(1000),
        priority_level: spec.priority_level_configuration.name.clone(),
        distinguisher: spec.distinguisher_method.map(|d| d.type_),
        created_at: fs.metadata.creation_timestamp.as_ref().map(|t| t.0),
        rules: spec
            .rules
            .unwrap_or_default()
            .into_iter()
            .map(|r| FlowRule {
                subjects: r
                    .subjects
                    .into_iter()
                    .filter_map(|s| match s.kind.as_str() {
                        "User" => Some(FlowSubject::User { name: s.user?.name }),
                        "Group" => Some(FlowSubject::Group {
                            name: s.group?.name,
                        }),
                        "ServiceAccount" => {
                            let sa = s.service_account?;
                            Some(FlowSubject::ServiceAccount {
                                namespace: sa.namespace,
                                name: sa.name,
                            })
                        }
                        _ => None,
                    })
                    .collect(),
                resource_rules: r
                    .resource_rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(|rr| FlowResourceRule {
                        verbs: rr.verbs,
                        api_groups: rr.api_groups,
                        resources: rr.resources,
                        namespaces: rr.namespaces.unwrap_or_default(),
                        cluster_scope: rr.cluster_scope.unwrap_or(false),
                    })
                    .collect(),
                non_resource_rules: r
                    .non_resource_rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(|nr| FlowNonResourceRule {
                        verbs: nr.verbs,
                        urls: nr.non_resource_urls,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A PriorityLevelConfiguration.
pub fn priority_level(pl: &PriorityLevelConfiguration) -> PriorityLevelInfo {
    let spec = pl.spec.clone().unwrap_or_default();
    let limited = spec.limited.clone();
    PriorityLevelInfo {
        name: pl.metadata.name.clone().unwrap_or_default(),
        kind: spec.type_.clone(),
        nominal_shares: limited.as_ref().and_then(|l| l.nominal_concurrency_shares),
        lendable_percent: limited.as_ref().and_then(|l| l.lendable_percent),
        borrowing_limit_percent: limited.as_ref().and_then(|l| l.borrowing_limit_percent),
        limit_response: limited
            .as_ref()
            .and_then(|l| l.limit_response.as_ref())
            .map(|r| {
                if r.type_ == "Reject" {
                    LimitResponse::Reject
                } else {
                    let q = r.queuing.as_ref();
                    LimitResponse::Queue {
                        queues: q.and_then(|q| q.queues),
                        hand_size: q.and_then(|q| q.hand_size),
                        queue_length_limit: q.and_then(|q| q.queue_length_limit),
                    }
                }
            }),
        created_at: pl.metadata.creation_timestamp.as_ref().map(|t| t.0),
        nominal_seats: None,
    }
}

/// The identity a client's requests come as: a client certificate's CN/O found in the Secrets
/// its pod mounts, else a token's subject, else its ServiceAccount.
pub fn client_identity(
    client: &ClientRates,
    creds: &[PodCredentials],
) -> Option<(String, Vec<String>)> {
    let (ns, name) = client.pod()?;
    let c = creds
        .iter()
        .find(|c| c.pod.namespace.as_deref() == Some(ns) && c.pod.name == name);
    if let Some(c) = c {
        if let Some(cert) = c
            .certificates
            .iter()
            .find(|e| !e.cert.is_ca && e.cert.common_name.is_some())
        {
            let user = cert.cert.common_name.clone()?;
            let mut groups = cert.cert.organizations.clone();
            groups.push("system:authenticated".to_string());
            return Some((user, groups));
        }
        if let Some(t) = c.tokens.iter().find_map(|t| t.claims.subject.clone()) {
            let groups = apf::default_groups(&t);
            return Some((t, groups));
        }
    }
    let user = client.user.clone()?;
    let groups = apf::default_groups(&user);
    Some((user, groups))
}

/// Which FlowSchema each failing client falls into (for a list of pods in its namespace, the
/// typical client request).
pub fn match_clients(
    q: &mut QuotaAndFlowControl,
    failing: &[ClientRates],
    creds: &[PodCredentials],
) {
    for f in failing {
        let Some((user, groups)) = client_identity(f, creds) else {
            continue;
        };
        let ns = f.pod().map(|(ns, _)| ns.to_string());
        let req = Request {
            user: &user,
            groups: &groups,
            verb: "list",
            api_group: "",
            resource: "pods",
            namespace: ns.as_deref(),
        };
        let fs = apf::match_flow_schema(&q.flow_schemas, &req);
        q.client_matches.push(ApfMatch {
            client_id: f.id.clone(),
            user: user.clone(),
            groups: groups.clone(),
            request: format!("list pods in {}", ns.as_deref().unwrap_or("(cluster)")),
            flow_schema: fs.map(|f| f.name.clone()),
            priority_level: fs.map(|f| f.priority_level.clone()),
        });
    }
}

/// The step's note: what was read.
pub fn note(q: &QuotaAndFlowControl) -> String {
    use super::count;
    let mut note = format!(
        "{}, {}, {}",
        count(q.quotas.len(), "quota", "quotas"),
        count(q.flow_schemas.len(), "FlowSchema", "FlowSchemas"),
        count(q.priority_levels.len(), "priority level", "priority levels")
    );
    if !q.unreadable.is_empty() {
        note.push_str(&format!(
            "; could not read {}",
            q.unreadable
                .iter()
                .map(|f| format!("{} ({})", f.object, f.error))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    note
}

/// A client with no traffic, for other modules' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    pub fn client(job: &str, instance: &str) -> crate::bundle::ClientRates {
        let mut c = super::tests::client_on("demo", "x");
        c.id = format!("{job}/{instance}");
        c.job = job.into();
        c.instance = instance.into();
        c.target = crate::bundle::Target::Unknown;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::fixture_items;

    #[test]
    fn quantities_compare_as_kubernetes_reads_them() {
        assert_eq!(compare_quantities("10", "10"), Some(Ordering::Equal));
        assert_eq!(compare_quantities("500m", "1"), Some(Ordering::Less));
        assert_eq!(
            compare_quantities("2Gi", "2147483648"),
            Some(Ordering::Equal)
        );
        assert_eq!(compare_quantities("1.5G", "1500M"), Some(Ordering::Equal));
        assert_eq!(compare_quantities("1e3", "1k"), Some(Ordering::Equal));
        assert_eq!(compare_quantities("1Ki", "1k"), Some(Ordering::Greater));
        assert_eq!(compare_quantities("lots", "1"), None);
    }

    #[test]
    fn the_recorded_quota_is_exhausted() {
        // ResourceQuotas of namespace demo recorded during quota-exceeded.
        let qs: Vec<ResourceQuota> = fixture_items("demo-resourcequotas-quota-exceeded.json");
        let infos: Vec<QuotaInfo> = qs.iter().map(quota).collect();
        let q = infos
            .iter()
            .find(|q| q.quota.name == "demo-configmaps")
            .expect("the lab's quota");
        let r = q
            .resources
            .iter()
            .find(|r| r.resource == "count/configmaps")
            .unwrap();
        assert!(r.exhausted, "{r:?}");
        assert!(exhausted(r));
    }

    #[test]
    fn recorded_flow_control_reads_and_matches() {
        let fss: Vec<FlowSchema> = fixture_items("flowschemas-apf-throttle.json");
        let pls: Vec<PriorityLevelConfiguration> =
            fixture_items("prioritylevelconfigurations-apf-throttle.json");
        let schemas: Vec<FlowSchemaInfo> = fss.iter().map(flow_schema).collect();
        let levels: Vec<PriorityLevelInfo> = pls.iter().map(priority_level).collect();
        let jail = levels
            .iter()
            .find(|l| l.name == "lab-jail")
            .expect("the lab's jail");
        assert_eq!(jail.limit_response, Some(LimitResponse::Reject));
        assert!(
            schemas
                .iter()
                .any(|s| s.name == "exempt" && s.priority_level == "exempt")
        );
        let mut q = QuotaAndFlowControl {
            quotas: Vec::new(),
            flow_schemas: schemas,
            priority_levels: levels,
            client_matches: Vec::new(),
            unreadable: Vec::new(),
        };
        // The client-go client authenticates with a certificate whose CN is demo-clientgo.
        let client = ClientRates {
            user: Some("demo-clientgo".into()),
            ..client_on("demo", "demo-clientgo")
        };
        match_clients(&mut q, &[client], &[]);
        let m = &q.client_matches[0];
        assert_eq!(m.flow_schema.as_deref(), Some("lab-squeeze-demo-clientgo"));
        assert_eq!(m.priority_level.as_deref(), Some("lab-jail"));
        assert_eq!(
            note(&q),
            format!(
                "0 quotas, {} FlowSchemas, {} priority levels",
                fss.len(),
                pls.len()
            )
        );
    }

    pub(crate) fn client_on(ns: &str, name: &str) -> ClientRates {
        use crate::bundle::{ErrorRatios, Pattern, PatternStat, Target};
        ClientRates {
            id: format!("demo-clients/{name}"),
            job: "demo-clients".into(),
            instance: name.into(),
            target: Target::Pod {
                namespace: ns.into(),
                name: name.into(),
                service_account: None,
                node: None,
            },
            requests: 0.0,
            request_rate: 0.0,
            ratios: ErrorRatios::default(),
            codes: Default::default(),
            onset: None,
            pattern: Pattern::None,
            pattern_stat: PatternStat::default(),
            categories: Default::default(),
            noise: None,
            by_host: Vec::new(),
            series: Vec::new(),
            user: None,
            user_agent: None,
        }
    }
}
