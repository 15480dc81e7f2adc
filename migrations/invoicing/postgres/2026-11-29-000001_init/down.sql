DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE line_invoiced;
DROP TABLE sequences;
DROP TABLE payments;
DROP TABLE invoice_lines;
DROP TABLE invoices;
