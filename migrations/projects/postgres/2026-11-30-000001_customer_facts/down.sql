DROP TABLE ticket_customers;
DROP TABLE sale_line_customers;
