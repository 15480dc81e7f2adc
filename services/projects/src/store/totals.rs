//! Running totals: one row per sale line and per ticket, changed by adding the delta in one
//! upsert, so that concurrent writers serialize on the row (briefly) and none reads the
//! timesheets again.

use rust_decimal::Decimal;
use shared::db::{DbConn, Uid, add_to_total};
use shared::ids::{SaleLineId, TicketId};

use super::Result;

/// Adds `delta` hours to a sale line's total; returns the new total and its version.
pub fn add_line_hours(conn: &mut DbConn, line: SaleLineId, delta: Decimal) -> Result<(Decimal, i64)> {
    add_to_total(conn, "line_totals", "sale_line_id", "hours", Uid::from(line), delta)
}

/// Adds `delta` hours to a ticket's total; returns the new total and its version.
pub fn add_ticket_hours(conn: &mut DbConn, ticket: TicketId, delta: Decimal) -> Result<(Decimal, i64)> {
    add_to_total(conn, "ticket_totals", "ticket_id", "hours", Uid::from(ticket), delta)
}
