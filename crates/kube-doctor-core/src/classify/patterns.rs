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
    /// @kubernetes/client-node (and Node's own network errors under it).
    ClientNode,
    /// The .NET KubernetesClient (`k8s.Autorest.HttpOperationException`, `Microsoft.Rest`).
    Dotnet,
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
            ClientLib::Dotnet => "dotnet",
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
            ClientLib::Dotnet,
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
    /// The client marker is weak: text a library's transport prints (Go's `dial tcp`, Node's
    /// `ECONNREFUSED`), used only when no other marker names the writer, and not on lines the
    /// server relays (a webhook call the API server made).
    pub weak_client: bool,
    /// The line is about the Kubernetes API (paths, API server names, client markers).
    pub context: bool,
    /// A generic error word: with API context and no category, the line is `other`.
    pub error_word: bool,
    /// An error word that states a failure even on an info or debug line (`Exception:`).
    pub strong_error: bool,
    /// Expected noise: watch streams closing and relisting.
    pub expected: bool,
    /// Harmless text that looks like an error (`Rate Limited Requeue`, `err=<nil>`,
    /// `kubernetes.io/` in a label key): phrases inside it do not count.
    pub neutral: bool,
    /// The line is not an API client's evidence at all, whatever else it says: a server's own
    /// log (etcd's, the API server's TLS handshake log), an image pull, a probe result.
    pub veto: bool,
    /// A failure that is not the API's (a programming error such as `TypeError`): no generic
    /// `other` from error words on this line.
    pub not_api: bool,
    /// The text after it was produced by the API server on the client's behalf (it called a
    /// webhook or a kubelet): Go transport text there does not name the client's library, and
    /// when the phrase has a category of its own, TLS, network and timeout phrases after it do
    /// not count (they describe the server's outbound call).
    pub relayed: bool,
    /// The phrase counts only as a whole word (no letter or digit either side): Node's error
    /// codes (`ENOTFOUND`) are also the inside of longer names (`ResourceNotFoundError`).
    pub word: bool,
    /// The phrase counts only at the line's start (after blanks): kubectl's own `error: `
    /// messages, which other programs' logs can hold mid-line (`Non-restartable error: error
    /// upgrading connection`).
    pub at_start: bool,
    /// The phrase counts only in the case written (kubectl prints `error: failed to create`
    /// in lower case; kind's `ERROR: failed to create cluster` is not kubectl's).
    pub exact_case: bool,
    /// The client marker names the library itself, not its transport or its language
    /// (`io.kubernetes.client` against `okhttp3` or `java.lang.`): it decides the family
    /// whatever the other markers' ranks.
    pub library: bool,
}

