//! Billing timesheets: the hours an invoice bills on a `timesheet` policy line and the set of
//! timesheets stamped with it are one and the same thing. A claim stamps, atomically, the
//! unbilled timesheets of some lines for one invoice and answers their hours; a release (the
//! invoice cancelled or credited) unstamps them, so they can be edited and billed again.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::ids::{InvoiceId, SaleLineId};

use super::{Error, Result, check_period};
use crate::store;

#[derive(Debug, Clone)]
pub struct Claim {
    pub invoice_id: InvoiceId,
    pub sale_line_ids: Vec<SaleLineId>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedLine {
    pub sale_line_id: SaleLineId,
    pub hours: Decimal,
    pub timesheets: i64,
}

/// Stamps and answers what the invoice bills, line by line (every asked line, zero when it had
/// nothing unbilled). A repeat for the same invoice stamps nothing new and answers the same.
pub fn claim(conn: &mut DbConn, caller: &Caller, c: Claim) -> Result<Vec<ClaimedLine>> {
    super::access::may_bill_time(caller)?;
    if c.sale_line_ids.is_empty() {
        return Err(Error::invalid("sale_line_ids", "must name at least one sale line"));
    }
    let mut checks = super::Checks::new();
    shared::error::check_count(&mut checks, "sale_line_ids", c.sale_line_ids.len(), shared::error::MAX_ITEMS);
    checks.finish()?;
    check_period(c.date_from, c.date_to)?;
    if !store::timesheets::is_claimed(conn, c.invoice_id)? {
        store::timesheets::stamp_unbilled(conn, c.invoice_id, &c.sale_line_ids, c.date_from, c.date_to)?;
    }
    // Open until the invoice is known to exist (see `abandon_claim`); asking again reopens it.
    store::claims::touch(conn, c.invoice_id)?;
    let billed = store::timesheets::billed_by_line(conn, c.invoice_id)?;
    Ok(c.sale_line_ids
        .iter()
        .map(|line| {
            let (hours, timesheets) =
                billed.iter().find(|(l, _, _)| l == line).map(|(_, h, n)| (*h, *n)).unwrap_or_default();
            ClaimedLine { sale_line_id: *line, hours, timesheets }
        })
        .collect())
}

/// Unstamps the invoice's timesheets (of these lines, or all); returns how many.
pub fn release(
    conn: &mut DbConn,
    caller: &Caller,
    invoice: InvoiceId,
    lines: Option<Vec<SaleLineId>>,
) -> Result<usize> {
    super::access::may_bill_time(caller)?;
    if let Some(l) = &lines {
        let mut checks = super::Checks::new();
        shared::error::check_count(&mut checks, "sale_line_ids", l.len(), shared::error::MAX_ITEMS);
        checks.finish()?;
    }
    store::claims::settle(conn, invoice, None)?;
    Ok(store::timesheets::unstamp(conn, invoice, lines.as_deref())?)
}

/// Claims made before `before` that are not known settled: each with when it was made.
pub fn unsettled_claims(conn: &mut DbConn, before: NaiveDateTime) -> Result<Vec<(InvoiceId, NaiveDateTime)>> {
    Ok(store::claims::open_before(conn, before, 100)?)
}

/// The invoice exists: its claim stands.
pub fn claim_stands(conn: &mut DbConn, invoice: InvoiceId) -> Result<()> {
    store::claims::settle(conn, invoice, None)?;
    Ok(())
}

/// The invoice was never made (its request failed in a way nobody could tell, and nobody
/// asked again): its timesheets are unbilled again. Not when the claim was asked again since
/// `made_at`: a retry of the invoice request may be making the invoice right now. Answers how
/// many timesheets were released.
pub fn abandon_claim(conn: &mut DbConn, invoice: InvoiceId, made_at: NaiveDateTime) -> Result<usize> {
    if !store::claims::settle(conn, invoice, Some(made_at))? {
        return Ok(0);
    }
    Ok(store::timesheets::unstamp(conn, invoice, None)?)
}
