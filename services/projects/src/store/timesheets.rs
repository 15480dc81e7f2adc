use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, Dec, Uid, now};
use shared::ids::{InvoiceId, SaleLineId, TaskId, TicketId, TimesheetId};
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::timesheets;
use crate::domain::timesheets::{Timesheet, TimesheetFilter, TimesheetSort};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = timesheets)]
struct Row {
    id: Uid,
    date: NaiveDate,
    employee: String,
    description: Option<String>,
    hours: Dec,
    project_id: Uid,
    task_id: Option<Uid>,
    ticket_id: Option<Uid>,
    sale_line_id: Option<Uid>,
    invoice_id: Option<Uid>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<Row> for Timesheet {
    fn from(r: Row) -> Self {
        Timesheet {
            id: r.id.into(),
            date: r.date,
            employee: r.employee,
            description: r.description,
            hours: r.hours.0,
            project_id: r.project_id.into(),
            task_id: r.task_id.map(Into::into),
            ticket_id: r.ticket_id.map(Into::into),
            sale_line_id: r.sale_line_id.map(Into::into),
            invoice_id: r.invoice_id.map(Into::into),
            created_by: r.created_by,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

impl From<&Timesheet> for Row {
    fn from(t: &Timesheet) -> Self {
        Row {
            id: t.id.into(),
            date: t.date,
            employee: t.employee.clone(),
            description: t.description.clone(),
            hours: Dec(t.hours),
            project_id: t.project_id.into(),
            task_id: t.task_id.map(Into::into),
            ticket_id: t.ticket_id.map(Into::into),
            sale_line_id: t.sale_line_id.map(Into::into),
            invoice_id: t.invoice_id.map(Into::into),
            created_by: t.created_by.clone(),
            created_at: t.created_at.naive_utc(),
            updated_at: t.updated_at.naive_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, t: &Timesheet) -> Result<()> {
    let _: Uid =
        shared::db::cached(diesel::insert_into(timesheets::table).values(Row::from(t)).returning(timesheets::id))
            .get_result(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, t: &Timesheet) -> Result<()> {
    let r = Row::from(t);
    diesel::update(timesheets::table.find(r.id))
        .set((
            timesheets::date.eq(r.date),
            timesheets::employee.eq(r.employee),
            timesheets::description.eq(r.description),
            timesheets::hours.eq(r.hours),
            timesheets::project_id.eq(r.project_id),
            timesheets::task_id.eq(r.task_id),
            timesheets::ticket_id.eq(r.ticket_id),
            timesheets::sale_line_id.eq(r.sale_line_id),
            timesheets::updated_at.eq(r.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, id: TimesheetId) -> Result<()> {
    diesel::delete(timesheets::table.find(Uid::from(id))).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: TimesheetId) -> Result<Option<Timesheet>> {
    let row = timesheets::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(Into::into))
}

/// The tickets of a task's unbilled timesheets counted on `line`: those a move of the task to
/// another line would take along.
pub fn unbilled_tickets(conn: &mut DbConn, task: TaskId, line: Option<SaleLineId>) -> Result<Vec<TicketId>> {
    let mut q = timesheets::table
        .filter(timesheets::task_id.eq(Uid::from(task)))
        .filter(timesheets::invoice_id.is_null())
        .filter(timesheets::ticket_id.is_not_null())
        .select(timesheets::ticket_id.assume_not_null())
        .distinct()
        .into_boxed();
    q = match line {
        Some(l) => q.filter(timesheets::sale_line_id.eq(Uid::from(l))),
        None => q.filter(timesheets::sale_line_id.is_null()),
    };
    Ok(q.load::<Uid>(conn)?.into_iter().map(Into::into).collect())
}

/// Moves a task's unbilled timesheets counted on `from` to `to` (each one moved is marked
/// changed now); returns their hours and the tickets they are for.
pub fn move_unbilled_line(
    conn: &mut DbConn,
    task: TaskId,
    from: Option<SaleLineId>,
    to: Option<SaleLineId>,
) -> Result<(Decimal, Vec<TicketId>)> {
    let from = from.map(Uid::from);
    let rows: Vec<(Uid, Dec, Option<Uid>)> = timesheets::table
        .filter(timesheets::task_id.eq(Uid::from(task)))
        .filter(timesheets::invoice_id.is_null())
        .select((timesheets::id, timesheets::hours, timesheets::ticket_id))
        .load::<(Uid, Dec, Option<Uid>)>(conn)?;
    let mut moved = Decimal::ZERO;
    let mut tickets = Vec::new();
    let at = now();
    let set = (timesheets::sale_line_id.eq(to.map(Uid::from)), timesheets::updated_at.eq(at));
    for (id, hours, ticket) in rows {
        let q = timesheets::table.find(id);
        let changed = match from {
            Some(f) => diesel::update(q.filter(timesheets::sale_line_id.eq(f))).set(set).execute(conn)?,
            None => diesel::update(q.filter(timesheets::sale_line_id.is_null())).set(set).execute(conn)?,
        };
        if changed > 0 {
            moved += hours.0;
            if let Some(t) = ticket.map(TicketId::from)
                && !tickets.contains(&t)
            {
                tickets.push(t);
            }
        }
    }
    Ok((moved, tickets))
}

pub fn list(conn: &mut DbConn, f: &TimesheetFilter, req: &ListRequest<TimesheetSort>) -> Result<Vec<Timesheet>> {
    let mut q = timesheets::table.select(Row::as_select()).into_boxed();
    if let Some(v) = f.project_id {
        q = q.filter(timesheets::project_id.eq(Uid::from(v)));
    }
    if let Some(v) = f.task_id {
        q = q.filter(timesheets::task_id.eq(Uid::from(v)));
    }
    if let Some(v) = f.ticket_id {
        q = q.filter(timesheets::ticket_id.eq(Uid::from(v)));
    }
    if let Some(v) = f.sale_line_id {
        q = q.filter(timesheets::sale_line_id.eq(Uid::from(v)));
    }
    if let Some(v) = &f.employee {
        q = q.filter(timesheets::employee.eq(v.clone()));
    }
    if let Some(v) = f.date_from {
        q = q.filter(timesheets::date.ge(v));
    }
    if let Some(v) = f.date_to {
        q = q.filter(timesheets::date.le(v));
    }
    match req.sort.field {
        TimesheetSort::CreatedAt => shared::keyset!(q, timesheets::created_at, timesheets::id, req, Key::time),
        TimesheetSort::UpdatedAt => shared::keyset!(q, timesheets::updated_at, timesheets::id, req, Key::time),
        TimesheetSort::Date => shared::keyset!(q, timesheets::date, timesheets::id, req, Key::date),
        TimesheetSort::Hours => shared::keyset!(q, timesheets::hours, timesheets::id, req, |k: &Key| Dec(k.decimal())),
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// True when some timesheet is already stamped with this invoice.
pub fn is_claimed(conn: &mut DbConn, invoice: InvoiceId) -> Result<bool> {
    let n: i64 = timesheets::table.filter(timesheets::invoice_id.eq(Uid::from(invoice))).count().get_result(conn)?;
    Ok(n > 0)
}

/// Stamps the unbilled timesheets of these lines, dated within the period, with the invoice
/// (each one stamped is marked changed now).
pub fn stamp_unbilled(
    conn: &mut DbConn,
    invoice: InvoiceId,
    lines: &[SaleLineId],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<usize> {
    let lines: Vec<Uid> = lines.iter().map(|l| Uid::from(*l)).collect();
    let mut q = timesheets::table
        .filter(timesheets::sale_line_id.eq_any(lines))
        .filter(timesheets::invoice_id.is_null())
        .into_boxed();
    if let Some(f) = from {
        q = q.filter(timesheets::date.ge(f));
    }
    if let Some(t) = to {
        q = q.filter(timesheets::date.le(t));
    }
    let ids: Vec<Uid> = q.select(timesheets::id).load(conn)?;
    let n = diesel::update(timesheets::table.filter(timesheets::id.eq_any(&ids)))
        .set((timesheets::invoice_id.eq(Some(Uid::from(invoice))), timesheets::updated_at.eq(now())))
        .execute(conn)?;
    Ok(n)
}

/// Hours and count of the invoice's timesheets, per sale line.
pub fn billed_by_line(conn: &mut DbConn, invoice: InvoiceId) -> Result<Vec<(SaleLineId, Decimal, i64)>> {
    use diesel::dsl::{count_star, sum};
    let rows: Vec<(Option<Uid>, Option<Dec>, i64)> = timesheets::table
        .filter(timesheets::invoice_id.eq(Uid::from(invoice)))
        .group_by(timesheets::sale_line_id)
        .select((timesheets::sale_line_id, sum(timesheets::hours), count_star()))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(l, h, n)| l.map(|l| (l.into(), h.map(|h| h.0).unwrap_or_default(), n))).collect())
}

/// Unstamps the invoice's timesheets, of these lines or all (each one unstamped is marked
/// changed now); returns how many.
pub fn unstamp(conn: &mut DbConn, invoice: InvoiceId, lines: Option<&[SaleLineId]>) -> Result<usize> {
    let target = timesheets::table.filter(timesheets::invoice_id.eq(Uid::from(invoice)));
    let set = (timesheets::invoice_id.eq(None::<Uid>), timesheets::updated_at.eq(now()));
    let n = match lines {
        Some(lines) => {
            let lines: Vec<Uid> = lines.iter().map(|l| Uid::from(*l)).collect();
            diesel::update(target.filter(timesheets::sale_line_id.eq_any(lines))).set(set).execute(conn)?
        }
        None => diesel::update(target).set(set).execute(conn)?,
    };
    Ok(n)
}
