package main

// run.go starts etcd, kube-apiserver and kube-controller-manager, waits until the
// cluster is ready, and stops them in reverse order when a signal arrives.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"golang.org/x/sys/unix"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
)

type options struct {
	dir      string
	port     int
	etcdPort int
	logFile  string
}

// state is saved in DIR/state.json so that a restart serves the same cluster on
// the same ports, and so that tests can find the etcd endpoint (to compact it).
type state struct {
	Port               int    `json:"port"`
	EtcdPort           int    `json:"etcdPort"`
	EtcdPeerPort       int    `json:"etcdPeerPort"`
	Server             string `json:"server"`
	EtcdURL            string `json:"etcdURL"`
	AdminKubeconfig    string `json:"adminKubeconfig"`
	NoGrantsKubeconfig string `json:"noGrantsKubeconfig"`
	AdminToken         string `json:"adminToken"`
	NoGrantsToken      string `json:"noGrantsToken"`
	Version            string `json:"version"`
	PID                int    `json:"pid"`
}

const readyTimeout = 120 * time.Second

var childMu sync.Mutex

func run(opts options) error {
	// The apiserver command installs the process's signal handler; build it first
	// so a signal during start-up also reaches it.
	cmd := apiserver.NewAPIServerCommand()
	ctx := cmd.Context()

	dir, err := stateDir(opts.dir)
	if err != nil {
		return err
	}
	logPath := opts.logFile
	if logPath == "" {
		logPath = filepath.Join(dir, "control-plane.log")
	}
	if err := redirectStderr(logPath); err != nil {
		return err
	}
	st, err := loadState(dir, opts)
	if err != nil {
		return err
	}
	keys := newPKI(dir)
	if err := keys.ensure(); err != nil {
		return err
	}
	st.AdminKubeconfig, st.NoGrantsKubeconfig, err = keys.writeKubeconfigs(st.Server)
	if err != nil {
		return err
	}
	st.AdminToken, st.NoGrantsToken = keys.adminToken, keys.noGrantsToken

	etcd, err := startEtcd(dir, st)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer func() {
		etcd.Close()
		logf("shutdown: etcd closed")
	}()

	cmd.SetArgs(apiserverArgs(dir, keys, st))
	served := make(chan error, 1)
	go func() { served <- cmd.Execute() }()

	if err := waitReady(ctx, st, keys, served); err != nil {
		return err
	}
	kcmProc, err := startControllerManager(st, logPath)
	if err != nil {
		return fmt.Errorf("kube-controller-manager: %w", err)
	}
	defer stopChild(kcmProc)

	if err := saveState(dir, st); err != nil {
		return err
	}
	fmt.Println(st.AdminKubeconfig)

	// On a signal: stop the controller-manager (a client) at once, while the
	// apiserver drains; a watchdog bounds the whole shutdown.
	go func() {
		<-ctx.Done()
		logf("shutdown: signal received; stopping kube-controller-manager")
		stopChild(kcmProc)
		logf("shutdown: kube-controller-manager stopped")
		time.Sleep(shutdownTimeout)
		logf("shutdown: not finished after %s; exiting", shutdownTimeout)
		os.Exit(1)
	}()
	err = <-served
	logf("shutdown: kube-apiserver stopped")
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("kube-apiserver stopped: %w (see %s)", err, logPath)
	}
	return nil
}

// shutdownTimeout bounds a graceful stop; past it the process exits anyway.
const shutdownTimeout = 20 * time.Second

// logf writes one line to the component log (stderr is redirected there).
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "reflex-cluster %s: %s\n", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}

func stateDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "reflex-cluster-")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return abs, os.MkdirAll(abs, 0o700)
}

// redirectStderr sends the components' (very chatty) logs to a file, keeping
// stdout for the one line the caller waits for.
func redirectStderr(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	return unix.Dup2(int(f.Fd()), 2)
}

func loadState(dir string, opts options) (*state, error) {
	st := &state{}
	if data, err := os.ReadFile(filepath.Join(dir, "state.json")); err == nil {
		if err := json.Unmarshal(data, st); err != nil {
			return nil, fmt.Errorf("malformed %s: %w", filepath.Join(dir, "state.json"), err)
		}
	}
	pick := func(flag, saved int) (int, error) {
		if flag != 0 {
			return flag, nil
		}
		if saved != 0 {
			return saved, nil
		}
		return freePort()
	}
	var err error
	if st.Port, err = pick(opts.port, st.Port); err != nil {
		return nil, err
	}
	if st.EtcdPort, err = pick(opts.etcdPort, st.EtcdPort); err != nil {
		return nil, err
	}
	if st.EtcdPeerPort, err = pick(0, st.EtcdPeerPort); err != nil {
		return nil, err
	}
	st.Server = "https://127.0.0.1:" + strconv.Itoa(st.Port)
	st.EtcdURL = "http://127.0.0.1:" + strconv.Itoa(st.EtcdPort)
	st.Version = version
	st.PID = os.Getpid()
	return st, nil
}

func saveState(dir string, st *state) error {
	data, _ := json.MarshalIndent(st, "", "  ")
	tmp := filepath.Join(dir, "state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "state.json"))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startEtcd(dir string, st *state) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "reflex-test"
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "error"
	cfg.Logger = "zap"
	client := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(st.EtcdPort)}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(st.EtcdPeerPort)}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("not ready after 60s")
	}
}

func apiserverArgs(dir string, k *pki, st *state) []string {
	return []string{
		"--etcd-servers=" + st.EtcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(st.Port),
		"--cert-dir=" + filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file=" + k.serverCert,
		"--tls-private-key-file=" + k.serverKey,
		"--client-ca-file=" + k.caCert,
		"--token-auth-file=" + k.tokenFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + k.saPub,
		"--service-account-signing-key-file=" + k.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=0",
	}
}

// waitReady polls /readyz and the default namespace with the admin identity.
func waitReady(ctx context.Context, st *state, k *pki, served <-chan error) error {
	caPEM, err := os.ReadFile(k.caCert)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(k.adminCert, k.adminKey)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
	}}
	ok := func(path string) bool {
		resp, err := client.Get(st.Server + path)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-served:
			return fmt.Errorf("kube-apiserver exited during start-up: %v", err)
		case <-ctx.Done():
			return errors.New("interrupted during start-up")
		case <-time.After(200 * time.Millisecond):
		}
		if ok("/readyz") && ok("/api/v1/namespaces/default") {
			return nil
		}
	}
	return fmt.Errorf("kube-apiserver on %s not ready after %s", st.Server, readyTimeout)
}

func startControllerManager(st *state, logPath string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "controller-manager",
		"--kubeconfig="+st.AdminKubeconfig,
		"--controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--v=0",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The child dies with us, even when we are killed with SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: false}
	return cmd, cmd.Start()
}

// stopChild stops the child with SIGTERM, then SIGKILL after 5 s. Safe to call twice.
func stopChild(cmd *exec.Cmd) {
	childMu.Lock()
	defer childMu.Unlock()
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
