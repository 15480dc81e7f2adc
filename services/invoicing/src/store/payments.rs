use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use shared::db::{DbConn, Dec, Uid};
use shared::ids::{InvoiceId, PaymentId};
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::payments;
use crate::domain::payments::{Payment, PaymentSort};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
struct Row {
    id: Uid,
    invoice_id: Uid,
    amount: Dec,
    date: NaiveDate,
    created_at: NaiveDateTime,
}

impl From<Row> for Payment {
    fn from(r: Row) -> Self {
        Payment {
            id: r.id.into(),
            invoice_id: r.invoice_id.into(),
            amount: r.amount.0,
            date: r.date,
            created_at: r.created_at.and_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, p: &Payment) -> Result<()> {
    let row = Row {
        id: p.id.into(),
        invoice_id: p.invoice_id.into(),
        amount: Dec(p.amount),
        date: p.date,
        created_at: p.created_at.naive_utc(),
    };
    diesel::insert_into(payments::table).values(row).execute(conn)?;
    Ok(())
}

/// A page of the payments of an invoice (one more row than asked), in the asked order.
pub fn list(conn: &mut DbConn, invoice: InvoiceId, req: &ListRequest<PaymentSort>) -> Result<Vec<Payment>> {
    let mut q =
        payments::table.filter(payments::invoice_id.eq(Uid::from(invoice))).select(Row::as_select()).into_boxed();
    match req.sort.field {
        PaymentSort::CreatedAt => shared::keyset!(q, payments::created_at, payments::id, req, Key::time),
        PaymentSort::Amount => shared::keyset!(q, payments::amount, payments::id, req, |k: &Key| Dec(k.decimal())),
        PaymentSort::Date => shared::keyset!(q, payments::date, payments::id, req, Key::date),
    }
    let rows: Vec<Row> = q.limit(req.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub fn find(conn: &mut DbConn, invoice: InvoiceId, id: PaymentId) -> Result<Option<Payment>> {
    let row = payments::table
        .find(Uid::from(id))
        .filter(payments::invoice_id.eq(Uid::from(invoice)))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Into::into))
}

pub fn count(conn: &mut DbConn, invoice: InvoiceId) -> Result<i64> {
    Ok(payments::table.filter(payments::invoice_id.eq(Uid::from(invoice))).count().get_result(conn)?)
}
