//! The phrase table behind `classify` (playbook step 5): which words in a log line say which
//! category, which client library wrote it, and whether it talks about the Kubernetes API at all.
//!
//! Every phrase is lowercase ASCII: the automaton matches ASCII case-insensitively. A phrase may
//! carry several facts at once (a category, an implied HTTP code, a client, API context), so one
//! pass over a line collects everything the decision in `mod.rs` needs.

use crate::category::Category;

/// The client libraries `classify` can name (the contract's `client` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientLib {
    /// kubectl's own messages ("Error from server", "Unable to connect to the server").
    Kubectl,
    /// controller-runtime (zap JSON, "Reconciler error").
    ControllerRuntime,
    /// client-go (klog headers of reflector.go, request.go, leaderelection.go...).
    ClientGo,
    /// kube-rs (`kube_client`, `kube_runtime`, Debug-printed `kube::Error`).
    KubeRs,
    /// The Python `kubernetes` client and its neighbours (kopf, urllib3 traces).
    Python,
    /// fabric8 kubernetes-client (Java).
    Fabric8,
    /// The official Java client (`io.kubernetes.client`).
    Java,
    /// @kubernetes/client-node.
    ClientNode,
}

impl ClientLib {
    /// The contract word for this client.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientLib::Kubectl => "kubectl",
            ClientLib::ControllerRuntime => "controller-runtime",
            ClientLib::ClientGo => "client-go",
            ClientLib::KubeRs => "kube-rs",
            ClientLib::Python => "python",
            ClientLib::Fabric8 => "fabric8",
            ClientLib::Java => "java",
            ClientLib::ClientNode => "client-node",
        }
    }

    /// Parses the contract word.
    pub fn parse(word: &str) -> Option<ClientLib> {
        [
            ClientLib::Kubectl,
            ClientLib::ControllerRuntime,
            ClientLib::ClientGo,
            ClientLib::KubeRs,
            ClientLib::Python,
            ClientLib::Fabric8,
            ClientLib::Java,
            ClientLib::ClientNode,
        ]
        .into_iter()
        .find(|c| c.as_str() == word)
    }
}

/// How much a category phrase decides on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Names the failure precisely ("x509:", "exceeded quota"): decides, even without other
    /// evidence that the line is about the Kubernetes API.
    Specific,
    /// Names the failure but is common outside API clients ("connection refused", "timed out"):
    /// decides only when the line is about the API (a client marker or API context phrase).
    Contextual,
    /// Generic ("an error on the server", "not found"): used only when no stronger category
    /// phrase matched, and only with API context.
    Weak,
}

/// What one phrase says.
#[derive(Debug, Clone, Copy)]
pub struct Phrase {
    /// The lowercase text matched anywhere in a line.
    pub text: &'static str,
    /// The category the phrase names, and how strongly.
    pub category: Option<(Category, Strength)>,
    /// The HTTP status the phrase implies when the line states none (canonical Status texts).
    pub implied_code: Option<u16>,
    /// The client library the phrase identifies.
    pub client: Option<ClientLib>,
    /// The line is about the Kubernetes API (paths, API server names, client markers).
    pub context: bool,
    /// A generic error word: with API context and no category, the line is `other`.
    pub error_word: bool,
    /// Expected noise: watch streams closing and relisting.
    pub expected: bool,
    /// A known harmless prefix ("ERROR: logging before flag.Parse"): error words inside it do
    /// not count.
    pub neutral: bool,
}

const fn p(text: &'static str) -> Phrase {
    Phrase {
        text,
        category: Option::None,
        implied_code: Option::None,
        client: Option::None,
        context: false,
        error_word: false,
        expected: false,
        neutral: false,
    }
}

const fn cat(text: &'static str, c: Category, s: Strength) -> Phrase {
    let mut ph = p(text);
    ph.category = Some((c, s));
    ph
}

const fn cat_code(text: &'static str, c: Category, s: Strength, code: u16) -> Phrase {
    let mut ph = cat(text, c, s);
    ph.implied_code = Some(code);
    ph
}

const fn client(text: &'static str, c: ClientLib) -> Phrase {
    let mut ph = p(text);
    ph.client = Some(c);
    ph.context = true;
    ph
}

const fn ctx(text: &'static str) -> Phrase {
    let mut ph = p(text);
    ph.context = true;
    ph
}

const fn err(text: &'static str) -> Phrase {
    let mut ph = p(text);
    ph.error_word = true;
    ph
}

