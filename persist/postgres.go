package persist

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lrokit/lrokit/poller"
)

// PostgresStore keeps records in a PostgreSQL table, for fleets of workers
// that share them. Put is one compare-and-swap statement; Claim hands out
// records with FOR UPDATE SKIP LOCKED, so concurrent claimers never wait on
// nor receive the same record. It is safe for concurrent use by many
// processes.
type PostgresStore struct {
	pool  *pgxpool.Pool
	clock poller.Clock
	table string // quoted, schema-qualified
	q     pgQueries
}

var (
	_ Store        = (*PostgresStore)(nil)
	_ Leaser       = (*PostgresStore)(nil)
	_ Sweeper      = (*PostgresStore)(nil)
	_ BatchRenewer = (*PostgresStore)(nil)
)

// DefaultTable is the records table's name when the DSN names none.
const DefaultTable = "lrokit_records"

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)

// pgMigrations are applied in order; element i brings the table to version
// i+1, and len(pgMigrations) is the version this package writes. {{t}} is the quoted table, {{n}} its bare name for index names.
var pgMigrations = []string{
	`CREATE TABLE {{t}} (
		key           text COLLATE "C" PRIMARY KEY,
		token         text NOT NULL,
		provider      text NOT NULL DEFAULT '',
		status        text NOT NULL DEFAULT '',
		detail        text NOT NULL DEFAULT '',
		labels        jsonb,
		generation    bigint NOT NULL,
		updated       timestamptz NOT NULL,
		expires_at    timestamptz,
		lease_owner   text NOT NULL DEFAULT '',
		lease_expires timestamptz,
		lease_epoch   bigint NOT NULL DEFAULT 0
	);
	-- Claim walks this index in order and stops after limit rows.
	CREATE INDEX {{n}}_claim ON {{t}} ((COALESCE(lease_expires, '-infinity'::timestamptz)), key)
		WHERE status NOT IN ('Succeeded', 'Failed', 'Canceled');
	CREATE INDEX {{n}}_expires ON {{t}} (expires_at) WHERE expires_at IS NOT NULL;
	CREATE INDEX {{n}}_labels ON {{t}} USING gin (labels jsonb_path_ops);`,
}

const pgCols = `key, token, provider, status, detail, labels, generation, updated, expires_at, lease_owner, lease_expires, lease_epoch`

type pgQueries struct {
	create, update, get, removeExpired, delete, claim, renew, renewBatch, release, sweep, list string
}

