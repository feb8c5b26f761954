package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The environment variables the helper reads.
const (
	// EnvDSN names a server to use instead of a throw-away cluster.
	EnvDSN = "PARLEY_POSTGRES_DSN"
	// EnvRequire, set to 1, makes a missing server fail the tests.
	EnvRequire = "PARLEY_REQUIRE_POSTGRES"
	// EnvKeep names a directory (a short path: the socket lives there) in
	// which the test cluster is kept between runs instead of removed: it
	// is created there the first time, started by each run and stopped
	// after it, so that the benchmarks' data sets are loaded once. Tests
	// leave their tenants in it; use it for benchmark runs.
	EnvKeep = "PARLEY_PG_KEEP_DIR"
)

// installHint says how to get PostgreSQL.
const installHint = "install PostgreSQL (Debian: apt-get install -y postgresql) and the tests start a " +
	"throw-away server, or set " + EnvDSN + " to a server's connection string"

// Server is a PostgreSQL server for tests.
type Server struct {
	// DSN is the connection string; "" when no server is available.
	DSN  string
	err  error
	dir  string
	ctl  string
	run  []string // command prefix to run as the cluster's owner
	keep bool     // the cluster stays in dir (EnvKeep)
}

// Start returns the server of EnvDSN, or starts a throw-away cluster. When
// neither is possible the Server records why, and Require skips or fails.
// Call Close when done.
func Start() *Server {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return &Server{DSN: dsn}
	}
	s := &Server{}
	if err := s.startCluster(); err != nil {
		s.err = err
		s.cleanup()
	}
	return s
}

// Err returns why no server is available, nil when one is.
func (s *Server) Err() error { return s.err }

// SkipNotice is the one line a test binary prints on stderr when its tests
// skip for want of a server, so that "go test" without -v still says so:
// why, how to get a server, and how to make it a failure.
func (s *Server) SkipNotice(pkg string) string {
	return fmt.Sprintf("%s: PostgreSQL tests skipped: no server (%v); %s; %s=1 makes this a failure",
		pkg, s.err, installHint, EnvRequire)
}

// Required reports whether EnvRequire asks for a server.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Require skips tb when no server is available, or fails it when EnvRequire
// is set.
func (s *Server) Require(tb testing.TB) {
	tb.Helper()
	if s.err == nil {
		return
	}
	if Required() {
		tb.Fatalf("pgtest: %s=1 but no PostgreSQL server: %v", EnvRequire, s.err)
	}
	tb.Skipf("pgtest: no PostgreSQL server (%v); %s", s.err, installHint)
}

// Pool returns a new pool on the server, closed when tb ends. It skips or
// fails tb as Require does when there is no server.
func (s *Server) Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	s.Require(tb)
	pool, err := NewPool(context.Background(), s.DSN)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// NewPool opens a pool on dsn and checks that the server answers.
func NewPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("pgtest: pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgtest: ping: %w", err)
	}
	return pool, nil
}

// Close stops and removes a cluster Start created; it does nothing for a
// server given by EnvDSN.
func (s *Server) Close() {
	if s.dir == "" {
		return
	}
	data := filepath.Join(s.dir, "data")
	mode := "immediate"
	if s.keep {
		mode = "fast" // a checkpoint, so that the next run starts without recovery
	}
	_ = s.command(s.ctl, "-D", data, "-m", mode, "-w", "stop").Run()
	s.cleanup()
}

func (s *Server) cleanup() {
	if s.dir != "" && !s.keep {
		_ = os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// binDir finds the directory of initdb and pg_ctl: PATH first, then the
// newest /usr/lib/postgresql/*/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb and pg_ctl not found in PATH or /usr/lib/postgresql/*/bin")
}

// version returns the major version in a /usr/lib/postgresql/N/bin path.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	full := append(slices.Clone(s.run), name)
	full = append(full, args...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	return cmd
}

func (s *Server) startCluster() error {
	bin, err := binDir()
	if err != nil {
		return err
	}
	s.ctl = filepath.Join(bin, "pg_ctl")
	// A short path: the socket path must fit in 107 bytes.
	var dir string
	if keep := os.Getenv(EnvKeep); keep != "" {
		dir, err, s.keep = keep, os.MkdirAll(keep, 0o700), true
	} else {
		dir, err = os.MkdirTemp("/tmp", "parley-pg-")
	}
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	s.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root and no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", dir, err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return fmt.Errorf("running as root and runuser not found: %w", err)
		}
		s.run = []string{runuser, "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil || !s.keep {
		out, err := s.command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
			"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput()
		if err != nil {
			return fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	opts := strings.Join([]string{
		"-k", dir, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=256MB",
	}, " ")
	out, err := s.command(s.ctl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fmt.Errorf("pg_ctl start: %w: %s %s", err, strings.TrimSpace(string(out)), log)
	}
	s.DSN = "host=" + dir + " user=postgres dbname=postgres sslmode=disable"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := NewPool(ctx, s.DSN)
	if err != nil {
		_ = s.command(s.ctl, "-D", data, "-m", "immediate", "-w", "stop").Run()
		return err
	}
	pool.Close()
	return nil
}
