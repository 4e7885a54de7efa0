//! `serve`'s connections: the accept loop between the listening socket and the router
//! ([`super::http`]). Everything a stranger can make serve hold is bounded here, before any
//! handler runs:
//! - **open connections**: at most [`ConnLimits::max_connections`], below the process's
//!   open-file limit ([`fd_budget`] raises the soft limit towards what is needed and keeps
//!   headroom for the API server, Prometheus and log connections of investigations). Beyond
//!   that a small **health reserve** ([`ConnLimits::reserve`]) takes connections that may only
//!   ask `/healthz`, `/readyz` or `/metrics` (anything else: 503), one request each, with a
//!   short head timeout, so probes keep answering under a connection flood; past the reserve a
//!   connection is closed at once.
//! - **silence**: a connection holds only its socket until its first byte arrives (hyper gets
//!   it then), and is closed if none comes within the header timeout.
//! - **request heads**: hyper's `header_read_timeout` (also the keep-alive idle timeout: it
//!   runs from the end of one response to the end of the next request head) and a read buffer
//!   of at most [`MAX_BUF_BYTES`], which bounds the head's size.
//! - **connection lifetime**: [`ConnLimits::max_lifetime`], after which the connection is
//!   asked to close and, [`CLOSE_GRACE`] later, closed (a client that stops reading its
//!   response cannot hold a connection for ever).
//!
//! Bodies, the token and the per-request timeouts are the router's layers ([`super::http`]).
//! Only HTTP/1.1 is served (Alertmanager, Prometheus and kubelet probes speak it).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics::ServeMetrics;

/// Connections the kernel queues before they are accepted (capped by `net.core.somaxconn`):
/// room for a burst of connections, so a probe is not dropped while the loop catches up.
pub const LISTEN_BACKLOG: u32 = 4096;

/// hyper's read buffer at most, in bytes: a request head must fit (8 KiB is hyper's least).
pub const MAX_BUF_BYTES: usize = 16 * 1024;

/// Open files kept free of connections: the investigations' API server, Prometheus, scrape and
/// log connections, the runtime's own descriptors, stdio.
pub const FD_HEADROOM: u64 = 256;

/// How long a connection asked to close (shutdown, lifetime) may take before it is dropped.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Head timeout of a health-reserve connection (one request, asked at once by a probe).
const RESERVE_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// How `serve` treats connections.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Connections served fully at once.
    pub max_connections: usize,
    /// Further connections that may only ask for health, readiness or metrics.
    pub reserve: usize,
    /// Silence allowed before the first byte, and time allowed for a request head (from its
    /// first byte, or from the end of the previous response on a kept-alive connection).
    pub header_timeout: Duration,
    /// A connection is asked to close after this long.
    pub max_lifetime: Duration,
}

/// What [`fd_budget`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft open-file limit now in force.
    pub soft_limit: u64,
    /// What it was before [`fd_budget`] raised it.
    pub was: u64,
    /// Connections (served and reserve) that fit below it with [`FD_HEADROOM`] free.
    pub connections: usize,
}

/// Raises the soft open-file limit (RLIMIT_NOFILE) towards `wanted` connections plus
/// [`FD_HEADROOM`], never past the hard limit, and says how many connections fit below it.
/// `Err` when the limit cannot be read.
pub fn fd_budget(wanted: usize) -> std::io::Result<FdBudget> {
    let (was, _hard) = rlimit::Resource::NOFILE.get()?;
    let want = (wanted as u64).saturating_add(FD_HEADROOM);
    // Never lowers it; on failure to raise, the old limit stands.
    let soft_limit = rlimit::increase_nofile_limit(want).unwrap_or(was).max(was);
    Ok(FdBudget {
        soft_limit,
        was,
        connections: soft_limit.saturating_sub(FD_HEADROOM) as usize,
    })
}

/// Listens on `addr` (`host:port`; the first resolved address that binds) with
/// [`LISTEN_BACKLOG`].
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = match a {
            std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "the address resolves to nothing",
        )
    }))
}

