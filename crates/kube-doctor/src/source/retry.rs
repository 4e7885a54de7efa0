//! When to ask again, shared by the Kubernetes and the Prometheus client: client-go's rule
//! (`k8s.io/client-go/rest/request.go`, `checkWait` / `IsRetryableResponse`): an answer is
//! retried only when the server asked for it, a 429 or a 5xx that carries `Retry-After`; a 429
//! without one is retried after 1 s (as client-go's `retryAfterSeconds` default does for the
//! API server's own 429s, which always carry it). Anything else (a bare 500, 503 or 504) is
//! the server's answer and is reported as it is, with its code: asking a sick server again
//! and again is what kube-doctor must not do.
//!
//! kube-rs 5 has a retry layer of its own (`kube::client::retry::RetryPolicy`, on by default:
//! 15 tries on 429/503/504 with exponential backoff) that neither knows the step's deadline nor
//! counts its tries; [`crate::source::kube::Kube::connect`] turns it off and
//! [`crate::source::kube::Kube::call`] retries under the rule here instead.

use std::cell::Cell;
use std::time::{Duration, SystemTime};

/// Retries of one request at most (after the first try).
pub const MAX_RETRIES: u32 = 3;

/// The wait for a 429 that did not say how long.
pub const DEFAULT_429_WAIT: Duration = Duration::from_secs(1);

tokio::task_local! {
    /// The `Retry-After` of the last answer of the request being made in this task, set by
    /// [`note_retry_after`] from inside the client's stack and read by the caller.
    static RETRY_AFTER: Cell<Option<Duration>>;
}

/// The `Retry-After` header's value as a wait: delay-seconds or an HTTP-date (RFC 9110
/// §10.2.3), a date in the past being no wait. `None` when absent or unreadable.
pub fn parse_retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Whether an answer with `status` and `retry_after` is to be asked again (client-go's rule,
/// see the module's doc), and after how long.
pub fn wait_for(status: u16, retry_after: Option<Duration>) -> Option<Duration> {
    match (status, retry_after) {
        (429, Some(w)) | (500..=599, Some(w)) => Some(w),
        (429, None) => Some(DEFAULT_429_WAIT),
        _ => None,
    }
}

/// Records the `Retry-After` of an answer for the request being made in this task (no-op
/// outside [`scope`]). Called by the client stack's counting layer on every answer.
pub fn note_retry_after(headers: &http::HeaderMap) {
    let wait = parse_retry_after(headers);
    let _ = RETRY_AFTER.try_with(|c| c.set(wait));
}

/// Runs `f` with a fresh `Retry-After` slot, returning its output and the `Retry-After` of
/// the last answer it got (if that answer had one).
pub async fn scope<F: Future>(f: F) -> (F::Output, Option<Duration>) {
    RETRY_AFTER
        .scope(Cell::new(None), async move {
            let out = f.await;
            (out, RETRY_AFTER.with(Cell::get))
        })
        .await
}

#[cfg(test)]
pub(crate) use tests::scripted;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A server on loopback that answers each request with the next of `answers` (raw
    /// HTTP/1.1 status line and headers, a blank line, the body; the last one repeats), each
    /// on its own connection, and counts requests.
    pub(crate) async fn scripted(answers: Vec<&'static str>) -> (u16, Arc<AtomicU32>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(AtomicU32::new(0));
        let count = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let n = count.fetch_add(1, Ordering::SeqCst) as usize;
                let (head, body) = answers[n.min(answers.len() - 1)]
                    .split_once("\n\n")
                    .unwrap();
                let reply = format!(
                    "{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        (port, seen)
    }

    fn headers(v: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, v.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(
            parse_retry_after(&headers("2")),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let w = parse_retry_after(&headers(&later)).unwrap();
        assert!(
            w > Duration::from_secs(25) && w <= Duration::from_secs(30),
            "{w:?}"
        );
        assert_eq!(parse_retry_after(&headers("soon")), None);
        assert_eq!(parse_retry_after(&http::HeaderMap::new()), None);
    }

    #[test]
    fn only_what_the_server_asked_for_is_retried() {
        let s = |n| Some(Duration::from_secs(n));
        assert_eq!(wait_for(429, s(3)), s(3));
        assert_eq!(wait_for(429, None), Some(DEFAULT_429_WAIT));
        assert_eq!(wait_for(503, s(2)), s(2));
        assert_eq!(wait_for(503, None), None);
        assert_eq!(wait_for(504, None), None);
        assert_eq!(wait_for(500, None), None);
        assert_eq!(wait_for(404, s(1)), None);
    }

    #[tokio::test]
    async fn the_slot_is_per_scope() {
        let (_, none) = scope(async {}).await;
        assert_eq!(none, None);
        let (_, got) = scope(async { note_retry_after(&headers("4")) }).await;
        assert_eq!(got, Some(Duration::from_secs(4)));
        // Outside a scope: nothing to record into, and no panic.
        note_retry_after(&headers("4"));
    }
}
