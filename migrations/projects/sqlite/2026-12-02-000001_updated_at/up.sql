-- When each project and task last changed; existing records take their creation time.
-- (Timesheets have had their updated_at from the start.)
ALTER TABLE projects ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE projects SET updated_at = created_at;
ALTER TABLE tasks ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE tasks SET updated_at = created_at;
