-- Lists are newest first by creation (then id): read in that order, not sorted per request.
CREATE INDEX customers_created ON customers (created_at, id);
CREATE INDEX products_created ON products (created_at, id);
CREATE INDEX orders_created ON orders (created_at, id);
CREATE INDEX order_lines_created ON order_lines (created_at, id);
