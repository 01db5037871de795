-- groupd schema, version 3: the ACL lookups by subject carry what the
-- visibility test reads (mask, active, when), so that finding the groups a
-- principal may see is an index-only scan: with 10^6 ACL entries, the 10^4
-- groups a reader sees took 26 ms of heap fetches (one page per entry), and
-- take 3 ms from these indexes. They also serve the foreign keys' cascades.
DROP INDEX group_acl_who_user_idx;
DROP INDEX group_acl_who_group_idx;
CREATE INDEX group_acl_who_user_idx ON group_acl (who_user_id, group_id)
	INCLUDE (mask, active, valid_from, valid_to) WHERE who_user_id IS NOT NULL;
CREATE INDEX group_acl_who_group_idx ON group_acl (who_group_id, group_id)
	INCLUDE (mask, active, valid_from, valid_to) WHERE who_group_id IS NOT NULL;
