// lab-clientgo is a real client-go workload for the lab: an informer on the namespace's pods,
// a list every interval and a Lease renewed every few seconds, with client-go's own
// rest_client_* metrics on /metrics (the series KubeClientErrors is written over) and klog
// output exactly as any client-go program writes it.
package main

import (
	"context"
	"flag"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/metrics/legacyregistry"
	_ "k8s.io/component-base/metrics/prometheus/restclient" // registers rest_client_* metrics
	"k8s.io/klog/v2"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the client identity")
	namespace := flag.String("namespace", "demo", "namespace to work in")
	metricsAddr := flag.String("metrics-addr", "127.0.0.1:18081", "where /metrics is served")
	lease := flag.String("lease", "clientgo", "Lease renewed by this client")
	interval := flag.Duration("interval", time.Second, "time between rounds of list calls")
	workers := flag.Int("workers", 4, "concurrent list calls per round, like a controller's workers")
	klog.InitFlags(nil)
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatalf("cannot load kubeconfig %s: %v", *kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 20, 40
	cfg.Timeout = 10 * time.Second
	cfg.UserAgent = "lab-clientgo/v1.34 (client-go)"
	cs := kubernetes.NewForConfigOrDie(cfg)

	mux := http.NewServeMux()
	mux.Handle("/metrics", legacyregistry.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	go func() {
		klog.InfoS("serving metrics", "addr", *metricsAddr)
		if err := http.ListenAndServe(*metricsAddr, mux); err != nil {
			klog.Fatalf("metrics server: %v", err)
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(*namespace))
	podInformer := factory.Core().V1().Pods().Informer()
	factory.Start(ctx.Done())

	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			klog.InfoS("shutting down")
			return
		case <-tick.C:
		}
		var wg sync.WaitGroup
		for w := 0; w < *workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				pods, err := cs.CoreV1().Pods(*namespace).List(ctx, metav1.ListOptions{Limit: 50})
				if err != nil {
					klog.ErrorS(err, "failed to list pods", "namespace", *namespace, "worker", w)
				} else if i%30 == 0 && w == 0 {
					klog.InfoS("listed pods", "namespace", *namespace, "count", len(pods.Items), "cached", len(podInformer.GetStore().List()))
				}
			}(w)
		}
		wg.Wait()
		if i%5 == 0 {
			if err := renew(ctx, cs, *namespace, *lease); err != nil {
				klog.ErrorS(err, "failed to renew lease", "lease", klog.KRef(*namespace, *lease))
			}
		}
	}
}

func renew(ctx context.Context, cs kubernetes.Interface, ns, name string) error {
	leases := cs.CoordinationV1().Leases(ns)
	now := metav1.NewMicroTime(time.Now())
	holder := "lab-clientgo"
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &now},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity = &holder
	l.Spec.RenewTime = &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}
