//! What the steps use: the Kubernetes client (with its load discipline), Prometheus, the
//! /metrics scraper, the run's settings, and the reads two steps share (made once per run by
//! whichever step asks first). Steps depend on this module and on nothing else of `collect`;
//! they never call each other. Also the two shapes every step returns: [`StepEnd`] and
//! [`StepError`].

use kube_doctor_core::playbook::step1_apiserver_pods::{
    self, KUBERNETES_SLICES_SELECTOR, KubernetesEndpoints,
};

use kube_doctor_core::bundle::{Callees, EndpointAddr, ObjectRef, Redaction, ServiceRef};
use kube_doctor_core::redact::Redactor;

use crate::settings::Settings;
use crate::source::kube::{Kube, Perm, SourceError, StepCtx};
use crate::source::metrics::ApiRequestCounter;
use crate::source::prometheus::{PromError, Prometheus};
use crate::source::scrape::{ScrapeError, Scraper};

/// The context of one collection run. Cheap to build: the clients inside are shared handles;
/// the shared reads are new for every run, so `serve`'s investigations never share a stale
/// answer.
pub struct Context {
    /// The Kubernetes API, under the load discipline.
    pub kube: Kube,
    /// Prometheus, when used.
    pub prometheus: Option<Prometheus>,
    /// Direct /metrics reads.
    pub scraper: Scraper,
    /// The run's settings.
    pub settings: Settings,
    shared: SharedReads,
    /// The run's redactor: every step that keeps cluster text redacts it through this one,
    /// so the bundle's `redactions` count all of them.
    redactor: std::sync::Mutex<Redactor>,
}

/// Reads more than one step needs, made once per run.
#[derive(Default)]
struct SharedReads {
    /// The `default/kubernetes` EndpointSlices (steps 1 and 4).
    kubernetes_endpoints: tokio::sync::OnceCell<Result<KubernetesEndpoints, SourceError>>,
    /// Webhook configurations and APIServices (steps 4, 5 and 7).
    callees: tokio::sync::OnceCell<std::sync::Arc<CalleeConfigs>>,
    /// A callee Service's endpoints and the pods behind them (steps 4 and 5), by
    /// (namespace, name).
    service_endpoints: std::sync::Mutex<std::collections::HashMap<(String, String), BackendsCell>>,
}

/// One Service's shared read of its endpoints.
type BackendsCell = std::sync::Arc<tokio::sync::OnceCell<Result<ServiceBackends, SourceError>>>;

/// The API server's callees, as read from the cluster: their configurations, the CA bundles
/// their serving certificates are checked with (public CA certificates, kept in memory only),
/// and what could not be read.
#[derive(Debug, Default)]
pub struct CalleeConfigs {
    /// Webhook configurations and APIServices, as the bundle keeps them.
    pub callees: Callees,
    /// Each webhook's `caBundle` PEM, by (configuration, webhook).
    pub ca_bundles: std::collections::BTreeMap<(String, String), Vec<u8>>,
    /// Each APIService's Service, by name.
    pub api_service_refs: Vec<(String, ServiceRef)>,
    /// Lists that could not be read.
    pub notes: Vec<String>,
}

/// A Service's endpoints and the pods behind them.
#[derive(Debug, Clone, Default)]
pub struct ServiceBackends {
    /// Address, port and readiness of each endpoint.
    pub endpoints: Vec<EndpointAddr>,
    /// The pods the endpoints point at.
    pub pods: Vec<ObjectRef>,
}

impl Context {
    /// A context for one run.
    pub fn new(
        kube: Kube,
        prometheus: Option<Prometheus>,
        scraper: Scraper,
        settings: Settings,
    ) -> Context {
        Context {
            kube,
            prometheus,
            scraper,
            settings,
            shared: SharedReads::default(),
            redactor: std::sync::Mutex::new(Redactor::default()),
        }
    }

    /// Connects to what `settings` name: the cluster (required here) and Prometheus.
    pub fn connect(
        settings: Settings,
        counter: ApiRequestCounter,
    ) -> Result<Context, ConnectError> {
        let cluster = settings.cluster.as_ref().ok_or(ConnectError::NoCluster)?;
        let kube = Kube::connect(cluster, &settings.limits, counter)?;
        let prometheus = Prometheus::new(&settings.prometheus, &settings.limits, Some(&kube))?;
        let scraper = Scraper::new(std::time::Duration::from_secs(5))?;
        Ok(Context::new(kube, prometheus, scraper, settings))
    }

