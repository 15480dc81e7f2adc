-- When each record last changed; existing records take their creation time.
ALTER TABLE customers ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE customers SET updated_at = created_at;
ALTER TABLE products ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE products SET updated_at = created_at;
ALTER TABLE orders ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE orders SET updated_at = created_at;
ALTER TABLE order_lines ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE order_lines SET updated_at = created_at;
