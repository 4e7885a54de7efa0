//! Where a log line's request went, read from the URLs it names (playbook step 5): a transport
//! or status failure about a URL whose path is not the Kubernetes API's (`Post
//! "https://api.pricing.us-east-1.amazonaws.com/..."`, `request to https://api.example.com/orders
//! failed`, `Get https://registry.example.com/v1/_ping: x509: ...`) is another program's HTTP
//! failure in a Kubernetes client's words, not API-client evidence; a URL with an API path
//! (`/api/v1/...`, `/apis/<group>/...`, `/version`, `/openapi/...`) says the line is about the
//! API even when nothing else does.
//!
//! The API's paths are those the API server serves (k8s.io/apiserver `pkg/server/config.go`
//! `DefaultLegacyAPIPrefix` `/api`, `APIGroupPrefix` `/apis`, and the `/version` and
//! `/openapi/v2`, `/openapi/v3` handlers), also behind a proxy prefix (Rancher's
//! `/k8s/clusters/<id>/api/v1/...`).

/// One URL named in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A path the API server serves.
    Api,
    /// A path it does not serve (`/v2/`, `/token`, `/orders/1`): some other service.
    Elsewhere,
    /// No path, the root, or a health path every server has (`/healthz`): nothing to tell by.
    Unknown,
}

/// A URL found in a line: where it starts (bytes) and what its path says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    /// Byte offset of the URL (its scheme, or the path of Python's `with url: /path`).
    pub start: usize,
    /// What the path says.
    pub target: Target,
}

/// Most URLs read per line; a line naming more is judged by its first ones.
pub(crate) const MAX_URLS: usize = 8;

