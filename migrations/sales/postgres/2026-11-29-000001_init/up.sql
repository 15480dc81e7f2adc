-- Customers, products, orders and their lines. Decimals are NUMERIC; ids are UUID.
CREATE TABLE customers (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE products (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    product_type TEXT NOT NULL CHECK (product_type IN ('service', 'goods')),
    uom TEXT NOT NULL CHECK (uom IN ('unit', 'hour', 'day')),
    list_price NUMERIC(14, 4) NOT NULL CHECK (list_price >= 0),
    tax_rate NUMERIC(14, 4) NOT NULL DEFAULT 0 CHECK (tax_rate >= 0 AND tax_rate <= 100),
    service_policy TEXT CHECK (service_policy IN ('prepaid', 'timesheet', 'manual')),
    service_tracking TEXT NOT NULL DEFAULT 'none'
        CHECK (service_tracking IN ('none', 'task_in_project', 'task_in_new_project', 'project_only')),
    project_id UUID,
    upsell_threshold NUMERIC(14, 4) NOT NULL DEFAULT 100,
    created_at TIMESTAMP NOT NULL
);

-- Gap-free numbering: a counter row updated in the transaction that uses the number, so a
-- rolled back order gives its number back.
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);
INSERT INTO sequences (name, last_value) VALUES ('sale_order', 0);

CREATE TABLE orders (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    customer_id UUID NOT NULL REFERENCES customers (id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'sale', 'cancel')),
    invoice_status TEXT NOT NULL CHECK (invoice_status IN ('no', 'to_invoice', 'invoiced', 'upselling')),
    amount_untaxed NUMERIC(14, 4) NOT NULL,
    amount_tax NUMERIC(14, 4) NOT NULL,
    amount_total NUMERIC(14, 4) NOT NULL,
    -- The project this order creates for its task_in_new_project / project_only lines, chosen
    -- when the first such line is confirmed.
    new_project_id UUID,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_state ON orders (state, invoice_status);

-- A line keeps what it sells as of its creation (product kind, policy, tracking, threshold),
-- and the totals other services report, each with the version it was reported at.
CREATE TABLE order_lines (
    id UUID PRIMARY KEY,
    order_id UUID NOT NULL REFERENCES orders (id),
    customer_id UUID NOT NULL REFERENCES customers (id),
    seq INTEGER NOT NULL,
    product_id UUID NOT NULL REFERENCES products (id),
    description TEXT NOT NULL,
    quantity NUMERIC(14, 4) NOT NULL CHECK (quantity > 0),
    uom TEXT NOT NULL CHECK (uom IN ('unit', 'hour', 'day')),
    unit_price NUMERIC(14, 4) NOT NULL CHECK (unit_price >= 0),
    discount NUMERIC(14, 4) NOT NULL CHECK (discount >= 0 AND discount <= 100),
    tax_rate NUMERIC(14, 4) NOT NULL CHECK (tax_rate >= 0 AND tax_rate <= 100),
    price_subtotal NUMERIC(14, 4) NOT NULL,
    price_tax NUMERIC(14, 4) NOT NULL,
    price_total NUMERIC(14, 4) NOT NULL,
    product_type TEXT NOT NULL,
    service_policy TEXT,
    service_tracking TEXT NOT NULL,
    upsell_threshold NUMERIC(14, 4) NOT NULL,
    delivered_hours NUMERIC(14, 4) NOT NULL DEFAULT 0,
    delivered_version BIGINT NOT NULL DEFAULT 0,
    manual_delivered NUMERIC(14, 4) NOT NULL DEFAULT 0,
    invoiced_qty NUMERIC(14, 4) NOT NULL DEFAULT 0,
    invoiced_version BIGINT NOT NULL DEFAULT 0,
    task_id UUID,
    project_id UUID,
    -- Ids chosen when the task or project was asked for; the delivered ones go to task_id and
    -- project_id. A line with a pending id never asks twice.
    pending_task_id UUID,
    pending_project_id UUID,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (order_id, seq)
);
CREATE INDEX order_lines_customer ON order_lines (customer_id);
CREATE INDEX order_lines_pending_project ON order_lines (pending_project_id);

CREATE TABLE outbox (
    id UUID PRIMARY KEY,
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
