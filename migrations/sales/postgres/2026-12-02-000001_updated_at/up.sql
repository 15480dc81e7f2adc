-- When each record last changed; existing records take their creation time.
ALTER TABLE customers ADD COLUMN updated_at TIMESTAMP;
UPDATE customers SET updated_at = created_at;
ALTER TABLE customers ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE products ADD COLUMN updated_at TIMESTAMP;
UPDATE products SET updated_at = created_at;
ALTER TABLE products ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE orders ADD COLUMN updated_at TIMESTAMP;
UPDATE orders SET updated_at = created_at;
ALTER TABLE orders ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE order_lines ADD COLUMN updated_at TIMESTAMP;
UPDATE order_lines SET updated_at = created_at;
ALTER TABLE order_lines ALTER COLUMN updated_at SET NOT NULL;
