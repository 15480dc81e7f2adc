-- Projects, tasks and the one ledger of time. Decimals are integers of ten-thousandths; ids are canonical UUID text.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    customer_id TEXT,
    sale_line_id TEXT,
    allow_timesheets BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    customer_id TEXT,
    sale_order_id TEXT,
    sale_line_id TEXT,
    allocated_hours BIGINT NOT NULL DEFAULT 0,
    effective_hours BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX tasks_project ON tasks (project_id);
CREATE INDEX tasks_sale_line ON tasks (sale_line_id);
CREATE INDEX tasks_customer ON tasks (customer_id);

CREATE TABLE timesheets (
    id TEXT PRIMARY KEY,
    date DATE NOT NULL,
    employee TEXT NOT NULL,
    description TEXT,
    hours BIGINT NOT NULL CHECK (hours > 0 AND hours <= 240000),
    project_id TEXT NOT NULL REFERENCES projects (id),
    task_id TEXT REFERENCES tasks (id),
    ticket_id TEXT,
    sale_line_id TEXT,
    invoice_id TEXT,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX timesheets_task ON timesheets (task_id);
CREATE INDEX timesheets_project ON timesheets (project_id);
CREATE INDEX timesheets_ticket ON timesheets (ticket_id);
CREATE INDEX timesheets_sale_line ON timesheets (sale_line_id, date);

-- Running totals, so that logging time never reads all of a line's timesheets. The version
-- grows with every change and orders the totals sent to sales and helpdesk.
CREATE TABLE line_totals (
    sale_line_id TEXT PRIMARY KEY,
    hours BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE ticket_totals (
    ticket_id TEXT PRIMARY KEY,
    hours BIGINT NOT NULL,
    version BIGINT NOT NULL
);
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

