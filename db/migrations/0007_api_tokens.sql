-- groupd schema, version 7: personal API tokens (package session,
-- docs/sessions.md). A token acts as its user, narrowed by its scope; only
-- the SHA-256 of its secret is stored. Deleting the user deletes its tokens;
-- revoking a token deletes its row.
CREATE TABLE api_tokens (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              text        NOT NULL,
    token_hash        bytea       NOT NULL UNIQUE,
    -- read_only: the token may only read (GET and HEAD).
    read_only         boolean     NOT NULL DEFAULT false,
    -- system_rights: the most the token may use of its user's system rights;
    -- NULL: all of them.
    system_rights     jsonb,
    created_at        timestamptz NOT NULL,
    -- expires_at: the token stops working then; NULL: never.
    expires_at        timestamptz,
    -- last_used_at and last_used_address are written at most once per
    -- TouchInterval per token and process, not on every request.
    last_used_at      timestamptz,
    last_used_address text
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);
CREATE INDEX api_tokens_expires_idx ON api_tokens (expires_at) WHERE expires_at IS NOT NULL;
