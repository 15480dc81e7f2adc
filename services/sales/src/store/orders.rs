use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, Dec, Uid, now};
use shared::ids::{OrderId, ProjectId, SaleLineId};
use shared::page::{Key, ListRequest};

use super::schema::{orders, sequences};
use super::{Result, parse};
use crate::domain::orders::{Order, OrderFilter, OrderSort};
use crate::domain::{InvoiceStatus, OrderState};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
struct Row {
    id: Uid,
    name: String,
    customer_id: Uid,
    state: String,
    invoice_status: String,
    amount_untaxed: Dec,
    amount_tax: Dec,
    amount_total: Dec,
    new_project_id: Option<Uid>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    confirmed_at: Option<NaiveDateTime>,
}

impl TryFrom<Row> for Order {
    type Error = super::StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(Order {
            id: r.id.into(),
            name: r.name,
            customer_id: r.customer_id.into(),
            state: parse(&r.state, OrderState::parse)?,
            invoice_status: parse(&r.invoice_status, InvoiceStatus::parse)?,
            amount_untaxed: r.amount_untaxed.0,
            amount_tax: r.amount_tax.0,
            amount_total: r.amount_total.0,
            new_project_id: r.new_project_id.map(Into::into),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            confirmed_at: r.confirmed_at.map(|t| t.and_utc()),
        })
    }
}

/// The next order number, taken in the caller's transaction: the counter row stays locked
/// until it commits, and a rollback gives the number back, so numbers have no gaps.
pub fn next_number(conn: &mut DbConn) -> Result<i64> {
    let n = diesel::update(sequences::table.find("sale_order"))
        .set(sequences::last_value.eq(sequences::last_value + 1))
        .returning(sequences::last_value)
        .get_result(conn)?;
    Ok(n)
}

pub fn insert(conn: &mut DbConn, o: &Order) -> Result<()> {
    let row = Row {
        id: o.id.into(),
        name: o.name.clone(),
        customer_id: o.customer_id.into(),
        state: o.state.as_str().to_owned(),
        invoice_status: o.invoice_status.as_str().to_owned(),
        amount_untaxed: Dec(o.amount_untaxed),
        amount_tax: Dec(o.amount_tax),
        amount_total: Dec(o.amount_total),
        new_project_id: o.new_project_id.map(Into::into),
        created_at: o.created_at.naive_utc(),
        updated_at: o.updated_at.naive_utc(),
        confirmed_at: o.confirmed_at.map(|t| t.naive_utc()),
    };
    diesel::insert_into(orders::table).values(row).execute(conn)?;
    Ok(())
}

/// Takes the order's row lock (a no-op update) until the transaction ends; every change to an
/// order or its lines takes it first, so they serialize per order and never deadlock.
pub fn lock(conn: &mut DbConn, id: OrderId) -> Result<()> {
    diesel::update(orders::table.find(Uid::from(id))).set(orders::id.eq(orders::id)).execute(conn)?;
    Ok(())
}

/// Locks the order of a line, in one statement; none when the line does not exist.
pub fn lock_of_line(conn: &mut DbConn, line: SaleLineId) -> Result<Option<OrderId>> {
    use super::schema::order_lines as l;
    let of_line = l::table.filter(l::id.eq(Uid::from(line))).select(l::order_id);
    let order: Option<Uid> = shared::db::cached(
        diesel::update(orders::table.filter(orders::id.eq_any(of_line)))
            .set(orders::id.eq(orders::id))
            .returning(orders::id),
    )
    .get_result(conn)
    .optional()?;
    Ok(order.map(Into::into))
}

pub fn find(conn: &mut DbConn, id: OrderId) -> Result<Option<Order>> {
    let row = orders::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    row.map(Order::try_from).transpose()
}

/// Name and state of the given orders.
pub fn names_and_states(conn: &mut DbConn, ids: &[OrderId]) -> Result<HashMap<OrderId, (String, OrderState)>> {
    let keys: Vec<Uid> = ids.iter().copied().map(Uid::from).collect();
    let rows: Vec<(Uid, String, String)> =
        orders::table.filter(orders::id.eq_any(keys)).select((orders::id, orders::name, orders::state)).load(conn)?;
    rows.into_iter().map(|(id, name, state)| Ok((id.into(), (name, parse(&state, OrderState::parse)?)))).collect()
}

pub fn list(conn: &mut DbConn, f: &OrderFilter, req: &ListRequest<OrderSort>) -> Result<Vec<Order>> {
    let mut q = orders::table.select(Row::as_select()).into_boxed();
    if let Some(c) = f.customer_id {
        q = q.filter(orders::customer_id.eq(Uid::from(c)));
    }
    if let Some(s) = f.state {
        q = q.filter(orders::state.eq(s.as_str()));
    }
    if let Some(s) = f.invoice_status {
        q = q.filter(orders::invoice_status.eq(s.as_str()));
    }
    match req.sort.field {
        OrderSort::CreatedAt => shared::keyset!(q, orders::created_at, orders::id, req, Key::time),
        OrderSort::UpdatedAt => shared::keyset!(q, orders::updated_at, orders::id, req, Key::time),
        OrderSort::Name => shared::keyset!(q, orders::name, orders::id, req, Key::text),
        OrderSort::AmountTotal => {
            shared::keyset!(q, orders::amount_total, orders::id, req, |k: &Key| Dec(k.decimal()))
        }
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    rows.into_iter().map(Order::try_from).collect()
}

pub fn set_invoice_status(conn: &mut DbConn, id: OrderId, status: InvoiceStatus) -> Result<()> {
    // Only a new status is a change (it is worked out again after every change of a line).
    diesel::update(orders::table.find(Uid::from(id)).filter(orders::invoice_status.ne(status.as_str())))
        .set((orders::invoice_status.eq(status.as_str()), orders::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

pub fn set_amounts(conn: &mut DbConn, id: OrderId, untaxed: Decimal, tax: Decimal, total: Decimal) -> Result<()> {
    diesel::update(orders::table.find(Uid::from(id)))
        .set((
            orders::amount_untaxed.eq(Dec(untaxed)),
            orders::amount_tax.eq(Dec(tax)),
            orders::amount_total.eq(Dec(total)),
            orders::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_state(conn: &mut DbConn, id: OrderId, state: OrderState, confirmed_at: Option<DateTime<Utc>>) -> Result<()> {
    diesel::update(orders::table.find(Uid::from(id)))
        .set((
            orders::state.eq(state.as_str()),
            orders::confirmed_at.eq(confirmed_at.map(|t| t.naive_utc())),
            orders::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_new_project(conn: &mut DbConn, id: OrderId, project: ProjectId) -> Result<()> {
    diesel::update(orders::table.find(Uid::from(id)))
        .set((orders::new_project_id.eq(Some(Uid::from(project))), orders::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}
