-- groupd schema, version 8: the unique names of groups and users are
-- checked at the end of each statement instead of row by row (DEFERRABLE
-- INITIALLY IMMEDIATE), so that one request may swap two names: its UPDATE
-- of both rows holds the name twice only halfway through the statement.
-- Nothing may name these as ON CONFLICT arbiters (PostgreSQL refuses
-- deferrable ones); groups and users are written without ON CONFLICT.
ALTER TABLE groups ADD CONSTRAINT groups_name_key UNIQUE USING INDEX groups_name_key DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE groups ADD CONSTRAINT groups_reference_key UNIQUE USING INDEX groups_reference_key DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE users ADD CONSTRAINT users_login_key UNIQUE USING INDEX users_login_key DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE users ADD CONSTRAINT users_reference_key UNIQUE USING INDEX users_reference_key DEFERRABLE INITIALLY IMMEDIATE;
