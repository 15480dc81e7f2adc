-- Helpdesk teams and tickets. Decimals are integers of ten-thousandths; ids are canonical UUID text.
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    use_timesheets BOOLEAN NOT NULL DEFAULT 0,
    use_time_reinvoicing BOOLEAN NOT NULL DEFAULT 0,
    project_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (use_timesheets OR NOT use_time_reinvoicing)
);

-- Gap-free numbers: one row per sequence, taken with `UPDATE ... SET next = next + 1
-- RETURNING next` inside the transaction that uses the number, so a rollback gives it back.
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    next BIGINT NOT NULL
);
INSERT INTO sequences (name, next) VALUES ('ticket', 1);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,
    team_id TEXT NOT NULL REFERENCES teams (id),
    customer_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    stage TEXT NOT NULL DEFAULT 'new' CHECK (stage IN ('new', 'in_progress', 'solved', 'cancelled')),
    task_id TEXT,
    sale_line_id TEXT,
    -- The ticket's logged hours as projects last reported them, and the version of that
    -- report: a total is applied only when its version is newer.
    hours_spent BIGINT NOT NULL DEFAULT 0,
    hours_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tickets_team ON tickets (team_id);
CREATE INDEX tickets_customer ON tickets (customer_id);
CREATE INDEX tickets_stage ON tickets (stage);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    aggregate TEXT NOT NULL,
    target TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    absolute BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    delivered_at TIMESTAMP,
    last_error TEXT,
    request_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX outbox_aggregate ON outbox (aggregate, id) WHERE delivered_at IS NULL;

CREATE TABLE idempotency_keys (
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    caller TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status INTEGER,
    response_body TEXT,
    content_type TEXT,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (key, method, path, caller)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
