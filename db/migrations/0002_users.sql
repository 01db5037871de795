-- groupd schema, version 2: what the user API (package user) needs beyond
-- version 1.

-- The contact fields of easydb's user type (company, department, phone,
-- street, house_number, address_supplement, postal_code, town, country,
-- remarks), which the official migration client sends, as one object of
-- text values; and the user's frontend_prefs object.
ALTER TABLE users ADD COLUMN profile jsonb NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN frontend_prefs jsonb;

-- Visibility of users in SQL looks users up by owner; the uniqueness of
-- logins (against each other and against login e-mails) is case-insensitive.
CREATE INDEX users_owner_user_idx ON users (owner_user_id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX users_owner_group_idx ON users (owner_group_id) WHERE owner_group_id IS NOT NULL;
CREATE INDEX users_login_lower_idx ON users (lower(login));

-- easydb: "System users have the system user root as owner", root included.
UPDATE users SET owner_user_id = 1 WHERE type = 'system' AND owner_user_id IS NULL;