func newPGQueries(t string) pgQueries {
	r := strings.NewReplacer("{{t}}", t, "{{cols}}", pgCols)
	return pgQueries{
		// An expired record counts as absent: creating over it replaces it.
		create: r.Replace(`INSERT INTO {{t}} AS r (key, token, provider, status, detail, labels, generation, updated, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)
			ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, provider = EXCLUDED.provider, status = EXCLUDED.status,
				detail = EXCLUDED.detail, labels = EXCLUDED.labels, generation = 1, updated = EXCLUDED.updated,
				expires_at = EXCLUDED.expires_at, lease_owner = '', lease_expires = NULL, lease_epoch = 0
			WHERE r.expires_at IS NOT NULL AND r.expires_at <= $7
			RETURNING {{cols}}`),
		// Compare-and-swap and fence in one statement.
		update: r.Replace(`UPDATE {{t}} SET token = $2, provider = $3, status = $4, detail = $5, labels = $6,
				generation = generation + 1, updated = $7, expires_at = $8
			WHERE key = $1 AND generation = $9 AND (expires_at IS NULL OR expires_at > $7)
				AND ($10::text = '' OR (lease_owner = $10 AND lease_epoch = $11 AND lease_expires > $7))
			RETURNING {{cols}}`),
		get:           r.Replace(`SELECT {{cols}} FROM {{t}} WHERE key = $1`),
		removeExpired: r.Replace(`DELETE FROM {{t}} WHERE key = $1 AND expires_at <= $2`),
		delete: r.Replace(`DELETE FROM {{t}} WHERE key = $1 AND ($2::bigint = 0 OR generation = $2)
			AND (expires_at IS NULL OR expires_at > $3)`),
		claim: r.Replace(`WITH c AS (
				SELECT key FROM {{t}}
				WHERE status NOT IN ('Succeeded', 'Failed', 'Canceled')
					AND COALESCE(lease_expires, '-infinity'::timestamptz) <= $1
					AND (expires_at IS NULL OR expires_at > $1)
				ORDER BY COALESCE(lease_expires, '-infinity'::timestamptz), key
				LIMIT $4
				FOR UPDATE SKIP LOCKED
			)
			UPDATE {{t}} AS r SET lease_owner = $2, lease_expires = $3, lease_epoch = r.lease_epoch + 1
			FROM c WHERE r.key = c.key
			RETURNING r.key, r.token, r.provider, r.status, r.detail, r.labels, r.generation, r.updated,
				r.expires_at, r.lease_owner, r.lease_expires, r.lease_epoch`),
		renew: r.Replace(`UPDATE {{t}} SET lease_expires = $4
			WHERE key = $1 AND lease_owner = $2 AND lease_owner <> '' AND lease_epoch = $3 AND lease_expires > $5
				AND (expires_at IS NULL OR expires_at > $5)
			RETURNING lease_owner, lease_expires, lease_epoch`),
		// Renew's conditions, joined against the leases to renew: one
		// statement, primary-key lookups.
		renewBatch: r.Replace(`UPDATE {{t}} AS r SET lease_expires = $4
			FROM unnest($1::text[], $2::text[], $3::bigint[]) AS l(key, owner, epoch)
			WHERE r.key = l.key AND r.lease_owner = l.owner AND r.lease_owner <> '' AND r.lease_epoch = l.epoch
				AND r.lease_expires > $5 AND (r.expires_at IS NULL OR r.expires_at > $5)
			RETURNING r.key, r.lease_owner, r.lease_expires, r.lease_epoch`),
		release: r.Replace(`UPDATE {{t}} SET lease_owner = '', lease_expires = $4
			WHERE key = $1 AND lease_owner = $2 AND lease_owner <> '' AND lease_epoch = $3
				AND (expires_at IS NULL OR expires_at > $4)`),
		sweep: r.Replace(`DELETE FROM {{t}} WHERE expires_at <= $1`),
		list:  r.Replace(`SELECT {{cols}} FROM {{t}} WHERE (expires_at IS NULL OR expires_at > $1)`),
	}
}

// OpenPostgresStore connects to the database dsn names and brings the
// records table up to date (see Open for the DSN's schema and table
// parameters). Migrations are versioned and run under an advisory lock, so
// any number of processes may open the same fresh database at once. A table
// migrated by a newer lrokit is refused with ErrNewerVersion.
func OpenPostgresStore(ctx context.Context, dsn string, opts *Options) (*PostgresStore, error) {
	conn, schema, table, err := splitPostgresDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		// pgx's message quotes the DSN, query string and all.
		return nil, fmt.Errorf("persist: postgres DSN cannot be parsed: %w", ErrInvalid)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("persist: postgres: %w", err)
	}
	s := &PostgresStore{pool: pool, clock: opts.clock(), table: pgx.Identifier{table}.Sanitize()}
	if schema != "" {
		s.table = pgx.Identifier{schema, table}.Sanitize()
	}
	s.q = newPGQueries(s.table)
	if err := s.migrate(ctx, schema, table); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// splitPostgresDSN takes the schema and table parameters out of a URL DSN;
// a key/value DSN passes through unchanged. Errors never quote the DSN (it
// may hold a password).
func splitPostgresDSN(dsn string) (conn, schema, table string, err error) {
	table = DefaultTable
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn, "", table, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", "", fmt.Errorf("persist: postgres DSN is not a valid URL: %w", ErrInvalid)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", "", "", fmt.Errorf("persist: postgres DSN query is malformed: %w", ErrInvalid)
	}
	if q.Has("schema") {
		schema = q.Get("schema")
		if !identRE.MatchString(schema) {
			return "", "", "", fmt.Errorf("persist: postgres DSN: the schema parameter must match %s: %w", identRE, ErrInvalid)
		}
	}
	if q.Has("table") {
		table = q.Get("table")
		if !identRE.MatchString(table) {
			return "", "", "", fmt.Errorf("persist: postgres DSN: the table parameter must match %s: %w", identRE, ErrInvalid)
		}
	}
	q.Del("schema")
	q.Del("table")
	u.RawQuery = q.Encode()
	return u.String(), schema, table, nil
}

