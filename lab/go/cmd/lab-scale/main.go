// lab-scale grows the lab into a big cluster for the benchmarks: KWOK nodes, pods spread over
// namespaces, Events (a share in kube-system and in the demo namespace, where kube-doctor's
// step 2 reads them), and per namespace the objects a real one has: ServiceAccounts, Secrets
// (opaque and TLS), NetworkPolicies and a ResourceQuota. It is idempotent: objects that exist
// are left alone, so `lab-scale --pods 5000` after `--pods 1000` only adds the difference.
//
//	lab-scale --kubeconfig admin.kubeconfig --pods 5000 --nodes 500 --events 50000
package main

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

const podsPerNamespace = 100

func main() {
	kubeconfig := flag.String("kubeconfig", "", "an admin kubeconfig")
	pods := flag.Int("pods", 1000, "pods in all")
	nodes := flag.Int("nodes", 0, "KWOK nodes (default: pods/10)")
	events := flag.Int("events", 0, "Events in all (default: pods*10)")
	workers := flag.Int("workers", 16, "concurrent create calls")
	flag.Parse()
	if *nodes == 0 {
		*nodes = max(1, *pods/10)
	}
	if *events == 0 {
		*events = *pods * 10
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("cannot load kubeconfig %s: %v", *kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 2000, 4000
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	namespaces := (*pods + podsPerNamespace - 1) / podsPerNamespace

	start := time.Now()
	var created, existed atomic.Int64
	run := func(what string, n int, f func(i int) error) {
		t0 := time.Now()
		jobs := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < *workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					for attempt := 0; ; attempt++ {
						err := f(i)
						if err == nil {
							created.Add(1)
							break
						}
						if apierrors.IsAlreadyExists(err) {
							existed.Add(1)
							break
						}
						if attempt < 5 && (apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)) {
							time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
							continue
						}
						klog.Fatalf("creating %s %d: %v", what, i, err)
					}
				}
			}()
		}
		for i := 0; i < n; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		klog.Infof("%d %s in %s", n, what, time.Since(t0).Round(time.Millisecond))
	}

	run("nodes", *nodes, func(i int) error {
		_, err := cs.CoreV1().Nodes().Create(ctx, node(fmt.Sprintf("kwok-scale-%d", i), i), metav1.CreateOptions{})
		return err
	})
	run("namespaces", namespaces, func(i int) error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: nsName(i), Labels: map[string]string{"lab.kube-doctor.io/scale": "true"}}}, metav1.CreateOptions{})
		return err
	})
	// Per namespace: 3 ServiceAccounts, 5 Secrets, 2 NetworkPolicies, 1 ResourceQuota.
	run("service accounts", namespaces*3, func(i int) error {
		_, err := cs.CoreV1().ServiceAccounts(nsName(i/3)).Create(ctx, &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i%3)}}, metav1.CreateOptions{})
		return err
	})
	run("secrets", namespaces*5, func(i int) error {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-secret-%d", i%5)},
			Type: corev1.SecretTypeOpaque, StringData: map[string]string{"password": fmt.Sprintf("scale-%d", i)}}
		_, err := cs.CoreV1().Secrets(nsName(i/5)).Create(ctx, s, metav1.CreateOptions{})
		return err
	})
	run("network policies", namespaces*2, func(i int) error {
		_, err := cs.NetworkingV1().NetworkPolicies(nsName(i/2)).Create(ctx, netpol(i%2), metav1.CreateOptions{})
		return err
	})
	run("resource quotas", namespaces, func(i int) error {
		q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "compute"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
				corev1.ResourcePods:                     resource.MustParse("200"),
				corev1.ResourceName("count/configmaps"): resource.MustParse("100"),
			}}}
		_, err := cs.CoreV1().ResourceQuotas(nsName(i)).Create(ctx, q, metav1.CreateOptions{})
		return err
	})
	// Quota admission runs before the "already exists" check, so existing pods are skipped
	// up front rather than re-created.
	existing := map[string]bool{}
	if list, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "tier=scale"}); err == nil {
		for _, p := range list.Items {
			existing[p.Namespace+"/"+p.Name] = true
		}
	}
	run("pods", *pods, func(i int) error {
		ns, name := nsName(i/podsPerNamespace), fmt.Sprintf("app-%d", i)
		if existing[ns+"/"+name] {
			return apierrors.NewAlreadyExists(corev1.Resource("pods"), name)
		}
		_, err := cs.CoreV1().Pods(nsName(i/podsPerNamespace)).Create(ctx,
			pod(fmt.Sprintf("app-%d", i), fmt.Sprintf("kwok-scale-%d", i%*nodes), fmt.Sprintf("app-%d", i%3)),
			metav1.CreateOptions{})
		return err
	})
	// Events: 20 % in kube-system, 10 % in demo (both read by step 2), the rest spread.
	run("events", *events, func(i int) error {
		ns, obj := nsName(i%namespaces), fmt.Sprintf("app-%d", i%*pods)
		switch {
		case i%10 < 2:
			ns, obj = "kube-system", fmt.Sprintf("kube-proxy-%d", i%*nodes)
		case i%10 == 2:
			ns, obj = "demo", "demo-scale-noise"
		}
		_, err := cs.CoreV1().Events(ns).Create(ctx, event(ns, obj, i), metav1.CreateOptions{})
		return err
	})
	klog.Infof("scale: %d created, %d existed, in %s", created.Load(), existed.Load(), time.Since(start).Round(time.Millisecond))
}

func nsName(i int) string { return fmt.Sprintf("scale-%d", i) }

// node is a KWOK node with its own /24 for pod IPs (10.128.0.0/9), so thousands of pods get
// distinct IPs.
func node(name string, i int) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": name}},
		Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.%d.0/24", 128+i/256, i%256), Taints: []corev1.Taint{{Key: "kwok.x-k8s.io/node", Value: "fake", Effect: corev1.TaintEffectNoSchedule}}},
	}
}

func pod(name, node, sa string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name[:5], "tier": "scale"}},
		Spec: corev1.PodSpec{
			NodeName:           node,
			ServiceAccountName: sa,
			Tolerations:        []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			Containers:         []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
		},
	}
}

func netpol(i int) *networkingv1.NetworkPolicy {
	if i == 0 {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-deny-ingress"},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	}
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "allow-dns-and-api"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "scale"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.96.0.0/12"}}},
			}},
		}}
}

func event(ns, obj string, i int) *corev1.Event {
	now := metav1.NewTime(time.Now().Add(-time.Duration(i%3600) * time.Second))
	reasons := []string{"Scheduled", "Pulled", "Created", "Started", "BackOff", "Unhealthy", "FailedMount", "Killing"}
	r := reasons[i%len(reasons)]
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.scale-%d", obj, i), Namespace: ns,
			Labels: map[string]string{"lab.kube-doctor.io/scale": "true"}},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: obj, APIVersion: "v1"},
		Reason:         r,
		Message:        fmt.Sprintf("%s: synthetic scale event %d for %s", r, i, obj),
		Type:           map[bool]string{true: "Warning", false: "Normal"}[r == "BackOff" || r == "Unhealthy" || r == "FailedMount"],
		Source:         corev1.EventSource{Component: "kubelet", Host: "kwok"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
}
