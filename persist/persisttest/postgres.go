package persisttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresDSN is the test server used when LROKIT_TEST_POSTGRES is
// not set.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresServerDSN returns the test server's DSN: $LROKIT_TEST_POSTGRES, else
// DefaultPostgresDSN.
func PostgresServerDSN() string {
	if dsn := os.Getenv("LROKIT_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultPostgresDSN
}

var (
	reachOnce sync.Once
	reachErr  error
)

// PostgresDSN returns a DSN for the test PostgreSQL server
// ($LROKIT_TEST_POSTGRES, else DefaultPostgresDSN) whose schema parameter
// names a fresh schema, dropped with everything in it when the test ends; so
// parallel tests and packages never collide. Without a reachable server the
// test is skipped with a loud message — or fails when CI=true.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := PostgresServerDSN()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("LROKIT_TEST_POSTGRES must be a postgres:// URL")
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		reachErr = err
	})
	if reachErr != nil {
		msg := fmt.Sprintf("PostgreSQL test server unreachable (%v); set LROKIT_TEST_POSTGRES or start it "+
			"(pg_ctlcluster <version> main start)", reachErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintf(os.Stderr, "\n!!!!!!!! SKIPPING POSTGRESQL TESTS: %s !!!!!!!!\n\n", msg)
		t.Skip(msg)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "lrokit_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
