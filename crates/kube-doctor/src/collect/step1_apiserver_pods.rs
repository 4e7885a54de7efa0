//! Playbook step 1: kube-apiserver pods - status, restarts, readiness. Fetches the
//! `component=kube-apiserver` pods of kube-system and, where there are none (managed control
//! planes; an API server run as a process, as in the lab), `/readyz?verbose` and
//! `/livez?verbose`; the `default/kubernetes` endpoints come from the context's shared read.
//! The pure half is `kube_doctor_core::playbook::step1_apiserver_pods`.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{ApiServerEvidence, ApiServerSource, HealthReport};
use kube_doctor_core::playbook::step1_apiserver_pods::{
    APISERVER_POD_SELECTOR, HealthAnswer, apiserver_pod, health_report, pods_note,
};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Runs step 1.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
) -> Result<StepEnd<ApiServerEvidence>, StepError> {
    let pods = cx
        .kube
        .call(
            &ctx,
            Perm::ns("", "pods", "list", "kube-system"),
            |client| async move {
                Api::<Pod>::namespaced(client, "kube-system")
                    .list(
                        &ListParams::default()
                            .labels(APISERVER_POD_SELECTOR)
                            .limit(50),
                    )
                    .await
            },
        )
        .await;
    let pods = match pods {
        Ok(list) => list.items.iter().map(apiserver_pod).collect::<Vec<_>>(),
        Err(SourceError::Forbidden(rule)) => {
            ctx.note_missing(rule);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    // Errors reading the endpoints are said in the step's note; the step goes on.
    let (endpoints, endpoints_error) = match cx.kubernetes_endpoints(&ctx).await {
        Ok(k) => (k.endpoints, String::new()),
        Err(SourceError::Forbidden(rule)) => {
            ctx.note_missing(rule);
            (Vec::new(), String::new())
        }
        Err(e) => (Vec::new(), format!("; the kubernetes EndpointSlices: {e}")),
    };
    if !pods.is_empty() {
        let note = format!("{}{endpoints_error}", pods_note(&pods));
        return Ok(StepEnd::Done(
            ApiServerEvidence {
                source: ApiServerSource::Pods,
                pods,
                readyz: None,
                livez: None,
                endpoints,
            },
            Some(note),
        ));
    }
    let (readyz, livez) = tokio::join!(
        health(cx, &ctx, "/readyz?verbose", "/readyz"),
        health(cx, &ctx, "/livez?verbose", "/livez")
    );
    let note = format!(
        "no kube-apiserver pods in kube-system (managed control plane, or run as a process): used /readyz and /livez; readyz {}{endpoints_error}",
        if readyz.ok { "ok" } else { "NOT ok" }
    );
    Ok(StepEnd::Done(
        ApiServerEvidence {
            source: ApiServerSource::HealthEndpoints,
            pods,
            readyz: Some(readyz),
            livez: Some(livez),
            endpoints,
        },
        Some(note),
    ))
}

/// `/readyz?verbose` or `/livez?verbose`: a 500 carries the failed checks in its body.
async fn health(
    cx: &Context,
    ctx: &StepCtx,
    path: &'static str,
    perm: &'static str,
) -> HealthReport {
    let checked_at = Timestamp::now();
    let result = cx
        .kube
        .call(ctx, Perm::url(perm), |client| async move {
            client
                .request_text(
                    http::Request::get(path)
                        .body(Vec::new())
                        .expect("a static request is valid"),
                )
                .await
        })
        .await;
    let answer = match result {
        Ok(body) => HealthAnswer::Ok(body),
        Err(SourceError::Api { code, message }) => HealthAnswer::Status {
            code,
            body: message,
        },
        Err(e) => HealthAnswer::Failed(e.to_string()),
    };
    health_report(answer, checked_at)
}
