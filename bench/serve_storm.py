"""Alert storm against a running `kube-doctor serve`: acknowledge latency and what it started.

Phase 1: POSTS webhook posts of one firing KubeClientErrors alert spread over SECONDS seconds
(Alertmanager retries, several replicas, flapping), from CONCURRENCY connections.
Phase 2: 50 different clients' alerts at once.
Prints p50/p99/max acknowledge latency per phase and serve's own counters from /metrics
(investigations started, alerts queued/deduplicated/dropped).

  python3 bench/serve_storm.py URL TOKEN_FILE [POSTS=1000] [SECONDS=10] [CONCURRENCY=20]
"""
import concurrent.futures
import http.client
import json
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
token = open(sys.argv[2]).read().strip()
posts = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 20
local = threading.local()


def body(instances):
    alerts = [{"status": "firing", "fingerprint": f"fp-{i}",
               "labels": {"alertname": "KubeClientErrors", "job": "demo-clients", "instance": i,
                          "severity": "warning", "form": "non2xx"},
               "annotations": {}, "startsAt": "2026-11-22T03:00:00Z",
               "endsAt": "0001-01-01T00:00:00Z"} for i in instances]
    return json.dumps({"version": "4", "status": "firing", "receiver": "kube-doctor",
                       "groupKey": "{}:{alertname=\"KubeClientErrors\"}", "truncatedAlerts": 0,
                       "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
                       "externalURL": "http://alertmanager", "alerts": alerts}).encode()


def post(payload):
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    t0 = time.perf_counter()
    conn.request("POST", url.path, payload, {"Authorization": f"Bearer {token}",
                                            "Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    return time.perf_counter() - t0, resp.status


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def report(name, results):
    lat = [r[0] * 1000 for r in results]
    codes = {}
    for _, c in results:
        codes[c] = codes.get(c, 0) + 1
    print(f"{name}: {len(lat)} posts, ack p50 {pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms, "
          f"max {max(lat):.2f} ms, status {codes}")


def metrics():
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    return {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines()
            if l.startswith(("kube_doctor_alerts_total", "kube_doctor_investigations_total",
                             "kube_doctor_queue_depth"))}


before = metrics()
one = body(["127.0.1.2:18082"])
with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
    t0 = time.perf_counter()
    futures = []
    for i in range(posts):
        # Spread the posts evenly over the storm's duration.
        delay = t0 + i * seconds / posts - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        futures.append(pool.submit(post, one))
    storm = [f.result() for f in futures]
    took = time.perf_counter() - t0
report(f"storm of one alert ({took:.1f} s)", storm)
many = [body([f"10.200.0.{i}:8080"]) for i in range(50)]
with concurrent.futures.ThreadPoolExecutor(50) as pool:
    burst = list(pool.map(post, many))
report("50 different clients at once", burst)
time.sleep(1)
after = metrics()
for k in sorted(after):
    d = after[k] - before.get(k, 0.0)
    if d:
        print(f"  {k} +{d:g}")