/// The URLs `line` names, in order: `scheme://host[:port]/path` with scheme http(s) or ws(s),
/// and urllib3's `Max retries exceeded with url: /path` (a path alone). Returns how many of
/// `out` were filled.
pub(crate) fn urls(line: &[u8], out: &mut [Found; MAX_URLS]) -> usize {
    let mut n = 0;
    for at in memchr::memmem::find_iter(line, b"://") {
        if n == MAX_URLS {
            return n;
        }
        let scheme_start = line[..at]
            .iter()
            .rposition(|b| !b.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        let scheme = &line[scheme_start..at];
        if !(scheme.eq_ignore_ascii_case(b"http")
            || scheme.eq_ignore_ascii_case(b"https")
            || scheme.eq_ignore_ascii_case(b"ws")
            || scheme.eq_ignore_ascii_case(b"wss"))
        {
            continue;
        }
        let rest = &line[at + 3..];
        // An IPv6 literal is bracketed (`https://[fd00::1]:443/api`): its `]` is no delimiter.
        let literal = if rest.first() == Some(&b'[') {
            memchr::memchr(b']', rest).map_or(0, |i| i + 1)
        } else {
            0
        };
        let host_len = literal
            + rest[literal..]
                .iter()
                .position(|b| ends_url(*b) || *b == b'/')
                .unwrap_or(rest.len() - literal);
        let after_host = &rest[host_len..];
        let path = after_host.strip_prefix(b"/").map(|p| {
            let len = p.iter().position(|b| ends_url(*b)).unwrap_or(p.len());
            &p[..len]
        });
        let path = path.map(trim_path);
        let target = match path {
            // A `#fragment` is never sent with a request: a documentation link (rustls'
            // `https://docs.rs/rustls/...#unexpected-eof`), as step 5's `target.rs` reads it.
            Some(p) if p.contains(&b'#') || is_source_location(p) || is_manifest(p) => {
                Target::Unknown
            }
            _ if is_other_service(&rest[..host_len]) => Target::Elsewhere,
            // The API server's own Service name says it whatever the path (fabric8's thread
            // name `[OkHttp https://kubernetes.default.svc/...hread]` cuts the path).
            _ if is_own_service(&rest[..host_len]) => Target::Api,
            Some(p) => classify_path(p),
            None => Target::Unknown,
        };
        out[n] = Found {
            start: scheme_start,
            target,
        };
        n += 1;
    }
    const PY: &[u8] = b"with url: /";
    if n < MAX_URLS
        && let Some(at) = memchr::memmem::find(line, PY)
    {
        let p = &line[at + PY.len()..];
        let len = p.iter().position(|b| ends_url(*b)).unwrap_or(p.len());
        out[n] = Found {
            start: at,
            target: classify_path(trim_path(&p[..len])),
        };
        n += 1;
    }
    n
}

/// Hosts of public services that are never a cluster's API server, by domain: cloud providers'
/// own APIs (AWS `*.amazonaws.com` except EKS clusters' `*.eks.amazonaws.com`, Google
/// `*.googleapis.com`, Azure Resource Manager `management.azure.com` (not all of `azure.com`:
/// `*.cloudapp.azure.com` names VMs that can serve a cluster's API), Entra ID
/// `login.microsoftonline.com`, Microsoft Graph `graph.microsoft.com`), image registries (Docker
/// Hub, gcr.io, quay.io, ghcr.io, Artifact Registry `*.pkg.dev`, ECR Public `public.ecr.aws`)
/// and GitHub. A request to one of them that failed is that service's failure.
const OTHER_SERVICES: &[&str] = &[
    "amazonaws.com",
    "googleapis.com",
    "management.azure.com",
    "microsoft.com",
    "microsoftonline.com",
    "docker.io",
    "docker.com",
    "gcr.io",
    "quay.io",
    "ghcr.io",
    "pkg.dev",
    "ecr.aws",
    "github.com",
    "githubusercontent.com",
];

/// Ports of other components than the API server that clients in a cluster talk to: the
/// kubelet's (10250, and the read-only 10255) and etcd's client and peer ports (2379, 2380).
const OTHER_PORTS: &[&[u8]] = &[b"10250", b"10255", b"2379", b"2380"];

/// Whether `host` (`name[:port]`, as written) is one of [`OTHER_SERVICES`] or below it, or
/// names one of [`OTHER_PORTS`].
fn is_other_service(host: &[u8]) -> bool {
    let colon = host.iter().rposition(|b| *b == b':');
    if colon.is_some_and(|i| OTHER_PORTS.contains(&&host[i + 1..])) {
        return true;
    }
    let name = colon.map_or(host, |i| &host[..i]);
    let ends_with = |suffix: &[u8]| {
        name.len() >= suffix.len()
            && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            && (name.len() == suffix.len() || name[name.len() - suffix.len() - 1] == b'.')
    };
    !ends_with(b"eks.amazonaws.com") && OTHER_SERVICES.iter().any(|s| ends_with(s.as_bytes()))
        || is_other_cluster_service(name)
}

/// Well-known ports of services a program in a cluster dials that are never the API server's:
/// MySQL (3306, 33060, 33062), PostgreSQL (5432), Redis (6379), MongoDB (27017), Kafka (9092,
/// 9093), ZooKeeper (2181), Cassandra (9042), RabbitMQ (5672), memcached (11211),
/// Elasticsearch (9200, 9300), NATS (4222), and [`OTHER_PORTS`] (the kubelet's, etcd's).
const SERVICE_PORTS: &[&[u8]] = &[
    b"3306", b"33060", b"33062", b"5432", b"6379", b"27017", b"9092", b"9093", b"2181", b"9042",
    b"5672", b"11211", b"9200", b"9300", b"4222",
];

/// Where a dial to another service starts, if the line names one: Go's `dial tcp H:P` or
/// Node's `connect ECONNREFUSED H:P` / `ETIMEDOUT H:P` with a port of [`SERVICE_PORTS`] or
/// [`OTHER_PORTS`] (`dial tcp 10.1.0.170:33062: connect: connection refused`, a database).
/// The network failure after it is that service's, as with a URL elsewhere.
pub(crate) fn dial_elsewhere(line: &[u8]) -> Option<usize> {
    dial_elsewhere_at(line).map(|at| {
        // From the word before Node's code (`connect ECONNREFUSED`, `getaddrinfo ENOTFOUND`):
        // the failure's phrase starts there.
        let before = line[..at].trim_ascii_end();
        if at > 0 && line[at - 1] == b' ' {
            before
                .iter()
                .rposition(|b| !b.is_ascii_alphabetic())
                .map_or(0, |i| i + 1)
        } else {
            at
        }
    })
}

/// [`dial_elsewhere`], from its marker.
fn dial_elsewhere_at(line: &[u8]) -> Option<usize> {
    // A name lookup of another Service (`getaddrinfo ENOTFOUND redis.default.svc.cluster.local`,
    // Go's `lookup postgres.db.svc on 10.96.0.10:53`): that service's.
    for marker in [&b"ENOTFOUND "[..], b"lookup "] {
        for at in memchr::memmem::find_iter(line, marker) {
            let rest = &line[at + marker.len()..];
            let len = rest
                .iter()
                .position(|b| {
                    b.is_ascii_whitespace() || matches!(b, b',' | b'"' | b'\'' | b')' | b':')
                })
                .unwrap_or(rest.len());
            if is_other_cluster_service(&rest[..len]) {
                return Some(at);
            }
        }
    }
    for marker in [&b"dial tcp "[..], b"ECONNREFUSED ", b"ETIMEDOUT "] {
        for at in memchr::memmem::find_iter(line, marker) {
            let rest = &line[at + marker.len()..];
            let len = rest
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b',' | b'"' | b'\'' | b')'))
                .unwrap_or(rest.len());
            let addr = rest[..len].strip_suffix(b":").unwrap_or(&rest[..len]);
            if let Some(colon) = addr.iter().rposition(|b| *b == b':') {
                let port = &addr[colon + 1..];
                if SERVICE_PORTS.contains(&port) || OTHER_PORTS.contains(&port) {
                    return Some(at);
                }
            }
        }
    }
    None
}

