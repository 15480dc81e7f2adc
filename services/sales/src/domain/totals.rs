//! Flows 2 and 3, receiving end: projects reports a line's logged hours and invoicing its
//! invoiced quantity, each as an absolute total with a version. A total is applied only when
//! its version is newer than the one held, in one conditional update, so duplicates, retries
//! and reordering change nothing.

use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::fits_scale;
use shared::ids::SaleLineId;

use super::{Checks, Error, Result};
use crate::store;
use crate::store::lines::Total;

/// Whether a total was applied, and the version the line now holds.
#[derive(Debug, Clone, Copy)]
pub struct Applied {
    pub applied: bool,
    pub version: i64,
}

fn check(field: &str, value: Decimal, version: i64) -> Result<()> {
    let mut checks = Checks::new();
    checks.check(fits_scale(value, 2), field, "must have at most 2 decimals");
    checks.check(value.abs() < Decimal::from(1_000_000_000i64), field, "is too large");
    checks.check(version >= 1, "version", "must be at least 1");
    checks.finish()
}

fn apply(conn: &mut DbConn, line: SaleLineId, total: Total, value: Decimal, version: i64) -> Result<Applied> {
    // The order's lock first, as everywhere, so concurrent totals of its lines serialize on
    // the order and its status is computed from committed lines.
    let order = store::orders::lock_of_line(conn, line)?.ok_or_else(|| Error::not_found("order line", line))?;
    let applied = store::lines::apply_total(conn, line, total, value, version)?;
    let held = if applied { version } else { store::lines::version(conn, line, total)? };
    if applied {
        super::orders::refresh_status(conn, order)?;
    }
    Ok(Applied { applied, version: held })
}

/// The hours logged on a line, from projects.
pub fn timesheet_total(
    conn: &mut DbConn,
    caller: &Caller,
    line: SaleLineId,
    hours: Decimal,
    version: i64,
) -> Result<Applied> {
    super::access::may_report_totals(caller)?;
    check("hours", hours, version)?;
    apply(conn, line, Total::Delivered, hours, version)
}

/// The quantity invoiced on a line, from invoicing.
pub fn invoiced_total(
    conn: &mut DbConn,
    caller: &Caller,
    line: SaleLineId,
    quantity: Decimal,
    version: i64,
) -> Result<Applied> {
    super::access::may_report_totals(caller)?;
    check("quantity", quantity, version)?;
    apply(conn, line, Total::Invoiced, quantity, version)
}
