//! Invoiced quantity per sale line, changed by `UPDATE ... quantity + delta` so that
//! concurrent writers serialize on the row and the version grows by one per change.

use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, Dec, Uid, insert_if_missing, plus};
use shared::ids::SaleLineId;

use super::Result;
use super::schema::line_invoiced;

/// Adds `delta` to a sale line's invoiced quantity; returns the new quantity and its version.
pub fn add_invoiced(conn: &mut DbConn, line: SaleLineId, delta: Decimal) -> Result<(Decimal, i64)> {
    let key = Uid::from(line);
    insert_if_missing(conn, "line_invoiced", "sale_line_id", "quantity, version", key)?;
    let (quantity, version): (Dec, i64) = diesel::update(line_invoiced::table.find(key))
        .set((
            line_invoiced::quantity.eq(plus(line_invoiced::quantity, delta)),
            line_invoiced::version.eq(line_invoiced::version + 1),
        ))
        .returning((line_invoiced::quantity, line_invoiced::version))
        .get_result(conn)?;
    Ok((quantity.0, version))
}
