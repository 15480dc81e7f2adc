-- Lists are newest first by creation (then id): read in that order, not sorted per request.
CREATE INDEX teams_created ON teams (created_at, id);
CREATE INDEX tickets_created ON tickets (created_at, id);
