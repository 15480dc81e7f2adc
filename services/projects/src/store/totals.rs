//! Running totals: one row per sale line and per ticket, changed by `UPDATE ... hours + delta`
//! so that concurrent writers serialize on the row and none reads the timesheets again.

use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, Dec, Uid, insert_if_missing, plus};
use shared::ids::{SaleLineId, TicketId};

use super::Result;
use super::schema::{line_totals, ticket_totals};

/// Adds `delta` hours to a sale line's total; returns the new total and its version.
pub fn add_line_hours(conn: &mut DbConn, line: SaleLineId, delta: Decimal) -> Result<(Decimal, i64)> {
    let key = Uid::from(line);
    insert_if_missing(conn, "line_totals", "sale_line_id", "hours, version", key)?;
    let (hours, version): (Dec, i64) = diesel::update(line_totals::table.find(key))
        .set((
            line_totals::hours.eq(plus(line_totals::hours, delta)),
            line_totals::version.eq(line_totals::version + 1),
        ))
        .returning((line_totals::hours, line_totals::version))
        .get_result(conn)?;
    Ok((hours.0, version))
}

/// Adds `delta` hours to a ticket's total; returns the new total and its version.
pub fn add_ticket_hours(conn: &mut DbConn, ticket: TicketId, delta: Decimal) -> Result<(Decimal, i64)> {
    let key = Uid::from(ticket);
    insert_if_missing(conn, "ticket_totals", "ticket_id", "hours, version", key)?;
    let (hours, version): (Dec, i64) = diesel::update(ticket_totals::table.find(key))
        .set((
            ticket_totals::hours.eq(plus(ticket_totals::hours, delta)),
            ticket_totals::version.eq(ticket_totals::version + 1),
        ))
        .returning((ticket_totals::hours, ticket_totals::version))
        .get_result(conn)?;
    Ok((hours.0, version))
}
