DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE sequences;
DROP TABLE products;
DROP TABLE customers;
