//! `serve` under strangers (issue 12), against the real binary on loopback: connection floods
//! without a token, half-open connections, the connection bound and its health reserve, and
//! SIGTERM. serve runs with a token file and a kubeconfig that points at an unused loopback
//! port (it must start without the API server). Every test is bounded and stops by itself;
//! the figures are printed (`--nocapture` shows them).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "flood-test-token-0123456789";

/// A running `kube-doctor serve`, killed if the test ends without stopping it.
struct Serve {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port nothing listens on (bound, then released).
fn unused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Raises this process's open-file limit so it can hold the flood's client sockets.
fn raise_fd_limit(need: u64) {
    let got = rlimit::increase_nofile_limit(need).expect("read RLIMIT_NOFILE");
    assert!(
        got >= need,
        "the open-file hard limit allows {got} descriptors; this test needs {need}: raise it (ulimit -Hn)"
    );
}

/// Starts serve with a token file and a kubeconfig for an API server that is not there.
fn start_serve(extra: &[&str]) -> Serve {
    start_serve_against(unused_port(), extra)
}

/// Starts serve with a token file and a kubeconfig for an API server at `api_port` on loopback.
fn start_serve_against(api_port: u16, extra: &[&str]) -> Serve {
    let dir = std::env::temp_dir().join(format!(
        "kd-serve-flood-{}-{}",
        std::process::id(),
        unused_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = TempDir(dir);
    let token = dir.0.join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let kubeconfig = dir.0.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: nowhere\n  cluster:\n    server: https://127.0.0.1:{api_port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: not-a-real-token\ncontexts:\n- name: c\n  context: {{cluster: nowhere, user: u}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    let prometheus = format!("http://127.0.0.1:{}", unused_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-doctor"))
        .args(["serve", "--listen", "127.0.0.1:0", "--token-file"])
        .arg(&token)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--prometheus", &prometheus, "--no-events"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kube-doctor serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && let Some(addr) = line.strip_prefix("kube-doctor: serving on ") {
                let _ = tx.send(addr.trim().to_string());
                sent = true;
            }
            eprintln!("serve: {line}");
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(a) => a.parse().expect("serve's address"),
        Err(_) => {
            let _ = child.kill();
            panic!("serve did not start within 30 s without its API server");
        }
    };
    Serve {
        child,
        addr,
        _dir: dir,
    }
}

/// A field of /proc/PID/status, in kB.
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// One request on a fresh connection; the status code and the time it took.
async fn request(addr: SocketAddr, head: &str) -> Result<(u16, Duration), String> {
    let t = Instant::now();
    let go = async {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        s.write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        status_of(&buf)
            .ok_or_else(|| format!("no HTTP answer: {:?}", String::from_utf8_lossy(&buf)))
    };
    match tokio::time::timeout(Duration::from_secs(5), go).await {
        Ok(Ok(code)) => Ok((code, t.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("no answer within 5 s".into()),
    }
}

fn status_of(buf: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(buf.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: kube-doctor\r\nConnection: close\r\n\r\n")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Waits for the peer to close (EOF or reset); `Err` if it is still open after `limit`.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, ()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let wait = async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(limit, wait).await.map_err(|_| ())?;
    Ok(buf)
}

/// What one flood connection saw: when the server closed it (from before its connect, so
/// never earlier than the server's own clock; later by the client's scheduling), and the
/// status it was answered with, if any.
#[derive(Debug)]
struct Seen {
    closed_after: Option<Duration>,
    status: Option<u16>,
}

async fn hold_idle(addr: SocketAddr, limit: Duration) -> Result<Seen, String> {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let r = closed_within(&mut s, limit).await;
    Ok(Seen {
        closed_after: r.as_ref().ok().map(|_| t.elapsed()),
        status: r.ok().and_then(|b| status_of(&b)),
    })
}

/// Sends a request head and `body_len` bytes of body (or `sent` of them, then stalls), reading
/// whatever comes back meanwhile.
async fn post(
    addr: SocketAddr,
    token: Option<&str>,
    body_len: usize,
    sent: usize,
    limit: Duration,
) -> Result<Seen, String> {
    let t = Instant::now();
    let s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST /api/alerts HTTP/1.1\r\nHost: kube-doctor\r\nContent-Type: application/json\r\n{auth}Content-Length: {body_len}\r\n\r\n"
    );
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        let chunk = vec![b'x'; 64 * 1024];
        let mut left = sent;
        while left > 0 {
            let n = left.min(chunk.len());
            wr.write_all(&chunk[..n]).await?;
            left -= n;
        }
        // Hold the connection open (half-open: the rest of the body never comes).
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<_, std::io::Error>(wr)
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(limit, read).await.is_ok();
    writer.abort();
    Ok(Seen {
        closed_after: closed.then(|| t.elapsed()),
        status: status_of(&buf),
    })
}

/// Probes `/healthz` on a fresh connection every `every` until `stop`, from a thread of its
/// own with blocking sockets (so the flood's tasks do not delay the probe's own clock); each
/// probe's latency or failure.
fn probe_health(
    addr: SocketAddr,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Result<Duration, String>>> {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let mut out = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let t = Instant::now();
            let r = (|| {
                let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                    .map_err(|e| e.to_string())?;
                s.set_read_timeout(Some(Duration::from_secs(5)))
                    .map_err(|e| e.to_string())?;
                s.write_all(get("/healthz").as_bytes())
                    .map_err(|e| e.to_string())?;
                let mut buf = Vec::new();
                s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
                match status_of(&buf) {
                    Some(200) => Ok(t.elapsed()),
                    other => Err(format!("answered {other:?}")),
                }
            })();
            out.push(r);
            std::thread::sleep(every.saturating_sub(t.elapsed()));
        }
        out
    })
}

/// Samples serve's RSS every 50 ms until `stop`; the highest seen, in kB.
fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(proc_status_kb(pid, "VmRSS:"));
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    })
}

