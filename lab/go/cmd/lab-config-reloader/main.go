// lab-config-reloader is the lab's stand-in for what a kube-prometheus-stack pod gets from its
// node in a real cluster, for one pod whose process the lab runs itself (Prometheus,
// Alertmanager, the operator):
//
//   - the kubelet's volume manager: the pod's secret, configMap, projected (including the
//     ServiceAccount token, requested bound to the pod as the kubelet does) and downwardAPI
//     volumes are written under --root at their mountPath, and kept in step with the API
//     server; emptyDir volumes are created;
//   - prometheus-operator's config-reloader sidecar, read from the pod's own "config-reloader"
//     container: it unpacks --config-file (gzip) into --config-envsubst-file, substituting
//     $(VAR) from that container's env (POD_NAME, SHARD), and POSTs --reload-url when the
//     configuration or a --watched-dir changed. It serves reloader_* metrics (the names of the
//     real config-reloader) at --listen-address.
//
// The lab has no pod network namespaces: a pod's "localhost" is its pod IP (--pod-ip), so
// reload URLs and listen addresses on 127.0.0.1, localhost or an empty host use the pod IP.
// Paths under /var/run are written under ROOT/run (the lab's pod sandbox mounts ROOT/run/secrets
// at /run/secrets).
//
//	lab-config-reloader --kubeconfig admin.kubeconfig --namespace monitoring \
//	    --pod prometheus-kube-prometheus-stack-prometheus-0 --pod-ip 198.18.1.130 --root DIR
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

type reloader struct {
	cs        kubernetes.Interface
	ns, pod   string
	podIP     string
	root      string
	files     map[string][]byte // what this process last wrote, by host path
	token     map[string]time.Time
	dirHashes map[string]string
	pending   bool
	client    *http.Client

	reloads, failures  prometheus.Counter
	lastOK, lastOKTime prometheus.Gauge
	applies, applyFail prometheus.Counter
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig with read access to the pod, its Secrets and ConfigMaps, and serviceaccounts/token")
	ns := flag.String("namespace", "", "the pod's namespace")
	pod := flag.String("pod", "", "the pod's name")
	podIP := flag.String("pod-ip", "", "the pod's IP: its localhost in the lab")
	root := flag.String("root", "", "directory standing for the pod's filesystem root")
	interval := flag.Duration("interval", 2*time.Second, "how often the API server is read")
	once := flag.Bool("once", false, "write the volumes and the configuration once, then exit")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *ns == "" || *pod == "" || *podIP == "" || *root == "" {
		fmt.Fprintln(os.Stderr, "usage: lab-config-reloader --kubeconfig FILE --namespace NS --pod NAME --pod-ip IP --root DIR")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("cannot load kubeconfig %s: %v", *kubeconfig, err)
	}
	cfg.UserAgent = "lab-config-reloader"
	r := &reloader{
		cs: kubernetes.NewForConfigOrDie(cfg), ns: *ns, pod: *pod, podIP: *podIP, root: *root,
		files: map[string][]byte{}, token: map[string]time.Time{}, dirHashes: map[string]string{},
		client: &http.Client{Timeout: 10 * time.Second},
	}
	reg := prometheus.NewRegistry()
	r.reloads = prometheus.NewCounter(prometheus.CounterOpts{Name: "reloader_reloads_total", Help: "Total number of reload requests."})
	r.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: "reloader_reloads_failures_total", Help: "Total number of reload requests that failed."})
	r.lastOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "reloader_last_reload_successful", Help: "Whether the last reload attempt was successful"})
	r.lastOKTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "reloader_last_reload_success_timestamp_seconds", Help: "Timestamp of the last successful reload"})
	r.applies = prometheus.NewCounter(prometheus.CounterOpts{Name: "reloader_config_apply_operations_total", Help: "Total number of config apply operations."})
	r.applyFail = prometheus.NewCounter(prometheus.CounterOpts{Name: "reloader_config_apply_operations_failed_total", Help: "Total number of config apply operations that failed."})
	reg.MustRegister(r.reloads, r.failures, r.lastOK, r.lastOKTime, r.applies, r.applyFail)
	r.lastOK.Set(1)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	listening := false
	for {
		p, err := r.cs.CoreV1().Pods(r.ns).Get(ctx, r.pod, metav1.GetOptions{})
		if err != nil {
			klog.ErrorS(err, "cannot read the pod", "pod", klog.KRef(r.ns, r.pod))
		} else {
			r.syncVolumes(ctx, p)
			r.configReloader(p)
			if !listening {
				if addr := r.listenAddress(p); addr != "" {
					listening = true
					go serve(addr, reg)
				}
			}
		}
		if *once {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(*interval):
		}
	}
}

