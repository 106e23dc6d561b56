package persist_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
)

func openPG(t testing.TB, dsn string, opts *persist.Options) *persist.PostgresStore {
	t.Helper()
	s, err := persist.OpenPostgresStore(context.Background(), dsn, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func serverConn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, persisttest.PostgresServerDSN())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func TestOpenPostgresDSNGivesAFullStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := persist.Open(ctx, persisttest.PostgresDSN(t))
	require.NoError(t, err)
	require.IsType(t, &persist.PostgresStore{}, s)
	assert.Implements(t, (*persist.Leaser)(nil), s)
	assert.Implements(t, (*persist.Sweeper)(nil), s)
	defer s.(io.Closer).Close()
	_, err = s.Put(ctx, persist.Record{Key: "a", Token: "t"})
	require.NoError(t, err)
	r, err := s.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "t", r.Token)
}

func TestPostgresMigrationRunsOnce(t *testing.T) {
	t.Parallel()
	dsn := persisttest.PostgresDSN(t)
	a := openPG(t, dsn, nil)
	_, err := a.Put(context.Background(), persist.Record{Key: "kept", Token: "t"})
	require.NoError(t, err)
	b := openPG(t, dsn, nil)
	_, err = b.Get(context.Background(), "kept")
	require.NoError(t, err, "reopening keeps the data")
	var n int
	require.NoError(t, serverConn(t).QueryRow(context.Background(),
		`SELECT count(*) FROM `+pgx.Identifier{schemaOf(t, dsn), "lrokit_records_migrations"}.Sanitize()).Scan(&n))
	assert.Equal(t, 1, n)
}

func TestPostgresNewerSchemaIsRefusedSayingUpgrade(t *testing.T) {
	t.Parallel()
	dsn := persisttest.PostgresDSN(t)
	openPG(t, dsn, nil)
	_, err := serverConn(t).Exec(context.Background(),
		`INSERT INTO `+pgx.Identifier{schemaOf(t, dsn), "lrokit_records_migrations"}.Sanitize()+` (version) VALUES (99)`)
	require.NoError(t, err)
	_, err = persist.OpenPostgresStore(context.Background(), dsn, nil)
	require.ErrorIs(t, err, persist.ErrNewerVersion)
	assert.Contains(t, err.Error(), "upgrade")
	assert.Contains(t, err.Error(), "version 99")
}

func TestPostgresCorruptRowIsNamedAndOthersStayReadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openPG(t, persisttest.PostgresDSN(t), nil)
	for _, k := range []string{"a", "b", "c"} {
		_, err := s.Put(ctx, persist.Record{Key: k, Token: "t", Status: poller.StatusRunning})
		require.NoError(t, err)
	}
	_, err := serverConn(t).Exec(ctx, `UPDATE `+persist.Table(s)+` SET status = 'Exploded' WHERE key = 'b'`)
	require.NoError(t, err)
	_, err = s.Get(ctx, "b")
	require.ErrorIs(t, err, persist.ErrCorrupt)
	assert.Contains(t, err.Error(), `row "b"`)
	all, err := s.List(ctx, persist.Filter{})
	require.ErrorIs(t, err, persist.ErrCorrupt)
	assert.Equal(t, []string{"a", "c"}, []string{all[0].Key, all[1].Key})
	claimed, err := s.Claim(ctx, "w", time.Minute, 10)
	require.NoError(t, err)
	assert.Len(t, claimed, 2, "a corrupt row is never handed out")
}

func TestPostgresErrorsNeverQuoteTheDSN(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://lrokit:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2&application_name=hunter2",
		"postgres://lrokit:hunter2@127.0.0.1:99999/db?sslmode=hunter2",
		"postgres://lrokit:hunter2@127.0.0.1/db?schema=Hunter2",
	} {
		_, err := persist.Open(ctx, dsn)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "hunter2")
		assert.NotContains(t, strings.ToLower(err.Error()), "hunter2")
	}
}

func TestPostgresClaimWalksItsIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openPG(t, persisttest.PostgresDSN(t), nil)
	seedPG(t, s, 20_000)
	conn := serverConn(t)
	_, err := conn.Exec(ctx, `ANALYZE `+persist.Table(s))
	require.NoError(t, err)
	rows, err := conn.Query(ctx, `EXPLAIN `+persist.ClaimQuery(s), time.Now(), "w", time.Now().Add(time.Minute), 100)
	require.NoError(t, err)
	var plan strings.Builder
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan.WriteString(line + "\n")
	}
	require.NoError(t, rows.Err())
	assert.Contains(t, plan.String(), "Index Scan using lrokit_records_claim", "plan:\n%s", plan.String())
	assert.NotContains(t, plan.String(), "Seq Scan", "plan:\n%s", plan.String())
	assert.NotContains(t, plan.String(), "Sort", "the index gives the order: plan:\n%s", plan.String())
}

// seedPG bulk-loads n running records (keys op000000...) into s's table.
func seedPG(t testing.TB, s *persist.PostgresStore, n int) {
	t.Helper()
	ctx := context.Background()
	conn := serverConn(t)
	tok := persisttest.Token(t, "azure", poller.StatusRunning)
	now := time.Now()
	src := pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		return []any{fmt.Sprintf("op%06d", i), tok, "azure", "Running", "InProgress", int64(1), now}, nil
	})
	id := strings.Split(strings.ReplaceAll(persist.Table(s), `"`, ""), ".")
	copied, err := conn.CopyFrom(ctx, pgx.Identifier(id), []string{"key", "token", "provider", "status", "detail", "generation", "updated"}, src)
	require.NoError(t, err)
	require.Equal(t, int64(n), copied)
}
