ALTER TABLE users ADD COLUMN email text NOT NULL;
CREATE INDEX idx ON users (email);
UPDATE users SET email = name;
ALTER TABLE users RENAME COLUMN name TO full_name;
DROP TABLE legacy;
