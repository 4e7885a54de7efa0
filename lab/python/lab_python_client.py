"""lab_python_client: a real workload written with the Python `kubernetes` client.

It lists the namespace's pods every second and creates then deletes a ConfigMap every five,
logging errors the way Python services usually do (the ApiException text, urllib3's retry
warnings). Every request is counted as client-go counts them, in rest_client_requests_total
{code, method, host} (code "<error>" when no response came back), served on /metrics so the
same KubeClientErrors rule watches this client.

Usage: lab_python_client.py --kubeconfig FILE --namespace demo --metrics-addr HOST:PORT
"""

import argparse
import logging
import time
import urllib.parse

from kubernetes import client, config
from kubernetes.client import rest
from kubernetes.client.exceptions import ApiException
from prometheus_client import Counter, Histogram, start_http_server

REQUESTS = Counter(
    "rest_client_requests",
    "Number of HTTP requests, partitioned by status code, method, and host.",
    ["code", "method", "host"],
)
LATENCY = Histogram(
    "rest_client_request_duration_seconds",
    "Request latency in seconds. Broken down by verb and host.",
    ["verb", "host"],
    buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)

log = logging.getLogger("lab_python_client")


def instrument(host):
    """Wraps the REST client so every request is counted, whatever its outcome."""
    original = rest.RESTClientObject.request

    def request(self, method, url, *args, **kwargs):
        started = time.monotonic()
        code = "<error>"
        try:
            resp = original(self, method, url, *args, **kwargs)
            code = str(resp.status)
            return resp
        except ApiException as e:
            code = str(e.status) if e.status else "<error>"
            raise
        finally:
            REQUESTS.labels(code=code, method=method, host=host).inc()
            LATENCY.labels(verb=method, host=host).observe(time.monotonic() - started)

    rest.RESTClientObject.request = request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", default="demo")
    parser.add_argument("--metrics-addr", default="127.0.0.1:18083")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    config.load_kube_config(config_file=args.kubeconfig)
    host = urllib.parse.urlparse(client.Configuration.get_default_copy().host).netloc
    instrument(host)
    addr, port = args.metrics_addr.rsplit(":", 1)
    start_http_server(int(port), addr=addr)
    log.info("serving metrics on %s", args.metrics_addr)

    v1 = client.CoreV1Api()
    i = 0
    while True:
        try:
            pods = v1.list_namespaced_pod(args.namespace, limit=50, _request_timeout=10)
            if i % 30 == 0:
                log.info("listed %d pods in %s", len(pods.items), args.namespace)
        except Exception as e:  # noqa: BLE001 - a workload logs every failure and goes on
            log.error("failed to list pods in %s: %s", args.namespace, e)
        if i % 5 == 0:
            name = "python-probe-%d" % i
            try:
                body = client.V1ConfigMap(
                    metadata=client.V1ObjectMeta(name=name), data={"at": str(time.time())}
                )
                v1.create_namespaced_config_map(args.namespace, body, _request_timeout=10)
                v1.delete_namespaced_config_map(name, args.namespace, _request_timeout=10)
            except Exception as e:  # noqa: BLE001
                log.error("failed to write configmap %s/%s: %s", args.namespace, name, e)
        i += 1
        time.sleep(1)


if __name__ == "__main__":
    main()
