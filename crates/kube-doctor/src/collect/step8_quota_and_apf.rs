//! Playbook step 8: quota and flow control. ResourceQuotas in the failing clients' namespaces
//! (used against hard, which are exhausted); every FlowSchema and PriorityLevelConfiguration;
//! and, once step 6 has told who each client really is, which FlowSchema and priority level
//! its requests fall into (`kube_doctor_core::apf`).

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ResourceQuota;
use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::apf::{self, Request};
use kube_doctor_core::bundle::{
    ApfMatch, ClientRates, FlowNonResourceRule, FlowResourceRule, FlowRule, FlowSchemaInfo,
    FlowSubject, LimitResponse, ObjectRef, PodCredentials, PriorityLevelInfo, QuotaAndFlowControl,
    QuotaInfo, QuotaResource,
};

use super::{Collector, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

pub async fn collect(
    c: &Collector,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
) -> Result<StepEnd<QuotaAndFlowControl>, StepError> {
    let namespaces: BTreeSet<String> = failing
        .iter()
        .filter_map(|f| f.pod().map(|(ns, _)| ns.to_string()))
        .collect();
    let mut quotas = Vec::new();
    for ns in &namespaces {
        let ns2 = ns.clone();
        match c
            .kube
            .call(&ctx, Perm::ns("", "resourcequotas", "list", ns), |client| {
                let ns = ns2.clone();
                async move {
                    Api::<ResourceQuota>::namespaced(client, &ns)
                        .list(&ListParams::default().limit(100))
                        .await
                }
            })
            .await
        {
            Ok(list) => quotas.extend(list.items.iter().map(quota)),
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => return Err(e.into()),
        }
    }
    let flow_schemas = c
        .kube
        .call(
            &ctx,
            Perm::cluster("flowcontrol.apiserver.k8s.io", "flowschemas", "list"),
            |client| async move {
                Api::<FlowSchema>::all(client)
                    .list(&ListParams::default().limit(500))
                    .await
            },
        )
        .await;
    let flow_schemas = match flow_schemas {
        Ok(l) => l.items.iter().map(flow_schema).collect(),
        Err(SourceError::Forbidden(r)) => {
            ctx.note_missing(r);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let levels = c
        .kube
        .call(
            &ctx,
            Perm::cluster(
                "flowcontrol.apiserver.k8s.io",
                "prioritylevelconfigurations",
                "list",
            ),
            |client| async move {
                Api::<PriorityLevelConfiguration>::all(client)
                    .list(&ListParams::default().limit(500))
                    .await
            },
        )
        .await;
    let priority_levels = match levels {
        Ok(l) => l.items.iter().map(priority_level).collect(),
        Err(SourceError::Forbidden(r)) => {
            ctx.note_missing(r);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let exhausted = quotas
        .iter()
        .flat_map(|q: &QuotaInfo| &q.resources)
        .filter(|r| r.exhausted)
        .count();
    let note = format!(
        "{} quotas ({exhausted} resources exhausted), {} FlowSchemas, {} priority levels",
        quotas.len(),
        c_len(&flow_schemas),
        c_len(&priority_levels)
    );
    let nothing = quotas.is_empty() && flow_schemas.is_empty() && priority_levels.is_empty();
    let evidence = QuotaAndFlowControl {
        quotas,
        flow_schemas,
        priority_levels,
        client_matches: Vec::new(),
    };
    if nothing && !ctx.missing_rules().is_empty() {
        return Ok(StepEnd::Forbidden(evidence, note));
    }
    Ok(StepEnd::Done(evidence, Some(note)))
}

fn c_len<T>(v: &[T]) -> usize {
    v.len()
}

/// Parses a quantity well enough to compare used with hard ("10", "500m", "2Gi").
fn quantity(q: &Quantity) -> Option<f64> {
    let s = q.0.trim();
    let (num, mult) = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("m", 0.001),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ]
    .iter()
    .find_map(|(suffix, m)| s.strip_suffix(suffix).map(|n| (n, *m)))
    .unwrap_or((s, 1.0));
    num.parse::<f64>().ok().map(|n| n * mult)
}

fn quota(q: &ResourceQuota) -> QuotaInfo {
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
                let u = used.get(res);
                QuotaResource {
                    resource: res.clone(),
                    hard: h.0.clone(),
                    used: u.map(|x| x.0.clone()),
                    exhausted: match (u.and_then(quantity), quantity(h)) {
                        (Some(u), Some(h)) => u >= h,
                        _ => false,
                    },
                }
            })
            .collect(),
    }
}

fn flow_schema(fs: &FlowSchema) -> FlowSchemaInfo {
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

fn priority_level(pl: &PriorityLevelConfiguration) -> PriorityLevelInfo {
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
        .find(|c| c.pod.namespace.as_deref() == Some(ns) && c.pod.name == name)?;
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