/// Whether `host` (`name[:port]`) is the API server's own Service, `kubernetes.default` or
/// below it (`kubernetes.default.svc`, `kubernetes.default.svc.cluster.local`).
fn is_own_service(host: &[u8]) -> bool {
    const OWN: &[u8] = b"kubernetes.default";
    let name = host
        .iter()
        .rposition(|b| *b == b':')
        .map_or(host, |i| &host[..i]);
    name.len() >= OWN.len()
        && name[..OWN.len()].eq_ignore_ascii_case(OWN)
        && (name.len() == OWN.len() || name[OWN.len()] == b'.')
}

/// Whether `name` is a Service's cluster DNS name (`x.ns.svc`, `x.ns.svc.cluster.local`,
/// Kubernetes DNS specification) other than the API server's own `kubernetes.default.svc...`: a
/// client that calls a Service by that name calls that service (OLM's catalog server, an
/// exporter), not the API server, whatever its path looks like (`/catalogs/x/api/v1/all`).
fn is_other_cluster_service(name: &[u8]) -> bool {
    let ends_svc = name.len() >= 4 && name[name.len() - 4..].eq_ignore_ascii_case(b".svc");
    let is_svc = ends_svc || name.windows(5).any(|w| w.eq_ignore_ascii_case(b".svc."));
    // The API server's own Service is `kubernetes` in `default`, under any cluster domain.
    const OWN: &[u8] = b"kubernetes.";
    is_svc && !(name.len() >= OWN.len() && name[..OWN.len()].eq_ignore_ascii_case(OWN))
}

/// Bytes that end a URL's host or path in log text: whitespace, quotes, the delimiters around
/// a URL in prose and code (`"`, `'`, `\` of an escaped quote, `,`, `)`, `]`, `>`), and the
/// query.
fn ends_url(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'\\' | b',' | b')' | b']' | b'>' | b'?')
}

