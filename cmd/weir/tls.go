package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
)

// tlsFlags are the shared --tls-cert, --tls-key and --tls-ca flags.
type tlsFlags struct {
	cert, key, ca string
}

func (f *tlsFlags) register(fl *pflag.FlagSet, what string) {
	fl.StringVar(&f.cert, "tls-cert", "", "PEM certificate this process presents ("+what+")")
	fl.StringVar(&f.key, "tls-key", "", "PEM private key of --tls-cert")
	fl.StringVar(&f.ca, "tls-ca", "", "PEM CA bundle that verifies the peer's certificate")
}

func (f *tlsFlags) enabled() bool { return f.cert != "" || f.key != "" || f.ca != "" }

func (f *tlsFlags) pool() (*x509.CertPool, error) {
	if f.ca == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", f.ca)
	}
	return pool, nil
}

func (f *tlsFlags) certificates() ([]tls.Certificate, error) {
	if (f.cert == "") != (f.key == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if f.cert == "" {
		return nil, nil
	}
	c, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return []tls.Certificate{c}, nil
}

// serverConfig is the TLS configuration of a server: it needs a certificate, and
// with --tls-ca it also requires clients to present one signed by that CA.
func (f *tlsFlags) serverConfig() (*tls.Config, error) {
	if !f.enabled() {
		return nil, nil
	}
	certs, err := f.certificates()
	if err != nil {
		return nil, err
	}
	if certs == nil {
		return nil, errors.New("--tls-ca without --tls-cert: a TLS server needs a certificate")
	}
	pool, err := f.pool()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
	if pool != nil {
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// clientConfig is the TLS configuration of a client: --tls-ca verifies the server
// (the system roots otherwise), --tls-cert is presented to servers that ask.
func (f *tlsFlags) clientConfig() (*tls.Config, error) {
	if !f.enabled() {
		return nil, nil
	}
	certs, err := f.certificates()
	if err != nil {
		return nil, err
	}
	pool, err := f.pool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: certs, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