func serve(addr string, reg *prometheus.Registry) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	klog.InfoS("serving reloader metrics", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		klog.ErrorS(err, "metrics listener", "addr", addr)
	}
}

// hostPath maps a path inside the pod to the lab's disk.
func (r *reloader) hostPath(p string) string {
	if strings.HasPrefix(p, "/var/run/") {
		p = "/run/" + strings.TrimPrefix(p, "/var/run/")
	}
	return filepath.Join(r.root, filepath.Clean("/"+p))
}

// localize points an address on the pod's localhost at the pod IP.
func (r *reloader) localize(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	switch host {
	case "", "127.0.0.1", "localhost", "0.0.0.0", "::":
		host = r.podIP
	}
	return net.JoinHostPort(host, port)
}

// write stores content at a host path atomically; it reports whether the file changed.
func (r *reloader) write(path string, content []byte, mode os.FileMode) bool {
	if old, ok := r.files[path]; ok && bytes.Equal(old, content) {
		return false
	}
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, content) {
		r.files[path] = content
		return false
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		klog.ErrorS(err, "mkdir", "path", path)
		return false
	}
	tmp := path + ".lab-tmp"
	if err := os.WriteFile(tmp, content, mode); err != nil {
		klog.ErrorS(err, "write", "path", path)
		return false
	}
	if err := os.Rename(tmp, path); err != nil {
		klog.ErrorS(err, "rename", "path", path)
		return false
	}
	r.files[path] = content
	klog.InfoS("updated", "path", path, "bytes", len(content))
	return true
}

type file struct {
	name    string
	content []byte
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath) []file {
	var out []file
	if len(items) > 0 {
		for _, it := range items {
			if v, ok := data[it.Key]; ok {
				out = append(out, file{it.Path, v})
			}
		}
		return out
	}
	for k, v := range data {
		out = append(out, file{k, v})
	}
	return out
}

