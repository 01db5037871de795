-- groupd schema, version 10: a group's colour, RRGGBB in hexadecimal (package
-- group). The Navixy surface shows it as a tracker group's colour
-- (docs/navixy.md); the easydb API reads and writes it as group.color. NULL:
-- no colour.
ALTER TABLE groups ADD COLUMN color text CHECK (color ~ '^[0-9A-Fa-f]{6}$');