func (s *PostgresStore) migrate(ctx context.Context, schema, table string) error {
	fail := func(err error) error { return fmt.Errorf("persist: migrate %s: %w", s.table, err) }
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback(ctx)
	// One lock per schema: it also serializes creating the schema.
	h := fnv.New64a()
	h.Write([]byte("lrokit/persist:" + schema))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return fail(err)
	}
	if schema != "" {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
			return fail(err)
		}
		if !exists {
			if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
				return fail(err)
			}
		}
	}
	mig := pgx.Identifier{table + "_migrations"}.Sanitize()
	if schema != "" {
		mig = pgx.Identifier{schema, table + "_migrations"}.Sanitize()
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+mig+` (version int PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fail(err)
	}
	var version int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+mig).Scan(&version); err != nil {
		return fail(err)
	}
	if version > len(pgMigrations) {
		return fmt.Errorf("persist: table %s is at schema version %d, newer than this lrokit reads (%d): %w",
			s.table, version, len(pgMigrations), ErrNewerVersion)
	}
	r := strings.NewReplacer("{{t}}", s.table, "{{n}}", table)
	for v := version; v < len(pgMigrations); v++ {
		if _, err := tx.Exec(ctx, r.Replace(pgMigrations[v])); err != nil {
			return fail(fmt.Errorf("to version %d: %w", v+1, err))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+mig+` (version) VALUES ($1)`, v+1); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fail(err)
	}
	return nil
}

func (s *PostgresStore) now() time.Time { return storedTime(s.clock.Now()) }

// Close closes the connection pool.
func (s *PostgresStore) Close() error {
	s.pool.Close()
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullLabels(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// scanRecord reads one row of pgCols; a row that does not hold a valid
// record yields a *CorruptError naming its key.
func scanRecord(row pgx.Row) (Record, error) {
	var r Record
	var status string
	var expires, leaseExpires *time.Time
	err := row.Scan(&r.Key, &r.Token, &r.Provider, &status, &r.Detail, &r.Labels, &r.Generation, &r.Updated,
		&expires, &r.Lease.Owner, &leaseExpires, &r.Lease.Epoch)
	if err != nil {
		return Record{}, err
	}
	r.Status = poller.Status(status)
	if expires != nil {
		r.ExpiresAt = *expires
	}
	if leaseExpires != nil {
		r.Lease.Expires = *leaseExpires
	}
	n, err := normalize(r)
	if err != nil {
		return Record{}, &CorruptError{Where: fmt.Sprintf("row %q", safeKey(r.Key)), Err: err}
	}
	return n, nil
}

// Put writes r if r.Generation matches (see Store), in one statement.
func (s *PostgresStore) Put(ctx context.Context, r Record) (Record, error) {
	r, err := prepare(r)
	if err != nil {
		return Record{}, err
	}
	now := s.now()
	var row pgx.Row
	switch {
	case r.Lease.Owner != "" && r.Generation == 0:
		return Record{}, s.whyNot(ctx, r, now)
	case r.Generation == 0:
		row = s.pool.QueryRow(ctx, s.q.create, r.Key, r.Token, r.Provider, string(r.Status), r.Detail,
			nullLabels(r.Labels), now, nullTime(r.ExpiresAt))
	default:
		row = s.pool.QueryRow(ctx, s.q.update, r.Key, r.Token, r.Provider, string(r.Status), r.Detail,
			nullLabels(r.Labels), now, nullTime(r.ExpiresAt), r.Generation, r.Lease.Owner, r.Lease.Epoch)
	}
	out, err := scanRecord(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, s.whyNot(ctx, r, now)
	}
	if err != nil {
		return Record{}, fmt.Errorf("persist: put %q: %w", r.Key, err)
	}
	return out, nil
}

// whyNot explains a Put that changed nothing, by the same rules as the
// other stores.
func (s *PostgresStore) whyNot(ctx context.Context, r Record, now time.Time) error {
	cur, err := scanRecord(s.pool.QueryRow(ctx, s.q.get, r.Key))
	exists := err == nil && !expired(cur, now)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("persist: put %q: %w", r.Key, err)
	}
	if err := checkWrite(r, cur, exists, now); err != nil {
		return err
	}
	return fmt.Errorf("persist: put %q: the record changed concurrently: %w", r.Key, ErrConflict)
}

// Get returns the record under key, or ErrNotFound; it removes the record if
// it expired.
func (s *PostgresStore) Get(ctx context.Context, key string) (Record, error) {
	if err := ValidateKey(key); err != nil {
		return Record{}, err
	}
	r, err := scanRecord(s.pool.QueryRow(ctx, s.q.get, key))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Record{}, fmt.Errorf("persist: get %q: %w", key, ErrNotFound)
	case err != nil:
		return Record{}, fmt.Errorf("persist: get %q: %w", key, err)
	}
	if now := s.now(); expired(r, now) {
		if _, err := s.pool.Exec(ctx, s.q.removeExpired, key, now); err != nil {
			return Record{}, fmt.Errorf("persist: get %q: remove expired: %w", key, err)
		}
		return Record{}, fmt.Errorf("persist: get %q: %w", key, ErrNotFound)
	}
	return r, nil
}

// Delete removes the record under key if its generation matches (see Store).
func (s *PostgresStore) Delete(ctx context.Context, key string, generation int64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	now := s.now()
	tag, err := s.pool.Exec(ctx, s.q.delete, key, generation, now)
	if err != nil {
		return fmt.Errorf("persist: delete %q: %w", key, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	cur, err := scanRecord(s.pool.QueryRow(ctx, s.q.get, key))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("persist: delete %q: %w", key, ErrNotFound)
	case err != nil:
		return fmt.Errorf("persist: delete %q: %w", key, err)
	case expired(cur, now):
		if _, err := s.pool.Exec(ctx, s.q.removeExpired, key, now); err != nil {
			return fmt.Errorf("persist: delete %q: %w", key, err)
		}
		return fmt.Errorf("persist: delete %q: %w", key, ErrNotFound)
	}
	return fmt.Errorf("persist: delete %q at generation %d: the stored generation is %d: %w", key, generation, cur.Generation, ErrConflict)
}

// List returns the records f selects, sorted by key (byte-wise). Rows that
// do not hold a valid record are reported in the error, wrapping a
// *CorruptError each, alongside the valid records.
func (s *PostgresStore) List(ctx context.Context, f Filter) ([]Record, error) {
	if err := validFilter(f); err != nil {
		return nil, err
	}
	var sql strings.Builder
	sql.WriteString(s.q.list)
	args := []any{s.now()}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Prefix != "" {
		sql.WriteString(" AND key LIKE " + arg(likePrefix(f.Prefix)) + ` ESCAPE '\'`)
	}
	if f.After != "" {
		sql.WriteString(" AND key > " + arg(f.After))
	}
	if len(f.Status) > 0 {
		st := make([]string, len(f.Status))
		for i, x := range f.Status {
			p, _ := poller.ParseStatus(string(x))
			st[i] = string(p)
		}
		sql.WriteString(" AND status = ANY(" + arg(st) + ")")
	}
	if len(f.Labels) > 0 {
		sql.WriteString(" AND labels @> " + arg(f.Labels) + "::jsonb")
	}
	sql.WriteString(" ORDER BY key")
	if f.Limit > 0 {
		sql.WriteString(" LIMIT " + arg(f.Limit))
	}
	rows, err := s.pool.Query(ctx, sql.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("persist: list: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	var errs []error
	for rows.Next() {
		r, err := scanRecord(rows)
		var ce *CorruptError
		switch {
		case errors.As(err, &ce):
			errs = append(errs, err)
			continue
		case err != nil:
			return nil, fmt.Errorf("persist: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("persist: list: %w", err)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("persist: list: %w", errors.Join(errs...))
	}
	return out, nil
}

// likePrefix is a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
}

// Claim leases up to limit claimable records to owner (see Leaser), in one
// statement; rows locked by a concurrent claimer are skipped, not waited on.
func (s *PostgresStore) Claim(ctx context.Context, owner string, ttl time.Duration, limit int) ([]Record, error) {
	if err := validClaim(owner, ttl, limit); err != nil {
		return nil, err
	}
	now := s.now()
	rows, err := s.pool.Query(ctx, s.q.claim, now, owner, storedTime(now.Add(ttl)), limit)
	if err != nil {
		return nil, fmt.Errorf("persist: claim: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		var ce *CorruptError
		switch {
		case errors.As(err, &ce):
			continue // leased but unreadable: it lapses unused
		case err != nil:
			return out, fmt.Errorf("persist: claim: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("persist: claim: %w", err)
	}
	return out, nil
}

// Renew extends a held lease (see Leaser).
func (s *PostgresStore) Renew(ctx context.Context, key string, lease Lease, ttl time.Duration) (Lease, error) {
	if err := ValidateKey(key); err != nil {
		return Lease{}, err
	}
	if ttl <= 0 {
		return Lease{}, fmt.Errorf("persist: renew: lease ttl %v is not positive: %w", ttl, ErrInvalid)
	}
	now := s.now()
	var l Lease
	err := s.pool.QueryRow(ctx, s.q.renew, key, lease.Owner, lease.Epoch, storedTime(now.Add(ttl)), now).
		Scan(&l.Owner, &l.Expires, &l.Epoch)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Lease{}, fmt.Errorf("persist: renew %q for %q (epoch %d): %w", key, lease.Owner, lease.Epoch, ErrLeaseLost)
	case err != nil:
		return Lease{}, fmt.Errorf("persist: renew %q: %w", key, err)
	}
	l.Expires = storedTime(l.Expires)
	return l, nil
}

// RenewBatch extends many held leases in one statement (see BatchRenewer).
func (s *PostgresStore) RenewBatch(ctx context.Context, leases map[string]Lease, ttl time.Duration) (map[string]Lease, error) {
	if err := validRenewBatch(leases, ttl); err != nil {
		return nil, err
	}
	out := make(map[string]Lease, len(leases))
	if len(leases) == 0 {
		return out, nil
	}
	keys := make([]string, 0, len(leases))
	owners := make([]string, 0, len(leases))
	epochs := make([]int64, 0, len(leases))
	for k, l := range leases {
		keys, owners, epochs = append(keys, k), append(owners, l.Owner), append(epochs, l.Epoch)
	}
	now := s.now()
	rows, err := s.pool.Query(ctx, s.q.renewBatch, keys, owners, epochs, storedTime(now.Add(ttl)), now)
	if err != nil {
		return out, fmt.Errorf("persist: renew: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var l Lease
		if err := rows.Scan(&key, &l.Owner, &l.Expires, &l.Epoch); err != nil {
			return out, fmt.Errorf("persist: renew: %w", err)
		}
		l.Expires = storedTime(l.Expires)
		out[key] = l
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("persist: renew: %w", err)
	}
	return out, nil
}

// Release gives a lease up (see Leaser).
func (s *PostgresStore) Release(ctx context.Context, key string, lease Lease) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.q.release, key, lease.Owner, lease.Epoch, s.now())
	switch {
	case err != nil:
		return fmt.Errorf("persist: release %q: %w", key, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("persist: release %q for %q (epoch %d): %w", key, lease.Owner, lease.Epoch, ErrLeaseLost)
	}
	return nil
}

// Sweep removes expired records (see Sweeper).
func (s *PostgresStore) Sweep(ctx context.Context) (int, error) {
	tag, err := s.pool.Exec(ctx, s.q.sweep, s.now())
	if err != nil {
		return 0, fmt.Errorf("persist: sweep: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
