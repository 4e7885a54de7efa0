//! Which host a failed request on a log line was going to, and whether that host is the
//! Kubernetes API server. A network, timeout or TLS failure towards another host (a database, a
//! registry, a DNS upstream, a webhook the pod calls itself) is not evidence about the pod's API
//! client. The pure half: the caller (step 5 of the playbook) gathers the API server's
//! addresses from the cluster — the kubeconfig's server, the `kubernetes` Service's ClusterIP
//! and the addresses of its EndpointSlices — into [`ApiServerHosts`], and asks
//! [`request_target`] about each error line.
//!
//! Where hosts are read from (each a shape real clients print; see the tests):
//! - URLs (`Get "https://10.96.0.1:443/api/v1/pods"`, `request to https://x/... failed`);
//! - Go's `dial tcp 10.96.0.1:443` and `lookup kubernetes.default.svc on 10.96.0.10:53` (the
//!   resolver after `on` is not the target);
//! - Node's `connect ECONNREFUSED 10.0.0.1:443`, `getaddrinfo ENOTFOUND api.internal`;
//! - okhttp's `Failed to connect to /10.96.0.1:443` (or `name/10.96.0.1:443`);
//! - Python's `HTTPSConnectionPool(host='10.0.0.1', port=443)`;
//! - Java's `UnknownHostException: registry.example.com` and Apache HttpClient's (AWS SDK)
//!   `Connect to sts.amazonaws.com:443`; .NET's `(registry.example.com:443)` after its message;
//!   reqwest's `Domain("registry.example.com")`.
//!
//! A documentation link in a message (`https://docs.rs/rustls/...#unexpected-eof`, any URL with
//! a `#fragment`, which no client sends) names no request.

use std::collections::BTreeSet;
use std::net::IpAddr;

use regex::Regex;

/// The API server's host names and addresses. [`ApiServerHosts::new`] starts with the names
/// that always mean the API server inside a cluster: `kubernetes`, `kubernetes.default`,
/// `kubernetes.default.svc` and `kubernetes.default.svc.<cluster domain>`.
#[derive(Debug, Clone)]
pub struct ApiServerHosts {
    hosts: BTreeSet<String>,
}

impl Default for ApiServerHosts {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiServerHosts {
    /// The in-cluster names only.
    pub fn new() -> Self {
        let hosts = ["kubernetes", "kubernetes.default", "kubernetes.default.svc"]
            .into_iter()
            .map(String::from)
            .collect();
        ApiServerHosts { hosts }
    }

    /// Adds a host, an address or a URL (`https://api.example.com:6443`, `10.96.0.1`,
    /// `[fd00::1]:443`): the kubeconfig's server, the Service's ClusterIP, an EndpointSlice
    /// address. Text that names no host is ignored.
    pub fn add(&mut self, host_or_url: &str) {
        let s = host_or_url.trim();
        let s = s.split_once("://").map_or(s, |(_, rest)| rest);
        let s = s.split(['/', '?', '#']).next().unwrap_or(s);
        let s = s.rsplit_once('@').map_or(s, |(_, h)| h);
        if let Some(h) = normalize(strip_port(s)) {
            self.hosts.insert(h);
        }
    }

    /// Whether `host` (a name or an address, with or without brackets, any case) is the API
    /// server.
    pub fn contains(&self, host: &str) -> bool {
        let Some(h) = normalize(host) else {
            return false;
        };
        self.hosts.contains(&h) || h.starts_with("kubernetes.default.svc.")
    }
}

/// Where a line's failed request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host the line names is the API server (the host as written on the line).
    ApiServer(String),
    /// The line names a host, and none of its hosts is the API server: the failure is not
    /// evidence about the API client.
    Other(String),
    /// The line names no host.
    Unknown,
}

struct Patterns {
    url: Regex,
    dial: Regex,
    lookup: Regex,
    node: Regex,
    okhttp: Regex,
    python: Regex,
    java: Regex,
    dotnet: Regex,
    reqwest: Regex,
}

/// Documentation sites whose links error messages carry (rustls' and Go's docs, Kubernetes',
/// Node's and Microsoft's): never the host of a failed request.
const DOC_HOSTS: &[&str] = &[
    "docs.rs",
    "pkg.go.dev",
    "kubernetes.io",
    "k8s.io",
    "nodejs.org",
    "aka.ms",
    "learn.microsoft.com",
];