const fn p(text: &'static str) -> Phrase {
    Phrase {
        text,
        category: Option::None,
        implied_code: Option::None,
        client: Option::None,
        weak_client: false,
        context: false,
        error_word: false,
        strong_error: false,
        expected: false,
        neutral: false,
        veto: false,
        not_api: false,
        relayed: false,
        word: false,
        at_start: false,
        exact_case: false,
        library: false,
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
    p(text).by(c)
}

const fn weak_client(text: &'static str, c: ClientLib) -> Phrase {
    p(text).by_weak(c)
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

const fn strong_err(text: &'static str) -> Phrase {
    let mut ph = err(text);
    ph.strong_error = true;
    ph
}

const fn neutral(text: &'static str) -> Phrase {
    let mut ph = p(text);
    ph.neutral = true;
    ph
}

const fn veto(text: &'static str) -> Phrase {
    let mut ph = p(text);
    ph.veto = true;
    ph
}

const fn not_api(text: &'static str) -> Phrase {
    let mut ph = p(text);
    ph.not_api = true;
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

    /// The phrase also names the client library that prints it.
    const fn by(mut self, c: ClientLib) -> Self {
        self.client = Some(c);
        self.context = true;
        self
    }

    /// The phrase also hints at the library, weakly (see [`Phrase::weak_client`]).
    const fn by_weak(mut self, c: ClientLib) -> Self {
        self.client = Some(c);
        self.weak_client = true;
        self.context = true;
        self
    }

    /// The phrase counts only as a whole word (see [`Phrase::word`]).
    const fn word(mut self) -> Self {
        self.word = true;
        self
    }

    /// The phrase counts only at the line's start (see [`Phrase::at_start`]).
    const fn at_start(mut self) -> Self {
        self.at_start = true;
        self
    }

    /// The phrase counts only in the case written (see [`Phrase::exact_case`]).
    const fn exact_case(mut self) -> Self {
        self.exact_case = true;
        self
    }

    /// The client marker names the library itself (see [`Phrase::library`]).
    const fn library(mut self) -> Self {
        self.library = true;
        self
    }

    /// What follows the phrase was said by the API server on the client's behalf.
    const fn relayed(mut self) -> Self {
        self.relayed = true;
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

/// The phrase table. Order does not matter; every match is collected. Each group names the
/// kind it covers and where its wording comes from; the unit tests in `mod.rs` (`kinds`) hold one
/// real line per kind and the labelled set (tests/fixtures/classify) the rest.
pub const PHRASES: &[Phrase] = &[
    // ---- quota and admission: the forbidden that is not RBAC ------------------------------
    // ResourceQuota (plugin/pkg/admission/resourcequota), LimitRange (plugin/pkg/admission/
    // limitranger), PodSecurity (staging/src/k8s.io/pod-security-admission), PSP/SCC, the
    // NamespaceLifecycle plugin, the ServiceAccount plugin and admission webhooks.
    cat_code("exceeded quota", QuotaOrAdmission, Specific, 403),
    cat_code("failed quota", QuotaOrAdmission, Specific, 403),
    cat_code("limited by quota", QuotaOrAdmission, Specific, 403),
    cat_code("quota is ", QuotaOrAdmission, Contextual, 403),
    cat("admission webhook", QuotaOrAdmission, Specific),
    cat("failed calling webhook", QuotaOrAdmission, Specific).relayed(),
    cat("failed to call webhook", QuotaOrAdmission, Specific).relayed(),
    cat("rejected by webhook", QuotaOrAdmission, Specific),
    // What follows is the webhook's own reason (`unable to retrieve the complete list of
    // server APIs: ... the server is currently unable to handle the request`), not the status
    // of the client's request: no code from it.
    cat("denied the request", QuotaOrAdmission, Specific).relayed(),
    cat_code("minimum cpu usage per", QuotaOrAdmission, Specific, 403),
    cat_code("maximum cpu usage per", QuotaOrAdmission, Specific, 403),
    cat_code("minimum memory usage per", QuotaOrAdmission, Specific, 403),
    cat_code("maximum memory usage per", QuotaOrAdmission, Specific, 403),
    cat_code(
        "forbidden: cpu max limit to request ratio",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code(
        "forbidden: memory max limit to request ratio",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code("must specify limits", QuotaOrAdmission, Specific, 403),
    cat_code("must specify requests", QuotaOrAdmission, Specific, 403),
    cat_code("must specify cpu", QuotaOrAdmission, Specific, 403),
    cat_code("must specify memory", QuotaOrAdmission, Specific, 403),
    cat_code(
        "forbidden: violates podsecurity",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code(
        "unable to validate against any pod security policy",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code(
        "unable to validate against any security context constraint",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code(
        "forbidden: not usable by user or serviceaccount",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code(
        "unable to create new content in namespace",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code(
        "error looking up service account",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    // ---- TLS and certificates ------------------------------------------------------------
    // Go crypto/x509 and crypto/tls; Python ssl; Java JSSE; Node's OpenSSL codes; rustls; .NET
    // SslStream.
    cat("x509:", TlsCertificate, Specific).by_weak(ClientGo),
    // Windows SChannel under .NET: `System.ComponentModel.Win32Exception (0x80090326): The
    // message received was unexpected or badly formatted.` The SEC_E_* codes 0x80090320-0x8009032F
    // are TLS handshake failures (untrusted root 0x80090325, bad message 0x80090326, expired
    // 0x80090328; Microsoft's "COM Error Codes (Security and Setup)").
    cat("win32exception (0x8009032", TlsCertificate, Specific).by(Dotnet),
    cat("invalid peer certificate", TlsCertificate, Contextual),
    cat("invalid certificate:", TlsCertificate, Contextual),
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
    // Node prints OpenSSL's verify reason as the message of a JavaScript `Error:` (Node's
    // lib/_tls_wrap.js; Python wraps the same reasons in `certificate verify failed: ...`,
    // Go never prints them): `Error: unable to get issuer certificate`.
    weak_client("error: unable to verify the first certificate", ClientNode),
    weak_client("error: unable to get issuer certificate", ClientNode),
    weak_client("error: unable to get local issuer certificate", ClientNode),
    weak_client("error: self signed certificate", ClientNode),
    weak_client("error: self-signed certificate", ClientNode),
    cat(
        "self signed certificate in certificate chain",
        TlsCertificate,
        Specific,
    ),
    cat("self-signed certificate", TlsCertificate, Specific),
    cat("self signed certificate", TlsCertificate, Specific),
    cat(
        "unable to get local issuer certificate",
        TlsCertificate,
        Specific,
    ),
    cat("unable to get issuer certificate", TlsCertificate, Specific),
    cat(
        "does not match certificate's altnames",
        TlsCertificate,
        Specific,
    ),
    // Node's OpenSSL error codes (err.code of a failed https request).
    cat("cert_has_expired", TlsCertificate, Specific).by_weak(ClientNode),
    cat("depth_zero_self_signed_cert", TlsCertificate, Specific).by_weak(ClientNode),
    cat("self_signed_cert_in_chain", TlsCertificate, Specific).by_weak(ClientNode),
    cat("unable_to_get_issuer_cert", TlsCertificate, Specific).by_weak(ClientNode),
    cat("unable_to_verify_leaf_signature", TlsCertificate, Specific).by_weak(ClientNode),
    cat("err_tls_cert_altname_invalid", TlsCertificate, Specific).by_weak(ClientNode),
    cat("cert_not_yet_valid", TlsCertificate, Specific).by_weak(ClientNode),
    // Java JSSE.
    cat("pkix path building failed", TlsCertificate, Specific),
    // The JDK's cause under PKIX failures (`SunCertPathBuilderException: unable to find valid
    // certification path to requested target`), printed alone when the wrapper is cut.
    cat(
        "unable to find valid certification path",
        TlsCertificate,
        Specific,
    ),
    cat("sslhandshakeexception", TlsCertificate, Specific),
    cat("sslpeerunverifiedexception", TlsCertificate, Specific),
    cat("invalidcertificate", TlsCertificate, Specific),
    cat("certificate verification failed", TlsCertificate, Specific),
    cat("sslerror(", TlsCertificate, Contextual),
    // kube-rs' `Error::SslError` (openssl) as printed: `SslError: No valid private key was found`.
    cat("sslerror: ", TlsCertificate, Contextual),
    // .NET Framework's WebException when the TLS handshake fails.
    cat(
        "could not create ssl/tls secure channel",
        TlsCertificate,
        Specific,
    ),
    cat("requests.exceptions.sslerror", TlsCertificate, Specific),
    // .NET SslStream / HttpClient.
    cat(
        "the ssl connection could not be established",
        TlsCertificate,
        Contextual,
    ),
    cat("the remote certificate", TlsCertificate, Contextual),
    cat("remotecertificatenamemismatch", TlsCertificate, Specific),
    cat("remotecertificatechainerrors", TlsCertificate, Specific),
    cat(
        "system.security.authentication.authenticationexception",
        TlsCertificate,
        Specific,
    )
    .by(Dotnet),
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
    // Admission that is not RBAC, said as "is forbidden": OpenShift's SecurityContextConstraints
    // admission (`Pod "x" is forbidden: no providers available to validate pod request`) and
    // the PodOverhead / RuntimeClass admission plugin (`pods "x" is forbidden: pod rejected:
    // Pod Overhead set without corresponding RuntimeClass defined Overhead`).
    cat_code(
        "is forbidden: no providers available to validate",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    cat_code(
        "is forbidden: pod rejected",
        QuotaOrAdmission,
        Specific,
        403,
    ),
    // An admission plugin out of time (k8s.io/apiserver admission metrics wrapper: `admission
    // plugin "MutatingAdmissionWebhook" failed to complete mutation in 13s`).
    cat("failed to complete mutation", QuotaOrAdmission, Specific),
    cat("failed to complete validation", QuotaOrAdmission, Specific),
    // HTTP's own status words: any HTTP client prints them, so they need API context.
    cat_code("403 forbidden", Authorization, Contextual, 403),
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
    // The RBAC wording before "resource" was added: `User "x" cannot create namespaces at the
    // cluster scope` (ManageIQ/kubeclient#276).
    cat_code("\" cannot list ", Authorization, Contextual, 403),
    cat_code("\" cannot get ", Authorization, Contextual, 403),
    cat_code("\" cannot watch ", Authorization, Contextual, 403),
    cat_code("\" cannot create ", Authorization, Contextual, 403),
    cat_code("\" cannot update ", Authorization, Contextual, 403),
    cat_code("\" cannot patch ", Authorization, Contextual, 403),
    cat_code("\" cannot delete ", Authorization, Contextual, 403),
    // ---- authentication (401) ------------------------------------------------------------
    // The API server's own 401 Status message is the bare word: kept without context.
    cat_code("unauthorized", Authentication, Specific, 401),
    cat_code("provide credentials", Authentication, Specific, 401),
    // client-go's texts for a status whose body carried no message (apimachinery
    // `errors.NewGenericServerResponse`): 400, 405, 409 and 422 here, 403 below, 401, 404,
    // 429, 500, 503 and 504 with their categories.
    cat_code(
        "the server rejected our request for an unknown reason",
        InvalidRequest,
        Specific,
        400,
    ),
    cat_code(
        "the server rejected our request due to an error in our request",
        InvalidRequest,
        Specific,
        422,
    ),
    cat_code(
        "the server does not allow this method on the requested resource",
        InvalidRequest,
        Specific,
        405,
    ),
    cat_code(
        "the server reported a conflict",
        InvalidRequest,
        Specific,
        409,
    ),
    // client-go's text for a 403 whose body carried no message (apimachinery
    // `errors.NewGenericServerResponse`: "the server does not allow access to the requested
    // resource").
    cat_code(
        "the server does not allow access to the requested resource",
        Authorization,
        Specific,
        403,
    ),
    cat_code("invalid bearer token", Authentication, Specific, 401),
    cat_code("token has expired", Authentication, Contextual, 401),
    cat_code("token is expired", Authentication, Contextual, 401),
    cat_code("token has been invalidated", Authentication, Specific, 401),
    // The API server's log of a request it could not authenticate: the x509 or token words
    // after it are about the client's credentials (its certificate's issuer), so they do not
    // make the line a TLS failure (relayed: the transport words after it do not count).
    cat_code(
        "unable to authenticate the request",
        Authentication,
        Specific,
        401,
    )
    .relayed(),
    // client-go's exec credential plugin (aws, gke-gcloud-auth-plugin, kubelogin) failed.
    cat("getting credentials: exec", Authentication, Specific).by(ClientGo),
    // ---- rate limiting (429, APF, client-side) --------------------------------------------
    cat_code("too many requests", RateLimited, Contextual, 429),
    // The Status reason itself (`storage is (re)initializing: TooManyRequests`, .NET's
    // `'TooManyRequests'`).
    cat_code("toomanyrequests", RateLimited, Specific, 429),
    // The API server's max-in-flight and priority-and-fairness rejection message.
    cat_code(
        "too many requests, please try again later",
        RateLimited,
        Specific,
        429,
    ),
    cat_code("has received too many requests", RateLimited, Specific, 429),
    cat("client-side throttling", RateLimited, Specific),
    cat("throttling request took", RateLimited, Specific),
    cat_code("server-side throttling", RateLimited, Specific, 429),
    cat("client rate limiter", RateLimited, Specific),
    // golang.org/x/time/rate under client-go's rate limiter.
    cat("would exceed context deadline", RateLimited, Specific),
    cat("ratelimited", RateLimited, Contextual),
    cat("rate limited", RateLimited, Contextual),
    cat("rate limit exceeded", RateLimited, Contextual),
    // ---- server errors (5xx, etcd behind the API server) ----------------------------------
    // etcd's errors as the API server relays them (go.etcd.io/etcd/api/v3/v3rpc/rpctypes).
    cat("etcdserver: leader changed", ServerError, Specific),
    cat("etcdserver: request timed out", ServerError, Specific),
    cat("etcdserver: no leader", ServerError, Specific),
    cat("etcdserver: too many requests", ServerError, Specific),
    cat(
        "etcdserver: mvcc: database space exceeded",
        ServerError,
        Specific,
    ),
    cat("etcdserver:", ServerError, Contextual),
    // kopf's error for a 5xx (`kopf._cogs.clients.errors.APIServerError`).
    cat("apiservererror", ServerError, Contextual),
    // The etcd v2 client's ErrClusterUnavailable as API servers before 1.13 relayed it.
    cat(
        "etcd cluster is unavailable or misconfigured",
        ServerError,
        Specific,
    ),
    cat_code("internal error occurred", ServerError, Specific, 500).relayed(),
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
    cat("could not be completed at this time", Timeout, Specific),
    // apimachinery's InternalError text (`an error on the server (%q) has prevented the request
    // from succeeding`): a 500 when nothing more precise is said.
    cat_code("an error on the server", ServerError, Weak, 500),
    cat("unable to handle the request", ServerError, Contextual),
    // The API server could not reach the kubelet (logs, exec, port-forward) or an aggregated
    // API: kubectl prints the server's own outbound failure after "Error from server:".
    cat("error dialing backend", ServerError, Specific).relayed(),
    // A CRD's conversion webhook the API server called failed (apiextensions-apiserver
    // `conversion webhook for %v failed: %v`): the server answers 500, and the URL and
    // transport words after it are its own call's.
    cat_code("conversion webhook for", ServerError, Specific, 500).relayed(),
    cat("error from server: get ", ServerError, Specific).relayed(),
    cat("error from server: post ", ServerError, Specific).relayed(),
    // The API server's aggregator could not fetch an aggregated API's OpenAPI spec
    // (kube-aggregator's `loading OpenAPI spec for "v1beta1.metrics.k8s.io" failed with: failed
    // to retrieve openAPI spec, http error: ResponseCode: 503`): the backend's failure, relayed.
    cat("failed to retrieve openapi spec", ServerError, Specific).relayed(),
    // ---- not found (404, missing kinds) --------------------------------------------------
    cat_code(
        "the server could not find the requested resource",
        NotFound,
        Specific,
        404,
    ),
    // The same message cut short by the line's end (Python's `HTTP response body:` line of a
    // long Status, as krr and others print it).
    cat_code("could not find the requested", NotFound, Specific, 404),
    cat("no matches for kind", NotFound, Specific),
    // kubectl's Expired Status (a list continued with a compacted resourceVersion).
    cat_code("error from server (expired)", Other, Specific, 410),
    // A conversion webhook's refusal, relayed by the API server.
    cat(
        "request to convert cr from an invalid group/version",
        ServerError,
        Specific,
    ),
    // client-go's exec credential plugin refusing the kubeconfig's `exec.apiVersion`.
    cat("exec plugin: invalid apiversion", Authentication, Specific),
    // The StatusReasonServerTimeout default message (k8s.io/apimachinery errors.go).
    cat_code(
        "the server cannot complete the requested operation at this time",
        Timeout,
        Specific,
        500,
    ),
    // Vert.x's HTTP client (fabric8 6's default transport): `The timeout period of 10000ms
    // has been exceeded while executing GET /api/v1/...`.
    cat("the timeout period of ", Timeout, Contextual),
    // Java's SSL socket factory under the official client (`java.io.IOException: Failed to
    // create SSL connection`).
    cat(
        "failed to create ssl connection",
        TlsCertificate,
        Contextual,
    ),
    // fabric8's OperationSupport when the request never got an answer (`Error executing: GET
    // at: ... Cause: Failed to connect to kubernetes.default.svc/10.0.0.1:443`).
    cat("failed to connect to ", NetworkUnreachable, Contextual),
    // The same RESTMapper error when the group/version is printed first (`no matches for
    // networking.k8s.io/, Kind=NetworkPolicy`).
    cat("no matches for ", NotFound, Contextual),
    // The openshift/kubernetes dynamic client's ResourceNotFoundError (`Failed to find exact
    // match for v1.Namespace by [kind, name, singularName, shortNames]`).
    cat("failed to find exact match for ", NotFound, Specific),
    // The RESTMapper's failure (operator-sdk, client-go's restmapper, kubectl apply):
    // `failed to get the resource REST mapping for GroupVersionKind(...)`, `unable to get REST
    // mapping for "x.yaml"`: the kind is not served.
    cat(
        "failed to get the resource rest mapping",
        NotFound,
        Specific,
    ),
    cat("unable to get rest mapping", NotFound, Specific),
    // cli-runtime (kubectl, helm): `resource mapping not found for name: ...`.
    cat("resource mapping not found", NotFound, Specific),
    cat(
        "the server doesn't have a resource type",
        NotFound,
        Specific,
    ),
    // kubectl's own `error: ` lines (cmd/util/helpers.go prints the error after "error: "):
    // the discovery failures it states name kubectl even when Go transport text follows.
    client("error: the server doesn't have a resource type", Kubectl),
    client("error: couldn't read version from server", Kubectl),
    cat_code("error from server (notfound)", NotFound, Specific, 404),
    cat_code("404 not found", NotFound, Contextual, 404),
    cat_code("404 page not found", NotFound, Contextual, 404),
    cat_code("reason: not found", NotFound, Contextual, 404),
    // The Status reason `NotFound` as a word: Node's `ENOTFOUND` (DNS) and AWS's
    // `ResourceNotFoundException` are not it.
    cat_code("notfound", NotFound, Weak, 404).word(),
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
    // kubectl's client-side schema validation; when it could not fetch the schema, the failure
    // is the download's (`error validating data: failed to download openapi: Get ...: dial tcp
    // ...: connection refused`), said by the words after it.
    cat("error validating data", InvalidRequest, Specific),
    neutral("error validating data: failed to download openapi"),
    cat("cannot be handled as a", InvalidRequest, Specific),
    cat_code("is invalid:", InvalidRequest, Contextual, 422),
    // The same Status cut after the object's name (`error: pods "pod1" is invalid`): decided
    // with API context, which the quoted name at the line's end gives (`mod.rs`).
    cat_code("\" is invalid", InvalidRequest, Weak, 422),
    // apimachinery's field errors, which an Invalid Status lists after "is invalid:"
    // (k8s.io/apimachinery/pkg/util/validation/field/errors.go `ErrorType` strings): the
    // Kubernetes validation vocabulary, context for the phrase above.
    ctx(": invalid value: "),
    ctx(": forbidden: "),
    // The field error itself (`metadata.annotations[...]: Forbidden: may not add AppArmor
    // annotations`, field.Forbidden) is a rejected request, not RBAC's 403: the bare word
    // inside `: forbidden:` does not count, the error type after a field path does.
    neutral("]: forbidden:"),
    cat("]: forbidden: ", InvalidRequest, Contextual),
    ctx(": required value"),
    ctx(": unsupported value: "),
    ctx(": duplicate value: "),
    ctx(": too long: "),
    ctx(": too many: "),
    cat_code("bad request", InvalidRequest, Contextual, 400),
    // The Status reason as a word (`409 Conflict`, `Reason: Conflict`); "conflicting" is prose.
    cat_code("conflict", InvalidRequest, Weak, 409).word(),
    // Server-side apply's field-manager conflict (k8s.io/apimachinery merge: `Apply failed with
    // 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec...`).
    cat_code("conflict: conflict with \"", InvalidRequest, Specific, 409),
    cat_code(
        "conflicts: conflicts with \"",
        InvalidRequest,
        Specific,
        409,
    ),
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
    cat("dial tcp", NetworkUnreachable, Contextual).by_weak(ClientGo),
    cat("dial udp", NetworkUnreachable, Contextual).by_weak(ClientGo),
    // aiohttp (Python asyncio clients, kubernetes_asyncio, kopf): `ClientConnectorError: Cannot
    // connect to host 10.0.0.1:443 ssl:default [None]`.
    cat("cannot connect to host", NetworkUnreachable, Contextual),
    // .NET's socket after a refused connect (System.Net.Sockets, on Linux and macOS):
    // `PlatformNotSupportedException: Sockets on this platform are invalid for use after a
    // failed connection attempt.`
    cat(
        "invalid for use after a failed connection attempt",
        NetworkUnreachable,
        Specific,
    )
    .by(Dotnet),
    cat("connection refused", NetworkUnreachable, Contextual),
    // kubectl's message, also when the line is cut before its question (`The connection to the
    // server 127.0.0.1:51389 was refused`): kubectl is named by "the connection to the server".
    cat(" was refused", NetworkUnreachable, Contextual),
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
    // Python's built-in socket exceptions (`ConnectionRefusedError: [Errno 111] Connection
    // refused`): the client's own connect failed, whichever library called it.
    cat("connectionrefusederror", NetworkUnreachable, Specific),
    cat("connectionreseterror", NetworkUnreachable, Specific),
    // aiohttp's connect failure (`ClientConnectorError(ConnectionKey(host='10.43.0.1', ...`).
    cat("clientconnectorerror", NetworkUnreachable, Contextual).by(Python),
    // aiohttp's response body cut short (`ClientPayloadError: Response payload is not
    // completed`): the stream broke, as urllib3's `Connection broken:`.
    cat("clientpayloaderror", NetworkUnreachable, Contextual).by(Python),
    cat("broken pipe", NetworkUnreachable, Contextual),
    // urllib3's ProtocolError (`('Connection broken: IncompleteRead(...)'`) and InvalidChunkLength:
    // the response stream was cut (urllib3 `response.py`).
    cat("connection broken: ", NetworkUnreachable, Contextual),
    cat("invalidchunklength", NetworkUnreachable, Contextual),
    cat("unexpected eof", NetworkUnreachable, Contextual),
    // Go's io.EOF ending a request (`Get "https://.../api": EOF`).
    cat("\": eof", NetworkUnreachable, Contextual),
    cat(": eof", NetworkUnreachable, Contextual),
    // Go net/http and x/net/http2 (the transport under client-go).
    cat(
        "http2: client connection lost",
        NetworkUnreachable,
        Specific,
    )
    .by_weak(ClientGo),
    cat("http2: server sent goaway", NetworkUnreachable, Contextual).by_weak(ClientGo),
    cat(
        "http2: no cached connection was available",
        NetworkUnreachable,
        Specific,
    )
    .by_weak(ClientGo),
    cat(
        "client connection force closed",
        NetworkUnreachable,
        Contextual,
    ),
    cat(
        "use of closed network connection",
        NetworkUnreachable,
        Contextual,
    )
    .by_weak(ClientGo),
    cat("stream error: stream id", NetworkUnreachable, Contextual),
    // Node's system error codes (err.code), printed by client-node and request/node-fetch.
    cat("econnrefused", NetworkUnreachable, Contextual)
        .by_weak(ClientNode)
        .word(),
    cat("econnreset", NetworkUnreachable, Contextual)
        .by_weak(ClientNode)
        .word(),
    cat("econnaborted", NetworkUnreachable, Contextual)
        .by_weak(ClientNode)
        .word(),
    cat("enotfound", NetworkUnreachable, Contextual)
        .by_weak(ClientNode)
        .word(),
    cat("ehostunreach", NetworkUnreachable, Contextual)
        .by_weak(ClientNode)
        .word(),
    cat("enetunreach", NetworkUnreachable, Contextual)
        .by_weak(ClientNode)
        .word(),
    // Node's inspect output of a system error (`code: 'ECONNRESET', errno: 'ECONNRESET',
    // syscall: 'read'`), often on a stack frame's line.
    client("', syscall: '", ClientNode),
    // Node's own error messages (`<syscall> <CODE> <address>`) name the failure precisely.
    cat("connect econnrefused", NetworkUnreachable, Specific).by_weak(ClientNode),
    cat("connect ehostunreach", NetworkUnreachable, Specific).by_weak(ClientNode),
    cat("connect enetunreach", NetworkUnreachable, Specific).by_weak(ClientNode),
    cat("read econnreset", NetworkUnreachable, Specific).by_weak(ClientNode),
    cat("error: econnreset", NetworkUnreachable, Specific).by_weak(ClientNode),
    cat("getaddrinfo enotfound", NetworkUnreachable, Specific).by_weak(ClientNode),
    cat("error: socket hang up", NetworkUnreachable, Specific).by_weak(ClientNode),
    // Node's tls module when the socket closes during the handshake (an ECONNRESET).
    cat(
        "client network socket disconnected before secure tls connection",
        NetworkUnreachable,
        Specific,
    )
    .by_weak(ClientNode),
    // Python urllib3/requests.
    cat(
        "failed to establish a new connection",
        NetworkUnreachable,
        Contextual,
    ),
    cat("newconnectionerror", NetworkUnreachable, Contextual).by(Python),
    cat(
        "temporary failure in name resolution",
        NetworkUnreachable,
        Contextual,
    ),
    // Java (java.net, okhttp).
    cat("connectexception", NetworkUnreachable, Contextual),
    cat("socketexception", NetworkUnreachable, Contextual),
    cat("unknownhostexception", NetworkUnreachable, Contextual),
    cat("noroutetohostexception", NetworkUnreachable, Contextual),
    cat("eofexception", NetworkUnreachable, Contextual),
    cat("connect timed out", NetworkUnreachable, Contextual),
    // urllib3: a connect timeout is a failed dial.
    cat("connecttimeouterror", NetworkUnreachable, Contextual),
    cat("(connect timeout=", NetworkUnreachable, Contextual),
    cat("connection timed out", NetworkUnreachable, Contextual),
    // .NET HttpClient.
    cat(
        "error while copying content to a stream",
        NetworkUnreachable,
        Contextual,
    ),
    cat("endofstreamexception", NetworkUnreachable, Contextual),
    cat("the request was aborted", NetworkUnreachable, Contextual),
    // .NET's EAI_AGAIN (a DNS lookup that could not be answered).
    cat(
        "resource temporarily unavailable",
        NetworkUnreachable,
        Contextual,
    ),
    // Rust: hyper / hyper-util (under kube-rs).
    cat("hyper::error(connect", NetworkUnreachable, Contextual).by(KubeRs),
    cat("error trying to connect", NetworkUnreachable, Contextual).by(KubeRs),
    cat("tcp connect error", NetworkUnreachable, Contextual).by(KubeRs),
    cat("client error (connect)", NetworkUnreachable, Specific).by(KubeRs),
    cat("client error (sendrequest)", NetworkUnreachable, Specific).by(KubeRs),
    cat(
        "connection closed before message completed",
        NetworkUnreachable,
        Specific,
    )
    .by(KubeRs),
    cat("connection aborted", NetworkUnreachable, Contextual),
    cat(
        "unable to connect to the server: dial",
        NetworkUnreachable,
        Specific,
    ),
    // fluent-bit's kubernetes filter and input talk of their API connection as "upstream".
    cat("upstream connection error", NetworkUnreachable, Contextual),
    cat(
        "upstream connection initialization error",
        NetworkUnreachable,
        Contextual,
    ),
    // ---- timeouts ------------------------------------------------------------------------
    cat("context deadline exceeded", Timeout, Contextual),
    cat("deadline exceeded", Timeout, Contextual),
    cat("client.timeout exceeded", Timeout, Contextual),
    cat("tls handshake timeout", Timeout, Contextual),
    cat("i/o timeout", Timeout, Contextual).by_weak(ClientGo),
    cat("timed out", Timeout, Contextual),
    cat(
        "net/http: timeout awaiting response headers",
        Timeout,
        Specific,
    )
    .by_weak(ClientGo),
    // The API server's own timeout words (apimachinery's StatusReasonTimeout/ServerTimeout).
    cat_code("request did not complete within", Timeout, Specific, 504),
    cat_code(
        "unable to return a response in the time allotted",
        Timeout,
        Specific,
        504,
    ),
    cat_code("error from server (timeout)", Timeout, Specific, 504),
    cat_code("servertimeout", Timeout, Contextual, 500),
    cat_code("timeout: failed waiting for", Timeout, Specific, 504),
    cat_code("gateway timeout", Timeout, Contextual, 504),
    cat("readtimeouterror", Timeout, Contextual),
    cat("read timed out", Timeout, Contextual),
    cat("sockettimeoutexception", Timeout, Contextual),
    // .NET's own timeout exception (HttpClient's `Timeout` elapsed): `---> System.TimeoutException:
    // The operation was canceled.` (dotnet/runtime, System.Net.Http).
    cat("system.timeoutexception", Timeout, Specific).by(Dotnet),
    cat("timeouterror", Timeout, Contextual),
    cat("not ready after", Timeout, Contextual),
    cat("request canceled", Timeout, Contextual),
    cat("timeout: socket closed", Timeout, Contextual),
    cat("kind: timedout", Timeout, Contextual),
    cat("etimedout", Timeout, Contextual).by_weak(ClientNode),
    cat("esockettimedout", Timeout, Contextual).by_weak(ClientNode),
    cat("connect etimedout", NetworkUnreachable, Specific).by_weak(ClientNode),
    cat("read etimedout", Timeout, Specific).by_weak(ClientNode),
    cat("error: etimedout", Timeout, Specific).by_weak(ClientNode),
    cat("error: esockettimedout", Timeout, Specific).by_weak(ClientNode),
    cat("taskcanceledexception", Timeout, Contextual),
    // .NET HttpClient's own timeout.
    cat(
        "the request was canceled due to the configured httpclient.timeout",
        Timeout,
        Specific,
    )
    .by(Dotnet),
    // apimachinery's wait.ErrWaitTimeout (kubectl wait, rollout status, informers).
    cat("timed out waiting for the condition", Timeout, Contextual),
    // controller-runtime's cache.
    cat(
        "timed out waiting for cache to be synced",
        Timeout,
        Specific,
    )
    .by(ControllerRuntime),
    // controller-runtime's `errors.New("cache did not sync")` (a manager whose informers never
    // synced: the API was too slow or refused the lists).
    cat("cache did not sync", Timeout, Contextual),
    // rustls' `InvalidDnsNameError` ("invalid dnsname"): the server name it was given cannot be
    // checked against a certificate (kube-rs with an IP address under older rustls).
    cat("invalid dnsname", TlsCertificate, Specific),
    // macOS Security framework's verdict under reqwest/native-tls (`The certificate was not
    // trusted.`).
    cat("the certificate was not trusted", TlsCertificate, Specific),
    // rustls' `Error::AlertReceived` ("received fatal alert: HandshakeFailure"): the peer ended
    // the TLS handshake.
    cat("received fatal alert", TlsCertificate, Specific),
    // ---- client markers: who wrote the line (also API context) ---------------------------
    // kubectl's own messages.
    client("error from server", Kubectl),
    client("unable to connect to the server", Kubectl),
    client("the connection to the server", Kubectl),
    client("error: you must be logged in", Kubectl),
    client("error: unable to recognize", Kubectl),
    client("unable to recognize \"", Kubectl),
    client("error when retrieving current configuration", Kubectl),
    client("unable to upgrade connection", Kubectl),
    client("error: unable to forward port", Kubectl),
    client("error: failed to create ", Kubectl).exact_case(),
    // kubectl apply/create/replace/delete's per-file errors (`error when creating "x.yaml":`,
    // and its continuation `for: "STDIN": error when patching "STDIN": ...`; `Error from
    // server (Forbidden): ...` continued by `from server for: "x.yaml": ...`).
    client("error when creating \"", Kubectl),
    client("error when patching \"", Kubectl),
    client("error when replacing \"", Kubectl),
    client("error when deleting \"", Kubectl),
    client("error when applying patch", Kubectl),
    client("from server for: \"", Kubectl),
    client("for: \"stdin\": ", Kubectl),
    // kubectl patch's error (`error: limitranges "x" could not be patched: User "u" cannot
    // patch limitranges in the namespace "kafka"`), RBAC's wording without "forbidden".
    client("\" could not be patched: ", Kubectl),
    cat_code(
        "could not be patched: user \"",
        Authorization,
        Specific,
        403,
    ),
    // A client-go reflector's klog line names the informer it runs for by its source path
    // (`reflector.go:150] sigs.k8s.io/controller-runtime/pkg/cache/internal/informers.go:106:
    // Failed to watch ...`): the location, not the logger; the line is client-go's.
    neutral("] sigs.k8s.io/controller-runtime/pkg/cache/"),
    // kubectl's own message, at the line's start: client-go's SPDY/WebSocket executors say
    // "error upgrading connection" inside other programs' logs too (Rancher's webhook tunnel).
    client("error: error upgrading connection", Kubectl).at_start(),
    client("error validating \"", Kubectl),
    // The same message quoted inside another program's log (`msg="oc apply ...: error
    // validating \"x.yaml\": error validating data: ..."`).
    client("error validating \\\"", Kubectl),
    // kubectl's cmdutil.StandardErrorMessage logs a failed request's URL error at V(4) before
    // printing its own message (k8s.io/kubectl/pkg/cmd/util/helpers.go: `Connection error:
    // %s %s: %v`, the request's method and URL), after a klog header.
    client("] connection error: get ", Kubectl),
    client("] connection error: post ", Kubectl),
    client("] connection error: put ", Kubectl),
    client("] connection error: patch ", Kubectl),
    client("] connection error: delete ", Kubectl),
    weak_client("kubectl", Kubectl),
    // ... not a command the line advises (`... execute: kubectl apply -f ...`).
    neutral("execute: kubectl"),
    // controller-runtime.
    client("controller-runtime", ControllerRuntime),
    client("reconciler error", ControllerRuntime),
    client("\"reconcileid\"", ControllerRuntime),
    client("kubebuilder", ControllerRuntime),
    client("\"controllergroup\"", ControllerRuntime),
    client("\"controllerkind\"", ControllerRuntime),
    client("could not wait for cache to sync", ControllerRuntime),
    // controller-runtime's setup prints this, but so does any program that builds a client-go
    // RESTMapper the same way; only the logger name (`kubebuilder.manager`) says who.
    ctx("failed to get api group-resources"),
    // kubebuilder's scaffolded setup messages.
    client("unable to start manager", ControllerRuntime),
    client("problem running manager", ControllerRuntime),
    client("unable to create controller", ControllerRuntime),
    // client-go: klog headers of its files, its messages.
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
    client("memcache.go", ClientGo),
    client("cached_discovery.go", ClientGo),
    client("shared_informer.go", ClientGo),
    client("retrywatcher.go", ClientGo),
    client("cert_rotation.go", ClientGo),
    // client-go's util/certificate: the kubelet's certificate rotation.
    client("certificate_manager.go", ClientGo),
    client(" event.go:", ClientGo),
    client(" metadata.go:", ClientGo),
    client(" watch.go:", ClientGo),
    client("k8s_client_runtime", ClientGo),
    client("not priority and fairness", ClientGo),
    client("subsys=klog", ClientGo),
    client("error retrieving resource lock", ClientGo),
    client("retry-reason:", ClientGo),
    client("events_cache.go", ClientGo),
    client("warnings.go:", ClientGo),
    client("informerwatcher.go", ClientGo),
    client("listwatch.go", ClientGo),
    client("discovery_client.go", ClientGo),
    client("couldn't get resource list for", ClientGo),
    client("couldn't get current server api group list", ClientGo),
    // client-go's typed clients falling back from a watch-list (k8s.io/client-go/gentype
    // type.go: `The watchlist request for %s ended with an error, falling back to ...`).
    client("the watchlist request for", ClientGo),
    // Go's net/http, crypto/tls and net text: the transport under client-go.
    weak_client("net/http: ", ClientGo),
    // Go's url.Error since Go 1.14: `Post "https://host/apis/...": context deadline exceeded`.
    weak_client("get \"http", ClientGo),
    weak_client("post \"http", ClientGo),
    weak_client("put \"http", ClientGo),
    weak_client("patch \"http", ClientGo),
    weak_client("delete \"http", ClientGo),
    weak_client("http2: ", ClientGo),
    weak_client("getsockopt: ", ClientGo),
    weak_client("read tcp ", ClientGo),
    weak_client("write tcp ", ClientGo),
    // kube-rs and the Rust stack under it (hyper, rustls).
    client("kube_client", KubeRs),
    // Prometheus' client-go logger (`component="kube_client_runtime"`): the longer marker wins
    // over kube-rs' crate name inside it.
    client("kube_client_runtime", ClientGo),
    client("kube_runtime", KubeRs),
    client("kube::", KubeRs),
    client("kube-rs", KubeRs),
    client("kubert::", KubeRs),
    client("errorresponse {", KubeRs),
    client("watchfailed", KubeRs),
    client("initiallistfailed", KubeRs),
    client("watchstartfailed", KubeRs),
    client("hypererror", KubeRs),
    client("hyper error", KubeRs),
    client("hyper::", KubeRs),
    client("serviceerror:", KubeRs),
    // kube_runtime's watcher backoff: a watch error it will retry.
    cat("error received, backing off", Other, Specific),
    // Terraform's kubernetes provider mapping a manifest's kind through discovery (a CRD not
    // installed, discovery failing).
    cat("failed to determine groupversionresource", Other, Specific),
    // The kubelet's authorizer refusing the API server's proxy to it, relayed by the API
    // server as an InternalError (`Internal error occurred: Authorization error
    // (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource=proxy)`).
    cat("authorization error (user=", Authorization, Specific),
    // apimachinery's field error (`Invalid value: "x": must be a DNS label`), a 422's body.
    cat_code("invalid value: \"", InvalidRequest, Specific, 422),
    // client-go refusing a request before sending it (rest/request.go).
    cat(
        "error: resource name may not be empty",
        InvalidRequest,
        Specific,
    ),
    // A structured klog error that is only the word (`err="timeout"`).
    cat("err=\"timeout\"", Timeout, Specific),
    // apimachinery's TooManyRequests message (errors.NewTooManyRequests' default: `the server
    // has received too many API requests and has asked us to try again later`).
    cat_code(
        "has received too many api requests",
        RateLimited,
        Specific,
        429,
    ),
    // client-go's informer cache that never synced (a controller's caches, the garbage
    // collector's): a wait that ran out.
    cat("unable to sync caches for", Timeout, Specific),
    // Python's http.client debug output of the API's reply (`reply: 'HTTP/1.1 409 Conflict'`).
    ctx("reply: 'http/1.1 "),
    // Tools' own NotFound wording for a namespaced object (`service account "x" not found in
    // namespace "y"`): a 404's.
    cat_code("\" not found in namespace \"", NotFound, Contextual, 404),
    // A port-forward or exec the API server could not tunnel to the node (GKE's SSH tunnels,
    // as `dialing backend`).
    cat(
        "error upgrading connection: no ssh tunnels",
        ServerError,
        Specific,
    ),
    // kube-rs' `ApiError: ...`, not the end of another library's `...K8sUnrecoverableAPIError:`.
    client("apierror:", KubeRs).word(),
    client("reconcilerfailed", KubeRs),
    // A file that is not there (`open /tmp/k8s-webhook-server/serving-certs/tls.crt: no such
    // file or directory`): a local failure, never the API's.
    not_api(": no such file or directory"),
    // Akka Management's Kubernetes lease (`akka.coordination.lease.LeaseTimeoutException`):
    // a JVM library calling the API with its own HTTP client.
    client("akka.coordination.lease.", Java),
    // kubectl's message for a kind the API does not serve (`error: resource mapping not found
    // for name: ...`); Helm prints the same words without kubectl's `error: `.
    client("error: resource mapping not found", Kubectl)
        .at_start()
        .exact_case(),
    // The official Java client's informer stopping (`DefaultController#processLoop get
    // interrupted null`): a shutdown, logged at ERROR.
    not_api("processloop get interrupted"),
    // Eclipse JKube's cluster probe (`[WARNING] k8s: Cannot access cluster for detecting mode:
    // No route to host`): its Kubernetes client failing to reach the API.
    ctx("cannot access cluster for detecting mode"),
    // A server's start-up banner (`lab-webhook: listening on 10.0.0.9:8443, stalling 0s (stall
    // file "", fail file "...")`): its settings, whatever words they hold; a failure to listen
    // is the server's own, never an API client's.
    not_api(" listening on "),
    // The API server's proxy to a Service or pod that failed (`error trying to reach service:
    // dial tcp ...: i/o timeout`, apimachinery's proxy transport): the server's outbound call,
    // relayed.
    cat("error trying to reach service", ServerError, Specific).relayed(),
    // kubectl top without metrics-server (`error: Metrics API not available`).
    cat("error: metrics api not available", Other, Specific)
        .by(Kubectl)
        .at_start(),
    // kubeadm's warning about configs it does not validate: its own, not a failed call.
    not_api("cannot validate component configs"),
    // Java's keytool (`keytool error: java.lang.Exception: ... already exists`): a keystore.
    veto("keytool error: "),
    // The kubelet's eviction manager reading its own node's stats.
    veto("eviction_manager.go:"),
    // A Job that ran out of retries (`job failed: BackoffLimitExceeded`): the workload's
    // failure, not the API's.
    not_api("backofflimitexceeded"),
    // curl/NSS naming a certificate that does not match the host.
    cat(
        "does not match the server's certificate",
        TlsCertificate,
        Specific,
    ),
    // kube_runtime's span naming why it re-queues (`object.reason: error policy requested
    // retry`): the error was logged where it happened.
    neutral("error policy requested retry"),
    client("status { status: ", KubeRs),
    client("failed to infer config", KubeRs),
    weak_client("rustls", KubeRs),
    weak_client("(os error ", KubeRs),
    // Python: the kubernetes client and its transport (urllib3, requests, aiohttp, http.client).
    client("kubernetes.client", Python),
    // The client's config loader (`kubernetes.config.config_exception.ConfigException`).
    client("kubernetes.config.", Python),
    // ApiException's text joined on one line: `(429) Reason: TooManyRequests` (its __str__
    // is `({status})\nReason: {reason}`).
    client(") reason: ", Python),
    // ... and its `Reason: ...` line on its own (the block's second line): the HTTP reason
    // phrase, or a watch's `Expired:`/`Gone:` (other programs' `Reason:` lines hold a
    // sentence).
    client("reason: bad request", Python).at_start(),
    client("reason: unauthorized", Python).at_start(),
    client("reason: forbidden", Python).at_start(),
    client("reason: not found", Python).at_start(),
    client("reason: conflict", Python).at_start(),
    client("reason: gone", Python).at_start(),
    client("reason: expired: ", Python).at_start(),
    client("reason: unprocessable entity", Python).at_start(),
    client("reason: too many requests", Python).at_start(),
    client("reason: internal server error", Python).at_start(),
    client("reason: service unavailable", Python).at_start(),
    client("reason: gateway timeout", Python).at_start(),
    // Azure Service Operator's condition (`Reason: Conflict, Severity: Error, ...`).
    neutral("reason: conflict, severity: "),
    // The client's generated docs print `Exception when calling CoreV1Api->read_x: (404)`;
    // programs copy it. The API class names the Kubernetes API.
    strong_err("exception when calling "),
    ctx("v1api->"),
    ctx("customobjectsapi->"),
    client("kubernetes/client/", Python),
    client("apiexception: (", Python),
    client("apiexception(", Python),
    client("kubernetes_asyncio", Python),
    client("kopf.", Python),
    client("kubernetes.dynamic", Python),
    client("openshift.dynamic", Python),
    client("kr8s", Python),
    // httpx (kr8s' and others' transport).
    client("httpx.", Python),
    client("lightkube", Python),
    client("pykube", Python),
    client("k8s.client.", Python),
    // ... not the end of another package's name (`dagster_k8s.client.`).
    neutral("_k8s.client."),
    neutral(".k8s.client."),
    neutral("%k8s.client."),
    client("urllib3", Python),
    client("httpsconnectionpool", Python),
    client("httpconnectionpool", Python),
    client("maxretryerror", Python),
    client("aiohttp", Python),
    // aiohttp's ClientConnectorError: `Cannot connect to host H:P ssl:default [reason]`.
    client("ssl:default [", Python),
    client("ssl:false [", Python),
    client("requests.exceptions", Python),
    client("http.client.", Python),
    client("http response body:", Python),
    client("http response headers:", Python),
    client("httpheaderdict", Python),
    client("[ssl: ", Python),
    client("_ssl.c:", Python),
    client("sslerror(", Python),
    client("retry(total=", Python),
    // Python's own OSError text (`ConnectionRefusedError: [Errno 111]`) names the language, not
    // the client library: no marker (rounds 3 and 9 label it `-`).
    // fabric8 and okhttp.
    client("io.fabric8", Fabric8),
    client("kubernetesclientexception", Fabric8),
    // fabric8's package, also when a log layout cut its first letter (`o.fabric8.kubernetes
    // .client.WatcherException`): the longer marker wins over the Python client's
    // `kubernetes.client` inside it.
    client("fabric8.kubernetes.client", Fabric8),
    // fabric8's OperationInfo (`Operation: [get]  for kind: [Secret]  with name: [x]  in
    // namespace: [default]  failed.`).
    client("]  for kind: [", Fabric8),
    // The .NET client's exception of the same name (`k8s.Exceptions.KubernetesClientException`):
    // the longer marker wins over fabric8's inside it.
    client("exceptions.kubernetesclientexception", Dotnet),
    client("failure executing:", Fabric8),
    // okhttp is the transport of the official Java client and of other JVM clients too: a
    // library's own name beats it (round 15: `io.kubernetes.client.openapi.ApiException:
    // okhttp3...`, OpenShift's Java client on an `OkHttp Dispatcher` thread).
    client("okhttp", Fabric8),
    // Logback's abbreviated logger names (`[io.fab.kub.cli.dsl.int.WatcherWebSocketListener]`).
    client("io.fab.kub.", Fabric8),
    // okhttp's HttpLoggingInterceptor response line (`<-- HTTP/1.1 500 Internal Server Error
    // (4591ms)`), as the Java clients' debug logging prints it: the API's answer.
    ctx("<-- http/1.1 "),
    ctx("<-- http/2 "),
    // The Java Operator SDK (on fabric8, but its own exceptions name only itself).
    client("io.javaoperatorsdk", Java),
    client("watchconnectionmanager", Fabric8),
    // fabric8's own message for a 403 (KubernetesClientException: `Forbidden!Configured service
    // account doesn't have access. Service account may have been revoked.`).
    client("forbidden!configured service account", Fabric8),
    // The official Java client and the JVM's own classes.
    client("io.kubernetes.client", Java).library(),
    // OpenShift's Java REST client and skuber (Scala), on the JVM.
    client("com.openshift.restclient", Java).library(),
    cat_code("restclient.notfoundexception", NotFound, Specific, 404),
    // okhttp's HTTP/2 connection closed under the request.
    cat(
        "connectionshutdownexception",
        NetworkUnreachable,
        Contextual,
    ),
    client("java.net.", Java),
    client("java.io.", Java),
    client("javax.net.", Java),
    client("java.lang.", Java),
    client("javax.ws.rs", Java),
    client("sun.security.", Java),
    client("io.buoyant.", Java),
    // Frameworks' own HTTP clients and transports on the JVM (Micronaut's Kubernetes client,
    // Netty under Quarkus and Vert.x).
    client("io.micronaut.", Java),
    client("io.netty.", Java),
    cat("connecttimeoutexception", NetworkUnreachable, Contextual),
    // @kubernetes/client-node and Node's HTTP stack.
    client("@kubernetes/client-node", ClientNode),
    client("client-node", ClientNode),
    client("http-code:", ClientNode),
    client("statuscode:", ClientNode),
    cat("httperror: http request failed", Other, Specific).by(ClientNode),
    client("failed, reason: ", ClientNode),
    client("node_modules/", ClientNode),
    weak_client("(node:", ClientNode),
    // The .NET KubernetesClient and .NET's own classes.
    // Logback and Spring Boot abbreviate logger names to their initials:
    // `i.f.k.c.d.i.WatcherWebSocketListener` is io.fabric8.kubernetes.client.dsl.internal.
    client(" i.f.k.c.", Fabric8),
    client("k8s.autorest", Dotnet),
    // The older third-party Kubernetes.DotNet client (`Kubernetes.DotNet.Client.ApiException`).
    client("kubernetes.dotnet.", Dotnet),
    client("microsoft.rest", Dotnet),
    client("httpoperationexception", Dotnet),
    // The .NET client's exceptions (`k8s.Exceptions.KubeConfigException`).
    client("k8s.exceptions.", Dotnet).library(),
    // tintoy's KubeClient and its HTTP library.
    client("kubeclient.models.", Dotnet),
    client("httplease.", Dotnet),
    client("k8s.kubernetes.", Dotnet),
    client("k8s.kubernetesexception", Dotnet),
    client("system.threading.tasks.taskcanceledexception", Dotnet),
    client("kubeops.", Dotnet),
    client("system.net.", Dotnet),
    client("system.componentmodel.", Dotnet),
    client("system.platformnotsupportedexception", Dotnet),
    client("system.io.", Dotnet),
    cat(
        "unable to read data from the transport connection",
        NetworkUnreachable,
        Contextual,
    )
    .by(Dotnet),
    // Windows SChannel under .NET's SslStream when the client certificate's private key is
    // unusable (`Win32Exception (0x8009030E): No credentials are available in the security
    // package`): the TLS handshake with the API server fails.
    cat(
        "no credentials are available in the security package",
        TlsCertificate,
        Specific,
    ),
    // ---- API context without a library ----------------------------------------------------
    // Managed control planes' API server names: EKS (`<id>.gr7.<region>.eks.amazonaws.com`)
    // and AKS (`<dns-prefix>-<hash>.hcp.<region>.azmk8s.io`).
    ctx(".eks.amazonaws.com"),
    ctx(".azmk8s.io"),
    // Access reviews are API calls (`failed to request selfSubjectAccessReview: ...`).
    ctx("subjectaccessreview"),
    // python websocket-client's failed upgrade (the Python client's exec and port-forward):
    // `WebSocketBadStatusException: Handshake status 403 Forbidden`.
    cat("websocketbadstatusexception", Other, Specific),
    // gorilla/websocket's failed upgrade (client-go's and virtctl's exec and console streams):
    // the status is beside it (`Can't connect to websocket (401): websocket: bad handshake`).
    cat("websocket: bad handshake", Other, Specific),
    ctx("/api/"),
    ctx("/api\""),
    ctx("/apis"),
    ctx("/apis/"),
    ctx("/api "),
    ctx("/api:"),
    // client-go discovery: `Get "https://10.0.0.1:443/api?timeout=32s"`.
    ctx("/api?"),
    // The Java client's multi-line ApiException (`HTTP response code: 404` on a line of its own,
    // as io.kubernetes.client callers print `e.getCode()`).
    client("http response code:", Java),
    // The `ws` library under Node clients (exec, attach, watch over WebSocket): `Error:
    // Unexpected server response: 403`.
    ctx("unexpected server response"),
    ctx("kubernetes"),
    // API group names (`metrics.k8s.io`), not any word holding "k8s" (host and app names).
    ctx(".k8s.io"),
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
    ctx("coordination.k8s.io"),
    ctx("failed to list"),
    ctx("reconcile"),
    ctx("/version"),
    ctx("filter_kube"),
    // Ruby's kubeclient.
    ctx("kubeexception"),
    // A Kubernetes namespace named as client-go and kubectl quote it (`failed to get
    // ReplicationController "x" in Namespace "y": 404 Not Found`).
    ctx(" in namespace \""),
    // An exec or port-forward upgrade the API server answered with a status (kube-rs'
    // `UpgradeConnectionError::ProtocolSwitch`: `failed to switch protocol: 403 Forbidden`).
    ctx("failed to switch protocol"),
    ctx("error creating: "),
    ctx("upgrade failed"),
    // The API's portforward subresource (kubectl port-forward, telepresence's traffic-manager
    // connection): a connection through the API server.
    ctx("port-forward"),
    ctx("installation failed"),
    // ---- harmless text that looks like an error -------------------------------------------
    neutral("error: logging before flag.parse"),
    // The workqueue's retry notice (apiserver's OpenAPI AggregationController and others).
    neutral("rate limited requeue"),
    // Label keys, annotations, image registries and volume paths name the project, not its API.
    neutral("kubernetes.io"),
    neutral("k8s.gcr.io"),
    neutral("registry.k8s.io"),
    neutral("kubectl-"),
    neutral("kubectl.kubernetes.io"),
    // A lookup handled by a fallback: kopf's `Default peering object not found, falling back
    // to the standalone mode.` (a failed request that falls back still counts: client-go's
    // `The watchlist request ended with an error, falling back to the standard LIST semantics`
    // with its 403).
    neutral("not found, falling back"),
    // A handled error, an empty error field, a zero counter.
    neutral("err=<nil>"),
    neutral("error=<nil>"),
    neutral("error: <nil>"),
    neutral("err: <nil>"),
    neutral("\"error\":null"),
    neutral("\"error\":\"\""),
    neutral("errors=0 "),
    neutral("errors: 0,"),
    neutral("\"errors\":0,"),
    neutral(" 0 errors"),
    neutral("failed=0 "),
    neutral("failures=0 "),
    neutral(" 0 failed"),
    // ---- not an API client's evidence ------------------------------------------------------
    // Servers' own logs: etcd (capnslog "W | etcdserver:" and zap callers), the API server's
    // log of a client's failed TLS handshake, its watch cache, its HTTP access log.
    veto(" | etcdserver:"),
    veto(" | etcdserver/"),
    // The API server's watch cache (k8s.io/apiserver/pkg/storage/cacher): its reflector's
    // errors are the server's own (a conversion webhook failing under it).
    veto("cacher.go:"),
    veto("watch_cache.go:"),
    veto(" | etcdhttp:"),
    veto(" | etcdmain:"),
    veto(" | rafthttp:"),
    veto(" | raft:"),
    veto(" | mvcc:"),
    veto(" | wal:"),
    veto(" | embed:"),
    veto("\"caller\":\"etcdserver/"),
    // An informer lister's miss, as the kubelet logs it (`kubelet.go:2266] node "minikube" not
    // found`: its own Node, before it registered): a cache lookup, not an API answer (the
    // API's NotFound names the plural resource, `nodes "x" not found`).
    veto("] node \""),
    // etcd's own Go client (etcdctl, backup jobs): its retries are etcd's clients', not the
    // API's.
    veto("clientv3/retry_interceptor"),
    // etcd 2's own log (`etcdhttp: unexpected error: etcdserver: request timed out`,
    // `etcdserver: publish error: ...`): the server's, as etcd 3's capnslog lines are.
    veto("etcdhttp: "),
    // The API server's own endpoint reconciler (`Unable to remove old endpoints from kubernetes
    // service: StorageError: key not found`): its storage, not a client's call.
    veto("unable to remove old endpoints from kubernetes service"),
    // A JVM that cannot load a native library: never the API's.
    veto("java.lang.unsatisfiedlinkerror"),
    veto("etcdserver: publish error"),
    // The kubelet's calls to its container runtime (CRI over gRPC): never the API's.
    veto("remote_runtime.go:"),
    // Azure's management SDKs (`Microsoft.Azure.Management.Billing.Models.ErrorResponseException:
    // Operation returned an invalid status code 'BadRequest'`): AutoRest, as the .NET
    // Kubernetes client, but Azure Resource Manager's answer.
    veto("microsoft.azure.management."),
    // golang.org/x/oauth2 fetching a token from an identity provider: the provider's answer.
    veto("oauth2: cannot fetch token"),
    // A gRPC connection failing (a CSI driver, a chaos daemon, a catalog source): the API is
    // not gRPC; etcd's errors the API server relays say `etcdserver:` instead.
    veto("rpc error: code = unavailable desc = connection error"),
    // VS Code's command registry (`command 'extension.vsKubernetesRefreshExplorer' not found`).
    veto("command 'extension."),
    // The API server's proxy to a Service or Pod looking up its endpoints.
    veto("error getting resourcelocation"),
    // The AWS SDK for Go v2 (`operation error EC2: ..., https response error StatusCode: 403`).
    veto("https response error statuscode"),
    // A client's missing kubeconfig file (client-go's loader.go), not an API 404.
    veto("] config not found: "),
    // A connect to a Unix socket (a device plugin's, the kubelet's): the API is TCP.
    veto("error trying to connect: no such file or directory"),
    veto("\"caller\":\"embed/"),
    veto("\"caller\":\"rafthttp/"),
    veto("\"caller\":\"mvcc/"),
    veto("\"caller\":\"v3rpc/"),
    veto("\"logger\":\"raft\""),
    veto("http: tls handshake error from"),
    // The API server's log of a storage error it wraps (`... is not an metav1.Status`, before
    // 1.7 `... is not an unversioned.Status`).
    veto("apiserver received an error that is not an "),
    // Helm fetching a chart repository's index (`looks like "https://charts.x.io" is not a
    // valid chart repository or cannot be reached: Get ".../index.yaml": x509: ...`): a web
    // server's failure, not the API's.
    veto("is not a valid chart repository"),
    // The kubelet's own authorizer answering a scraper (`Forbidden (user=system:serviceaccount:
    // x:metrics-server, verb=get, resource=nodes, subresource=stats)`, kubelet
    // server/auth.go), and scrapers of the kubelet's stats: kubelet stats are not API-client
    // evidence.
    veto("forbidden (user="),
    // ... except where kubectl relays the kubelet's denial of the API server (`Error from
    // server (Forbidden): Forbidden (user=system:kube-apiserver, verb=get, resource=nodes,
    // subresource=proxy)`): the client's request failed with that 403.
    neutral("(forbidden): forbidden (user="),
    // curl's verbose response line (`< HTTP/1.1 401 Unauthorized`): someone's manual test of a
    // URL, not an API client's log.
    veto("< http/1.1 ").at_start(),
    veto("< http/2 ").at_start(),
    // Helm's own ownership check before it applies a release.
    veto("rendered manifests contain a resource that already exists"),
    veto("unable to fetch metrics from kubelet"),
    veto("receiver_creator/kubeletstats"),
    // A registry's pull limit (Docker Hub: `toomanyrequests: You have reached your pull rate
    // limit`): an image pull.
    veto("reached your pull rate limit"),
    // http-proxy-middleware's log of its upstream (`[HPM] Error occurred while proxying
    // request`): a web proxy, like nginx's upstream log.
    veto("[hpm] error occurred while proxying"),
    veto("watch chan error:"),
    veto("httplog.go:"),
    // etcd's own log under journald (`etcd[1224]: got unexpected response error ...`).
    veto(" etcd["),
    // The API server's request handling: a handler that timed out while writing, the work it
    // finishes after a timeout (responsewriters/writers.go, finisher/finisher.go).
    veto("apiserver was unable to write a"),
    veto("post-timeout activity"),
    // gRPC (tonic) transport errors and statuses (`Status { code: Unavailable, ...`): a Rust
    // gRPC client's, not the Kubernetes API's. k8s-openapi's own `Status { code: Some(403), ..`
    // is not matched: only tonic's code names are.
    veto("tonic::transport"),
    veto("status { code: unavailable"),
    veto("status { code: deadlineexceeded"),
    veto("status { code: unknown"),
    veto("status { code: internal"),
    veto("status { code: cancelled"),
    veto("status { code: permissiondenied"),
    veto("status { code: unauthenticated"),
    veto("status { code: resourceexhausted"),
    // The API server's own etcd client (its zap logger; kine under k3s and microk8s): a server's
    // log, not a client's.
    veto("\"logger\":\"etcd-client\""),
    // Linkerd's data-plane proxy (Rust, tracing targets `linkerd_reconnect`, `linkerd_app_*`,
    // `linkerd_proxy_*`): its connections go to Linkerd's control plane and to workloads, never
    // to the API server (Linkerd's policy controller, `linkerd_policy_controller_k8s_api`, is a
    // kube-rs client and is not vetoed).
    veto(": linkerd_reconnect"),
    veto(": linkerd_app_"),
    veto(": linkerd_proxy_"),
    // A reverse proxy's own log of its upstream (nginx `connect() failed (111: Connection
    // refused) while connecting to upstream`, in front of an API server or not).
    veto("while connecting to upstream"),
    // kube-runtime's reflector store lookup (a controller's own cache, not an API answer).
    veto("not found in local store"),
    veto("rbac deny:"),
    // A webhook server's own log of the requests it serves (controller-runtime's webhook
    // package), not a client's.
    veto("controller-runtime.webhook"),
    // Cloud provider SDKs (AWS throttling and access errors are not the Kubernetes API's).
    veto(", request id: "),
    veto("throttlingexception"),
    // The AWS SDK for Go's throttling error code (Route 53, EC2: `Throttling: Rate exceeded`).
    veto("throttling: rate exceeded"),
    // A registry's own 401 (the distribution spec's UNAUTHORIZED: `unauthorized: authentication
    // required`), whoever relays it.
    veto("unauthorized: authentication required"),
    // The API server's log when a webhook with failurePolicy Ignore fails: the request goes on.
    veto("failed calling webhook, failing open"),
    // oc login's info line before it retries with the kubeconfig's CA.
    veto("due to possible x509 error"),
    // cert-manager's info line for a 409 it handles by re-queuing.
    veto("re-queuing item due to optimistic locking"),
    // fluent-bit's Kubernetes filter talking to the kubelet, not to the API server.
    veto("kubelet upstream connection error"),
    // The API server's aggregator checking an APIService's backend (its own log).
    veto("available_controller.go:"),
    // kopf's TemporaryError: the handler asked to be retried.
    not_api("failed temporarily: "),
    // A shell command's own failure (`cp: cannot stat '/etc/kubernetes/admin.conf'`).
    not_api("cp: cannot stat "),
    // Azure Resource Manager (a cloud API, not the cluster's): `HTTP request to URI
    // https://management.azure.com/... failed with status code 409` from the Azure SDKs.
    veto("//management.azure.com/"),
    veto("requestlimitexceeded"),
    // Image pulls and registries, probe results: the kubelet's and the runtime's business.
    veto("failed to pull image"),
    veto("error pulling image"),
    veto("pulling image"),
    veto("error response from daemon"),
    veto("failed to pull and unpack image"),
    veto("errimagepull"),
    veto("imagepullbackoff"),
    veto("[error imagepull]"),
    veto("probe failed"),
    veto("probe errored"),
    veto("(probe result:"),
    // Programming errors: a failure, but not the API's.
    not_api("typeerror:"),
    not_api("referenceerror:"),
    not_api("syntaxerror:"),
    not_api("attributeerror:"),
    not_api("keyerror:"),
    not_api("nameerror:"),
    not_api("importerror:"),
    not_api("modulenotfounderror:"),
    // A process's own health check of a helper (Airflow's `Error while health checking kube
    // watcher process`): a probe result, not an API response.
    not_api("while health checking"),
    // An operator's own wait for its workload (`Exceeded timeout of 300000ms while waiting for
    // StrimziPodSet resource x to be ready`) and a framework giving up on retries
    // (java-operator-sdk `Exhausted retries for ExecutionScope{...}`): the controller's state,
    // not an API answer.
    not_api(" to be ready"),
    not_api("exhausted retries for"),
    // Electron's structured clone (`Error: An object could not be cloned.`) and apimachinery's
    // scheme lookup (`no kind "X" is registered for version "v1"`): programming errors.
    not_api("an object could not be cloned"),
    not_api("is registered for version"),
    not_api("nullpointerexception"),
    not_api("is not a function"),
    not_api("cannot read properties of undefined"),
    not_api("this error originated either by throwing inside"),
    // fabric8's log when it is not in a pod (`Error reading service account token from:
    // [/var/run/secrets/...]. Ignoring.`) and when the program's own watcher handler threw:
    // not an API answer.
    not_api("error reading service account token from"),
    not_api("unhandled exception encountered in watcher event handler"),
    // kopf's report of a handler's own exception that it then ignores (`Handler 'x' failed
    // with an exception. Will ignore.`): the operator's code, not an API answer; and its
    // peering warning about other operators, whose "conflicting" is no 409.
    not_api("failed with an exception. will ignore"),
    neutral("possibly conflicting operators"),
    // Go's gRPC status text (`rpc error: code = Unavailable desc = ...`): a gRPC service's
    // answer (the kubelet's CRI, telepresence, etcd's client), not the API server's REST one;
    // etcd errors the API server relays keep their own phrases (`etcdserver: ...`).
    not_api("rpc error: code ="),
    // A subprocess that failed (Go's exec.ExitError: `exit status 2`), and the Azure SDK's
    // request failures (go-autorest `DetailedError`): not the Kubernetes API.
    not_api("exit status "),
    not_api("failure sending request: statuscode="),
    not_api("autorest/azure:"),
    // ---- generic error words ---------------------------------------------------------------
    err("error"),
    err("fail"),
    err("exception"),
    err("unable to"),
    err("could not"),
    err("cannot "),
    strong_err("exception:"),
    strong_err("error:"),
    strong_err("exception in thread"),
];
