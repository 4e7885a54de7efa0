//! `serve`'s readiness (`GET /readyz`): serving (started, not shutting down) and able to reach
//! the API server, since an investigation with no API server to ask can only say that it
//! could not look. `/healthz` is liveness only and never asks anything.
//!
//! The API server check is gentle with a sick server: `GET /version` (no storage behind it,
//! readable by every identity through `system:public-info-viewer`; an API server whose etcd is
//! down still answers it, and kube-doctor is then exactly what should stay in its Service to
//! diagnose that) with a [`CHECK_TIMEOUT`], at most one in flight whatever the number of
//! probes, its answer cached for [`CACHE_FOR`]. A probe that arrives while a check runs waits
//! for that check's answer (at most [`CHECK_TIMEOUT`]); the check runs in a task of its own,
//! so a probe that gives up does not cancel it. The body of a 503 says why, with the last
//! error redacted and escaped to one line.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::time::Instant;

/// How long one API server check may take before it counts as "no answer".
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a check's answer is reused before the next probe asks again.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// Longest error text shown in a `/readyz` body, in characters.
pub const MAX_ERROR_CHARS: usize = 300;

/// One check of the API server: `Ok` when it answered as expected, else why not (any text:
/// it is redacted and escaped before it is shown).
pub type Probe = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The answer of one check and when it was taken.
#[derive(Debug, Clone)]
struct Checked {
    at: Instant,
    result: Result<(), String>,
}

#[derive(Default)]
struct State {
    last: Option<Checked>,
    in_flight: Option<Shared<BoxFuture<'static, Checked>>>,
}

/// Whether `serve` is ready, and the cached API server check behind it.
pub struct Readiness {
    serving: AtomicBool,
    /// What is checked (named in the body), e.g. the API server's URL.
    target: String,
    probe: Option<Probe>,
    timeout: Duration,
    cache_for: Duration,
    state: Mutex<State>,
}

/// Why `serve` is not ready: the text of `/readyz`'s 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady(pub String);

impl Readiness {
    /// Readiness that checks `target` with `probe` (`None`: only whether it is serving), each
    /// check bounded by `timeout` and its answer reused for `cache_for`. Not serving until
    /// [`Readiness::set_serving`].
    pub fn new(
        target: impl Into<String>,
        probe: Option<Probe>,
        timeout: Duration,
        cache_for: Duration,
    ) -> Arc<Readiness> {
        Arc::new(Readiness {
            serving: AtomicBool::new(false),
            target: kube_doctor_core::redact::redact_url(&target.into()),
            probe,
            timeout,
            cache_for,
            state: Mutex::new(State::default()),
        })
    }

    /// Marks the server as serving (after start) or not (on shutdown).
    pub fn set_serving(&self, serving: bool) {
        self.serving.store(serving, Ordering::Relaxed);
    }

    /// Whether it is serving (started and not shutting down).
    pub fn serving(&self) -> bool {
        self.serving.load(Ordering::Relaxed)
    }

    /// Ready, or why not. Asks the API server only when the cached answer is older than
    /// `cache_for` and no check is running already; must be called within a Tokio runtime.
    pub async fn check(self: &Arc<Self>) -> Result<(), NotReady> {
        if !self.serving() {
            return Err(NotReady(
                "not ready: not serving (starting or shutting down)".to_string(),
            ));
        }
        let Some(probe) = self.probe.clone() else {
            return Ok(());
        };
        let pending = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            match &st.last {
                Some(c) if c.at.elapsed() < self.cache_for => {
                    return self.judge(c);
                }
                _ => {}
            }
            st.in_flight
                .get_or_insert_with(|| {
                    let me = self.clone();
                    let task = tokio::spawn(async move {
                        let result = match tokio::time::timeout(me.timeout, probe()).await {
                            Ok(r) => r,
                            Err(_) => Err(format!(
                                "no answer within {}",
                                humantime::format_duration(me.timeout)
                            )),
                        };
                        let c = Checked {
                            at: Instant::now(),
                            result,
                        };
                        let mut st = me.state.lock().unwrap_or_else(|e| e.into_inner());
                        st.last = Some(c.clone());
                        st.in_flight = None;
                        c
                    });
                    task.map(|r| {
                        r.unwrap_or_else(|e| Checked {
                            at: Instant::now(),
                            result: Err(format!("the check failed: {e}")),
                        })
                    })
                    .boxed()
                    .shared()
                })
                .clone()
        };
        let c = pending.await;
        self.judge(&c)
    }

    fn judge(&self, c: &Checked) -> Result<(), NotReady> {
        match &c.result {
            Ok(()) => Ok(()),
            Err(why) => {
                let (redacted, _) =
                    kube_doctor_core::redact::redact_truncated(why, MAX_ERROR_CHARS);
                Err(NotReady(format!(
                    "not ready: cannot reach the API server at {}: {} (checked {} ago)",
                    kube_doctor_core::escape::one_line(&self.target, 200),
                    kube_doctor_core::escape::one_line(&redacted, MAX_ERROR_CHARS + 20),
                    humantime::format_duration(Duration::from_secs(c.at.elapsed().as_secs()))
                )))
            }
        }
    }
}

