//! The I/O edge: the Kubernetes API (with kube-doctor's load discipline), Prometheus, TLS
//! probes, and kube-doctor's own request metrics. Collectors use these; nothing in the pure
//! core does.

pub mod kube;
pub mod metrics;
pub mod prometheus;
pub mod retry;
pub mod scrape;
pub mod tls_probe;