fn patterns() -> &'static Patterns {
    static P: std::sync::LazyLock<Patterns> = std::sync::LazyLock::new(|| {
        let re = |p: &str| Regex::new(p).expect("target patterns are valid");
        const HOST: &str = r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9._-]*)";
        Patterns {
            url: re(&format!(
                r#"(?i)\b(?:https?|wss?)://(?:[^/@\s]*@)?{HOST}([^\s"'<>]*)"#
            )),
            dial: re(&format!(r"(?i)\bdial (?:tcp|tcp4|tcp6|udp) {HOST}:\d+")),
            lookup: re(r"(?i)\blookup ([A-Za-z0-9][A-Za-z0-9._-]*)(?: on |: |$)"),
            node: re(&format!(
                r"\b(?:connect|read|write|getaddrinfo) E[A-Z_]+ {HOST}(?::\d+)?"
            )),
            okhttp: re(r"(?i)failed to connect to (?:[A-Za-z0-9._-]*)/(\[?[0-9A-Fa-f:.]+\]?):\d+"),
            python: re(r"(?i)\bhost='([^']+)'"),
            java: re(&format!(
                r"(?i)(?:unknownhostexception: |\bconnect to ){HOST}(?::\d+|[:\s]|$)"
            )),
            dotnet: re(r"\(([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\[[0-9A-Fa-f:.]+\]):\d+\)"),
            reqwest: re(r#"\bDomain\("([^"]+)"\)"#),
        }
    });
    &P
}

/// The hosts a line names as the target of its request, in the order the patterns find them
/// (URLs first; the DNS resolver of a failed lookup is left out).
pub fn request_hosts(line: &str) -> Vec<String> {
    let p = patterns();
    let mut out: Vec<String> = Vec::new();
    let lookups: Vec<&str> = p
        .lookup
        .captures_iter(line)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .collect();
    for re in [
        &p.url, &p.dial, &p.node, &p.okhttp, &p.python, &p.java, &p.dotnet, &p.reqwest,
    ] {
        for c in re.captures_iter(line) {
            let Some(m) = c.get(1) else { continue };
            if std::ptr::eq(re, &p.url)
                && is_doc_link(m.as_str(), c.get(2).map_or("", |r| r.as_str()))
            {
                continue;
            }
            // `dial udp 10.96.0.10:53` after a failed lookup is the resolver, not the target.
            let whole = c.get(0).map_or("", |w| w.as_str());
            if !lookups.is_empty() && whole.starts_with("dial udp") {
                continue;
            }
            push_host(&mut out, m.as_str());
        }
    }
    for l in lookups {
        push_host(&mut out, l);
    }
    out
}

/// A link to documentation rather than a request: a [`DOC_HOSTS`] host (or below one), or a URL
/// with a `#fragment`.
fn is_doc_link(host: &str, rest: &str) -> bool {
    let h = host.to_ascii_lowercase();
    rest.contains('#')
        || DOC_HOSTS
            .iter()
            .any(|d| h == *d || h.ends_with(&format!(".{d}")))
}

fn push_host(out: &mut Vec<String>, host: &str) {
    let h = host.trim_end_matches(['.', ',', ';', ')', '"', '\'']);
    if !h.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(h)) {
        out.push(h.to_string());
    }
}

/// Where `line`'s request went: [`Target::ApiServer`] when any host it names is in `hosts`,
/// [`Target::Other`] when it names hosts and none is, [`Target::Unknown`] when it names none.
/// Meant for lines classified `network_unreachable`, `timeout` or `tls_certificate`.
pub fn request_target(line: &str, hosts: &ApiServerHosts) -> Target {
    let found = request_hosts(line);
    if let Some(h) = found.iter().find(|h| hosts.contains(h)) {
        return Target::ApiServer(h.clone());
    }
    match found.into_iter().next() {
        Some(h) => Target::Other(h),
        None => Target::Unknown,
    }
}

fn strip_port(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.rsplit_once(':') {
        // One colon: host:port. More: a bare IPv6 address.
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => s,
    }
}