    /// A context for another run with the same clients (new shared reads, new redactor).
    pub fn for_run(&self, settings: Settings) -> Context {
        Context::new(
            self.kube.clone(),
            self.prometheus.clone(),
            self.scraper.clone(),
            settings,
        )
    }

    /// The webhook configurations and APIServices (a shared read). Lists that fail are noted
    /// in the result; forbidden ones note their rule in the asking step.
    pub async fn callee_configs(&self, ctx: &StepCtx) -> std::sync::Arc<CalleeConfigs> {
        self.shared
            .callees
            .get_or_init(|| async { std::sync::Arc::new(self.read_callees(ctx).await) })
            .await
            .clone()
    }

    async fn read_callees(&self, ctx: &StepCtx) -> CalleeConfigs {
        use k8s_openapi::api::admissionregistration::v1::{
            MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
        };
        use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
        use kube_doctor_core::playbook::step7_server_metrics::{
            api_service, api_service_ref, mutating_webhooks, validating_webhooks,
        };
        let mut out = CalleeConfigs::default();
        let lp = kube::api::ListParams::default().limit(500);
        let (validating, mutating, services) = tokio::join!(
            self.kube.call(
                ctx,
                Perm::cluster(
                    "admissionregistration.k8s.io",
                    "validatingwebhookconfigurations",
                    "list"
                ),
                |client| {
                    let lp = lp.clone();
                    async move {
                        kube::Api::<ValidatingWebhookConfiguration>::all(client)
                            .list(&lp)
                            .await
                    }
                },
            ),
            self.kube.call(
                ctx,
                Perm::cluster(
                    "admissionregistration.k8s.io",
                    "mutatingwebhookconfigurations",
                    "list"
                ),
                |client| {
                    let lp = lp.clone();
                    async move {
                        kube::Api::<MutatingWebhookConfiguration>::all(client)
                            .list(&lp)
                            .await
                    }
                },
            ),
            self.kube.call(
                ctx,
                Perm::cluster("apiregistration.k8s.io", "apiservices", "list"),
                |client| {
                    let lp = lp.clone();
                    async move { kube::Api::<APIService>::all(client).list(&lp).await }
                },
            ),
        );
        // caBundles by (configuration, webhook), for the serving-certificate check.
        macro_rules! bundles {
            ($list:expr) => {
                for cfg in &$list.items {
                    let name = cfg.metadata.name.clone().unwrap_or_default();
                    for w in cfg.webhooks.iter().flatten() {
                        if let Some(b) = &w.client_config.ca_bundle {
                            out.ca_bundles
                                .insert((name.clone(), w.name.clone()), b.0.clone());
                        }
                    }
                }
            };
        }
        match validating {
            Ok(list) => {
                bundles!(list);
                out.callees
                    .webhooks
                    .extend(list.items.iter().flat_map(validating_webhooks));
            }
            Err(e) => out
                .notes
                .push(format!("validating webhook configurations: {e}")),
        }
        match mutating {
            Ok(list) => {
                bundles!(list);
                out.callees
                    .webhooks
                    .extend(list.items.iter().flat_map(mutating_webhooks));
            }
            Err(e) => out
                .notes
                .push(format!("mutating webhook configurations: {e}")),
        }
        match services {
            Ok(list) => {
                for a in &list.items {
                    if let (Some(info), Some(svc)) = (api_service(a), api_service_ref(a)) {
                        out.api_service_refs.push((info.name.clone(), svc));
                    }
                }
                out.callees
                    .api_services
                    .extend(list.items.iter().filter_map(api_service));
            }
            Err(e) => out.notes.push(format!("APIServices: {e}")),
        }
        out
    }

    /// A Service's endpoints and the pods behind them, from its EndpointSlices (a shared
    /// read per Service).
    pub async fn service_backends(
        &self,
        ctx: &StepCtx,
        namespace: &str,
        name: &str,
    ) -> Result<ServiceBackends, SourceError> {
        let cell = {
            let mut m = self
                .shared
                .service_endpoints
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            m.entry((namespace.to_string(), name.to_string()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            let selector = format!("kubernetes.io/service-name={name}");
            let ns = namespace.to_string();
            let list = self
                .kube
                .call(
                    ctx,
                    Perm::ns("discovery.k8s.io", "endpointslices", "list", namespace),
                    |client| {
                        let (ns, selector) = (ns.clone(), selector.clone());
                        async move {
                            kube::Api::<k8s_openapi::api::discovery::v1::EndpointSlice>::namespaced(
                                client, &ns,
                            )
                            .list(&kube::api::ListParams::default().labels(&selector).limit(10))
                            .await
                        }
                    },
                )
                .await?;
            Ok(ServiceBackends {
                endpoints: step1_apiserver_pods::kubernetes_endpoints(&list.items).endpoints,
                pods: list
                    .items
                    .iter()
                    .flat_map(|s| &s.endpoints)
                    .filter_map(|e| e.target_ref.as_ref())
                    .filter(|r| r.kind.as_deref() == Some("Pod"))
                    .filter_map(|r| {
                        Some(ObjectRef::namespaced(
                            "Pod",
                            r.namespace.as_deref().unwrap_or(namespace),
                            r.name.as_deref()?,
                        ))
                    })
                    .collect(),
            })
        })
        .await
        .clone()
    }

    /// Runs `f` with the run's redactor.
    pub fn with_redactor<R>(&self, f: impl FnOnce(&mut Redactor) -> R) -> R {
        // A panic while redacting leaves counts that are at worst incomplete; go on with them.
        let mut r = self
            .redactor
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut r)
    }

