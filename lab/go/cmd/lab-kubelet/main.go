// lab-kubelet is the lab's stand-in for the kubelet of one control-plane node, as kubeadm sets
// one up: the node registers itself (control-plane role label and taint, its InternalIP, a
// Lease heartbeat), and every static pod manifest in --manifests (kubeadm writes them to
// /etc/kubernetes/manifests) shows in the API as a mirror pod in kube-system, named
// <pod>-<node>, with the kubelet's mirror annotations.
//
// The processes themselves are the lab's real control-plane components, started by lab/up
// (under lab-run, which writes their CRI log and their exit code). Each manifest names its
// process's pid file and run directory in the lab's own annotations (removed from the mirror
// pod). lab-kubelet keeps each mirror pod's status in step with that process: running since
// the process started, restartCount going up each time a new process replaces the last one,
// the last one's exit code in lastState, and Ready only while the process runs and the
// manifest's readiness (or, without one, liveness) probe answers, probed as the kubelet does.
// It serves the pods' logs to the API server (kubectl logs) from the CRI log files, on
// --listen with a serving certificate, like a kubelet's /containerLogs.
//
//	lab-kubelet --kubeconfig node.kubeconfig --node lab-control-plane --node-ip 198.18.1.10 \
//	    --manifests DIR --listen 198.18.1.10:10250 --cert FILE --key FILE --state FILE
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"
)

const (
	annPidFile = "lab.kube-doctor.io/pidfile"
	annLogDir  = "lab.kube-doctor.io/logdir"
	labPrefix  = "lab.kube-doctor.io/"
)

// containerState is what lab-kubelet remembers about one static pod's process (persisted so
// that a restart of lab-kubelet does not reset restart counts).
type containerState struct {
	PID          int       `json:"pid"`
	StartedAt    time.Time `json:"startedAt"`
	GoneAt       time.Time `json:"goneAt,omitempty"` // when the process was first seen gone
	Restarts     int32     `json:"restarts"`
	LastExit     *exitInfo `json:"lastExit,omitempty"`
	ProbeFails   int       `json:"-"`
	ProbeOK      bool      `json:"-"`
	StartupPass  bool      `json:"-"`
	LastProbeErr string    `json:"-"`
}

