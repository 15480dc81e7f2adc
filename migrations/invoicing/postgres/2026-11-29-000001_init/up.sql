-- Invoices, credit notes, payments and their numbering. Decimals are NUMERIC; ids are UUID.
CREATE TABLE invoices (
    id UUID PRIMARY KEY,
    number TEXT UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    state TEXT NOT NULL CHECK (state IN ('draft', 'posted', 'cancelled')),
    customer_id UUID NOT NULL,
    sale_order_id UUID,
    invoice_date DATE NOT NULL,
    currency TEXT NOT NULL,
    amount_untaxed NUMERIC(14, 4) NOT NULL,
    amount_tax NUMERIC(14, 4) NOT NULL,
    amount_total NUMERIC(14, 4) NOT NULL,
    amount_residual NUMERIC(14, 4) NOT NULL CHECK (amount_residual >= 0),
    payment_state TEXT NOT NULL CHECK (payment_state IN ('not_paid', 'partial', 'paid')),
    reversed_invoice_id UUID REFERENCES invoices (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE INDEX invoices_sale_order ON invoices (sale_order_id);
CREATE INDEX invoices_reversed ON invoices (reversed_invoice_id);

CREATE TABLE invoice_lines (
    id UUID PRIMARY KEY,
    invoice_id UUID NOT NULL REFERENCES invoices (id),
    position INTEGER NOT NULL,
    sale_line_id UUID,
    description TEXT NOT NULL,
    quantity NUMERIC(14, 4) NOT NULL CHECK (quantity > 0),
    uom TEXT NOT NULL,
    unit_price NUMERIC(14, 4) NOT NULL CHECK (unit_price >= 0),
    discount NUMERIC(14, 4) NOT NULL CHECK (discount >= 0 AND discount <= 100),
    tax_rate NUMERIC(14, 4) NOT NULL CHECK (tax_rate >= 0),
    price_subtotal NUMERIC(14, 4) NOT NULL,
    price_tax NUMERIC(14, 4) NOT NULL,
    price_total NUMERIC(14, 4) NOT NULL,
    bills_timesheets BOOLEAN NOT NULL DEFAULT FALSE,
    -- On a credit note: the invoice line it credits.
    reversed_line_id UUID REFERENCES invoice_lines (id)
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, position);
CREATE INDEX invoice_lines_sale_line ON invoice_lines (sale_line_id);
CREATE INDEX invoice_lines_reversed ON invoice_lines (reversed_line_id);

CREATE TABLE payments (
    id UUID PRIMARY KEY,
    invoice_id UUID NOT NULL REFERENCES invoices (id),
    amount NUMERIC(14, 4) NOT NULL CHECK (amount > 0),
    date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_invoice ON payments (invoice_id);

-- One row per number prefix (`INV/2026`, `RINV/2026`), keyed by the prefix's bytes as a UUID.
-- Posting takes the next number with `UPDATE ... SET last_number = last_number + 1 RETURNING`
-- inside its transaction: concurrent posts serialize on the row, and a rolled back post gives
-- its number back, so numbers are gap-free.
CREATE TABLE sequences (
    id UUID PRIMARY KEY,
    prefix TEXT NOT NULL DEFAULT '',
    last_number BIGINT NOT NULL
);

-- Invoiced quantity per sale line (invoices not cancelled, drafts included, minus credit notes
-- not cancelled). The version grows with every change and orders the totals sent to sales.
CREATE TABLE line_invoiced (
    sale_line_id UUID PRIMARY KEY,
    quantity NUMERIC(14, 4) NOT NULL,
    version BIGINT NOT NULL
);

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
