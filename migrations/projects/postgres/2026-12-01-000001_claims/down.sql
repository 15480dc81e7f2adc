DROP TABLE timesheet_claims;
