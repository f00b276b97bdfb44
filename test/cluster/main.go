// Command reflex-cluster runs a real Kubernetes control plane for Reflex's tests:
// embedded etcd and kube-apiserver in this process, kube-controller-manager as a
// child process of the same binary.
//
//	reflex-cluster [--dir DIR] [--port N] [--etcd-port N] [--log-file FILE]
//	reflex-cluster controller-manager ARGS…   (internal: the child process)
//	reflex-cluster version
//
// When the control plane is ready it prints the absolute path of the admin
// kubeconfig on stdout, one line. SIGTERM or SIGINT stops everything and exits 0.
// State (certificates, etcd data, ports) lives in DIR, so a restart with the same
// DIR serves the same cluster on the same ports.
package main

import (
	"flag"
	"fmt"
	"os"

	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

// version is stamped at build time with -ldflags -X main.version=….
var version = "dev"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "controller-manager":
			cmd := kcm.NewControllerManagerCommand()
			cmd.SetArgs(os.Args[2:])
			if err := cmd.Execute(); err != nil {
				os.Exit(1)
			}
			return
		case "version":
			fmt.Println(version)
			return
		}
	}
	opts := options{}
	flag.StringVar(&opts.dir, "dir", "", "state directory (default: a new temporary directory)")
	flag.IntVar(&opts.port, "port", 0, "kube-apiserver secure port (default: the saved one, else a free port)")
	flag.IntVar(&opts.etcdPort, "etcd-port", 0, "etcd client port (default: the saved one, else a free port)")
	flag.StringVar(&opts.logFile, "log-file", "", "where component logs go (default: DIR/control-plane.log)")
	flag.Parse()
	if err := run(opts); err != nil {
		fmt.Fprintf(os.Stderr, "reflex-cluster: %v\n", err)
		os.Exit(1)
	}
}
