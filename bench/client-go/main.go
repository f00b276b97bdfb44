// Command bench-client-go syncs a client-go shared informer of ConfigMaps in one
// namespace and prints, as one JSON line, the time to synced, the object count,
// and the process's peak and steady resident memory (from /proc/self/status).
//
//	bench-client-go --kubeconfig FILE --namespace NS
//
// With --startup it is the peer of the daemon's start-up: informers of Namespaces, Jobs,
// Deployments and StatefulSets in all namespaces and of ConfigMaps in NS (the kinds the
// daemon's start-up bench rules watch); it prints {"mode":"ready"} as soon as all have synced,
// then, after --settle, the sample with its resident memory at rest.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

type sample struct {
	Mode string  `json:"mode"`
	Ms   float64 `json:"ms"`
	// SyncedMs: when HasSynced first held, polled every millisecond. Ms is when WaitForCacheSync
	// returned, which is what a client-go program sees: it polls HasSynced every 100 ms.
	SyncedMs     float64 `json:"syncedMs,omitempty"`
	Objects      int     `json:"objects"`
	PeakRssMiB   float64 `json:"peakRssMiB"`
	SteadyRssMiB float64 `json:"steadyRssMiB"`
}

// status reads a "VmXxx:  N kB" line of /proc/self/status, in MiB.
func status(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "admin kubeconfig")
	namespace := flag.String("namespace", "", "namespace of the ConfigMaps")
	settle := flag.Duration("settle", 2*time.Second, "wait after sync before reading steady RSS")
	startup := flag.Bool("startup", false, "informers of the start-up bench's kinds; print a ready line at sync")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		os.Exit(1)
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	started := time.Now()
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(*namespace))
	informer := factory.Core().V1().ConfigMaps().Informer()
	if *startup {
		runStartup(ctx, cs, factory, informer, *settle)
		return
	}
	// A handler, as a controller would have one (the Node.js clients get one too).
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj interface{}) {}}); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
	syncedAt := make(chan time.Duration, 1)
	go func() {
		for !informer.HasSynced() {
			time.Sleep(time.Millisecond)
		}
		syncedAt <- time.Since(started)
	}()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		fmt.Fprintln(os.Stderr, "informer did not sync")
		os.Exit(1)
	}
	elapsed := time.Since(started)
	synced := <-syncedAt
	objects := len(informer.GetStore().ListKeys())
	peak := status("VmHWM")
	time.Sleep(*settle)
	runtime.GC()
	time.Sleep(200 * time.Millisecond)
	s := sample{Mode: "client-go", Ms: float64(elapsed.Microseconds()) / 1000, SyncedMs: float64(synced.Microseconds()) / 1000, Objects: objects, PeakRssMiB: peak, SteadyRssMiB: status("VmRSS")}
	if hwm := status("VmHWM"); hwm > s.PeakRssMiB {
		s.PeakRssMiB = hwm
	}
	out, _ := json.Marshal(s)
	fmt.Println(string(out))
}

// runStartup syncs the start-up bench's informers, prints a ready line, then the sample at rest.
func runStartup(ctx context.Context, cs *kubernetes.Clientset, nsFactory informers.SharedInformerFactory, configMaps cache.SharedIndexInformer, settle time.Duration) {
	all := informers.NewSharedInformerFactory(cs, 0)
	synced := []cache.InformerSynced{configMaps.HasSynced}
	for _, inf := range []cache.SharedIndexInformer{
		all.Core().V1().Namespaces().Informer(),
		all.Batch().V1().Jobs().Informer(),
		all.Apps().V1().Deployments().Informer(),
		all.Apps().V1().StatefulSets().Informer(),
	} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj interface{}) {}}); err != nil {
			fmt.Fprintln(os.Stderr, "handler:", err)
			os.Exit(1)
		}
		synced = append(synced, inf.HasSynced)
	}
	if _, err := configMaps.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj interface{}) {}}); err != nil {
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
	nsFactory.Start(ctx.Done())
	all.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		fmt.Fprintln(os.Stderr, "informers did not sync")
		os.Exit(1)
	}
	fmt.Println(`{"mode":"ready"}`)
	// At rest as a daemon would be: no forced GC (the Node.js processes get none either).
	time.Sleep(settle)
	out, _ := json.Marshal(sample{Mode: "client-go", PeakRssMiB: status("VmHWM"), SteadyRssMiB: status("VmRSS")})
	fmt.Println(string(out))
}