/// Lower case, no brackets, no trailing dot; IP addresses in canonical form.
fn normalize(host: &str) -> Option<String> {
    let h = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    if h.is_empty() {
        return None;
    }
    Some(match h.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => h.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> ApiServerHosts {
        let mut h = ApiServerHosts::new();
        h.add("https://192.168.10.37:6443");
        h.add("10.96.0.1");
        h.add("[fd00::1]:443");
        h
    }

    fn t(line: &str) -> Target {
        request_target(line, &hosts())
    }

    #[test]
    fn hosts_are_normalised() {
        let h = hosts();
        assert!(h.contains("192.168.10.37"));
        assert!(h.contains("[FD00:0::1]"));
        assert!(h.contains("KUBERNETES.default.svc.cluster.local."));
        assert!(!h.contains("kubernetes.io"));
        assert!(!h.contains(""));
    }

    /// Lines from the labelled set (tests/fixtures/classify), sources there.
    #[test]
    fn go_client_lines() {
        // kubernetes/kubernetes#71826-shaped kubelet line (labelled-2.tsv, kubelet_node_status.go).
        assert_eq!(
            t(
                "E0302 15:22:56.780297    7920 kubelet_node_status.go:92] Unable to register node \"master\" with API server: Post https://192.168.10.37:6443/api/v1/nodes: dial tcp 192.168.10.37:6443: connect: connection refused"
            ),
            Target::ApiServer("192.168.10.37".into())
        );
        // coredns/coredns#5072: that cluster's Service IP, not this one's.
        assert_eq!(
            t(
                "Failed to list *v1.Service: Get https://10.233.0.1:443/api/v1/services?limit=500&resourceVersion=0: dial tcp 10.233.0.1:443: i/o timeout"
            ),
            Target::Other("10.233.0.1".into())
        );
        // rootsongjc/kubernetes-handbook#45: the resolver after "on" is not the target.
        assert_eq!(
            t(
                "Failed to list *api.Node: Get https://kubernetes.default/api/v1/nodes?resourceVersion=0: dial tcp: lookup kubernetes.default on 10.254.0.2:53: dial udp 10.254.0.2:53: i/o timeout"
            ),
            Target::ApiServer("kubernetes.default".into())
        );
        // kubernetes/kubernetes#91518: a DNS upstream, not the API.
        assert_eq!(
            t(
                "[ERROR] plugin/errors: 2 accountant-server-http-provider-6b8756994f-zzf49. A: read udp 172.30.57.16:53039->119.29.29.29:53: i/o timeout"
            ),
            Target::Unknown
        );
        // rancher-sandbox/rancher-desktop#305: a registry.
        assert_eq!(
            t(
                "failed to fetch anonymous token: Get \"https://auth.docker.io/token?scope=repository%3Amoby%2Fbuildkit%3Apull&service=registry.docker.io\": x509: certificate signed by unknown authority"
            ),
            Target::Other("auth.docker.io".into())
        );
        assert_eq!(
            t(
                "error: Unable to fetch schema: Get https://localhost:6443/openapi/v2: dial tcp [::1]:6443: getsockopt: connection refused"
            ),
            Target::Other("localhost".into())
        );
    }

    #[test]
    fn other_clients() {
        // kubernetes-client/javascript#321.
        assert_eq!(
            t("Error: connect ECONNREFUSED 127.0.0.1:8080"),
            Target::Other("127.0.0.1".into())
        );
        assert_eq!(
            t("Error: connect ECONNREFUSED 10.96.0.1:443"),
            Target::ApiServer("10.96.0.1".into())
        );
        assert_eq!(
            t("Error: getaddrinfo ENOTFOUND kubernetes.default.svc"),
            Target::ApiServer("kubernetes.default.svc".into())
        );
        // kubernetes-client/java (labelled.tsv): okhttp's "/address".
        assert_eq!(
            t("Caused by: java.net.ConnectException: Failed to connect to /10.96.0.1:443"),
            Target::ApiServer("10.96.0.1".into())
        );
        assert_eq!(
            t(
                "urllib3.exceptions.MaxRetryError: HTTPSConnectionPool(host='localhost', port=443): Max retries exceeded with url: /api/v1/nodes"
            ),
            Target::Other("localhost".into())
        );
        assert_eq!(
            t(
                "Get \"https://[fd00::1]:443/api\": dial tcp [fd00::1]:443: connect: connection refused"
            ),
            Target::ApiServer("[fd00::1]".into())
        );
        assert_eq!(
            t("tcp connect error: Connection refused (os error 111)"),
            Target::Unknown
        );
    }

    /// The shapes a new user's try found unread (the Java, Apache HttpClient, .NET and reqwest
    /// host forms) and a documentation link read as a request (rustls' `close_notify` message).
    #[test]
    fn more_host_forms_and_documentation_links() {
        assert_eq!(
            t("java.net.UnknownHostException: registry.example.com: Name or service not known"),
            Target::Other("registry.example.com".into())
        );
        assert_eq!(
            t(
                "com.amazonaws.SdkClientException: Unable to execute HTTP request: Connect to sts.us-east-1.amazonaws.com:443 [sts.us-east-1.amazonaws.com/52.94.0.1] failed: connect timed out"
            ),
            Target::Other("sts.us-east-1.amazonaws.com".into())
        );
        assert_eq!(
            t(
                "System.Net.Http.HttpRequestException: No such host is known. (sts.us-east-1.amazonaws.com:443)"
            ),
            Target::Other("sts.us-east-1.amazonaws.com".into())
        );
        assert_eq!(
            t(
                r#"reqwest::Error { kind: Request, url: Url { scheme: "https", host: Some(Domain("registry.example.com")), port: None, path: "/v2/" }, source: hyper::Error(Connect, ConnectError("tcp connect error", Os { code: 111 })) }"#
            ),
            Target::Other("registry.example.com".into())
        );
        assert_eq!(
            t("java.net.UnknownHostException: kubernetes.default.svc"),
            Target::ApiServer("kubernetes.default.svc".into())
        );
        // rustls' message carries a link to its manual: no request went there.
        assert_eq!(
            t(
                "WARN kube_client::client: eof in poll: error reading a body from connection: peer closed connection without sending TLS close_notify: https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof"
            ),
            Target::Unknown
        );
        assert_eq!(
            t("see https://example.com/errors#econnrefused: connect ECONNREFUSED 10.96.0.1:443"),
            Target::ApiServer("10.96.0.1".into())
        );
        // A line number in parentheses is no host.
        assert_eq!(t("error at (main:12): connection refused"), Target::Unknown);
    }

    #[test]
    fn userinfo_in_urls_is_not_the_host() {
        assert_eq!(
            request_hosts("Get \"https://user:pw@db.internal:5432/x\": EOF"),
            vec!["db.internal".to_string()]
        );
    }
}
