use chrono::NaiveDateTime;
use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, Dec, Uid, cached, plus};
use shared::ids::{SaleLineId, TaskId};
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::{projects, tasks};
use crate::domain::projects::Project;
use crate::domain::tasks::{Task, TaskFilter, TaskSort};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tasks)]
struct Row {
    id: Uid,
    project_id: Uid,
    name: String,
    customer_id: Option<Uid>,
    sale_order_id: Option<Uid>,
    sale_line_id: Option<Uid>,
    allocated_hours: Dec,
    effective_hours: Dec,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<Row> for Task {
    fn from(r: Row) -> Self {
        Task {
            id: r.id.into(),
            project_id: r.project_id.into(),
            name: r.name,
            customer_id: r.customer_id.map(Into::into),
            sale_order_id: r.sale_order_id.map(Into::into),
            sale_line_id: r.sale_line_id.map(Into::into),
            allocated_hours: r.allocated_hours.0,
            effective_hours: r.effective_hours.0,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, t: &Task) -> Result<()> {
    let row = Row {
        id: t.id.into(),
        project_id: t.project_id.into(),
        name: t.name.clone(),
        customer_id: t.customer_id.map(Into::into),
        sale_order_id: t.sale_order_id.map(Into::into),
        sale_line_id: t.sale_line_id.map(Into::into),
        allocated_hours: Dec(t.allocated_hours),
        effective_hours: Dec(t.effective_hours),
        created_at: t.created_at.naive_utc(),
        updated_at: t.updated_at.naive_utc(),
    };
    diesel::insert_into(tasks::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the editable fields and `updated_at`; `effective_hours` is only ever changed by the
/// ledger.
pub fn update(conn: &mut DbConn, t: &Task) -> Result<()> {
    diesel::update(tasks::table.find(Uid::from(t.id)))
        .set((
            tasks::name.eq(&t.name),
            tasks::allocated_hours.eq(Dec(t.allocated_hours)),
            tasks::customer_id.eq(t.customer_id.map(Uid::from)),
            tasks::sale_line_id.eq(t.sale_line_id.map(Uid::from)),
            tasks::updated_at.eq(t.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Adds `delta` to a task's effective hours, and marks it changed `at`; with `on_line`, only
/// while the task is still on that sale line. False when no task was changed.
pub fn add_effective_hours(
    conn: &mut DbConn,
    id: TaskId,
    delta: Decimal,
    on_line: Option<Option<SaleLineId>>,
    at: NaiveDateTime,
) -> Result<bool> {
    let mut q = diesel::update(tasks::table)
        .filter(tasks::id.eq(Uid::from(id)))
        .set((tasks::effective_hours.eq(plus(tasks::effective_hours, delta)), tasks::updated_at.eq(at)))
        .into_boxed();
    q = match on_line {
        Some(Some(line)) => q.filter(tasks::sale_line_id.eq(Uid::from(line))),
        Some(None) => q.filter(tasks::sale_line_id.is_null()),
        None => q,
    };
    let changed: Vec<Uid> = cached(q.returning(tasks::id)).load(conn)?;
    Ok(!changed.is_empty())
}

pub fn find(conn: &mut DbConn, id: TaskId) -> Result<Option<Task>> {
    let row = tasks::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(Into::into))
}

/// A task and its project, in one query.
pub fn find_with_project(conn: &mut DbConn, id: TaskId) -> Result<Option<(Task, Project)>> {
    let row = tasks::table
        .inner_join(projects::table)
        .filter(tasks::id.eq(Uid::from(id)))
        .select((Row::as_select(), super::projects::Row::as_select()))
        .first::<(Row, super::projects::Row)>(conn)
        .optional()?;
    Ok(row.map(|(t, p)| (t.into(), p.into())))
}

pub fn list(conn: &mut DbConn, f: &TaskFilter, req: &ListRequest<TaskSort>) -> Result<Vec<Task>> {
    let mut q = tasks::table.select(Row::as_select()).into_boxed();
    if let Some(p) = f.project_id {
        q = q.filter(tasks::project_id.eq(Uid::from(p)));
    }
    if let Some(l) = f.sale_line_id {
        q = q.filter(tasks::sale_line_id.eq(Uid::from(l)));
    }
    if let Some(c) = f.customer_id {
        q = q.filter(tasks::customer_id.eq(Uid::from(c)));
    }
    match req.sort.field {
        TaskSort::CreatedAt => shared::keyset!(q, tasks::created_at, tasks::id, req, Key::time),
        TaskSort::UpdatedAt => shared::keyset!(q, tasks::updated_at, tasks::id, req, Key::time),
        TaskSort::Name => shared::keyset!(q, tasks::name, tasks::id, req, Key::text),
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
