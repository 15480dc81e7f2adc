-- Lists are newest first by creation (then id): read in that order, not sorted per request.
CREATE INDEX invoices_created ON invoices (created_at, id);
