DROP INDEX customers_created;
DROP INDEX products_created;
DROP INDEX orders_created;
DROP INDEX order_lines_created;
