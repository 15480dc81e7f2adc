-- When each project and task last changed; existing records take their creation time.
-- (Timesheets have had their updated_at from the start.)
ALTER TABLE projects ADD COLUMN updated_at TIMESTAMP;
UPDATE projects SET updated_at = created_at;
ALTER TABLE projects ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE tasks ADD COLUMN updated_at TIMESTAMP;
UPDATE tasks SET updated_at = created_at;
ALTER TABLE tasks ALTER COLUMN updated_at SET NOT NULL;
