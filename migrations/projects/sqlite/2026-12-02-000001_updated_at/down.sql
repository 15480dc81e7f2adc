ALTER TABLE tasks DROP COLUMN updated_at;
ALTER TABLE projects DROP COLUMN updated_at;
