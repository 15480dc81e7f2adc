DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE ticket_totals;
DROP TABLE line_totals;
DROP TABLE timesheets;
DROP TABLE tasks;
DROP TABLE projects;
