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
