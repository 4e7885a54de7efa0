//! Collect: the KubeClientErrors playbook, executed against a cluster and Prometheus. The
//! [`plan`] says which steps run and what each waits for; the [`context`] is all a step may
//! use; each `stepN_*.rs` is a thin fetcher whose pure half is
//! `kube_doctor_core::playbook::stepN_*`.

pub mod context;
pub mod plan;
pub mod step1_apiserver_pods;
pub mod step2_events;
pub mod step3_client_rates;
pub mod step4_network_path;
pub mod step5_logs;
pub mod step6_credentials;
pub mod step7_server_metrics;
pub mod step8_quota_and_apf;

pub use context::Context;
pub use plan::{Progress, Quiet, collect, offline, run_step};
