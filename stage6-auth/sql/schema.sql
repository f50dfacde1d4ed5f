-- The users table of the chat (MySQL / MariaDB). `npm run db:setup` runs this
-- file as the admin, inside the chat database; it is safe to run again.
--
-- username: ASCII with a case-insensitive collation (ascii_general_ci), so
--   the UNIQUE constraint refuses 'Alice' once 'alice' exists: two names that
--   differ only by case in one room are an impersonation kit. A login still
--   needs the exact spelling: the app compares what the SELECT found with
--   what was typed. The same rules as the embedded SQLite store. The app
--   checks the allowed characters (1-32 of A-Z a-z 0-9 _ . -) before any query.
-- users_username_unique: the database, not the application, guarantees that a
--   name is registered once. Of many concurrent INSERTs of one name exactly
--   one succeeds; the others fail with ER_DUP_ENTRY, which the app reports as
--   NAME_TAKEN. ("SELECT, then INSERT if absent" would let two of them in.)
-- password_hash: a bcrypt hash ($2b$12$..., 60 characters), never a password.
CREATE TABLE IF NOT EXISTS users (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  username      VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at    TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  CONSTRAINT users_username_unique UNIQUE (username)
) ENGINE = InnoDB;

-- A table made before names were unique ignoring case: change its column (a
-- no-op on a new table). It fails with ER_DUP_ENTRY if two names already
-- differ only by case; rename or delete all but one of them, then run again.
ALTER TABLE users MODIFY username VARCHAR(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL;

-- Stage 8: each user's public keys (Ed25519 identity, X25519 agreement key,
-- and the identity's signature over both), append-only. The app account may
-- only SELECT and INSERT here too, so a key change is a new row, never an
-- UPDATE: someone holding the app's password cannot quietly rewrite which
-- keys a user had. The newest row (highest id) is the current one:
--   SELECT ... WHERE username = ? ORDER BY id DESC LIMIT 1  (index user_keys_newest)
-- username is ascii_bin: keys belong to the exact spelling that logged in.
CREATE TABLE IF NOT EXISTS user_keys (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  username      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  signing_key   BINARY(32)  NOT NULL,
  agreement_key BINARY(32)  NOT NULL,
  signature     BINARY(64)  NOT NULL,
  created_at    TIMESTAMP   NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY user_keys_newest (username, id)
) ENGINE = InnoDB;
