package persist

// ClaimQuery exposes a PostgresStore's Claim statement to the tests that
// check its plan.
func ClaimQuery(s *PostgresStore) string { return s.q.claim }

// Table exposes a PostgresStore's quoted table name to tests.
func Table(s *PostgresStore) string { return s.table }