    /// What redaction removed in this run, by kind.
    pub fn redactions(&self) -> Vec<Redaction> {
        self.with_redactor(|r| r.report())
    }

    /// The `default/kubernetes` Service's endpoints, from its EndpointSlices (a shared read:
    /// the first step to ask makes the request, any other waits for that answer).
    pub async fn kubernetes_endpoints(
        &self,
        ctx: &StepCtx,
    ) -> Result<KubernetesEndpoints, SourceError> {
        self.shared
            .kubernetes_endpoints
            .get_or_init(|| async {
                let list = self
                    .kube
                    .call(
                        ctx,
                        Perm::ns("discovery.k8s.io", "endpointslices", "list", "default"),
                        |client| async move {
                            kube::Api::<k8s_openapi::api::discovery::v1::EndpointSlice>::namespaced(
                                client, "default",
                            )
                            .list(
                                &kube::api::ListParams::default()
                                    .labels(KUBERNETES_SLICES_SELECTOR)
                                    .limit(10),
                            )
                            .await
                        },
                    )
                    .await?;
                Ok(step1_apiserver_pods::kubernetes_endpoints(&list.items))
            })
            .await
            .clone()
    }
}

/// Why a context could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The settings name no cluster.
    #[error("no cluster configuration: pass --kubeconfig, set KUBECONFIG, or run in a pod")]
    NoCluster,
    /// The API client could not be built.
    #[error(transparent)]
    Kube(#[from] SourceError),
    /// The Prometheus client could not be built.
    #[error(transparent)]
    Prometheus(#[from] PromError),
}

/// How a step's work ended, before it becomes a `StepRecord`.
pub enum StepEnd<T> {
    /// Evidence (maybe partial: sub-calls forbidden are in the step's missing rules, objects
    /// that could not be read are noted on them).
    Done(T, Option<String>),
    /// Ran, found nothing.
    Empty(T, String),
    /// Not run (nothing to do).
    Skipped(String),
    /// Every request that would have given evidence was forbidden (the missing rules are in
    /// the step's context); what little was gathered is kept.
    Forbidden(T, String),
    /// Could not do its job (its source failed); what little was gathered is kept.
    Failed(Option<T>, String),
}

/// Why a step could not finish at all.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The Kubernetes API.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Prometheus.
    #[error(transparent)]
    Prometheus(#[from] PromError),
    /// A /metrics scrape.
    #[error(transparent)]
    Scrape(#[from] ScrapeError),
    /// A /metrics body that is not the exposition format.
    #[error("{what}: {source}")]
    Exposition {
        /// Whose /metrics.
        what: String,
        /// The parse error.
        #[source]
        source: kube_doctor_core::clients::exposition::ExpositionError,
    },
}

/// The settings every collecting command (`investigate`, `collect`, `clients`, `serve`)
/// starts from: [`crate::settings::resolve`], then `--prometheus auto` looked up in the
/// cluster ([`crate::source::prometheus::resolve_auto`]).
///
/// # Errors
/// A flag, the kubeconfig or the Prometheus access that cannot be used, in one line.
pub async fn resolve_settings(
    cluster: &crate::cli::ClusterArgs,
    rates: &crate::cli::RateArgs,
    windows: Option<&crate::cli::WindowArgs>,
    limits: &crate::cli::LimitArgs,
    scrape_interval: std::time::Duration,
) -> Result<crate::settings::Settings, crate::settings::SettingsError> {
    let mut settings =
        crate::settings::resolve(cluster, rates, windows, limits, scrape_interval).await?;
    crate::source::prometheus::resolve_auto(&mut settings).await?;
    Ok(settings)
}
