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

/// Runs step 1. The health endpoints are asked at once with the pod list: when etcd is gone
/// the API server still answers `/readyz?verbose` (naming the failed check) while its lists
/// hang, and that answer is kept even if the list then runs out of time.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
) -> Result<StepEnd<ApiServerEvidence>, StepError> {
    let list = async {
        cx.kube
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
            .await
    };
    let (pods, readyz, livez) = tokio::join!(
        list,
        health(cx, &ctx, "/readyz?verbose", "/readyz"),
        health(cx, &ctx, "/livez?verbose", "/livez")
    );
    let (pods, pods_error) = match pods {
        Ok(list) => (
            list.items.iter().map(apiserver_pod).collect::<Vec<_>>(),
            None,
        ),
        Err(SourceError::Forbidden(rule)) => {
            ctx.note_missing(rule);
            (Vec::new(), None)
        }
        Err(e) => (Vec::new(), Some(e)),
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
    let health_note = format!(
        "readyz {}{}",
        if readyz.ok { "ok" } else { "NOT ok" },
        if readyz.failed_checks.is_empty() {
            String::new()
        } else {
            format!(" (failed: {})", readyz.failed_checks.join(", "))
        }
    );
    let source = if pods.is_empty() {
        ApiServerSource::HealthEndpoints
    } else {
        ApiServerSource::Pods
    };
    let note = if pods.is_empty() {
        format!(
            "no kube-apiserver pods in kube-system (managed control plane, or run as a process): used /readyz and /livez; {health_note}{endpoints_error}"
        )
    } else {
        format!("{}; {health_note}{endpoints_error}", pods_note(&pods))
    };
    let evidence = ApiServerEvidence {
        source,
        pods,
        readyz: Some(readyz),
        livez: Some(livez),
        endpoints,
    };
    match pods_error {
        Some(e) => Ok(StepEnd::Failed(
            Some(evidence),
            format!("the kube-apiserver pods could not be listed ({e}); {note}"),
        )),
        None => Ok(StepEnd::Done(evidence, Some(note))),
    }
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
