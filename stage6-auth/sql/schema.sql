-- The users table of the chat (MySQL / MariaDB). `npm run db:setup` runs this
-- file as the admin, inside the chat database; it is safe to run again.
--
-- username: ASCII with a binary collation, so names compare byte by byte:
--   usernames are case-sensitive ('alice' and 'Alice' are two accounts), the
--   same rule as the embedded SQLite store. The app checks the allowed
--   characters (1-32 of A-Z a-z 0-9 _ . -) before any query.
-- users_username_unique: the database, not the application, guarantees that a
--   name is registered once. Of many concurrent INSERTs of one name exactly
--   one succeeds; the others fail with ER_DUP_ENTRY, which the app reports as
--   NAME_TAKEN. ("SELECT, then INSERT if absent" would let two of them in.)
-- password_hash: a bcrypt hash ($2b$12$..., 60 characters), never a password.
CREATE TABLE IF NOT EXISTS users (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  username      VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at    TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  CONSTRAINT users_username_unique UNIQUE (username)
) ENGINE = InnoDB;