/// Sends SIGTERM and waits for the exit; the time it took and the exit status.
fn terminate(serve: &mut Serve) -> (Duration, std::process::ExitStatus) {
    let t = Instant::now();
    let ok = Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -TERM failed");
    loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            return (t.elapsed(), status);
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "serve still running 15 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

const IDLE: usize = 5000;
const TOKENLESS: usize = 400;
const BODY: usize = 1_000_000;
const PARTIAL_HEADS: usize = 200;
const PARTIAL_BODIES: usize = 50;
const HEADER_TIMEOUT: Duration = Duration::from_secs(3);
const BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// Slack for closes, beyond serve's own limit: the client's connect and scheduling on a loaded
/// 2-core machine (the measured times start before the connect).
const CLOSE_SLACK: Duration = Duration::from_millis(2500);

/// Lowers the calling thread's CPU priority (nice 10): the flood's clients run on loopback
/// beside serve, where a real attacker's would not take serve's CPU.
fn lower_priority() {
    // SAFETY: setpriority on the calling thread (gettid) only changes its nice value.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::id_t;
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, 10) };
}

#[test]
fn serve_holds_under_a_flood_of_strangers() {
    raise_fd_limit((IDLE + TOKENLESS + PARTIAL_HEADS + PARTIAL_BODIES + 1024) as u64);
    let mut serve = start_serve(&["--header-timeout", "3s", "--body-timeout", "5s"]);
    let addr = serve.addr;
    let pid = serve.child.id();
    let stop = Arc::new(AtomicBool::new(false));
    // The probe and the sampler at normal priority, on threads of their own.
    let prober = probe_health(addr, Duration::from_millis(20), stop.clone());
    let sampler = sample_rss(pid, stop.clone());
    let flood = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(lower_priority)
        .build()
        .unwrap();
    flood.block_on(flood_and_check(&mut serve, prober, sampler, stop));
}