/// The API server check of a connected client: `GET /version`, any 2xx answer with a version
/// in it. Counted like every other API request of kube-doctor.
pub fn apiserver_probe(client: kube::Client) -> Probe {
    Arc::new(move || {
        let client = client.clone();
        async move {
            client
                .apiserver_version()
                .await
                .map(|_| ())
                .map_err(|e| kube_doctor_core::escape::error_chain(&e, 1000))
        }
        .boxed()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    // Real time, short bounds: a check may take TIMEOUT, an answer is reused for CACHE.
    const TIMEOUT: Duration = Duration::from_millis(300);
    const CACHE: Duration = Duration::from_millis(1500);

    fn counting(
        answer: impl Fn(u64) -> Result<(), String> + Send + Sync + 'static,
        takes: Duration,
    ) -> (Probe, Arc<AtomicU64>) {
        let calls = Arc::new(AtomicU64::new(0));
        let c = calls.clone();
        let answer = Arc::new(answer);
        let probe: Probe = Arc::new(move || {
            let n = c.fetch_add(1, Ordering::Relaxed);
            let answer = answer.clone();
            async move {
                tokio::time::sleep(takes).await;
                answer(n)
            }
            .boxed()
        });
        (probe, calls)
    }

    #[tokio::test]
    async fn one_check_in_flight_and_its_answer_cached() {
        let (probe, calls) = counting(|_| Ok(()), Duration::from_millis(100));
        let r = Readiness::new("https://api:6443", Some(probe), TIMEOUT, CACHE);
        assert!(r.check().await.is_err(), "not serving yet");
        assert_eq!(
            calls.load(Ordering::Relaxed),
            0,
            "nothing asked before serving"
        );
        r.set_serving(true);
        let probes: Vec<_> = (0..50)
            .map(|_| {
                let r = r.clone();
                tokio::spawn(async move { r.check().await })
            })
            .collect();
        for p in probes {
            assert_eq!(p.await.unwrap(), Ok(()));
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1, "50 probes, one check");
        assert_eq!(r.check().await, Ok(()));
        assert_eq!(calls.load(Ordering::Relaxed), 1, "cached");
        tokio::time::sleep(CACHE).await;
        assert_eq!(r.check().await, Ok(()));
        assert_eq!(calls.load(Ordering::Relaxed), 2, "asked again once stale");
        r.set_serving(false);
        assert!(r.check().await.unwrap_err().0.contains("shutting down"));
    }

    #[tokio::test]
    async fn a_server_that_does_not_answer_is_not_ready_within_the_timeout() {
        let (probe, calls) = counting(|_| Ok(()), Duration::from_secs(3600));
        let r = Readiness::new("https://api:6443", Some(probe), TIMEOUT, CACHE);
        r.set_serving(true);
        let started = Instant::now();
        let why = r.check().await.unwrap_err().0;
        assert!(started.elapsed() >= TIMEOUT);
        assert!(started.elapsed() < TIMEOUT * 5, "{:?}", started.elapsed());
        assert!(
            why.contains("cannot reach the API server at https://api:6443")
                && why.contains("no answer within 300ms"),
            "{why}"
        );
        // The failure is cached too: a sick server is not asked at every probe.
        assert!(r.check().await.is_err());
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn the_last_error_is_redacted_and_escaped() {
        let (probe, _) = counting(
            |n| {
                if n == 0 {
                    Err("connect to https://user:hunter2@api:6443 failed\n\u{1b}[31mAuthorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789".to_string())
                } else {
                    Ok(())
                }
            },
            Duration::from_millis(10),
        );
        let r = Readiness::new("https://admin:pw@api:6443/", Some(probe), TIMEOUT, CACHE);
        r.set_serving(true);
        let why = r.check().await.unwrap_err().0;
        for secret in [
            "hunter2",
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "admin:pw",
        ] {
            assert!(!why.contains(secret), "{secret} in {why}");
        }
        assert!(
            !why.contains('\n') && !why.contains('\u{1b}'),
            "one line: {why:?}"
        );
        // The server recovers: ready once the cached failure is stale.
        tokio::time::sleep(CACHE).await;
        assert_eq!(r.check().await, Ok(()));
    }

    #[tokio::test]
    async fn a_probe_that_gives_up_does_not_cancel_the_check() {
        let (probe, calls) = counting(|_| Ok(()), Duration::from_millis(200));
        let r = Readiness::new("https://api:6443", Some(probe), TIMEOUT, CACHE);
        r.set_serving(true);
        let impatient = tokio::time::timeout(Duration::from_millis(20), r.check()).await;
        assert!(impatient.is_err());
        // The next probe joins the same check rather than starting another.
        assert_eq!(r.check().await, Ok(()));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