/// Serves connections from `listener` until `stop` is cancelled: each connection accepted
/// within [`ConnLimits::max_connections`] gets `app`, one within the reserve gets `health`,
/// any other is closed at once. On `stop`, it stops accepting, asks every connection to close
/// (idle ones close at once, a request in flight is answered first) and waits at most `drain`
/// for them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    health: Router,
    limits: ConnLimits,
    metrics: Arc<ServeMetrics>,
    stop: CancellationToken,
    drain: Duration,
) {
    let main = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let reserve = Arc::new(Semaphore::new(limits.reserve));
    let tracker = TaskTracker::new();
    let closing = CancellationToken::new();
    loop {
        let stream = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        let (permit, router, header_timeout, keep_alive) =
            if let Ok(p) = main.clone().try_acquire_owned() {
                (p, app.clone(), limits.header_timeout, true)
            } else if let Ok(p) = reserve.clone().try_acquire_owned() {
                let timeout = limits.header_timeout.min(RESERVE_HEADER_TIMEOUT);
                (p, health.clone(), timeout, false)
            } else {
                metrics.connections_refused.inc();
                drop(stream);
                continue;
            };
        let conn = Connection {
            stream,
            _permit: permit,
            router,
            header_timeout,
            keep_alive,
            max_lifetime: limits.max_lifetime,
            closing: closing.clone(),
            metrics: metrics.clone(),
        };
        tracker.spawn(conn.run());
    }
    drop(listener);
    tracker.close();
    closing.cancel();
    if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
        tracing::warn!(
            open = tracker.len(),
            "connections still open after the shutdown drain; closing them"
        );
    }
}

/// Accept failures: a connection that went away before it was accepted is nothing; running out
/// of file descriptors (or memory) is waited out briefly instead of spinning.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "cannot accept a connection; retrying in 50 ms");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// One accepted connection and what it may do.
struct Connection {
    stream: TcpStream,
    /// Its slot, given back when the connection ends.
    _permit: OwnedSemaphorePermit,
    router: Router,
    header_timeout: Duration,
    keep_alive: bool,
    max_lifetime: Duration,
    closing: CancellationToken,
    metrics: Arc<ServeMetrics>,
}

impl Connection {
    async fn run(self) {
        let metrics = self.metrics.clone();
        metrics.connections_open.inc();
        self.serve().await;
        metrics.connections_open.dec();
    }

    async fn serve(self) {
        // Until its first byte a connection is only a socket (no buffers, no hyper state).
        // `peek` waits for a byte (or the end) without taking it; `readable` may wake early.
        let mut byte = [0u8; 1];
        let first_byte = tokio::select! {
            _ = self.closing.cancelled() => return,
            r = tokio::time::timeout(self.header_timeout, self.stream.peek(&mut byte)) => r,
        };
        match first_byte {
            Ok(Ok(1..)) => {}
            // The peer closed (or failed) before saying anything.
            Ok(Ok(0) | Err(_)) => return,
            Err(_) => {
                self.metrics.connections_timed_out.inc();
                return;
            }
        }
        // Boxed, so a silent connection's task is only as large as the wait above.
        Box::pin(self.http()).await;
    }

    /// Serves HTTP/1.1 on the connection until it ends, is asked to close, or outlives
    /// its lifetime.
    async fn http(self) {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .max_buf_size(MAX_BUF_BYTES)
            .keep_alive(self.keep_alive);
        let service = TowerToHyperService::new(self.router);
        let conn = builder.serve_connection(TokioIo::new(self.stream), service);
        let mut conn = std::pin::pin!(conn);
        let lifetime = tokio::time::sleep(self.max_lifetime);
        let mut lifetime = std::pin::pin!(lifetime);
        let mut asked_to_close = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        if e.is_timeout() {
                            self.metrics.connections_timed_out.inc();
                        }
                        tracing::debug!(error = %e, "connection ended");
                    }
                    return;
                }
                _ = self.closing.cancelled(), if !asked_to_close => {
                    asked_to_close = true;
                    conn.as_mut().graceful_shutdown();
                    lifetime.as_mut().reset(tokio::time::Instant::now() + CLOSE_GRACE);
                }
                _ = lifetime.as_mut() => {
                    if asked_to_close {
                        tracing::debug!("connection did not close in time; dropped");
                        return;
                    }
                    asked_to_close = true;
                    conn.as_mut().graceful_shutdown();
                    lifetime.as_mut().reset(tokio::time::Instant::now() + CLOSE_GRACE);
                }
            }
        }
    }
}
