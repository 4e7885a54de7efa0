//! Playbook step 8: ResourceQuota, FlowSchemas and priority levels. Fetches the ResourceQuotas
//! of each failing client's namespace (a namespace that cannot be read is noted; the others go
//! on), every FlowSchema and PriorityLevelConfiguration. Which FlowSchema each client falls
//! into is placed after step 6 has said who it is (see `plan`). The pure half is
//! `kube_doctor_core::playbook::step8_quota_and_apf`.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ResourceQuota;
use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{ClientRates, QuotaAndFlowControl, ReadFailure};
use kube_doctor_core::playbook::step8_quota_and_apf::{flow_schema, note, priority_level, quota};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Runs step 8 for the namespaces of `failing`.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
) -> Result<StepEnd<QuotaAndFlowControl>, StepError> {
    let namespaces: BTreeSet<String> = failing
        .iter()
        .filter_map(|f| f.pod().map(|(ns, _)| ns.to_string()))
        .collect();
    let mut quotas = Vec::new();
    let mut unreadable = Vec::new();
    // A failing control-plane component writes in every namespace: every quota (one list).
    let components = failing
        .iter()
        .any(|f| matches!(f.target, kube_doctor_core::bundle::Target::Component { .. }));
    if components {
        match cx
            .kube
            .call(
                &ctx,
                Perm::cluster("", "resourcequotas", "list"),
                |client| async move {
                    Api::<ResourceQuota>::all(client)
                        .list(&ListParams::default().limit(500))
                        .await
                },
            )
            .await
        {
            Ok(list) => quotas.extend(list.items.iter().map(quota)),
            Err(SourceError::Forbidden(r)) => ctx.note_missing(r),
            Err(e) => unreadable.push(ReadFailure {
                object: "resourcequotas in every namespace".to_string(),
                error: e.to_string(),
            }),
        }
    }
    for ns in namespaces.iter().filter(|_| !components) {
        let ns2 = ns.clone();
        match cx
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
            Err(e) => unreadable.push(ReadFailure {
                object: format!("resourcequotas in namespace/{ns}"),
                error: e.to_string(),
            }),
        }
    }
    let (schemas, levels) = tokio::join!(
        cx.kube.call(
            &ctx,
            Perm::cluster("flowcontrol.apiserver.k8s.io", "flowschemas", "list"),
            |client| async move {
                Api::<FlowSchema>::all(client)
                    .list(&ListParams::default().limit(500))
                    .await
            },
        ),
        cx.kube.call(
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
        ),
    );
    let flow_schemas = read(
        &ctx,
        &mut unreadable,
        schemas.map(|l| l.items.iter().map(flow_schema).collect()),
        "flowschemas",
    );
    let priority_levels = read(
        &ctx,
        &mut unreadable,
        levels.map(|l| l.items.iter().map(priority_level).collect()),
        "prioritylevelconfigurations",
    );
    let nothing = quotas.is_empty() && flow_schemas.is_empty() && priority_levels.is_empty();
    let evidence = QuotaAndFlowControl {
        quotas,
        flow_schemas,
        priority_levels,
        client_matches: Vec::new(),
        unreadable,
    };
    let note = note(&evidence);
    if nothing && !ctx.missing_rules().is_empty() {
        return Ok(StepEnd::Forbidden(evidence, note));
    }
    if nothing && !evidence.unreadable.is_empty() {
        return Ok(StepEnd::Failed(Some(evidence), note));
    }
    Ok(StepEnd::Done(evidence, Some(note)))
}

/// A cluster-wide list's items; a forbidden one notes its rule, a failed one is noted as
/// unreadable; both give nothing and the step goes on.
fn read<T>(
    ctx: &StepCtx,
    unreadable: &mut Vec<ReadFailure>,
    r: Result<Vec<T>, SourceError>,
    what: &str,
) -> Vec<T> {
    match r {
        Ok(v) => v,
        Err(SourceError::Forbidden(rule)) => {
            ctx.note_missing(rule);
            Vec::new()
        }
        Err(e) => {
            unreadable.push(ReadFailure {
                object: what.to_string(),
                error: e.to_string(),
            });
            Vec::new()
        }
    }
}