/// A URL's path as written (what follows the host's `/`, without its query), without the `:`
/// Go's error text ends a URL with (`Get https://h/api/v1/pods: dial tcp ...`) or the `.` of
/// prose.
fn trim_path(mut path: &[u8]) -> &[u8] {
    while let Some(p) = path.strip_suffix(b":").or_else(|| path.strip_suffix(b".")) {
        path = p;
    }
    path
}

/// What a trimmed path says.
fn classify_path(path: &[u8]) -> Target {
    if is_source_location(path) || is_manifest(path) {
        return Target::Unknown;
    }
    let mut segments = path.split(|b| *b == b'/').filter(|s| !s.is_empty());
    let Some(first) = segments.next() else {
        return Target::Unknown;
    };
    if matches!(
        first,
        b"healthz" | b"livez" | b"readyz" | b"health" | b"metrics"
    ) {
        // Every server has these: the API server's own, a scheduler's, an exporter's.
        return if first == b"metrics" {
            Target::Elsewhere
        } else {
            Target::Unknown
        };
    }
    if matches!(first, b"version" | b"openapi") {
        return Target::Api;
    }
    // The API's own paths, behind a proxy prefix too (Rancher's `/k8s/clusters/c-x/api/v1`):
    // `/apis...`, the core group's `/api/v1/...` and discovery's bare `/api`. Other services'
    // APIs use the same word: Prometheus' `/api/v1/query`, Datadog's `/api/v2/...`,
    // JupyterHub's `/hub/api/users`.
    let segments: Vec<&[u8]> = std::iter::once(first).chain(segments).collect();
    for (i, s) in segments.iter().enumerate() {
        if *s == b"apis" {
            return Target::Api;
        }
        if *s == b"api" {
            match (segments.get(i + 1), segments.get(i + 2)) {
                (None, _) => return Target::Api,
                // v1beta1-3 are the API's versions before 1.0 (the old insecure port's
                // `http://localhost:8080/api/v1beta3/minions`).
                (Some(&v), next)
                    if matches!(v, b"v1" | b"v1beta1" | b"v1beta2" | b"v1beta3")
                        && !next.is_some_and(|n| PROMETHEUS_API.contains(n))
                        && next.is_none_or(|n| {
                            let n = n.split(|b| *b == b'?').next().unwrap_or_default();
                            n.is_empty() || CORE_RESOURCES.contains(&n)
                        }) =>
                {
                    return Target::Api;
                }
                _ => {}
            }
        }
    }
    Target::Elsewhere
}

/// What may follow the core group's `/api/v1/`: its resources (`kubectl api-resources
/// --api-group=""` on Kubernetes 1.34, plus the pre-1.0 `minions`), the deprecated `watch/` and
/// `proxy/` prefixes. Another service's `/api/v1/build/function` is not the API.
const CORE_RESOURCES: &[&[u8]] = &[
    b"namespaces",
    b"pods",
    b"nodes",
    b"services",
    b"endpoints",
    b"configmaps",
    b"secrets",
    b"serviceaccounts",
    b"persistentvolumes",
    b"persistentvolumeclaims",
    b"events",
    b"limitranges",
    b"resourcequotas",
    b"replicationcontrollers",
    b"podtemplates",
    b"componentstatuses",
    b"bindings",
    b"minions",
    b"watch",
    b"proxy",
];

/// The first segment after Prometheus' `/api/v1/` (its HTTP API, prometheus.io/docs/
/// prometheus/latest/querying/api/): a query to Prometheus is not a Kubernetes API request.
const PROMETHEUS_API: &[&[u8]] = &[
    b"query",
    b"query_range",
    b"query_exemplars",
    b"format_query",
    b"series",
    b"labels",
    b"label",
    b"targets",
    b"rules",
    b"alerts",
    b"alertmanagers",
    b"metadata",
    b"status",
    b"admin",
    b"write",
    b"read",
    b"notifications",
];

