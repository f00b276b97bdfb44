package main

// pki.go creates the certificates, keys, tokens and kubeconfigs of a test cluster,
// once per state directory; later runs reuse them.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Users of the test cluster. The admin is in system:masters; the no-grants user
// authenticates but has no RBAC bindings, so every request it makes is Forbidden.
const (
	adminUser    = "reflex-admin"
	noGrantsUser = "reflex-nogrants"
)

type pki struct {
	dir           string
	caCert        string
	serverCert    string
	serverKey     string
	adminCert     string
	adminKey      string
	saKey         string
	saPub         string
	tokenFile     string
	adminToken    string
	noGrantsToken string
}

func newPKI(dir string) *pki {
	p := filepath.Join
	return &pki{
		dir:        dir,
		caCert:     p(dir, "ca.crt"),
		serverCert: p(dir, "apiserver.crt"),
		serverKey:  p(dir, "apiserver.key"),
		adminCert:  p(dir, "admin.crt"),
		adminKey:   p(dir, "admin.key"),
		saKey:      p(dir, "sa.key"),
		saPub:      p(dir, "sa.pub"),
		tokenFile:  p(dir, "tokens.csv"),
	}
}

// ensure creates what is missing and loads the tokens.
func (k *pki) ensure() error {
	if _, err := os.Stat(k.tokenFile); err != nil {
		if err := k.create(); err != nil {
			return fmt.Errorf("creating certificates in %s: %w", k.dir, err)
		}
	}
	return k.loadTokens()
}

func (k *pki) create() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "reflex-test-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	if err := writePEM(k.caCert, "CERTIFICATE", caDER); err != nil {
		return err
	}
	server := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.0.0.1")},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if err := issue(ca, caKey, server, k.serverCert, k.serverKey); err != nil {
		return err
	}
	admin := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: adminUser, Organization: []string{"system:masters"}},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if err := issue(ca, caKey, admin, k.adminCert, k.adminKey); err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if err := writePEM(k.saKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)); err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	if err := writePEM(k.saPub, "PUBLIC KEY", pub); err != nil {
		return err
	}
	// Static tokens: CSV token,user,uid,"group1,group2".
	csv := fmt.Sprintf("%s,%s,%s,\"system:masters\"\n%s,%s,%s\n",
		randomToken(), adminUser, "uid-admin", randomToken(), noGrantsUser, "uid-nogrants")
	return os.WriteFile(k.tokenFile, []byte(csv), 0o600)
}

func (k *pki) loadTokens() error {
	data, err := os.ReadFile(k.tokenFile)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Split(line, ",")
		if len(fields) < 3 {
			continue
		}
		switch fields[1] {
		case adminUser:
			k.adminToken = fields[0]
		case noGrantsUser:
			k.noGrantsToken = fields[0]
		}
	}
	if k.adminToken == "" || k.noGrantsToken == "" {
		return fmt.Errorf("malformed token file %s", k.tokenFile)
	}
	return nil
}

func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate, certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(10 * 365 * 24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
		return err
	}
	return writePEM(keyPath, "EC PRIVATE KEY", keyDER)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// writeKubeconfigs writes admin.kubeconfig (client certificate) and
// nogrants.kubeconfig (bearer token) for the server URL.
func (k *pki) writeKubeconfigs(server string) (admin, nogrants string, err error) {
	ca, err := os.ReadFile(k.caCert)
	if err != nil {
		return "", "", err
	}
	cert, err := os.ReadFile(k.adminCert)
	if err != nil {
		return "", "", err
	}
	key, err := os.ReadFile(k.adminKey)
	if err != nil {
		return "", "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	adminUserYAML := fmt.Sprintf("    client-certificate-data: %s\n    client-key-data: %s\n", b64(cert), b64(key))
	nograntsUserYAML := fmt.Sprintf("    token: %s\n", k.noGrantsToken)
	admin = filepath.Join(k.dir, "admin.kubeconfig")
	nogrants = filepath.Join(k.dir, "nogrants.kubeconfig")
	if err := os.WriteFile(admin, []byte(kubeconfig(server, b64(ca), "admin", adminUserYAML)), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(nogrants, []byte(kubeconfig(server, b64(ca), "nogrants", nograntsUserYAML)), 0o600); err != nil {
		return "", "", err
	}
	return admin, nogrants, nil
}

func kubeconfig(server, caData, user, userYAML string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: reflex-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
%scontexts:
- name: reflex-test-%s
  context:
    cluster: reflex-test
    user: %s
    namespace: default
current-context: reflex-test-%s
`, server, caData, user, userYAML, user, user, user)
}
