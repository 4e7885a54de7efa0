//! Turning secret material into evidence that is safe to keep (playbook step 6): a certificate
//! becomes [`CertMetadata`], a ServiceAccount token becomes [`TokenClaims`]. These functions
//! take the secret bytes and return only metadata; the bytes never leave the caller, and
//! nothing here prints, logs or stores them. JWT signatures are not verified: the claims are
//! evidence for a human and for TokenReview, not an authentication decision.

use base64::Engine;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;

use crate::bundle::{CertMetadata, TokenClaims};

/// Errors reading credential material. Messages never quote the material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    /// No PEM certificate block.
    #[error("no PEM certificate found")]
    NoCertificate,
    /// A PEM block that does not parse as X.509.
    #[error("certificate {index} does not parse as X.509")]
    BadCertificate {
        /// Which certificate in the bundle (0-based).
        index: usize,
    },
    /// Not a JWT (three base64url parts).
    #[error("not a JWT")]
    NotJwt,
    /// The JWT payload is not JSON claims.
    #[error("JWT payload is not a JSON object of claims")]
    BadClaims,
}

/// Parses every certificate in a PEM bundle into metadata. When `ca_pem` is given, each
/// certificate's signature is checked against the CA certificates in it.
pub fn certificates_from_pem(
    pem: &[u8],
    ca_pem: Option<&[u8]>,
) -> Result<Vec<CertMetadata>, CredentialError> {
    let cas: Vec<Vec<u8>> = ca_pem.map(pem_der_blocks).unwrap_or_default();
    let blocks = pem_der_blocks(pem);
    if blocks.is_empty() {
        return Err(CredentialError::NoCertificate);
    }
    blocks
        .iter()
        .enumerate()
        .map(|(index, der)| {
            let (_, cert) = X509Certificate::from_der(der)
                .map_err(|_| CredentialError::BadCertificate { index })?;
            let chains = ca_pem.map(|_| {
                cas.iter().any(|ca_der| {
                    X509Certificate::from_der(ca_der)
                        .ok()
                        .is_some_and(|(_, ca)| cert.verify_signature(Some(ca.public_key())).is_ok())
                })
            });
            Ok(metadata(&cert, der, chains))
        })
        .collect()
}

/// Metadata of one DER certificate (as a TLS handshake presents it).
pub fn certificate_from_der(der: &[u8]) -> Result<CertMetadata, CredentialError> {
    certificate_from_der_with_ca(der, None)
}

/// [`certificate_from_der`], with `chains_to_cluster_ca` checked against the certificates of
/// `ca_pem` (a webhook's `caBundle`, the cluster CA): whether one of them signed it.
pub fn certificate_from_der_with_ca(
    der: &[u8],
    ca_pem: Option<&[u8]>,
) -> Result<CertMetadata, CredentialError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|_| CredentialError::BadCertificate { index: 0 })?;
    let chains = ca_pem.map(|pem| {
        pem_der_blocks(pem).iter().any(|ca_der| {
            X509Certificate::from_der(ca_der)
                .ok()
                .is_some_and(|(_, ca)| cert.verify_signature(Some(ca.public_key())).is_ok())
        })
    });
    Ok(metadata(&cert, der, chains))
}

fn pem_der_blocks(pem: &[u8]) -> Vec<Vec<u8>> {
    Pem::iter_from_buffer(pem)
        .filter_map(Result::ok)
        .filter(|p| p.label == "CERTIFICATE")
        .map(|p| p.contents)
        .collect()
}

fn metadata(cert: &X509Certificate<'_>, der: &[u8], chains: Option<bool>) -> CertMetadata {
    let subject = cert.subject();
    let common_name = subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string);
    let organizations = subject
        .iter_organization()
        .filter_map(|a| a.as_str().ok().map(str::to_string))
        .collect();
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                GeneralName::IPAddress(ip) => ip_addresses.push(format_ip(ip)),
                _ => {}
            }
        }
    }
    let is_ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    CertMetadata {
        subject: subject.to_string(),
        common_name,
        organizations,
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: to_timestamp(cert.validity().not_before),
        not_after: to_timestamp(cert.validity().not_after),
        dns_names,
        ip_addresses,
        is_ca,
        fingerprint_sha256: hex(&Sha256::digest(der)),
        chains_to_cluster_ca: chains,
    }
}

fn to_timestamp(t: ASN1Time) -> Timestamp {
    Timestamp::from_second(t.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn format_ip(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex(bytes),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the claims of a JWT without verifying it.
pub fn token_claims(token: &str) -> Result<TokenClaims, CredentialError> {
    let mut parts = token.trim().split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CredentialError::NotJwt);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| CredentialError::NotJwt)?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| CredentialError::BadClaims)?;
    let obj = v.as_object().ok_or(CredentialError::BadClaims)?;
    let str_of = |k: &str| obj.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let time_of = |k: &str| {
        obj.get(k)
            .and_then(|x| x.as_i64())
            .and_then(|s| Timestamp::from_second(s).ok())
    };
    let audiences = match obj.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    // Bound tokens nest their binding under "kubernetes.io"; legacy Secret tokens use flat
    // "kubernetes.io/serviceaccount/..." claims.
    let k8s = obj.get("kubernetes.io");
    let nested = |path: &[&str]| {
        let mut cur = k8s?;
        for p in path {
            cur = cur.get(*p)?;
        }
        cur.as_str().map(str::to_string)
    };
    let flat = |k: &str| str_of(&format!("kubernetes.io/serviceaccount/{k}"));
    Ok(TokenClaims {
        issuer: str_of("iss"),
        subject: str_of("sub"),
        audiences,
        expires_at: time_of("exp"),
        issued_at: time_of("iat"),
        not_before: time_of("nbf"),
        service_account_name: nested(&["serviceaccount", "name"])
            .or_else(|| flat("service-account.name")),
        service_account_uid: nested(&["serviceaccount", "uid"])
            .or_else(|| flat("service-account.uid")),
        namespace: nested(&["namespace"]).or_else(|| flat("namespace")),
        pod_name: nested(&["pod", "name"]),
        secret_name: nested(&["secret", "name"]).or_else(|| flat("secret.name")),
    })
}

