ALTER TABLE customers DROP COLUMN updated_at;
ALTER TABLE products DROP COLUMN updated_at;
ALTER TABLE orders DROP COLUMN updated_at;
ALTER TABLE order_lines DROP COLUMN updated_at;
