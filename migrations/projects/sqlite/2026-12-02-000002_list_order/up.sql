-- Lists are newest first by creation (then id): read in that order, not sorted per request.
CREATE INDEX projects_created ON projects (created_at, id);
CREATE INDEX tasks_created ON tasks (created_at, id);