func (r *reloader) secretFiles(ctx context.Context, name string, items []corev1.KeyToPath) ([]file, error) {
	s, err := r.cs.CoreV1().Secrets(r.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return keyFiles(s.Data, items), nil
}

func (r *reloader) configMapFiles(ctx context.Context, name string, items []corev1.KeyToPath) ([]file, error) {
	c, err := r.cs.CoreV1().ConfigMaps(r.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range c.Data {
		data[k] = []byte(v)
	}
	for k, v := range c.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items), nil
}

func fieldValue(p *corev1.Pod, path string) string {
	switch path {
	case "metadata.name":
		return p.Name
	case "metadata.namespace":
		return p.Namespace
	case "metadata.uid":
		return string(p.UID)
	case "spec.nodeName":
		return p.Spec.NodeName
	case "spec.serviceAccountName":
		return p.Spec.ServiceAccountName
	case "status.podIP":
		return p.Status.PodIP
	}
	return ""
}

// saToken requests a token for the pod's ServiceAccount, bound to the pod, as the kubelet does
// for a projected serviceAccountToken source; it is renewed at 80 % of its lifetime.
func (r *reloader) saToken(ctx context.Context, p *corev1.Pod, path string, src *corev1.ServiceAccountTokenProjection) ([]byte, bool) {
	if until, ok := r.token[path]; ok && time.Now().Before(until) {
		return nil, false
	}
	exp := int64(3607)
	if src.ExpirationSeconds != nil {
		exp = *src.ExpirationSeconds
	}
	var aud []string
	if src.Audience != "" {
		aud = []string{src.Audience}
	}
	tr, err := r.cs.CoreV1().ServiceAccounts(r.ns).CreateToken(ctx, p.Spec.ServiceAccountName, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences:         aud,
			ExpirationSeconds: &exp,
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: p.Name, UID: p.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		klog.ErrorS(err, "cannot request a ServiceAccount token", "serviceAccount", p.Spec.ServiceAccountName)
		return nil, false
	}
	life := time.Until(tr.Status.ExpirationTimestamp.Time)
	r.token[path] = time.Now().Add(life * 8 / 10)
	return []byte(tr.Status.Token), true
}

func (r *reloader) volumeFiles(ctx context.Context, p *corev1.Pod, v corev1.Volume, mount string) ([]file, bool, error) {
	switch {
	case v.Secret != nil:
		f, err := r.secretFiles(ctx, v.Secret.SecretName, v.Secret.Items)
		if err != nil && v.Secret.Optional != nil && *v.Secret.Optional {
			return nil, true, nil
		}
		return f, true, err
	case v.ConfigMap != nil:
		f, err := r.configMapFiles(ctx, v.ConfigMap.Name, v.ConfigMap.Items)
		if err != nil && v.ConfigMap.Optional != nil && *v.ConfigMap.Optional {
			return nil, true, nil
		}
		return f, true, err
	case v.DownwardAPI != nil:
		var out []file
		for _, it := range v.DownwardAPI.Items {
			if it.FieldRef != nil {
				out = append(out, file{it.Path, []byte(fieldValue(p, it.FieldRef.FieldPath))})
			}
		}
		return out, true, nil
	case v.Projected != nil:
		var out []file
		for _, s := range v.Projected.Sources {
			switch {
			case s.Secret != nil:
				f, err := r.secretFiles(ctx, s.Secret.Name, s.Secret.Items)
				if err != nil && !(s.Secret.Optional != nil && *s.Secret.Optional) {
					return nil, true, err
				}
				out = append(out, f...)
			case s.ConfigMap != nil:
				f, err := r.configMapFiles(ctx, s.ConfigMap.Name, s.ConfigMap.Items)
				if err != nil && !(s.ConfigMap.Optional != nil && *s.ConfigMap.Optional) {
					return nil, true, err
				}
				out = append(out, f...)
			case s.DownwardAPI != nil:
				for _, it := range s.DownwardAPI.Items {
					if it.FieldRef != nil {
						out = append(out, file{it.Path, []byte(fieldValue(p, it.FieldRef.FieldPath))})
					}
				}
			case s.ServiceAccountToken != nil:
				path := r.hostPath(filepath.Join(mount, s.ServiceAccountToken.Path))
				if tok, fresh := r.saToken(ctx, p, path, s.ServiceAccountToken); fresh {
					out = append(out, file{s.ServiceAccountToken.Path, tok})
				} else if old, ok := r.files[path]; ok {
					out = append(out, file{s.ServiceAccountToken.Path, old})
				}
			}
		}
		return out, true, nil
	case v.EmptyDir != nil:
		return nil, false, nil
	}
	return nil, false, nil
}

// syncVolumes writes every volume mounted by the pod's containers under the root.
func (r *reloader) syncVolumes(ctx context.Context, p *corev1.Pod) {
	vols := map[string]corev1.Volume{}
	for _, v := range p.Spec.Volumes {
		vols[v.Name] = v
	}
	containers := append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...)
	done := map[string]bool{}
	for _, c := range containers {
		for _, m := range c.VolumeMounts {
			key := m.Name + "|" + m.MountPath + "|" + m.SubPath
			if done[key] {
				continue
			}
			done[key] = true
			v, ok := vols[m.Name]
			if !ok {
				continue
			}
			files, isFiles, err := r.volumeFiles(ctx, p, v, m.MountPath)
			if err != nil {
				klog.ErrorS(err, "cannot read volume", "volume", m.Name)
				continue
			}
			if !isFiles {
				if err := os.MkdirAll(r.hostPath(m.MountPath), 0o755); err != nil {
					klog.ErrorS(err, "emptyDir", "path", m.MountPath)
				}
				continue
			}
			mode := os.FileMode(0o644)
			if v.Secret != nil || v.Projected != nil {
				mode = 0o600
			}
			if m.SubPath != "" {
				for _, f := range files {
					if f.name == m.SubPath {
						r.write(r.hostPath(m.MountPath), f.content, mode)
					}
				}
				continue
			}
			base := r.hostPath(m.MountPath)
			if err := os.MkdirAll(base, 0o755); err != nil {
				klog.ErrorS(err, "mkdir", "path", base)
				continue
			}
			for _, f := range files {
				r.write(filepath.Join(base, f.name), f.content, mode)
			}
		}
	}
}

