//! Claims of invoices on timesheets, kept until each is known settled.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConn, Uid, now};
use shared::ids::InvoiceId;

use super::Result;
use super::schema::timesheet_claims as claims;

/// Notes that `invoice` claimed (or asked again): it is open from now.
pub fn touch(conn: &mut DbConn, invoice: InvoiceId) -> Result<()> {
    let at = now();
    let target = claims::table.find(Uid::from(invoice));
    let n = diesel::update(target)
        .set((claims::claimed_at.eq(at), claims::settled_at.eq(None::<NaiveDateTime>)))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(claims::table)
            .values((claims::invoice_id.eq(Uid::from(invoice)), claims::claimed_at.eq(at)))
            .execute(conn)?;
    }
    Ok(())
}

/// Open claims made before `before`, oldest first, with when each was made.
pub fn open_before(conn: &mut DbConn, before: NaiveDateTime, limit: i64) -> Result<Vec<(InvoiceId, NaiveDateTime)>> {
    let rows: Vec<(Uid, NaiveDateTime)> = claims::table
        .filter(claims::settled_at.is_null())
        .filter(claims::claimed_at.lt(before))
        .order(claims::claimed_at)
        .limit(limit)
        .select((claims::invoice_id, claims::claimed_at))
        .load(conn)?;
    Ok(rows.into_iter().map(|(i, at)| (i.into(), at)).collect())
}

/// Marks the claim settled; with `made_at`, only if it was not asked again since (answers
/// whether it was marked).
pub fn settle(conn: &mut DbConn, invoice: InvoiceId, made_at: Option<NaiveDateTime>) -> Result<bool> {
    let target = claims::table.find(Uid::from(invoice)).filter(claims::settled_at.is_null());
    let n = match made_at {
        Some(at) => diesel::update(target.filter(claims::claimed_at.eq(at)))
            .set(claims::settled_at.eq(Some(now())))
            .execute(conn)?,
        None => diesel::update(target).set(claims::settled_at.eq(Some(now()))).execute(conn)?,
    };
    Ok(n > 0)
}
