use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, Dec, StoreError, Uid};
use shared::ids::{InvoiceId, InvoiceLineId};
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::{invoice_lines, invoices};
use crate::domain::invoices::{Invoice, InvoiceFilter, InvoiceLine, InvoiceSort, Kind, PaymentState, State};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
struct Row {
    id: Uid,
    number: Option<String>,
    kind: String,
    state: String,
    customer_id: Uid,
    sale_order_id: Option<Uid>,
    invoice_date: NaiveDate,
    currency: String,
    amount_untaxed: Dec,
    amount_tax: Dec,
    amount_total: Dec,
    amount_residual: Dec,
    payment_state: String,
    reversed_invoice_id: Option<Uid>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = invoice_lines)]
struct LineRow {
    id: Uid,
    invoice_id: Uid,
    position: i32,
    sale_line_id: Option<Uid>,
    description: String,
    quantity: Dec,
    uom: String,
    unit_price: Dec,
    discount: Dec,
    tax_rate: Dec,
    price_subtotal: Dec,
    price_tax: Dec,
    price_total: Dec,
    bills_timesheets: bool,
    reversed_line_id: Option<Uid>,
}

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("unknown {what} {value:?} in the invoices table"))
}

impl Row {
    fn into_invoice(self, lines: Vec<InvoiceLine>) -> Result<Invoice> {
        Ok(Invoice {
            id: self.id.into(),
            number: self.number,
            kind: Kind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
            state: State::parse(&self.state).ok_or_else(|| bad("state", &self.state))?,
            customer_id: self.customer_id.into(),
            sale_order_id: self.sale_order_id.map(Into::into),
            invoice_date: self.invoice_date,
            currency: self.currency,
            lines,
            amount_untaxed: self.amount_untaxed.0,
            amount_tax: self.amount_tax.0,
            amount_total: self.amount_total.0,
            amount_residual: self.amount_residual.0,
            payment_state: PaymentState::parse(&self.payment_state)
                .ok_or_else(|| bad("payment state", &self.payment_state))?,
            reversed_invoice_id: self.reversed_invoice_id.map(Into::into),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

impl From<&Invoice> for Row {
    fn from(i: &Invoice) -> Self {
        Row {
            id: i.id.into(),
            number: i.number.clone(),
            kind: i.kind.as_str().to_owned(),
            state: i.state.as_str().to_owned(),
            customer_id: i.customer_id.into(),
            sale_order_id: i.sale_order_id.map(Into::into),
            invoice_date: i.invoice_date,
            currency: i.currency.clone(),
            amount_untaxed: Dec(i.amount_untaxed),
            amount_tax: Dec(i.amount_tax),
            amount_total: Dec(i.amount_total),
            amount_residual: Dec(i.amount_residual),
            payment_state: i.payment_state.as_str().to_owned(),
            reversed_invoice_id: i.reversed_invoice_id.map(Into::into),
            created_at: i.created_at.naive_utc(),
            updated_at: i.updated_at.naive_utc(),
        }
    }
}

impl From<LineRow> for InvoiceLine {
    fn from(r: LineRow) -> Self {
        InvoiceLine {
            id: r.id.into(),
            sale_line_id: r.sale_line_id.map(Into::into),
            description: r.description,
            quantity: r.quantity.0,
            uom: r.uom,
            unit_price: r.unit_price.0,
            discount: r.discount.0,
            tax_rate: r.tax_rate.0,
            price_subtotal: r.price_subtotal.0,
            price_tax: r.price_tax.0,
            price_total: r.price_total.0,
            bills_timesheets: r.bills_timesheets,
            reversed_line_id: r.reversed_line_id.map(Into::into),
        }
    }
}

fn line_row(invoice: InvoiceId, position: usize, l: &InvoiceLine) -> LineRow {
    LineRow {
        id: l.id.into(),
        invoice_id: invoice.into(),
        position: i32::try_from(position).unwrap_or(i32::MAX),
        sale_line_id: l.sale_line_id.map(Into::into),
        description: l.description.clone(),
        quantity: Dec(l.quantity),
        uom: l.uom.clone(),
        unit_price: Dec(l.unit_price),
        discount: Dec(l.discount),
        tax_rate: Dec(l.tax_rate),
        price_subtotal: Dec(l.price_subtotal),
        price_tax: Dec(l.price_tax),
        price_total: Dec(l.price_total),
        bills_timesheets: l.bills_timesheets,
        reversed_line_id: l.reversed_line_id.map(Into::into),
    }
}

/// Inserts an invoice and its lines (row by row: a batch insert does not compile for the
/// multi-backend connection).
pub fn insert(conn: &mut DbConn, invoice: &Invoice) -> Result<()> {
    diesel::insert_into(invoices::table).values(Row::from(invoice)).execute(conn)?;
    for (position, line) in invoice.lines.iter().enumerate() {
        diesel::insert_into(invoice_lines::table).values(line_row(invoice.id, position, line)).execute(conn)?;
    }
    Ok(())
}

/// Writes what changes on an invoice after it is made: number, state and payment figures, and
/// when that was (now, on `invoice` too).
pub fn update(conn: &mut DbConn, invoice: &mut Invoice) -> Result<()> {
    invoice.updated_at = shared::db::now_utc();
    diesel::update(invoices::table.find(Uid::from(invoice.id)))
        .set((
            invoices::number.eq(invoice.number.clone()),
            invoices::state.eq(invoice.state.as_str()),
            invoices::amount_residual.eq(Dec(invoice.amount_residual)),
            invoices::payment_state.eq(invoice.payment_state.as_str()),
            invoices::updated_at.eq(invoice.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

fn with_lines(conn: &mut DbConn, rows: Vec<Row>) -> Result<Vec<Invoice>> {
    let ids: Vec<Uid> = rows.iter().map(|r| r.id).collect();
    let mut lines: HashMap<Uid, Vec<InvoiceLine>> = HashMap::new();
    if !ids.is_empty() {
        let found: Vec<LineRow> = invoice_lines::table
            .filter(invoice_lines::invoice_id.eq_any(&ids))
            .order((invoice_lines::invoice_id, invoice_lines::position))
            .select(LineRow::as_select())
            .load(conn)?;
        for l in found {
            lines.entry(l.invoice_id).or_default().push(l.into());
        }
    }
    rows.into_iter()
        .map(|r| {
            let own = lines.remove(&r.id).unwrap_or_default();
            r.into_invoice(own)
        })
        .collect()
}

pub fn find(conn: &mut DbConn, id: InvoiceId) -> Result<Option<Invoice>> {
    let row = invoices::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(with_lines(conn, row.into_iter().collect())?.pop())
}

/// Reads an invoice through an update of its row, which on PostgreSQL locks it until the
/// transaction ends (on SQLite the transaction holds the write lock already).
pub fn lock(conn: &mut DbConn, id: InvoiceId) -> Result<Option<Invoice>> {
    let touched =
        diesel::update(invoices::table.find(Uid::from(id))).set(invoices::id.eq(invoices::id)).execute(conn)?;
    if touched == 0 {
        return Ok(None);
    }
    find(conn, id)
}

pub fn list(conn: &mut DbConn, f: &InvoiceFilter, req: &ListRequest<InvoiceSort>) -> Result<Vec<Invoice>> {
    let mut q = invoices::table.select(Row::as_select()).into_boxed();
    if let Some(v) = f.customer_id {
        q = q.filter(invoices::customer_id.eq(Uid::from(v)));
    }
    if let Some(v) = f.sale_order_id {
        q = q.filter(invoices::sale_order_id.eq(Uid::from(v)));
    }
    if let Some(v) = f.state {
        q = q.filter(invoices::state.eq(v.as_str()));
    }
    if let Some(v) = f.kind {
        q = q.filter(invoices::kind.eq(v.as_str()));
    }
    match req.sort.field {
        InvoiceSort::CreatedAt => shared::keyset!(q, invoices::created_at, invoices::id, req, Key::time),
        InvoiceSort::UpdatedAt => shared::keyset!(q, invoices::updated_at, invoices::id, req, Key::time),
        InvoiceSort::AmountTotal => {
            shared::keyset!(q, invoices::amount_total, invoices::id, req, |k: &Key| Dec(k.decimal()))
        }
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    with_lines(conn, rows)
}

/// How much of each line of `invoice` its credit notes that are not cancelled credit.
pub fn credited_quantities(conn: &mut DbConn, invoice: InvoiceId) -> Result<HashMap<InvoiceLineId, Decimal>> {
    let rows: Vec<(Option<Uid>, Dec)> = invoice_lines::table
        .inner_join(invoices::table)
        .filter(invoices::reversed_invoice_id.eq(Uid::from(invoice)))
        .filter(invoices::state.ne(State::Cancelled.as_str()))
        .select((invoice_lines::reversed_line_id, invoice_lines::quantity))
        .load(conn)?;
    let mut credited: HashMap<InvoiceLineId, Decimal> = HashMap::new();
    for (line, quantity) in rows {
        if let Some(line) = line {
            *credited.entry(line.into()).or_default() += quantity.0;
        }
    }
    Ok(credited)
}

/// How many credit notes that are not cancelled reverse `invoice`.
pub fn count_credit_notes(conn: &mut DbConn, invoice: InvoiceId) -> Result<i64> {
    Ok(invoices::table
        .filter(invoices::reversed_invoice_id.eq(Uid::from(invoice)))
        .filter(invoices::state.ne(State::Cancelled.as_str()))
        .count()
        .get_result(conn)?)
}
