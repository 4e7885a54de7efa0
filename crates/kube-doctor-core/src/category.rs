//! Error-line categories: the vocabulary shared by `classify` (playbook step 5), the client error
//! rates of step 3 (HTTP codes map onto the same words) and the diagnosis rules.
//!
//! The serialised names are a contract (DESIGN.md, "Error-line categories"): do not rename them.

use serde::{Deserialize, Serialize};

/// What kind of API client error a log line (or an HTTP status code) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Connection refused, no route to host, DNS failure, dial i/o timeout, connection reset,
    /// unexpected EOF, HTTP/2 connection lost: the request never got an answer.
    NetworkUnreachable,
    /// Context deadline exceeded (not on dial), request or TLS handshake timeout, server-side
    /// timeout.
    Timeout,
    /// x509 failures: expired, unknown authority, not valid for the name.
    TlsCertificate,
    /// 401: the API server does not know who the client is.
    Authentication,
    /// 403 RBAC denial: the API server knows the client and says no.
    Authorization,
    /// 429, API Priority and Fairness rejections, client-side throttling.
    RateLimited,
    /// Exceeded quota, admission webhook denied or failed, LimitRange.
    QuotaOrAdmission,
    /// 5xx, etcd errors, "unable to handle the request", internal errors.
    ServerError,
    /// 404, missing resource or CRD.
    NotFound,
    /// 400, 409 conflict, 422 invalid.
    InvalidRequest,
    /// An API client error that fits none of the above.
    Other,
    /// Not an API client error at all (most log lines).
    None,
}

impl Category {
    /// Every category, in contract order.
    pub const ALL: [Category; 12] = [
        Category::NetworkUnreachable,
        Category::Timeout,
        Category::TlsCertificate,
        Category::Authentication,
        Category::Authorization,
        Category::RateLimited,
        Category::QuotaOrAdmission,
        Category::ServerError,
        Category::NotFound,
        Category::InvalidRequest,
        Category::Other,
        Category::None,
    ];

    /// The contract's snake_case word for this category.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::NetworkUnreachable => "network_unreachable",
            Category::Timeout => "timeout",
            Category::TlsCertificate => "tls_certificate",
            Category::Authentication => "authentication",
            Category::Authorization => "authorization",
            Category::RateLimited => "rate_limited",
            Category::QuotaOrAdmission => "quota_or_admission",
            Category::ServerError => "server_error",
            Category::NotFound => "not_found",
            Category::InvalidRequest => "invalid_request",
            Category::Other => "other",
            Category::None => "none",
        }
    }

    /// Parses the contract word; `None` when the word is not a category.
    pub fn parse(word: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == word)
    }

    /// The category an HTTP status code (or client-go's `<error>`, no response at all) falls in,
    /// as seen from `rest_client_requests_total{code}`. 2xx and 3xx are not errors.
    pub fn from_status_code(code: &str) -> Category {
        match code.parse::<u16>() {
            Err(_) => Category::NetworkUnreachable,
            Ok(c) => Category::from_http(c),
        }
    }

    /// The category of an HTTP status.
    pub fn from_http(code: u16) -> Category {
        match code {
            100..=399 => Category::None,
            401 => Category::Authentication,
            403 => Category::Authorization,
            404 => Category::NotFound,
            410 => Category::Other,
            408 | 504 => Category::Timeout,
            429 => Category::RateLimited,
            400 | 405..=407 | 409 | 411..=428 | 430..=499 => Category::InvalidRequest,
            500..=599 => Category::ServerError,
            _ => Category::Other,
        }
    }

    /// Whether this is an error at all.
    pub fn is_error(self) -> bool {
        self != Category::None
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_match_serde() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        assert_eq!(Category::parse("nope"), None);
    }

    #[test]
    fn status_codes_map_to_categories() {
        assert_eq!(
            Category::from_status_code("<error>"),
            Category::NetworkUnreachable
        );
        assert_eq!(Category::from_status_code("200"), Category::None);
        assert_eq!(Category::from_status_code("401"), Category::Authentication);
        assert_eq!(Category::from_status_code("403"), Category::Authorization);
        assert_eq!(Category::from_status_code("429"), Category::RateLimited);
        assert_eq!(Category::from_status_code("404"), Category::NotFound);
        assert_eq!(Category::from_status_code("409"), Category::InvalidRequest);
        assert_eq!(Category::from_status_code("504"), Category::Timeout);
        assert_eq!(Category::from_status_code("503"), Category::ServerError);
    }
}
