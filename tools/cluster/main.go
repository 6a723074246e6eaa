// Command kube-apiserver-harness runs a real kube-apiserver with an embedded etcd on 127.0.0.1, configured the way
// kubeadm configures a control plane (anonymous auth, the Node and RBAC authorizers, the NodeRestriction admission
// plugin, a service-account issuer with its signing key and JWKS), for integration tests and local experiments.
//
// Usage:
//
//	kube-apiserver-harness --dir DIR [--max-token-expiration 2h] [--extend-token-expiration=false] [-- APISERVER-FLAGS]
//
// It writes DIR/kubeconfig (cluster admin, client certificate), DIR/ca.crt and DIR/ca.key (to sign more client
// certificates, for example a node's), and logs to DIR/apiserver.log, DIR/etcd.log and DIR/audit.log. Once /readyz
// answers 200 and the default service account exists, it prints exactly one line on stdout:
//
//	ready https://127.0.0.1:PORT
//
// It runs until SIGINT or SIGTERM (or until its parent process goes away), then stops kube-apiserver and etcd,
// removes its temporary data (etcd's data and the private keys the server reads) and exits 0. Flags after "--" are
// passed to kube-apiserver after the harness's own, so they win.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	serviceaccountcontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
)

const (
	issuer           = "https://kubernetes.default.svc.cluster.local"
	serviceCIDR      = "10.96.0.0/12"
	shutdownDeadline = 30 * time.Second
)

// serviceIP is the first address of serviceCIDR: the "kubernetes" Service, which the serving certificate names.
var serviceIP = net.IPv4(10, 96, 0, 1)

// auditPolicy records every TokenRequest with its request body (audiences, expirationSeconds, boundObjectRef; the
// response, which holds the token, is never recorded) and the metadata of every TokenReview, once each, when the
// response is complete.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Request
    resources:
      - group: ""
        resources: ["serviceaccounts/token"]
  - level: Metadata
    resources:
      - group: authentication.k8s.io
        resources: ["tokenreviews"]
  - level: None
