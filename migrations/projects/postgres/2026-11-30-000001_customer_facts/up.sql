-- Whose a sale line or a ticket is, as their owners (sales, helpdesk) answered when first asked.
-- Neither ever changes (an order has no customer edit, a ticket keeps its customer), so an
-- answer is kept for good: time logged on a known line or ticket is checked with local reads.
CREATE TABLE sale_line_customers (
    sale_line_id UUID PRIMARY KEY,
    customer_id UUID NOT NULL
);

CREATE TABLE ticket_customers (
    ticket_id UUID PRIMARY KEY,
    customer_id UUID
);
