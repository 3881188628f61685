-- lint: allow drop-table
CREATE INDEX CONCURRENTLY idx ON users (email);
ALTER TABLE users ALTER COLUMN id TYPE bigint;
BEGIN; SELECT 1; COMMIT;