`

type config struct {
	dir                   string
	maxTokenExpiration    time.Duration
	extendTokenExpiration bool
	readyTimeout          time.Duration
	serviceAccountKey     string
	apiserverArgs         []string
}

func main() {
	// A reader of stdout or stderr that went away (a test runner that exited) must not kill the harness before it
	// has cleaned up: writes to a closed pipe fail instead.
	signal.Ignore(syscall.SIGPIPE)
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fail(err)
	}
	if err := run(cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "cluster: %v\n", err)
	os.Exit(1)
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("kube-apiserver-harness", flag.ContinueOnError)
	cfg := config{}
	fs.StringVar(&cfg.dir, "dir", "", "directory for kubeconfig, ca.crt, ca.key and the logs (created if missing; required)")
	fs.DurationVar(&cfg.maxTokenExpiration, "max-token-expiration", 0,
		"kube-apiserver --service-account-max-token-expiration (0: unset; otherwise between 1h and 2^32 s)")
	fs.BoolVar(&cfg.extendTokenExpiration, "extend-token-expiration", true,
		"kube-apiserver --service-account-extend-token-expiration")
	fs.StringVar(&cfg.serviceAccountKey, "service-account-key", "rsa",
		"the service-account signing key: rsa (2048 bits, as kubeadm makes it; RS256 tokens) or ecdsa (P-256; ES256 tokens)")
	fs.DurationVar(&cfg.readyTimeout, "ready-timeout", 2*time.Minute, "how long to wait for /readyz before giving up")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.dir == "" {
		return cfg, errors.New("--dir is required")
	}
	cfg.apiserverArgs = fs.Args()
	return cfg, nil
}

func run(cfg config) error {
	dir, err := filepath.Abs(cfg.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "sa-token-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopper := &stopper{cancel: cancel, tmp: tmp}
	stopper.watch()

	// Everything kube-apiserver and its libraries log goes to a file; stdout carries only the ready line.
	apiserverLog, err := os.Create(filepath.Join(dir, "apiserver.log"))
	if err != nil {
		return err
	}
	defer apiserverLog.Close()
	auditLog := filepath.Join(dir, "audit.log")
	if err := os.Remove(auditLog); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}

	certs, err := newPKI(serviceIP, cfg.serviceAccountKey)
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := listener.Addr().(*net.TCPAddr).Port
	server := "https://127.0.0.1:" + strconv.Itoa(port)

	p := func(name string) string { return filepath.Join(tmp, name) }
	if err := writeFiles(0o600, map[string][]byte{
		p("apiserver.crt"): certs.serving.certPEM, p("apiserver.key"): certs.serving.keyPEM,
		p("sa.key"): certs.saKeyPEM, p("sa.pub"): certs.saPublicPEM, p("audit-policy.yaml"): []byte(auditPolicy),
		filepath.Join(dir, "ca.key"): certs.ca.keyPEM,
	}); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), certs.ca.certPEM, 0o644); err != nil {
		return err
	}
	if err := writeKubeconfig(filepath.Join(dir, "kubeconfig"), server, certs); err != nil {
		return err
	}

	etcd, etcdURL, err := startEtcd(filepath.Join(tmp, "etcd"), filepath.Join(dir, "etcd.log"))
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcd.Close()

	args := []string{
		"--advertise-address=127.0.0.1",
		"--bind-address=127.0.0.1",
		"--allow-privileged=true",
		"--anonymous-auth=true",
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--enable-bootstrap-token-auth=true",
		"--client-ca-file=" + filepath.Join(dir, "ca.crt"),
		"--tls-cert-file=" + p("apiserver.crt"),
		"--tls-private-key-file=" + p("apiserver.key"),
		"--etcd-servers=" + etcdURL,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--service-account-issuer=" + issuer,
		"--service-account-key-file=" + p("sa.pub"),
		"--service-account-signing-key-file=" + p("sa.key"),
		"--service-account-extend-token-expiration=" + strconv.FormatBool(cfg.extendTokenExpiration),
		"--audit-policy-file=" + p("audit-policy.yaml"),
		"--audit-log-path=" + auditLog,
		// Endpoints for the "kubernetes" Service may not point at a loopback address, so the reconciler that
		// keeps them is off (the Service itself still exists).
		"--endpoint-reconciler-type=none",
	}
	if cfg.maxTokenExpiration != 0 {
		args = append(args, "--service-account-max-token-expiration="+cfg.maxTokenExpiration.String())
	}
	args = append(args, cfg.apiserverArgs...)

	apiserverDone, err := startAPIServer(ctx, args, listener, apiserverLog)
	if err != nil {
		return err
	}
	admin, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "kubeconfig"))
	if err != nil {
		return err
	}
	if err := waitUntilReady(ctx, admin, cfg.readyTimeout, apiserverDone); err != nil {
		// Not cancelled: a start-up hook would take that as fatal. Exiting stops everything.
		return fmt.Errorf("%v (see %s)", err, apiserverLog.Name())
	}
	stopper.ready.Store(true)
	fmt.Printf("ready %s\n", server)

	select {
	case err := <-apiserverDone:
		if ctx.Err() == nil {
			return fmt.Errorf("kube-apiserver stopped: %v (see %s)", err, apiserverLog.Name())
		}
	case <-ctx.Done():
		if err := waitForShutdown(apiserverDone); err != nil {
			return err
		}
	}
	fmt.Fprintln(os.Stderr, "cluster: stopped")
	return nil
}

// stopper turns the first SIGINT or SIGTERM, or the exit of the process that started the harness (a test runner
// that crashed, say), into a shutdown, so no API server is left behind.
type stopper struct {
	cancel context.CancelFunc
	tmp    string
	ready  atomic.Bool
	once   sync.Once
}

// stop cancels the server's context once it is ready. Before that it exits at once: kube-apiserver's start-up hooks
// treat a cancelled context as fatal, and there is nothing yet worth a graceful shutdown.
func (s *stopper) stop(why string) {
	s.once.Do(func() {
		if !s.ready.Load() {
			os.RemoveAll(s.tmp)
			fmt.Fprintf(os.Stderr, "cluster: %s before kube-apiserver was ready\n", why)
			os.Exit(1)
		}
		s.cancel()
	})
}

func (s *stopper) watch() {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	parent := os.Getppid()
	go func() {
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		for {
			select {
			case sig := <-signals:
				// Later signals change nothing (npm forwards the terminal's SIGINT, so one Ctrl-C can arrive twice):
				// the shutdown is bounded by shutdownDeadline.
				s.stop("stopped by " + sig.String())
			case <-ticker.C:
				if os.Getppid() != parent {
					s.stop("parent process exited")
				}
			}
		}
	}()
}

func waitForShutdown(done <-chan error) error {
	select {
	case <-done:
		return nil
	case <-time.After(shutdownDeadline):
		return fmt.Errorf("kube-apiserver did not stop within %s", shutdownDeadline)
	}
}

// startEtcd runs a single-member etcd in this process, listening on loopback ports the kernel picks; it returns the
// client URL. Its data lives in dataDir and is not fsynced: the harness never restarts from it.
func startEtcd(dataDir, logFile string) (*embed.Etcd, string, error) {
	cfg := embed.NewConfig()
	cfg.Dir = dataDir
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{logFile}
	loopback := []url.URL{{Scheme: "http", Host: "127.0.0.1:0"}}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = loopback, loopback
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = loopback, loopback
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", err
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, "", err
	case <-time.After(time.Minute):
		e.Close()
		return nil, "", errors.New("not ready within a minute")
	}
	return e, "http://" + e.Clients[0].Addr().String(), nil
}

// startAPIServer parses args as kube-apiserver's command line does, serves on listener and runs until ctx is done;
// the returned channel receives the server's result once it has stopped.
func startAPIServer(ctx context.Context, args []string, listener net.Listener, logTo *os.File) (<-chan error, error) {
	s := options.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, set := range s.Flags().FlagSets {
		fs.AddFlagSet(set)
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("kube-apiserver flags: %w", err)
	}
	s.SecureServing.Listener = listener
	s.SecureServing.BindPort = listener.Addr().(*net.TCPAddr).Port

	registry := s.GenericServerRunOptions.ComponentGlobalsRegistry
	if err := registry.Set(); err != nil {
		return nil, err
	}
	featureGate := registry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApplyWithOptions(s.Logs,
		&logsapi.LoggingOptions{ErrorStream: logTo, InfoStream: logTo}, featureGate); err != nil {
		return nil, err
	}
	// Libraries that log through klog before or beside the configured logger write to the same file.
	klog.SetOutput(logTo)
	klog.LogToStderr(false)

	klog.Infof("kube-apiserver %s", strings.Join(args, " "))

	completed, err := s.Complete(ctx)
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver options: %w", err)
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return nil, fmt.Errorf("kube-apiserver options: %w", utilerrors.NewAggregate(errs))
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, completed) }()
	return done, nil
}

// waitUntilReady polls /readyz until it answers 200, then runs the service-account controller (kube-controller-manager
// runs it in a kubeadm cluster: it creates the "default" ServiceAccount in every namespace) and waits for
// default/default.
func waitUntilReady(ctx context.Context, admin *rest.Config, timeout time.Duration, apiserverDone <-chan error) error {
	client, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	deadline := time.After(timeout)
	poll := func(ok func() bool) error {
		for !ok() {
			select {
			case err := <-apiserverDone:
				return fmt.Errorf("kube-apiserver stopped before it was ready: %v", err)
			case <-ctx.Done():
				return errors.New("stopped before kube-apiserver was ready")
			case <-deadline:
				return fmt.Errorf("kube-apiserver not ready within %s", timeout)
			case <-time.After(100 * time.Millisecond):
			}
		}
		return nil
	}
	err = poll(func() bool {
		status := 0
		client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
		return status == 200
	})
	if err != nil {
		return err
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	controller, err := serviceaccountcontroller.NewServiceAccountsController(klog.FromContext(ctx),
		factory.Core().V1().ServiceAccounts(), factory.Core().V1().Namespaces(), client,
		serviceaccountcontroller.DefaultServiceAccountsControllerOptions())
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	go controller.Run(ctx, 1)
	return poll(func() bool {
		_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
}

// writeKubeconfig writes a kubeconfig for the cluster admin with the certificates inline, as kubeadm's admin.conf.
func writeKubeconfig(path, server string, certs *pki) error {
	return clientcmd.WriteToFile(clientcmdapi.Config{
		Clusters: map[string]*clientcmdapi.Cluster{
			"kubernetes": {Server: server, CertificateAuthorityData: certs.ca.certPEM},
		},
		AuthInfos: map[string]*clientcmdapi.AuthInfo{
			"kubernetes-admin": {ClientCertificateData: certs.admin.certPEM, ClientKeyData: certs.admin.keyPEM},
		},
		Contexts: map[string]*clientcmdapi.Context{
			"kubernetes-admin@kubernetes": {Cluster: "kubernetes", AuthInfo: "kubernetes-admin"},
		},
		CurrentContext: "kubernetes-admin@kubernetes",
	}, path)
}
