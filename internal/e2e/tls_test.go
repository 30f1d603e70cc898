package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/embednats"
)

// writeCert signs a certificate for 127.0.0.1 with ca (self-signed when ca is
// nil) and writes cert and key as PEM files; it returns them and the cert.
func writeCert(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certFile, keyFile string, cert *x509.Certificate, key *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	parent, signer := tmpl, key
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	} else {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile, cert, key
}

// TestMutualTLSBetweenControlAndWorkers: with certificates the gRPC service
// requires a worker certificate from the CA; a worker without one is refused.
func TestMutualTLSBetweenControlAndWorkers(t *testing.T) {
	dir := t.TempDir()
	caFile, _, ca, caKey := writeCert(t, dir, "ca", nil, nil)
	srvCert, srvKey, _, _ := writeCert(t, dir, "control", ca, caKey)
	wCert, wKey, _, _ := writeCert(t, dir, "worker", ca, caKey)

	ns, err := embednats.Start(embednats.Options{Dir: filepath.Join(dir, "nats"), Port: -1})
	require.NoError(t, err)
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	ctl := startWeir(t, "weir control ready", "control", "--nats", ns.ClientURL(), "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "control"), "--tls-cert", srvCert, "--tls-key", srvKey, "--tls-ca", caFile)
	ctl.connect()

	startWeir(t, "worker registered", "worker", "--id", "tls-worker", "--control", ctl.grpcAddr, "--nats", ns.ClientURL(),
		"--data-dir", filepath.Join(dir, "w1"), "--tls-ca", caFile, "--tls-cert", wCert, "--tls-key", wKey)
	require.Eventually(t, func() bool {
		ws, err := ctl.client.Workers(context.Background())
		return err == nil && len(ws.Workers) == 1 && ws.Workers[0].ID == "tls-worker"
	}, 30*time.Second, 100*time.Millisecond)

	// Without a client certificate, and without TLS at all: refused, fast.
	for _, args := range [][]string{
		{"--tls-ca", caFile},
		{},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, binPath(t), append([]string{"worker", "--control", ctl.grpcAddr, "--nats", ns.ClientURL(),
			"--data-dir", filepath.Join(dir, "w2")}, args...)...)
		out, err := cmd.CombinedOutput()
		cancel()
		require.Error(t, err, "%s", out)
		require.Contains(t, string(out), "control plane at "+ctl.grpcAddr)
	}
}
