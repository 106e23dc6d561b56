package persist_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
)

func TestMemoryStoreConformance(t *testing.T) {
	persisttest.Run(t, func(t *testing.T, clock poller.Clock) persist.Store {
		return persist.NewMemoryStore(&persist.Options{Clock: clock})
	})
}

func TestFileStoreConformance(t *testing.T) {
	persisttest.Run(t, func(t *testing.T, clock poller.Clock) persist.Store {
		s, err := persist.OpenFileStore(t.TempDir(), &persist.Options{Clock: clock})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPostgresStoreConformance(t *testing.T) {
	dsn := persisttest.PostgresDSN(t)
	var n atomic.Int64
	persisttest.Run(t, func(t *testing.T, clock poller.Clock) persist.Store {
		s, err := persist.OpenPostgresStore(context.Background(), withTable(t, dsn, fmt.Sprint("t", n.Add(1))), &persist.Options{Clock: clock})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// withTable sets the table parameter of a postgres DSN.
func withTable(t testing.TB, dsn, table string) string {
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("table", table)
	u.RawQuery = q.Encode()
	return u.String()
}
