package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// keyPair is a certificate with its private key, both PEM-encoded the way kubeadm writes them
// (CERTIFICATE, and RSA PRIVATE KEY in PKCS #1).
type keyPair struct {
	cert    *x509.Certificate
	key     *rsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

// pki is what a kubeadm control plane keeps in /etc/kubernetes/pki, reduced to what this harness serves:
// one CA that signs the serving certificate and the client certificates, and the service-account signing key.
type pki struct {
	ca          keyPair
	serving     keyPair
	admin       keyPair
	saKeyPEM    []byte // RSA PRIVATE KEY (or EC PRIVATE KEY): signs service-account tokens
	saPublicPEM []byte // PUBLIC KEY: verifies them
}

// newPKI creates the CA, the serving and admin certificates, and a service-account signing key: RSA 2048 as kubeadm
// makes it (tokens signed RS256), or ECDSA P-256 when saKeyType is "ecdsa" (tokens signed ES256).
func newPKI(serviceIP net.IP, saKeyType string) (*pki, error) {
	now := time.Now()
	ca, err := newKeyPair(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	serving, err := newKeyPair(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{
			"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local",
		},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, serviceIP},
	}, &ca)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	// The system:masters group is bound to cluster-admin by the API server's bootstrap RBAC policy.
	admin, err := newKeyPair(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kubernetes-admin", Organization: []string{"system:masters"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &ca)
	if err != nil {
		return nil, fmt.Errorf("admin client certificate: %w", err)
	}
	saKeyPEM, saPublicPEM, err := newServiceAccountKey(saKeyType)
	if err != nil {
		return nil, fmt.Errorf("service-account key: %w", err)
	}
	return &pki{ca: ca, serving: serving, admin: admin, saKeyPEM: saKeyPEM, saPublicPEM: saPublicPEM}, nil
}

// newServiceAccountKey returns a private key (PKCS #1 for RSA, SEC 1 for ECDSA) and its PKIX public key, PEM.
func newServiceAccountKey(keyType string) ([]byte, []byte, error) {
	var private *pem.Block
	var public crypto.PublicKey
	switch keyType {
	case "rsa":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, nil, err
		}
		private, public = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}, &key.PublicKey
	case "ecdsa":
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		private, public = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}, &key.PublicKey
	default:
		return nil, nil, fmt.Errorf("unknown key type %q (rsa or ecdsa)", keyType)
	}
	der, err := x509.MarshalPKIXPublicKey(public)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(private), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// newKeyPair creates an RSA 2048 key and a certificate for it from template, signed by parent (self-signed when
// parent is nil).
func newKeyPair(template *x509.Certificate, parent *keyPair) (keyPair, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return keyPair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return keyPair{}, err
	}
	template.SerialNumber = serial
	signerCert, signerKey := template, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}, nil
}

// writeFiles writes each name → content pair with the given mode, stopping at the first failure.
func writeFiles(mode os.FileMode, files map[string][]byte) error {
	for name, content := range files {
		if err := os.WriteFile(name, content, mode); err != nil {
			return err
		}
	}
	return nil
}
