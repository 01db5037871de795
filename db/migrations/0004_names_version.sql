-- groupd schema, version 4: a counter of renames, so that a process may
-- cache the short format of users and groups (login or name, type, display
-- name) that every ACL entry shows, and know in each snapshot whether its
-- cache still holds: the rename and the count move in one transaction. New
-- rows need no count (their ids are not cached yet); deletions count, since
-- an id given explicitly may come back with other names.
CREATE TABLE names_version (
    id      int    PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO names_version VALUES (1, 1);

-- The triggers fire only for rows whose shown columns changed (the WHEN is
-- evaluated without calling the function: an update of comments costs
-- nothing), and count once per transaction, however many rows it renames.
CREATE FUNCTION names_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('groupd.names_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        UPDATE names_version SET version = version + 1;
        PERFORM set_config('groupd.names_bumped', txid_current()::text, true);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_names_version AFTER UPDATE OF login, type, displayname, first_name, last_name ON users
    FOR EACH ROW WHEN ((OLD.login, OLD.type, OLD.displayname, OLD.first_name, OLD.last_name)
                       IS DISTINCT FROM (NEW.login, NEW.type, NEW.displayname, NEW.first_name, NEW.last_name))
    EXECUTE FUNCTION names_version_bump();
CREATE TRIGGER groups_names_version AFTER UPDATE OF name, type, displayname ON groups
    FOR EACH ROW WHEN ((OLD.name, OLD.type, OLD.displayname) IS DISTINCT FROM (NEW.name, NEW.type, NEW.displayname))
    EXECUTE FUNCTION names_version_bump();
CREATE TRIGGER users_names_version_delete AFTER DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION names_version_bump();
CREATE TRIGGER groups_names_version_delete AFTER DELETE ON groups
    FOR EACH STATEMENT EXECUTE FUNCTION names_version_bump();
