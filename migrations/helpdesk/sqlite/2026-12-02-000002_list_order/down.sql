DROP INDEX teams_created;
DROP INDEX tickets_created;
