-- Each invoice's claim on timesheets: when it was made (or last asked again) and when it was
-- known settled (the invoice exists, or the claim was released).
CREATE TABLE timesheet_claims (
    invoice_id UUID PRIMARY KEY,
    claimed_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
CREATE INDEX timesheet_claims_open ON timesheet_claims (claimed_at) WHERE settled_at IS NULL;