func container(p *corev1.Pod, name string) *corev1.Container {
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == name {
			return &p.Spec.Containers[i]
		}
	}
	for i := range p.Spec.InitContainers {
		if p.Spec.InitContainers[i].Name == name {
			return &p.Spec.InitContainers[i]
		}
	}
	return nil
}

// args reads --name=value flags (and --name value) from a container's args.
func args(c *corev1.Container) map[string][]string {
	out := map[string][]string{}
	all := append(append([]string{}, c.Command...), c.Args...)
	for i := 0; i < len(all); i++ {
		a := all[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok && i+1 < len(all) && !strings.HasPrefix(all[i+1], "--") {
			v = all[i+1]
			i++
		}
		out[k] = append(out[k], v)
	}
	return out
}

func (r *reloader) listenAddress(p *corev1.Pod) string {
	c := container(p, "config-reloader")
	if c == nil {
		return ""
	}
	if a := args(c)["listen-address"]; len(a) > 0 && a[0] != "" {
		return r.localize(a[0])
	}
	return ""
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func (r *reloader) env(p *corev1.Pod, c *corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			out[e.Name] = fieldValue(p, e.ValueFrom.FieldRef.FieldPath)
		case e.ValueFrom == nil:
			out[e.Name] = e.Value
		}
	}
	return out
}

func hashDir(dir string) string {
	h := sha256.New()
	var paths []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".lab-tmp") {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// configReloader does what the operator's config-reloader container is configured to do.
func (r *reloader) configReloader(p *corev1.Pod) {
	c := container(p, "config-reloader")
	if c == nil {
		return
	}
	a := args(c)
	changed := false
	if cf, out := first(a["config-file"]), first(a["config-envsubst-file"]); cf != "" && out != "" {
		raw, err := os.ReadFile(r.hostPath(cf))
		if err == nil {
			r.applies.Inc()
			content, err := unpack(cf, raw)
			if err != nil {
				r.applyFail.Inc()
				klog.ErrorS(err, "cannot unpack the configuration", "file", cf)
			} else {
				env := r.env(p, c)
				content = envRef.ReplaceAllFunc(content, func(m []byte) []byte {
					if v, ok := env[string(envRef.FindSubmatch(m)[1])]; ok {
						return []byte(v)
					}
					return m
				})
				if r.write(r.hostPath(out), content, 0o644) {
					changed = true
				}
			}
		}
	}
	for _, d := range a["watched-dir"] {
		h := hashDir(r.hostPath(d))
		if old, ok := r.dirHashes[d]; ok && old != h {
			changed = true
		}
		r.dirHashes[d] = h
	}
	if changed {
		r.pending = true
	}
	if !r.pending {
		return
	}
	url := first(a["reload-url"])
	if url == "" {
		r.pending = false
		return
	}
	url = r.localizeURL(url)
	r.reloads.Inc()
	resp, err := r.client.Post(url, "", nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			err = fmt.Errorf("reload answered %s", resp.Status)
		}
	}
	if err != nil {
		r.failures.Inc()
		var op *net.OpError
		if errors.As(err, &op) {
			// Not serving yet: it reads the configuration when it starts; keep trying.
			klog.V(2).InfoS("reload not possible yet", "url", url, "err", err)
		} else {
			r.lastOK.Set(0)
			klog.ErrorS(err, "reload failed", "url", url)
		}
		return
	}
	r.pending = false
	r.lastOK.Set(1)
	r.lastOKTime.SetToCurrentTime()
	klog.InfoS("reloaded", "url", url)
}

func (r *reloader) localizeURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	hostport, path, _ := strings.Cut(rest, "/")
	return scheme + "://" + r.localize(hostport) + "/" + path
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func unpack(name string, raw []byte) ([]byte, error) {
	if !strings.HasSuffix(name, ".gz") {
		return raw, nil
	}
	if len(raw) == 0 {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
