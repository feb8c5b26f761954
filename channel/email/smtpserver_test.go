package email

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testServer is a real SMTP server (github.com/emersion/go-smtp) on
// loopback that records what it receives and can be scripted to refuse.
type testServer struct {
	addr   string
	port   int
	roots  *x509.CertPool
	srv    *smtp.Server
	script serverScript

	mu       sync.Mutex
	received []received
	conns    int
}

type received struct {
	From  string
	Rcpts []string
	Data  []byte
	User  string
	TLS   bool
}

type serverScript struct {
	tls       string // "", "starttls", "implicit"
	authUser  string // when set, AUTH PLAIN with authUser/authPass is required
	authPass  string
	rcptErr   *smtp.SMTPError
	dataErr   *smtp.SMTPError
	dropData  bool          // close the connection instead of replying to DATA
	blockData chan struct{} // Data waits until this is closed
	inData    chan struct{} // closed when Data starts (with blockData)
}

func newTestServer(t testing.TB, sc serverScript) *testServer {
	t.Helper()
	ts := &testServer{script: sc}
	cert, roots := selfSigned(t)
	ts.roots = roots
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ts.mu.Lock()
		ts.conns++
		ts.mu.Unlock()
		_, isTLS := c.TLSConnectionState()
		return &testSession{ts: ts, conn: c, isTLS: isTLS}, nil
	})
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.MaxMessageBytes = 10 << 20
	s.AllowInsecureAuth = sc.tls == ""
	tcfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch sc.tls {
	case "starttls":
		s.TLSConfig = tcfg
	case "implicit":
		s.TLSConfig = tcfg
		l = tls.NewListener(l, tcfg)
	}
	ts.srv = s
	ts.addr = l.Addr().String()
	ts.port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		_ = s.Close()
		_ = l.Close() // Serve may not have registered l yet
		<-done
	})
	return ts
}

func (ts *testServer) got() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.received...)
}

func (ts *testServer) connections() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.conns
}

type testSession struct {
	ts    *testServer
	conn  *smtp.Conn
	isTLS bool
	user  string
	cur   received
}

func (s *testSession) AuthMechanisms() []string {
	if s.ts.script.authUser == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.ts.script.authUser || password != s.ts.script.authPass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.script.authUser != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{From: from, User: s.user}
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := s.ts.script.rcptErr; e != nil {
		return e
	}
	s.cur.Rcpts = append(s.cur.Rcpts, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if sc := s.ts.script; sc.blockData != nil {
		close(sc.inData)
		<-sc.blockData
	}
	if s.ts.script.dropData {
		_ = s.conn.Close()
		return errors.New("dropped")
	}
	if e := s.ts.script.dataErr; e != nil {
		return e
	}
	s.cur.Data = b
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.ts.mu.Lock()
	s.ts.received = append(s.ts.received, s.cur)
	s.ts.mu.Unlock()
	return nil
}

func (s *testSession) Reset()        { s.cur = received{} }
func (s *testSession) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