/// A manifest file kubectl was given by URL (`kubectl apply -f https://.../cert-manager.yaml`,
/// quoted back in its errors): a file name, not the request that failed. YAML only: a `.json`
/// URL is more often an API of its own (`versioncheck.linkerd.io/version.json`).
fn is_manifest(path: &[u8]) -> bool {
    // A Helm repository's index is the repository's, fetched by Helm, not a manifest.
    if path == b"index.yaml" || path.ends_with(b"/index.yaml") {
        return false;
    }
    [b".yaml".as_slice(), b".yml"].iter().any(|ext| {
        path.len() >= ext.len() && path[path.len() - ext.len()..].eq_ignore_ascii_case(ext)
    })
}

/// A script's location in a stack frame or a log prefix (`/assets/index-Dq.js:11:77631`): a
/// file with an extension and a line number, not a request.
fn is_source_location(path: &[u8]) -> bool {
    let file = path.rsplit(|b| *b == b'/').next().unwrap_or(path);
    let Some(colon) = file.iter().position(|b| *b == b':') else {
        return false;
    };
    let (name, position) = file.split_at(colon);
    name.contains(&b'.')
        && position.len() > 1
        && position[1..]
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(line: &str) -> Vec<Target> {
        let mut out = [Found {
            start: 0,
            target: Target::Unknown,
        }; MAX_URLS];
        let n = urls(line.as_bytes(), &mut out);
        out[..n].iter().map(|f| f.target).collect()
    }

    #[test]
    fn dials_to_other_services_ports_are_found() {
        let at = |l: &str| dial_elsewhere(l.as_bytes());
        assert_eq!(
            at(
                r#"ERROR failed {"error": "dial tcp 10.1.0.170:33062: connect: connection refused"}"#
            ),
            Some(24)
        );
        // From the word before Node's code.
        assert_eq!(at("connect ECONNREFUSED 10.0.0.5:27017"), Some(0));
        assert_eq!(
            at("dial tcp 10.96.0.1:443: connect: connection refused"),
            None
        );
        assert_eq!(at("dial tcp [fd00::1]:6443: i/o timeout"), None);
        assert_eq!(
            at("dial tcp: lookup postgres on 10.96.0.10:53: no such host"),
            None
        );
        assert_eq!(
            at("getaddrinfo ENOTFOUND redis.default.svc.cluster.local"),
            Some(0)
        );
        assert_eq!(at("getaddrinfo ENOTFOUND kubernetes.default.svc"), None);
    }

    #[test]
    fn api_paths_are_told_from_other_services() {
        use Target::*;
        for (line, want) in [
            (
                r#"Get "https://10.96.0.1:443/api?timeout=32s": dial tcp 10.96.0.1:443: i/o timeout"#,
                vec![Api],
            ),
            // The API server's own Service name, whatever the path (round 16).
            (
                "[OkHttp https://kubernetes.default.svc/...hread]  WARN x - Exec Failure",
                vec![Api],
            ),
            // Another service's `/api/v1/...`: not a core resource after `v1` (round 15).
            (
                "400 Client Error: Bad Request for url: http://localhost:8080/api/v1/build/function",
                vec![Elsewhere],
            ),
            (
                "Get https://10.0.0.1:6443/api/v1/pods?watch=1: EOF",
                vec![Api],
            ),
            // Other services' APIs use the word too.
            (
                r#"Post "https://api.datadoghq.com/api/v2/query/scalar": context deadline exceeded"#,
                vec![Elsewhere],
            ),
            (
                "404 Client Error: Not Found for url: http://hub:8081/hub/api/users/ad",
                vec![Elsewhere],
            ),
            (
                "GET https://prometheus:9090/api/v1/query?query=up: 503",
                vec![Elsewhere],
            ),
            ("Get https://10.0.0.1:6443/api: EOF", vec![Api]),
            (
                "Get https://rancher/k8s/clusters/c-x/api/v1/pods: 502",
                vec![Api],
            ),
            // A Helm repository's index is the repository's.
            (
                r#"Get "https://helm.intra/virtual-helm/index.yaml": x509: certificate signed by unknown authority"#,
                vec![Elsewhere],
            ),
            // In-cluster Services other than the API server's own name: that service's.
            (
                r#"Get "https://catalogd-service.olmv1-system.svc/catalogs/operatorhubio/api/v1/all": tls: failed to verify certificate"#,
                vec![Elsewhere],
            ),
            (
                "Get https://metrics.monitoring.svc.cluster.local:8443/api/v1/query: EOF",
                vec![Elsewhere],
            ),
            (
                "Get https://kubernetes.default.svc.cluster.local/api/v1/pods: EOF",
                vec![Api],
            ),
            (
                "Get https://kubernetes.default.svc:443/apis/apps/v1: EOF",
                vec![Api],
            ),
            (
                "Get https://10.0.0.1:6443/api/v1/nodes: dial tcp 10.0.0.1:6443: connect: connection refused",
                vec![Api],
            ),
            (
                "Get https://rancher.example.com/k8s/clusters/c-kcmtz/api/v1/namespaces/default/pods?limit=500: x509: certificate signed by unknown authority",
                vec![Api],
            ),
            (
                r#"Get "https://api.okd.example.com:6443/version": x509: certificate signed by unknown authority"#,
                vec![Api],
            ),
            (
                r#"Post "https://10.0.0.1:6443/": dial tcp 10.0.0.1:6443: i/o timeout"#,
                vec![Unknown],
            ),
            (
                "FetchError: request to https://api.example.com/retailer/orders/1 failed, reason: connect ETIMEDOUT 185.14.168.83:443",
                vec![Elsewhere],
            ),
            (
                r#"Error: API error (500): {"message":"Get https://registry.example.com/v1/_ping: x509: certificate signed by unknown authority"}"#,
                vec![Elsewhere],
            ),
            (
                "HTTPSConnectionPool(host='10.0.0.1', port=443): Max retries exceeded with url: /api/v1/namespaces/default/pods (Caused by NewConnectionError(...))",
                vec![Api],
            ),
            (
                "HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded with url: /v1/models (Caused by NewConnectionError(...))",
                vec![Elsewhere],
            ),
            (
                r#"caused by: Post "https://sts.us-east-1.amazonaws.com/": dial tcp: i/o timeout"#,
                vec![Elsewhere],
            ),
            (
                "Get https://d69c740c.gr7.us-west-2.eks.amazonaws.com/apis/zalando.org/v1/kopfexamples: 403",
                vec![Api],
            ),
            (
                "Put https://management.azure.com/subscriptions/x/providers/Microsoft.ApiManagement/service/y/apis/z: 429",
                vec![Elsewhere],
            ),
            (
                r#"Get "https://[fd00::1]:6443/api/v1/pods": dial tcp [fd00::1]:6443: connect: connection refused"#,
                vec![Api],
            ),
            (
                r#"ERROR - Request to server http://172.16.17.93:2379 failed: ReadTimeoutError(...)"#,
                vec![Elsewhere],
            ),
            (
                "Get http://127.0.0.1:10251/healthz: dial tcp 127.0.0.1:10251: connect: connection refused",
                vec![Unknown],
            ),
            (
                "[ERROR][webview:<anonymous>@http://tauri.localhost/assets/index-Dqdokv8k.js:11:77631] failed to fetch CRDs: 0: client error (Connect)",
                vec![Unknown],
            ),
            (
                r#"error: unable to recognize "https://raw.githubusercontent.com/tektoncd/catalog/master/task.yaml": no matches for kind "Task" in version "tekton.dev/v1alpha1""#,
                vec![Unknown],
            ),
            (
                "peer closed connection without sending TLS close_notify: https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof",
                vec![Unknown],
            ),
            (
                "error: the server doesn't have a resource type \"pods\"",
                vec![],
            ),
            ("see file://etc/x and ftp://h/y", vec![]),
        ] {
            assert_eq!(targets(line), want, "{line}");
        }
    }
}
