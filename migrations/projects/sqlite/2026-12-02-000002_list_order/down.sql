DROP INDEX projects_created;
DROP INDEX tasks_created;
