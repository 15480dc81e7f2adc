-- One database per service.
CREATE DATABASE sales;
CREATE DATABASE invoicing;
CREATE DATABASE projects;
CREATE DATABASE helpdesk;