const fn neutral(text: &'static str) -> Phrase {
    let mut ph = p(text);
    ph.neutral = true;
    ph
}

const fn expected(text: &'static str) -> Phrase {
    let mut ph = p(text);
    ph.expected = true;
    ph.context = true;
    ph
}

impl Phrase {
    /// Marks a category phrase as expected noise too.
    const fn noise(mut self) -> Self {
        self.expected = true;
        self.context = true;
        self
    }
}

use Category::{
    Authentication, Authorization, InvalidRequest, NetworkUnreachable, NotFound, Other,
    QuotaOrAdmission, RateLimited, ServerError, Timeout, TlsCertificate,
};
use ClientLib::*;
use Strength::*;

/// Category precedence, most decisive first: when a line matches phrases of several categories,
/// the earliest here wins. Quota and admission come before authorization because "exceeded quota"
/// arrives as a 403 "is forbidden"; TLS before network because x509 failures happen on connect;
/// rate limiting and server errors before timeouts because "rate limiter Wait ... deadline" and
/// "etcdserver: request timed out" name their cause; network before timeout because a dial that
/// times out is a network failure (contract: "dial i/o timeout" is `network_unreachable`).
pub const PRECEDENCE: [Category; 11] = [
    QuotaOrAdmission,
    TlsCertificate,
    Authorization,
    Authentication,
    RateLimited,
    ServerError,
    NotFound,
    InvalidRequest,
    NetworkUnreachable,
    Timeout,
    Other,
];