/// What a kubeconfig (from a Secret) carries, as evidence: the client certificates' metadata
/// and the tokens' claims. The kubeconfig's secrets are read here and dropped.
#[derive(Debug, Default)]
pub struct KubeconfigCredentials {
    /// (user name, certificate metadata).
    pub certificates: Vec<(String, CertMetadata)>,
    /// (user name, claims) of bearer tokens that are JWTs.
    pub tokens: Vec<(String, TokenClaims)>,
    /// The embedded tokens themselves, for TokenReview by the caller, which must not store
    /// them. Kept apart from the evidence so it is never serialised.
    pub raw_tokens: Vec<(String, String)>,
    /// The server URL(s).
    pub servers: Vec<String>,
    /// Users whose credentials are in files outside the Secret (cannot be checked).
    pub external: Vec<String>,
}

/// Reads the credentials embedded in a kubeconfig document (YAML or JSON). Only
/// `client-certificate-data` and `token` are looked at; file references are reported as
/// external.
pub fn kubeconfig_credentials(
    text: &str,
    ca_pem: Option<&[u8]>,
) -> Result<KubeconfigCredentials, String> {
    // A kubeconfig is YAML; the fields we need are simple scalars, so a small line scanner
    // is enough and keeps a YAML parser out of the pure core.
    let mut out = KubeconfigCredentials::default();
    let mut user = String::from("(unnamed)");
    let mut in_users = false;
    for raw in text.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if !line.starts_with(' ') && !line.starts_with('-') {
            in_users = trimmed.starts_with("users:");
        }
        if let Some(rest) = trimmed.strip_prefix("server:") {
            out.servers.push(unquote(rest));
        }
        if !in_users {
            continue;
        }
        if let Some(rest) = trimmed
            .strip_prefix("- name:")
            .or_else(|| trimmed.strip_prefix("name:"))
        {
            user = unquote(rest);
        } else if let Some(rest) = trimmed.strip_prefix("client-certificate-data:") {
            let der = base64::engine::general_purpose::STANDARD
                .decode(unquote(rest))
                .map_err(|_| format!("user {user}: client-certificate-data is not base64"))?;
            for cert in certificates_from_pem(&der, ca_pem)
                .map_err(|e| format!("user {user}: client certificate: {e}"))?
            {
                out.certificates.push((user.clone(), cert));
            }
        } else if let Some(rest) = trimmed.strip_prefix("token:") {
            let token = unquote(rest);
            if let Ok(claims) = token_claims(&token) {
                out.tokens.push((user.clone(), claims));
            }
            out.raw_tokens.push((user.clone(), token));
        } else if trimmed.starts_with("client-certificate:") || trimmed.starts_with("tokenFile:") {
            out.external.push(user.clone());
        }
    }
    Ok(out)
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').trim_matches('\'').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn bound_token_claims() {
        let payload = r#"{"aud":["https://kubernetes.default.svc"],"exp":1800000000,"iat":1700000000,"iss":"https://kubernetes.default.svc","kubernetes.io":{"namespace":"demo","serviceaccount":{"name":"app","uid":"u-1"},"pod":{"name":"p","uid":"x"}},"nbf":1700000000,"sub":"system:serviceaccount:demo:app"}"#;
        let token = format!("{}.{}.sig", b64url(r#"{"alg":"RS256"}"#), b64url(payload));
        let c = token_claims(&token).unwrap();
        assert_eq!(c.service_account_name.as_deref(), Some("app"));
        assert_eq!(c.service_account_uid.as_deref(), Some("u-1"));
        assert_eq!(c.namespace.as_deref(), Some("demo"));
        assert_eq!(c.pod_name.as_deref(), Some("p"));
        assert_eq!(
            c.expires_at,
            Some(Timestamp::from_second(1_800_000_000).unwrap())
        );
        assert_eq!(
            c.audiences,
            vec!["https://kubernetes.default.svc".to_string()]
        );
    }

    #[test]
    fn legacy_token_claims() {
        let payload = r#"{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"ns","kubernetes.io/serviceaccount/secret.name":"app-token-x","kubernetes.io/serviceaccount/service-account.name":"app","kubernetes.io/serviceaccount/service-account.uid":"u-2","sub":"system:serviceaccount:ns:app"}"#;
        let token = format!("{}.{}.sig", b64url("{}"), b64url(payload));
        let c = token_claims(&token).unwrap();
        assert_eq!(c.secret_name.as_deref(), Some("app-token-x"));
        assert_eq!(c.service_account_uid.as_deref(), Some("u-2"));
        assert_eq!(c.expires_at, None);
    }

    #[test]
    fn bad_tokens_say_so_without_quoting() {
        assert_eq!(token_claims("abc"), Err(CredentialError::NotJwt));
        let t = format!("{}.{}.s", b64url("{}"), b64url("[1]"));
        assert_eq!(token_claims(&t), Err(CredentialError::BadClaims));
        assert!(!CredentialError::NotJwt.to_string().contains("abc"));
    }

    #[test]
    fn garbage_pem_is_an_error() {
        assert_eq!(
            certificates_from_pem(b"hello", None),
            Err(CredentialError::NoCertificate)
        );
        let bad = b"-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        assert_eq!(
            certificates_from_pem(bad, None),
            Err(CredentialError::BadCertificate { index: 0 })
        );
    }
}
