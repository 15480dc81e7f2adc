use chrono::NaiveDateTime;
use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::contracts::sale_line_aggregate;
use shared::db::{DbConn, Dec, Uid, cached, now};
use shared::ids::{CustomerId, OrderId, ProjectId, SaleLineId, TaskId};
use shared::page::{Key, ListRequest};
use shared::schema::outbox;

use super::schema::order_lines as l;
use super::{Result, parse};
use crate::domain::generation::order_aggregate;
use crate::domain::lines::{Line, LineFilter, LineSort};
use crate::domain::{ProductType, ServicePolicy, ServiceTracking, Uom};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = l)]
struct Row {
    id: Uid,
    order_id: Uid,
    customer_id: Uid,
    seq: i32,
    product_id: Uid,
    description: String,
    quantity: Dec,
    uom: String,
    unit_price: Dec,
    discount: Dec,
    tax_rate: Dec,
    price_subtotal: Dec,
    price_tax: Dec,
    price_total: Dec,
    product_type: String,
    service_policy: Option<String>,
    service_tracking: String,
    upsell_threshold: Dec,
    delivered_hours: Dec,
    delivered_version: i64,
    manual_delivered: Dec,
    invoiced_qty: Dec,
    invoiced_version: i64,
    task_id: Option<Uid>,
    project_id: Option<Uid>,
    pending_task_id: Option<Uid>,
    pending_project_id: Option<Uid>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<Row> for Line {
    type Error = super::StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(Line {
            id: r.id.into(),
            order_id: r.order_id.into(),
            customer_id: r.customer_id.into(),
            seq: r.seq,
            product_id: r.product_id.into(),
            description: r.description,
            quantity: r.quantity.0,
            uom: parse(&r.uom, Uom::parse)?,
            unit_price: r.unit_price.0,
            discount: r.discount.0,
            tax_rate: r.tax_rate.0,
            price_subtotal: r.price_subtotal.0,
            price_tax: r.price_tax.0,
            price_total: r.price_total.0,
            product_type: parse(&r.product_type, ProductType::parse)?,
            service_policy: r.service_policy.map(|p| parse(&p, ServicePolicy::parse)).transpose()?,
            service_tracking: parse(&r.service_tracking, ServiceTracking::parse)?,
            upsell_threshold: r.upsell_threshold.0,
            delivered_hours: r.delivered_hours.0,
            delivered_version: r.delivered_version,
            manual_delivered: r.manual_delivered.0,
            invoiced_qty: r.invoiced_qty.0,
            invoiced_version: r.invoiced_version,
            task_id: r.task_id.map(Into::into),
            project_id: r.project_id.map(Into::into),
            pending_task_id: r.pending_task_id.map(Into::into),
            pending_project_id: r.pending_project_id.map(Into::into),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

impl From<&Line> for Row {
    fn from(x: &Line) -> Self {
        Row {
            id: x.id.into(),
            order_id: x.order_id.into(),
            customer_id: x.customer_id.into(),
            seq: x.seq,
            product_id: x.product_id.into(),
            description: x.description.clone(),
            quantity: Dec(x.quantity),
            uom: x.uom.as_str().to_owned(),
            unit_price: Dec(x.unit_price),
            discount: Dec(x.discount),
            tax_rate: Dec(x.tax_rate),
            price_subtotal: Dec(x.price_subtotal),
            price_tax: Dec(x.price_tax),
            price_total: Dec(x.price_total),
            product_type: x.product_type.as_str().to_owned(),
            service_policy: x.service_policy.map(|p| p.as_str().to_owned()),
            service_tracking: x.service_tracking.as_str().to_owned(),
            upsell_threshold: Dec(x.upsell_threshold),
            delivered_hours: Dec(x.delivered_hours),
            delivered_version: x.delivered_version,
            manual_delivered: Dec(x.manual_delivered),
            invoiced_qty: Dec(x.invoiced_qty),
            invoiced_version: x.invoiced_version,
            task_id: x.task_id.map(Into::into),
            project_id: x.project_id.map(Into::into),
            pending_task_id: x.pending_task_id.map(Into::into),
            pending_project_id: x.pending_project_id.map(Into::into),
            created_at: x.created_at.naive_utc(),
            updated_at: x.updated_at.naive_utc(),
        }
    }
}

fn lines(rows: Vec<Row>) -> Result<Vec<Line>> {
    rows.into_iter().map(Line::try_from).collect()
}

pub fn insert(conn: &mut DbConn, x: &Line) -> Result<()> {
    diesel::insert_into(l::table).values(Row::from(x)).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: SaleLineId) -> Result<Option<Line>> {
    let row = l::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    row.map(Line::try_from).transpose()
}

pub fn of_order(conn: &mut DbConn, order: OrderId) -> Result<Vec<Line>> {
    lines(l::table.filter(l::order_id.eq(Uid::from(order))).order(l::seq.asc()).select(Row::as_select()).load(conn)?)
}

pub fn of_orders(conn: &mut DbConn, orders: &[OrderId]) -> Result<Vec<Line>> {
    let keys: Vec<Uid> = orders.iter().copied().map(Uid::from).collect();
    lines(
        l::table
            .filter(l::order_id.eq_any(keys))
            .order((l::order_id.asc(), l::seq.asc()))
            .select(Row::as_select())
            .load(conn)?,
    )
}

/// A customer's lines, oldest first.
pub fn of_customer(conn: &mut DbConn, customer: CustomerId) -> Result<Vec<Line>> {
    lines(
        l::table
            .filter(l::customer_id.eq(Uid::from(customer)))
            .order(l::id.asc())
            .select(Row::as_select())
            .load(conn)?,
    )
}

pub fn list(conn: &mut DbConn, f: &LineFilter, req: &ListRequest<LineSort>) -> Result<Vec<Line>> {
    let mut q = l::table.select(Row::as_select()).into_boxed();
    if let Some(c) = f.customer_id {
        q = q.filter(l::customer_id.eq(Uid::from(c)));
    }
    if let Some(o) = f.order_id {
        q = q.filter(l::order_id.eq(Uid::from(o)));
    }
    match req.sort.field {
        LineSort::CreatedAt => shared::keyset!(q, l::created_at, l::id, req, Key::time),
        LineSort::UpdatedAt => shared::keyset!(q, l::updated_at, l::id, req, Key::time),
    }
    lines(q.limit(req.fetch()).load(conn)?)
}

pub fn set_manual_delivered(conn: &mut DbConn, id: SaleLineId, qty: Decimal) -> Result<()> {
    diesel::update(l::table.find(Uid::from(id)))
        .set((l::manual_delivered.eq(Dec(qty)), l::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

/// Records the ids asked of projects for a line (and the project, when it already exists).
pub fn set_pending(
    conn: &mut DbConn,
    id: SaleLineId,
    task: Option<TaskId>,
    project: Option<ProjectId>,
    delivered_project: Option<ProjectId>,
) -> Result<()> {
    diesel::update(l::table.find(Uid::from(id)))
        .set((
            l::pending_task_id.eq(task.map(Uid::from)),
            l::pending_project_id.eq(project.map(Uid::from)),
            l::project_id.eq(delivered_project.map(Uid::from)),
            l::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Projects created the line's task.
pub fn set_task(conn: &mut DbConn, id: SaleLineId, task: TaskId, project: ProjectId) -> Result<()> {
    diesel::update(l::table.find(Uid::from(id)))
        .set((
            l::task_id.eq(Some(Uid::from(task))),
            l::project_id.eq(Some(Uid::from(project))),
            l::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Projects created a project: every line waiting for it gets it.
pub fn set_project_delivered(conn: &mut DbConn, project: ProjectId) -> Result<()> {
    let key = Uid::from(project);
    diesel::update(l::table.filter(l::pending_project_id.eq(key)).filter(l::project_id.is_null()))
        .set((l::project_id.eq(Some(key)), l::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

/// True once projects has created this project (some line holds it).
pub fn project_delivered(conn: &mut DbConn, project: ProjectId) -> Result<bool> {
    let n: i64 = l::table.filter(l::project_id.eq(Uid::from(project))).count().get_result(conn)?;
    Ok(n > 0)
}

/// How many of the order's lines still wait for a task or project, and whether a delivery of
/// the order's requests has failed already.
pub fn delivery_state(conn: &mut DbConn, order: OrderId) -> Result<(i64, bool)> {
    let ids: Vec<Uid> = l::table.filter(l::order_id.eq(Uid::from(order))).select(l::id).load(conn)?;
    let waiting: i64 = l::table
        .filter(l::order_id.eq(Uid::from(order)))
        .filter(
            (l::pending_task_id.is_not_null().and(l::task_id.is_null()))
                .or(l::pending_project_id.is_not_null().and(l::project_id.is_null())),
        )
        .count()
        .get_result(conn)?;
    let mut aggregates: Vec<String> = ids.iter().map(|id| sale_line_aggregate(id.0)).collect();
    aggregates.push(order_aggregate(order));
    let failing: i64 = outbox::table
        .filter(outbox::aggregate.eq_any(aggregates))
        .filter(outbox::delivered_at.is_null())
        .filter(outbox::attempts.gt(0))
        .count()
        .get_result(conn)?;
    Ok((waiting, failing > 0))
}

/// Which reported total.
#[derive(Debug, Clone, Copy)]
pub enum Total {
    Delivered,
    Invoiced,
}

/// Stores a total only when its version is newer than the one held; true when it did.
pub fn apply_total(conn: &mut DbConn, id: SaleLineId, total: Total, value: Decimal, version: i64) -> Result<bool> {
    let key = Uid::from(id);
    let applied: Vec<Uid> = match total {
        Total::Delivered => cached(
            diesel::update(l::table.find(key).filter(l::delivered_version.lt(version)))
                .set((l::delivered_hours.eq(Dec(value)), l::delivered_version.eq(version), l::updated_at.eq(now())))
                .returning(l::id),
        )
        .load(conn)?,
        Total::Invoiced => cached(
            diesel::update(l::table.find(key).filter(l::invoiced_version.lt(version)))
                .set((l::invoiced_qty.eq(Dec(value)), l::invoiced_version.eq(version), l::updated_at.eq(now())))
                .returning(l::id),
        )
        .load(conn)?,
    };
    Ok(!applied.is_empty())
}

pub fn version(conn: &mut DbConn, id: SaleLineId, total: Total) -> Result<i64> {
    let q = l::table.find(Uid::from(id));
    Ok(match total {
        Total::Delivered => q.select(l::delivered_version).first(conn)?,
        Total::Invoiced => q.select(l::invoiced_version).first(conn)?,
    })
}