/// The phrase table. Order does not matter; every match is collected.
pub const PHRASES: &[Phrase] = &[
    // ---- quota and admission -------------------------------------------------------------
    cat_code("exceeded quota", QuotaOrAdmission, Specific, 403),
    cat("admission webhook", QuotaOrAdmission, Specific),
    cat("failed calling webhook", QuotaOrAdmission, Specific),
    cat("failed to call webhook", QuotaOrAdmission, Specific),
    cat("rejected by webhook", QuotaOrAdmission, Specific),
    cat("denied the request", QuotaOrAdmission, Specific),
    cat("limitrange", QuotaOrAdmission, Specific),
    cat("minimum cpu usage per", QuotaOrAdmission, Specific),
    cat("maximum cpu usage per", QuotaOrAdmission, Specific),
    cat("minimum memory usage per", QuotaOrAdmission, Specific),
    cat("maximum memory usage per", QuotaOrAdmission, Specific),
    cat("must specify limits", QuotaOrAdmission, Specific),
    cat("must specify requests", QuotaOrAdmission, Specific),
    // ---- TLS and certificates ------------------------------------------------------------
    cat("x509:", TlsCertificate, Specific),
    cat("invalid peer certificate", TlsCertificate, Specific),
    cat("certificate expired", TlsCertificate, Specific),
    cat("certificate has expired", TlsCertificate, Specific),
    cat(
        "certificate signed by unknown authority",
        TlsCertificate,
        Specific,
    ),
    cat("certificate is valid for", TlsCertificate, Specific),
    cat("certificate is not valid for", TlsCertificate, Specific),
    cat(
        "tls: failed to verify certificate",
        TlsCertificate,
        Specific,
    ),
    cat("tls: bad certificate", TlsCertificate, Specific),
    cat(
        "tls: unknown certificate authority",
        TlsCertificate,
        Specific,
    ),
    cat("tls: expired certificate", TlsCertificate, Specific),
    cat("certificate_verify_failed", TlsCertificate, Specific),
    cat("certificate verify failed", TlsCertificate, Specific),
    cat("sslcertverificationerror", TlsCertificate, Specific),
    cat(
        "unable to verify the first certificate",
        TlsCertificate,
        Specific,
    ),
    cat(
        "self signed certificate in certificate chain",
        TlsCertificate,
        Specific,
    ),
    cat("self-signed certificate", TlsCertificate, Specific),
    cat(
        "unable to get local issuer certificate",
        TlsCertificate,
        Specific,
    ),
    cat("unable to get issuer certificate", TlsCertificate, Specific),
    cat("cert_has_expired", TlsCertificate, Specific),
    cat("depth_zero_self_signed_cert", TlsCertificate, Specific),
    cat("pkix path building failed", TlsCertificate, Specific),
    cat("sslhandshakeexception", TlsCertificate, Specific),
    cat("invalidcertificate", TlsCertificate, Specific),
    cat("certificate verification failed", TlsCertificate, Specific),
    cat("sslerror(", TlsCertificate, Contextual),
    cat("requests.exceptions.sslerror", TlsCertificate, Specific),
    // ---- authorization (403 RBAC) --------------------------------------------------------
    cat_code("is forbidden", Authorization, Specific, 403),
    cat_code("forbidden: user", Authorization, Specific, 403),
    cat_code("forbidden!", Authorization, Specific, 403),
    cat_code(
        "error from server (forbidden)",
        Authorization,
        Specific,
        403,
    ),
    cat_code("403 forbidden", Authorization, Specific, 403),
    cat_code("'forbidden'", Authorization, Contextual, 403),
    cat_code("reason: forbidden", Authorization, Contextual, 403),
    cat_code("\"forbidden\"", Authorization, Contextual, 403),
    cat_code("forbidden", Authorization, Contextual, 403),
    cat_code("rbac: ", Authorization, Contextual, 403),
    cat_code("cannot list resource", Authorization, Specific, 403),
    cat_code("cannot get resource", Authorization, Specific, 403),
    cat_code("cannot watch resource", Authorization, Specific, 403),
    cat_code("cannot create resource", Authorization, Specific, 403),
    cat_code("cannot update resource", Authorization, Specific, 403),
    cat_code("cannot patch resource", Authorization, Specific, 403),
    cat_code("cannot delete resource", Authorization, Specific, 403),
    cat_code("cannot get path", Authorization, Specific, 403),
    // ---- authentication (401) ------------------------------------------------------------
    cat_code("unauthorized", Authentication, Specific, 401),
    cat_code("provide credentials", Authentication, Specific, 401),
    cat_code("invalid bearer token", Authentication, Specific, 401),
    cat_code("token has expired", Authentication, Contextual, 401),
    cat_code("token is expired", Authentication, Contextual, 401),
    cat_code("token has been invalidated", Authentication, Specific, 401),
    cat_code(
        "unable to authenticate the request",
        Authentication,
        Specific,
        401,
    ),
    // ---- rate limiting (429, APF, client-side) --------------------------------------------
    cat_code("too many requests", RateLimited, Specific, 429),
    cat_code("has received too many requests", RateLimited, Specific, 429),
    cat("client-side throttling", RateLimited, Specific),
    cat("throttling request took", RateLimited, Specific),
    cat_code("server-side throttling", RateLimited, Specific, 429),
    cat("client rate limiter", RateLimited, Specific),
    cat("ratelimited", RateLimited, Contextual),
    cat("rate limited", RateLimited, Contextual),
    cat("rate limit exceeded", RateLimited, Contextual),
    // ---- server errors (5xx, etcd) -------------------------------------------------------
    cat("etcdserver:", ServerError, Specific),
    cat_code("internal error occurred", ServerError, Specific, 500),
    cat_code(
        "error from server (internalerror)",
        ServerError,
        Specific,
        500,
    ),
    cat_code("internal server error", ServerError, Contextual, 500),
    cat_code(
        "the server is currently unable to handle the request",
        ServerError,
        Specific,
        503,
    ),
    cat_code(
        "error from server (serviceunavailable)",
        ServerError,
        Specific,
        503,
    ),
    cat_code("service unavailable", ServerError, Contextual, 503),
    cat_code("serviceunavailable", ServerError, Contextual, 503),
    cat_code("bad gateway", ServerError, Contextual, 502),
    cat("could not be completed at this time", ServerError, Specific),
    cat("servertimeout", ServerError, Contextual),
    cat("an error on the server", ServerError, Weak),
    cat("unable to handle the request", ServerError, Contextual),
    // ---- not found (404, missing kinds) --------------------------------------------------
    cat_code(
        "the server could not find the requested resource",
        NotFound,
        Specific,
        404,
    ),
    cat_code(
        "could not find the requested resource",
        NotFound,
        Specific,
        404,
    ),
    cat("no matches for kind", NotFound, Specific),
    cat(
        "the server doesn't have a resource type",
        NotFound,
        Specific,
    ),
    cat_code("error from server (notfound)", NotFound, Specific, 404),
    cat_code("404 not found", NotFound, Contextual, 404),
    cat_code("reason: not found", NotFound, Contextual, 404),
    cat_code("notfound", NotFound, Weak, 404),
    cat("not found", NotFound, Weak),
    // ---- invalid requests (400, 409, 422) ------------------------------------------------
    cat_code(
        "the object has been modified",
        InvalidRequest,
        Specific,
        409,
    ),
    cat_code(
        "operation cannot be fulfilled",
        InvalidRequest,
        Specific,
        409,
    ),
    cat_code("already exists", InvalidRequest, Contextual, 409),
    cat_code(
        "error from server (alreadyexists)",
        InvalidRequest,
        Specific,
        409,
    ),
    cat_code(
        "error from server (conflict)",
        InvalidRequest,
        Specific,
        409,
    ),
    cat_code(
        "error from server (badrequest)",
        InvalidRequest,
        Specific,
        400,
    ),
    cat_code("error from server (invalid)", InvalidRequest, Specific, 422),
    cat_code("unprocessable entity", InvalidRequest, Contextual, 422),
    cat_code("field is immutable", InvalidRequest, Specific, 422),
    cat("strict decoding error", InvalidRequest, Specific),
    cat_code("is invalid:", InvalidRequest, Contextual, 422),
    cat_code("bad request", InvalidRequest, Contextual, 400),
    cat_code("conflict", InvalidRequest, Weak, 409),
    // ---- 410 Gone on watches: expected relists -------------------------------------------
    cat_code("too old resource version", Other, Specific, 410).noise(),
    cat_code(
        "resourceversion for the provided watch is too old",
        Other,
        Specific,
        410,
    )
    .noise(),
    expected("received a 410"),
    expected(" ended with: "),
    expected("very short watch"),
    // ---- network: the request never got an answer ----------------------------------------
    cat("dial tcp", NetworkUnreachable, Contextual),
    cat("dial udp", NetworkUnreachable, Contextual),
    cat("connection refused", NetworkUnreachable, Contextual),
    cat(
        "was refused - did you specify the right host or port",
        NetworkUnreachable,
        Specific,
    ),
    cat("no route to host", NetworkUnreachable, Contextual),
    cat("no such host", NetworkUnreachable, Contextual),
    cat("network is unreachable", NetworkUnreachable, Contextual),
    cat("connection reset", NetworkUnreachable, Contextual),
    cat("connectionreset", NetworkUnreachable, Contextual),
    cat("broken pipe", NetworkUnreachable, Contextual),
    cat("unexpected eof", NetworkUnreachable, Contextual),
    cat(
        "http2: client connection lost",
        NetworkUnreachable,
        Specific,
    ),
    cat("http2: server sent goaway", NetworkUnreachable, Contextual),
    cat(
        "client connection force closed",
        NetworkUnreachable,
        Contextual,
    ),
    cat(
        "use of closed network connection",
        NetworkUnreachable,
        Contextual,
    ),
    cat("stream error: stream id", NetworkUnreachable, Contextual),
    cat("econnrefused", NetworkUnreachable, Contextual),
    cat("econnreset", NetworkUnreachable, Contextual),
    cat("enotfound", NetworkUnreachable, Contextual),
    cat("ehostunreach", NetworkUnreachable, Contextual),
    cat(
        "failed to establish a new connection",
        NetworkUnreachable,
        Contextual,
    ),
    cat("newconnectionerror", NetworkUnreachable, Contextual),
    cat(
        "temporary failure in name resolution",
        NetworkUnreachable,
        Contextual,
    ),
    cat("connectexception", NetworkUnreachable, Contextual),
    cat("connect timed out", NetworkUnreachable, Contextual),
    cat("connection timed out", NetworkUnreachable, Contextual),
    cat("hyper::error(connect", NetworkUnreachable, Contextual),
    cat("error trying to connect", NetworkUnreachable, Contextual),
    cat("tcp connect error", NetworkUnreachable, Contextual),
    cat("connection aborted", NetworkUnreachable, Contextual),
    cat(
        "unable to connect to the server: dial",
        NetworkUnreachable,
        Specific,
    ),
    // ---- timeouts ------------------------------------------------------------------------
    cat("context deadline exceeded", Timeout, Contextual),
    cat("deadline exceeded", Timeout, Contextual),
    cat("client.timeout exceeded", Timeout, Contextual),
    cat("tls handshake timeout", Timeout, Contextual),
    cat("i/o timeout", Timeout, Contextual),
    cat("timed out", Timeout, Contextual),
    cat_code("request did not complete within", Timeout, Specific, 504),
    cat_code(
        "unable to return a response in the time allotted",
        Timeout,
        Specific,
        504,
    ),
    cat_code("error from server (timeout)", Timeout, Specific, 504),
    cat_code("gateway timeout", Timeout, Contextual, 504),
    cat("readtimeouterror", Timeout, Contextual),
    cat("read timed out", Timeout, Contextual),
    cat("sockettimeoutexception", Timeout, Contextual),
    cat("timeouterror", Timeout, Contextual),
    cat("not ready after", Timeout, Contextual),
    cat("request canceled", Timeout, Contextual),
    cat("timeout: socket closed", Timeout, Contextual),
    cat("kind: timedout", Timeout, Contextual),
    cat("etimedout", Timeout, Contextual),
    // ---- client markers (also API context) ------------------------------------------------
    client("error from server", Kubectl),
    client("unable to connect to the server", Kubectl),
    client("the connection to the server", Kubectl),
    client("error: you must be logged in", Kubectl),
    client("error: unable to recognize", Kubectl),
    client("unable to recognize \"", Kubectl),
    client("kubectl", Kubectl),
    client("controller-runtime", ControllerRuntime),
    client("reconciler error", ControllerRuntime),
    client("\"reconcileid\"", ControllerRuntime),
    client("kubebuilder", ControllerRuntime),
    client("reflector.go", ClientGo),
    client("k8s.io/client-go", ClientGo),
    client("client-go@", ClientGo),
    client("request.go:", ClientGo),
    client("round_trippers.go", ClientGo),
    client("leaderelection.go", ClientGo),
    client("with_retry.go", ClientGo),
    client("streamwatcher.go", ClientGo),
    client("iowatcher.go", ClientGo),
    client("dispatcher.go", ClientGo),
    client("k8s_client_runtime", ClientGo),
    client("not priority and fairness", ClientGo),
    client("subsys=klog", ClientGo),
    client("error retrieving resource lock", ClientGo),
    client("retry-reason:", ClientGo),
    client("kube_client", KubeRs),
    client("kube_runtime", KubeRs),
    client("kube::", KubeRs),
    client("kube-rs", KubeRs),
    client("errorresponse {", KubeRs),
    client("watchfailed", KubeRs),
    client("initiallistfailed", KubeRs),
    client("watchstartfailed", KubeRs),
    client("watcher error", KubeRs),
    client("hypererror", KubeRs),
    client("apierror:", KubeRs),
    client("kubernetes.client", Python),
    client("kubernetes/client/", Python),
    client("apiexception: (", Python),
    client("kubernetes_asyncio", Python),
    client("kopf.", Python),
    client("urllib3", Python),
    client("httpsconnectionpool", Python),
    client("httpconnectionpool", Python),
    client("aiohttp", Python),
    client("requests.exceptions", Python),
    client("http response body:", Python),
    client("http response headers:", Python),
    client("httpheaderdict", Python),
    client("[ssl: ", Python),
    client("_ssl.c:", Python),
    client("sslerror(", Python),
    client("retry(total=", Python),
    client("io.fabric8", Fabric8),
    client("kubernetesclientexception", Fabric8),
    client("failure executing:", Fabric8),
    client("okhttp", Fabric8),
    client("watchconnectionmanager", Fabric8),
    client("io.kubernetes.client", Java),
    client("@kubernetes/client-node", ClientNode),
    client("client-node", ClientNode),
    client("http-code:", ClientNode),
    client("statuscode:", ClientNode),
    // ---- API context without a library ----------------------------------------------------
    ctx("/api/"),
    ctx("/api\""),
    ctx("/apis"),
    ctx("/apis/"),
    ctx("/api "),
    ctx("/api:"),
    ctx("kubernetes"),
    ctx("k8s"),
    ctx("apiserver"),
    ctx("api server"),
    ctx("the server"),
    ctx("watch"),
    ctx("informer"),
    ctx("resource \""),
    ctx("in api group"),
    ctx("\"kind\":\"status\""),
    ctx("'kind': 'status'"),
    ctx("kind:status"),
    ctx("serviceaccount"),
    ctx(":6443"),
    ctx(":443"),
    ctx(":8443"),
    ctx("webhook"),
    ctx("reason:"),
    ctx("response body"),
    ctx("etcd"),
    ctx("coordination.k8s.io"),
    ctx("failed to list"),
    ctx("reconcile"),
    ctx("/version"),
    // ---- harmless text that looks like an error -------------------------------------------
    neutral("error: logging before flag.parse"),
    // ---- generic error words ---------------------------------------------------------------
    err("error"),
    err("fail"),
    err("exception"),
    err("unable to"),
    err("could not"),
    err("cannot "),
];
