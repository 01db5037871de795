-- groupd schema, version 5: what the login limits and the unstored
-- pre-authentication tokens need (package session, docs/sessions.md).

-- Failures now carry the client's address, for the per-address limit, and an
-- id, so that a login attempt can reserve its failure before it hashes the
-- password and withdraw exactly that row when the password was right.
ALTER TABLE login_failures ADD COLUMN address text;
ALTER TABLE login_failures ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX login_failures_address_idx ON login_failures (address, at) WHERE address IS NOT NULL;

-- login_addresses: the addresses from which a login has logged in
-- successfully, and when it last did. The per-login lockout spares them.
CREATE TABLE login_addresses (
    login        text        NOT NULL,
    address      text        NOT NULL,
    last_success timestamptz NOT NULL,
    PRIMARY KEY (login, address)
);
CREATE INDEX login_addresses_last_success_idx ON login_addresses (last_success);

-- server_keys: secrets that every groupd process on this database shares,
-- created once by the first process that needs one (e.g. "preauth", the HMAC
-- key of pre-authentication tokens).
CREATE TABLE server_keys (
    name       text        PRIMARY KEY,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- preauth_spent: the pre-authentication tokens that have been stored as a
-- session, until they would have expired anyway. Once its session is gone
-- (logged out everywhere, password changed, user deleted), such a token must
-- not come back as a fresh unauthenticated session.
CREATE TABLE preauth_spent (
    token_hash bytea       PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX preauth_spent_expires_idx ON preauth_spent (expires_at);

-- The janitor ends authenticated sessions past their absolute lifetime.
CREATE INDEX sessions_authenticated_at_idx ON sessions (authenticated_at) WHERE user_id IS NOT NULL;
