DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE tickets;
DROP TABLE sequences;
DROP TABLE teams;