type exitInfo struct {
	Code       int32     `json:"code"`
	Signal     string    `json:"signal,omitempty"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

type kubelet struct {
	cs        kubernetes.Interface
	node      string
	nodeIP    string
	port      int32
	manifests string
	statePath string
	version   string
	state     map[string]*containerState
	probe     *http.Client
	pods      map[string]*corev1.Pod // manifest pods by mirror name
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "the node's kubeconfig (system:node:<name>)")
	node := flag.String("node", "", "node name")
	nodeIP := flag.String("node-ip", "", "the node's InternalIP")
	manifests := flag.String("manifests", "", "directory of static pod manifests")
	listen := flag.String("listen", "", "address of the kubelet server (logs)")
	cert := flag.String("cert", "", "serving certificate")
	key := flag.String("key", "", "serving key")
	statePath := flag.String("state", "", "file keeping restart counts")
	version := flag.String("kubelet-version", "v1.34.4", "version shown in the node's status")
	interval := flag.Duration("interval", 2*time.Second, "status sync period")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *node == "" || *nodeIP == "" || *manifests == "" || *listen == "" || *statePath == "" {
		fmt.Fprintln(os.Stderr, "usage: lab-kubelet --kubeconfig FILE --node NAME --node-ip IP --manifests DIR --listen ADDR --cert FILE --key FILE --state FILE")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("cannot load kubeconfig %s: %v", *kubeconfig, err)
	}
	cfg.UserAgent = "kubelet/" + *version + " (linux/amd64) lab-kubelet"
	_, portStr, err := net.SplitHostPort(*listen)
	if err != nil {
		klog.Fatalf("--listen %q: %v", *listen, err)
	}
	port, _ := strconv.Atoi(portStr)
	k := &kubelet{
		cs: kubernetes.NewForConfigOrDie(cfg), node: *node, nodeIP: *nodeIP, port: int32(port),
		manifests: *manifests, statePath: *statePath, version: *version,
		state: map[string]*containerState{}, pods: map[string]*corev1.Pod{},
		probe: &http.Client{
			Timeout:   2 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the kubelet does not verify probe certificates
		},
	}
	k.loadState()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	go k.serveLogs(*listen, *cert, *key)

	lastNode := time.Time{}
	lastLease := time.Time{}
	for {
		if time.Since(lastNode) > time.Minute {
			if err := k.registerNode(ctx); err != nil {
				klog.ErrorS(err, "cannot register the node")
			} else {
				lastNode = time.Now()
			}
		}
		if time.Since(lastLease) > 10*time.Second {
			if err := k.renewLease(ctx); err != nil {
				klog.ErrorS(err, "cannot renew the node lease")
			} else {
				lastLease = time.Now()
			}
		}
		k.syncPods(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(*interval):
		}
	}
}

func (k *kubelet) loadState() {
	b, err := os.ReadFile(k.statePath)
	if err == nil {
		_ = json.Unmarshal(b, &k.state)
	}
}

func (k *kubelet) saveState() {
	b, _ := json.MarshalIndent(k.state, "", "  ")
	_ = os.WriteFile(k.statePath+".tmp", b, 0o644)
	_ = os.Rename(k.statePath+".tmp", k.statePath)
}

func (k *kubelet) registerNode(ctx context.Context) error {
	nodes := k.cs.CoreV1().Nodes()
	n, err := nodes.Get(ctx, k.node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n = &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: k.node,
			Labels: map[string]string{
				"kubernetes.io/hostname":                                  k.node,
				"kubernetes.io/os":                                        "linux",
				"kubernetes.io/arch":                                      "amd64",
				"beta.kubernetes.io/os":                                   "linux",
				"beta.kubernetes.io/arch":                                 "amd64",
				"node-role.kubernetes.io/control-plane":                   "",
				"node.kubernetes.io/exclude-from-external-load-balancers": "",
			},
			Annotations: map[string]string{
				"kubeadm.alpha.kubernetes.io/cri-socket":                 "unix:///var/run/containerd/containerd.sock",
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}}}
		if n, err = nodes.Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	now := metav1.Now()
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: k.nodeIP}, {Type: corev1.NodeHostName, Address: k.node}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = k.port
	n.Status.NodeInfo = corev1.NodeSystemInfo{
		KubeletVersion: k.version, KubeProxyVersion: k.version, OperatingSystem: "linux", Architecture: "amd64",
		ContainerRuntimeVersion: "containerd://lab", OSImage: "kube-doctor lab", KernelVersion: kernel(),
	}
	cap := corev1.ResourceList{}
	for name, q := range map[corev1.ResourceName]string{corev1.ResourceCPU: "2", corev1.ResourceMemory: "8Gi", corev1.ResourcePods: "110"} {
		cap[name] = resource.MustParse(q)
	}
	n.Status.Capacity, n.Status.Allocatable = cap, cap
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, LastHeartbeatTime: now, LastTransitionTime: transition(n, t, s, now), Reason: reason, Message: msg}
	}
	n.Status.Conditions = []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
	}
	_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

func transition(n *corev1.Node, t corev1.NodeConditionType, s corev1.ConditionStatus, now metav1.Time) metav1.Time {
	for _, c := range n.Status.Conditions {
		if c.Type == t && c.Status == s {
			return c.LastTransitionTime
		}
	}
	return now
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func (k *kubelet) renewLease(ctx context.Context) error {
	leases := k.cs.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	dur := int32(40)
	l, err := leases.Get(ctx, k.node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n, nerr := k.cs.CoreV1().Nodes().Get(ctx, k.node, metav1.GetOptions{})
		if nerr != nil {
			return nerr
		}
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: k.node, OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}}},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &k.node, LeaseDurationSeconds: &dur, RenewTime: &now},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// readManifests loads the static pod manifests; the mirror pod's name is <name>-<node>.
func (k *kubelet) readManifests() map[string]*corev1.Pod {
	out := map[string]*corev1.Pod{}
	entries, err := os.ReadDir(k.manifests)
	if err != nil {
		klog.ErrorS(err, "cannot read the manifests directory", "dir", k.manifests)
		return out
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(k.manifests, e.Name()))
		if err != nil {
			continue
		}
		var p corev1.Pod
		if err := yaml.UnmarshalStrict(b, &p); err != nil {
			klog.ErrorS(err, "bad static pod manifest", "file", e.Name())
			continue
		}
		sum := sha256.Sum256(b)
		hash := hex.EncodeToString(sum[:])[:32]
		if p.Namespace == "" {
			p.Namespace = metav1.NamespaceSystem
		}
		p.Name = p.Name + "-" + k.node
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations["kubernetes.io/config.hash"] = hash
		p.Annotations["kubernetes.io/config.mirror"] = hash
		p.Annotations["kubernetes.io/config.source"] = "file"
		p.Spec.NodeName = k.node
		p.Spec.SchedulerName = "default-scheduler"
		if p.Spec.RestartPolicy == "" {
			p.Spec.RestartPolicy = corev1.RestartPolicyAlways
		}
		if p.Spec.DNSPolicy == "" {
			p.Spec.DNSPolicy = corev1.DNSClusterFirst
		}
		out[p.Name] = &p
	}
	return out
}

// mirror is the manifest pod as the API server gets it: without the lab's annotations.
func mirror(p *corev1.Pod, node *corev1.Node) *corev1.Pod {
	m := p.DeepCopy()
	for a := range m.Annotations {
		if strings.HasPrefix(a, labPrefix) {
			delete(m.Annotations, a)
		}
	}
	m.Annotations["kubernetes.io/config.seen"] = time.Now().UTC().Format(time.RFC3339Nano)
	m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: ptr(true)}}
	m.Status = corev1.PodStatus{}
	return m
}

func ptr[T any](v T) *T { return &v }

func (k *kubelet) syncPods(ctx context.Context) {
	pods := k.readManifests()
	k.pods = pods
	node, err := k.cs.CoreV1().Nodes().Get(ctx, k.node, metav1.GetOptions{})
	if err != nil {
		klog.ErrorS(err, "cannot read the node")
		return
	}
	api := k.cs.CoreV1().Pods(metav1.NamespaceSystem)
	// A node may only list the pods bound to it (the Node authorizer), and get them once they
	// exist: one list says which mirror pods exist and how they are.
	list, err := api.List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + k.node})
	if err != nil {
		klog.ErrorS(err, "cannot list the node's pods")
		return
	}
	existing := map[string]*corev1.Pod{}
	for i := range list.Items {
		p := &list.Items[i]
		if _, ok := p.Annotations["kubernetes.io/config.mirror"]; !ok {
			continue
		}
		if _, keep := pods[p.Name]; !keep {
			// The manifest is gone: the kubelet deletes its mirror pod.
			_ = api.Delete(ctx, p.Name, metav1.DeleteOptions{})
			continue
		}
		existing[p.Name] = p
	}
	names := make([]string, 0, len(pods))
	for n := range pods {
		names = append(names, n)
	}
	sort.Strings(names)
	dirty := false
	for _, name := range names {
		want := pods[name]
		cur, ok := existing[name]
		if ok && cur.Annotations["kubernetes.io/config.mirror"] != want.Annotations["kubernetes.io/config.mirror"] {
			// The manifest changed: the kubelet replaces the mirror pod.
			_ = api.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
			ok = false
		}
		if !ok {
			created, err := api.Create(ctx, mirror(want, node), metav1.CreateOptions{})
			if err != nil {
				if !apierrors.IsAlreadyExists(err) {
					klog.ErrorS(err, "cannot create the mirror pod", "pod", name)
				}
				continue
			}
			klog.InfoS("created mirror pod", "pod", name)
			cur = created
		}
		status, changed := k.status(want, cur)
		dirty = dirty || changed
		if equality.Semantic.DeepEqual(status, cur.Status) {
			continue
		}
		cur.Status = status
		if _, err := api.UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
			klog.ErrorS(err, "cannot update the mirror pod's status", "pod", name)
		}
	}
	if dirty {
		k.saveState()
	}
}

// processStart reads when a process started from /proc (clock ticks after boot).
func processStart(pid int) (time.Time, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return time.Time{}, false
	}
	fields := strings.Fields(s[i+2:])
	if len(fields) < 20 || fields[0] == "Z" {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Time{}, false
	}
	upSecs, _ := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	boot := time.Now().Add(-time.Duration(upSecs * float64(time.Second)))
	return boot.Add(time.Duration(ticks) * time.Second / 100).Truncate(time.Second), true
}

// runningPID is the process named by the pid file, if it is alive.
func runningPID(pidfile string) (int, time.Time, bool) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return 0, time.Time{}, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, time.Time{}, false
	}
	if syscall.Kill(pid, 0) != nil {
		return 0, time.Time{}, false
	}
	start, ok := processStart(pid)
	return pid, start, ok
}

// exitOf reads the exit record lab-run leaves next to the log ("CODE SIGNAL RFC3339").
func exitOf(dir string) *exitInfo {
	b, err := os.ReadFile(filepath.Join(dir, "exit"))
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	code, _ := strconv.Atoi(f[0])
	at, _ := time.Parse(time.RFC3339Nano, f[2])
	sig := f[1]
	if sig == "-" {
		sig = ""
	}
	return &exitInfo{Code: int32(code), Signal: sig, FinishedAt: at}
}

// exited is how the process of st ended: lab-run's record when it wrote one for this process,
// else killed (137, as the kubelet reports a container killed after its grace period), at the
// time it was first seen gone.
func (k *kubelet) exited(st *containerState, logDir string) *exitInfo {
	ex := exitOf(logDir)
	if ex == nil || ex.FinishedAt.Before(st.StartedAt) {
		at := st.GoneAt
		if at.IsZero() {
			at = time.Now().Truncate(time.Second)
		}
		ex = &exitInfo{Code: 137, Signal: "KILL", FinishedAt: at}
	}
	ex.StartedAt = st.StartedAt
	return ex
}

func (k *kubelet) probeOnce(p *corev1.Probe, host string) error {
	if p == nil || p.HTTPGet == nil {
		return nil
	}
	h := p.HTTPGet
	scheme := strings.ToLower(string(h.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	ph := h.Host
	if ph == "" {
		ph = host
	}
	port := h.Port.String()
	if h.Port.Type == intstr.Int {
		port = strconv.Itoa(h.Port.IntValue())
	}
	resp, err := k.probe.Get(fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(ph, port), h.Path))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return nil
}

// status computes the mirror pod's status from its process. It reports whether the remembered
// state changed (a restart).
func (k *kubelet) status(want, cur *corev1.Pod) (corev1.PodStatus, bool) {
	c := want.Spec.Containers[0]
	st, ok := k.state[want.Name]
	if !ok {
		st = &containerState{}
		k.state[want.Name] = st
	}
	changed := false
	pid, started, alive := runningPID(want.Annotations[annPidFile])
	logDir := want.Annotations[annLogDir]
	if alive && pid != st.PID {
		if st.PID != 0 {
			st.Restarts++
			st.LastExit = k.exited(st, logDir)
		}
		st.PID, st.StartedAt, st.GoneAt = pid, started, time.Time{}
		st.ProbeFails, st.ProbeOK, st.StartupPass = 0, false, false
		changed = true
	}
	ready := false
	if alive {
		if !st.StartupPass {
			st.StartupPass = k.probeOnce(c.StartupProbe, k.nodeIP) == nil
		}
		probe := c.ReadinessProbe
		if probe == nil {
			probe = c.LivenessProbe
		}
		if err := k.probeOnce(probe, k.nodeIP); err != nil {
			st.ProbeFails++
			st.LastProbeErr = err.Error()
			threshold := 3
			if probe != nil && probe.FailureThreshold > 0 {
				threshold = int(probe.FailureThreshold)
			}
			if st.ProbeFails >= threshold || !st.ProbeOK {
				st.ProbeOK = false
			}
		} else {
			st.ProbeFails, st.ProbeOK = 0, true
		}
		ready = st.StartupPass && st.ProbeOK
	}

	cs := corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, ImageID: c.Image, RestartCount: st.Restarts,
		Ready: ready, Started: ptr(alive && st.StartupPass),
	}
	if st.PID != 0 {
		cs.ContainerID = fmt.Sprintf("containerd://%064x", sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", want.Name, st.PID, st.StartedAt.Unix()))))
	}
	term := func(e *exitInfo) *corev1.ContainerStateTerminated {
		reason := "Error"
		if e.Code == 0 {
			reason = "Completed"
		}
		return &corev1.ContainerStateTerminated{ExitCode: e.Code, Reason: reason, StartedAt: metav1.NewTime(e.StartedAt), FinishedAt: metav1.NewTime(e.FinishedAt), ContainerID: cs.ContainerID}
	}
	switch {
	case alive:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(st.StartedAt)}
		if st.LastExit != nil {
			cs.LastTerminationState.Terminated = term(st.LastExit)
		}
	case st.PID != 0:
		// The process is gone and nothing has replaced it (yet): the container has exited.
		if st.GoneAt.IsZero() {
			st.GoneAt = time.Now().Truncate(time.Second)
			changed = true
		}
		cs.State.Terminated = term(k.exited(st, logDir))
		if st.LastExit != nil {
			cs.LastTerminationState.Terminated = term(st.LastExit)
		}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	}

	b := func(v bool) corev1.ConditionStatus {
		if v {
			return corev1.ConditionTrue
		}
		return corev1.ConditionFalse
	}
	start := cur.CreationTimestamp
	if !st.StartedAt.IsZero() && st.StartedAt.Before(start.Time) {
		start = metav1.NewTime(st.StartedAt)
	}
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus, reason string) corev1.PodCondition {
		last := metav1.NewTime(time.Now().Truncate(time.Second))
		for _, c := range cur.Status.Conditions {
			if c.Type == t && c.Status == s {
				last = c.LastTransitionTime
			}
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: last, Reason: reason}
	}
	notReady := ""
	if !ready {
		notReady = "ContainersNotReady"
	}
	status := corev1.PodStatus{
		Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{
			cond("PodReadyToStartContainers", corev1.ConditionTrue, ""),
			cond(corev1.PodInitialized, corev1.ConditionTrue, ""),
			cond(corev1.PodReady, b(ready), notReady),
			cond(corev1.ContainersReady, b(ready), notReady),
			cond(corev1.PodScheduled, corev1.ConditionTrue, ""),
		},
		HostIP: k.nodeIP, HostIPs: []corev1.HostIP{{IP: k.nodeIP}},
		PodIP: k.nodeIP, PodIPs: []corev1.PodIP{{IP: k.nodeIP}},
		StartTime:         &start,
		QOSClass:          corev1.PodQOSBurstable,
		ContainerStatuses: []corev1.ContainerStatus{cs},
	}
	return status, changed
}

// serveLogs answers the API server's pods/log requests, as the kubelet's /containerLogs does,
// from the CRI log files lab-run writes (current.log, previous.log).
func (k *kubelet) serveLogs(listen, cert, key string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/containerLogs/", func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
		if len(parts) != 3 {
			http.Error(w, "expected /containerLogs/{namespace}/{pod}/{container}", http.StatusBadRequest)
			return
		}
		p, ok := k.pods[parts[1]]
		if !ok || p.Namespace != parts[0] || p.Spec.Containers[0].Name != parts[2] {
			http.Error(w, fmt.Sprintf("container %q in pod %s/%s not found", parts[2], parts[0], parts[1]), http.StatusNotFound)
			return
		}
		q := r.URL.Query()
		file := "current.log"
		if q.Get("previous") == "true" {
			file = "previous.log"
		}
		f, err := os.Open(filepath.Join(p.Annotations[annLogDir], file))
		if err != nil {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", parts[2], parts[1]), http.StatusBadRequest)
			return
		}
		defer f.Close()
		var since time.Time
		if s := q.Get("sinceTime"); s != "" {
			since, _ = time.Parse(time.RFC3339, s)
		}
		if s := q.Get("sinceSeconds"); s != "" {
			if n, err := strconv.Atoi(s); err == nil {
				since = time.Now().Add(-time.Duration(n) * time.Second)
			}
		}
		stamps := q.Get("timestamps") == "true"
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), " ", 4)
			if len(f) < 4 {
				continue
			}
			if !since.IsZero() {
				if t, err := time.Parse(time.RFC3339Nano, f[0]); err == nil && t.Before(since) {
					continue
				}
			}
			line := f[3]
			if stamps {
				line = f[0] + " " + line
			}
			lines = append(lines, line)
		}
		if s := q.Get("tailLines"); s != "" {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(lines) {
				lines = lines[len(lines)-n:]
			}
		}
		limit := -1
		if s := q.Get("limitBytes"); s != "" {
			limit, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", "text/plain")
		written := 0
		for _, l := range lines {
			b := []byte(l + "\n")
			if limit >= 0 && written+len(b) > limit {
				b = b[:limit-written]
			}
			n, _ := w.Write(b)
			written += n
			if limit >= 0 && written >= limit {
				break
			}
		}
	})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	klog.InfoS("serving the kubelet's log endpoint", "addr", listen)
	if err := srv.ListenAndServeTLS(cert, key); err != nil {
		klog.ErrorS(err, "kubelet server", "addr", listen)
	}
}