async fn flood_and_check(
    serve: &mut Serve,
    prober: std::thread::JoinHandle<Vec<Result<Duration, String>>>,
    sampler: std::thread::JoinHandle<u64>,
    stop: Arc<AtomicBool>,
) {
    let addr = serve.addr;
    let pid = serve.child.id();
    // Started without its API server: alive, not ready (it cannot reach the API server),
    // and saying so within the readiness check's bound.
    assert_eq!(request(addr, &get("/healthz")).await.unwrap().0, 200);
    let (code, took) = request(addr, &get("/readyz")).await.unwrap();
    assert_eq!(code, 503);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let rss_before = proc_status_kb(pid, "VmRSS:");
    let flood_started = Instant::now();
    let limit = Duration::from_secs(20);
    let mut idle = tokio::task::JoinSet::new();
    let mut tokenless = tokio::task::JoinSet::new();
    let mut heads = tokio::task::JoinSet::new();
    let mut bodies = tokio::task::JoinSet::new();
    for i in 0..IDLE.max(TOKENLESS) {
        if i < IDLE {
            idle.spawn(hold_idle(addr, limit));
        }
        if i < TOKENLESS {
            tokenless.spawn(post(addr, None, BODY, BODY, limit));
        }
        if i < PARTIAL_HEADS {
            heads.spawn(async move {
                let t = Instant::now();
                let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                s.write_all(b"POST /api/alerts HTTP/1.1\r\nHost: kube-doctor\r\nContent-Le")
                    .await
                    .map_err(|e| e.to_string())?;
                let r = closed_within(&mut s, limit).await;
                Ok::<_, String>(Seen {
                    closed_after: r.as_ref().ok().map(|_| t.elapsed()),
                    status: r.ok().and_then(|b| status_of(&b)),
                })
            });
        }
        if i < PARTIAL_BODIES {
            bodies.spawn(post(addr, Some(TOKEN), 10_000, 100, limit));
        }
        // Opened as fast as the accept loop takes them, a few hundred at a time.
        if i % 250 == 249 {
            tokio::task::yield_now().await;
        }
    }
    let idle = idle.join_all().await;
    let tokenless = tokenless.join_all().await;
    let heads = heads.join_all().await;
    let bodies = bodies.join_all().await;
    let flood_took = flood_started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let probes = prober.join().unwrap();
    let rss_peak_sampled = sampler.join().unwrap();
    let rss_hwm = proc_status_kb(pid, "VmHWM:");
    let rss_after = proc_status_kb(pid, "VmRSS:");

    // Every flood connection was taken and ended by the server, in time.
    let summarize = |name: &str, seen: &[Result<Seen, String>], want: Duration| {
        let failed: Vec<&String> = seen.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(
            failed.is_empty(),
            "{name}: {} could not connect: {:?}",
            failed.len(),
            &failed[..failed.len().min(3)]
        );
        let mut closes: Vec<Duration> = seen
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|s| {
                s.closed_after.unwrap_or_else(|| {
                    panic!("{name}: a connection was still open after {limit:?}")
                })
            })
            .collect();
        closes.sort();
        let (min, p50, max) = (
            closes[0],
            percentile(&closes, 0.5),
            closes[closes.len() - 1],
        );
        println!(
            "{name}: {} connections, closed by serve after min {} / p50 {} / max {} (serve's limit {}, measured from before connect)",
            closes.len(),
            ms(min),
            ms(p50),
            ms(max),
            ms(want)
        );
        assert!(
            max <= want + CLOSE_SLACK,
            "{name}: closed after {max:?}, the timeout is {want:?}"
        );
        (min, max)
    };
    let (idle_min, _) = summarize("idle", &idle, HEADER_TIMEOUT);
    assert!(
        idle_min >= HEADER_TIMEOUT,
        "idle connections are closed by the header timeout, not before: {idle_min:?}"
    );
    summarize("partial head", &heads, HEADER_TIMEOUT);
    // 32 bodies are read at once (http::ALERT_BODIES_AT_ONCE); the others wait their turn, and
    // every request is answered within the body timeout plus 5 s.
    summarize(
        "partial body (with the token)",
        &bodies,
        BODY_TIMEOUT + Duration::from_secs(5),
    );
    assert!(
        bodies
            .iter()
            .all(|r| r.as_ref().unwrap().status == Some(408)),
        "a body that stops coming is answered 408"
    );
    // Refused at once (0 s: its connection time and the client's own scheduling only).
    let (_, tokenless_max) = summarize("tokenless 1 MB body", &tokenless, Duration::ZERO);
    let answered_401 = tokenless
        .iter()
        .filter(|r| r.as_ref().unwrap().status == Some(401))
        .count();
    println!(
        "tokenless 1 MB body: {answered_401} of {TOKENLESS} read the 401 before the reset; all ended within {}",
        ms(tokenless_max)
    );
    assert!(
        tokenless
            .iter()
            .all(|r| matches!(r.as_ref().unwrap().status, Some(401) | None)),
        "no tokenless request gets anything but 401"
    );
    assert!(answered_401 > 0, "tokenless requests are answered 401");

    // /healthz kept answering, fast.
    let failed: Vec<&String> = probes.iter().filter_map(|r| r.as_ref().err()).collect();
    let mut lat: Vec<Duration> = probes
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    lat.sort();
    let p99 = percentile(&lat, 0.99);
    println!(
        "/healthz during the flood (a fresh connection every 20 ms over {}): {} probes, {} failed, p50 {} p99 {} max {}",
        ms(flood_took),
        probes.len(),
        failed.len(),
        ms(percentile(&lat, 0.5)),
        ms(p99),
        ms(*lat.last().unwrap())
    );
    assert!(
        failed.is_empty(),
        "health probes failed: {:?}",
        &failed[..failed.len().min(5)]
    );
    assert!(p99 < Duration::from_millis(100), "/healthz p99 {p99:?}");

    // Memory stayed bounded.
    println!(
        "serve RSS: {} MB before, peak {} MB (sampled every 50 ms: {} MB), {} MB after",
        rss_before / 1024,
        rss_hwm / 1024,
        rss_peak_sampled / 1024,
        rss_after / 1024
    );
    assert!(rss_hwm < 100 * 1024, "peak RSS {rss_hwm} kB");

    // The connections' metrics say what happened.
    let (code, _) = request(addr, &get("/metrics")).await.unwrap();
    assert_eq!(code, 200);

    // Idle again: SIGTERM exits at once.
    let (took, status) = terminate(serve);
    println!("SIGTERM, idle: exited {status} after {}", ms(took));
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_bound_health_still_answers_and_the_rest_is_refused() {
    raise_fd_limit(1024);
    let mut serve = start_serve(&["--max-connections", "16", "--header-timeout", "2s"]);
    let addr = serve.addr;
    // Fill every served slot with silent connections.
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The reserve answers health, and nothing else.
    let (code, took) = request(addr, &get("/healthz")).await.unwrap();
    assert_eq!(code, 200);
    println!("/healthz past the bound: {}", ms(took));
    // Answered from the reserve: not ready, since its API server is not there.
    assert_eq!(request(addr, &get("/readyz")).await.unwrap().0, 503);
    assert_eq!(request(addr, &get("/api/reports")).await.unwrap().0, 503);
    // Fill the reserve too: the next connection is closed at once.
    for _ in 0..32 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let t = Instant::now();
    assert!(
        closed_within(&mut extra, Duration::from_millis(1500))
            .await
            .is_ok(),
        "a connection past the reserve is closed at once"
    );
    println!("past the reserve: closed after {}", ms(t.elapsed()));
    // The silent ones time out and the slots come back.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (code, _) = request(addr, &get("/healthz")).await.unwrap();
    assert_eq!(code, 200);
    let text = {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(get("/metrics").as_bytes()).await.unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).await.unwrap();
        buf
    };
    assert!(
        text.contains("kube_doctor_http_connections_refused_total 1"),
        "{text}"
    );
    assert!(
        text.contains("kube_doctor_http_connections_timed_out_total 48"),
        "{text}"
    );
    drop(held);
    let (took, status) = terminate(&mut serve);
    assert!(
        status.success() && took < Duration::from_secs(5),
        "{status} {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_waits_for_a_running_investigation_up_to_the_grace() {
    // An API server that takes connections and never answers: the investigation hangs.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api_port = black_hole.local_addr().unwrap().port();
    let mut serve = start_serve_against(api_port, &["--shutdown-grace", "2s"]);
    let body = r#"{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","fingerprint":"f","labels":{"alertname":"KubeClientErrors","job":"demo","instance":"10.0.0.1:8080"}}]}"#;
    let head = format!(
        "POST /api/alerts HTTP/1.1\r\nHost: kube-doctor\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(request(serve.addr, &head).await.unwrap().0, 202);
    // The worker has taken it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (took, status) = terminate(&mut serve);
    println!(
        "SIGTERM with an investigation running (grace 2 s): exited {status} after {}",
        ms(took)
    );
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_millis(1900),
        "it waited for the investigation: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "and no longer than the grace: {took:?}"
    );
    drop(black_hole);
}
