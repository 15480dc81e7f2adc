use chrono::NaiveDateTime;
use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, Dec, StoreError, Uid, now};
use shared::ids::TicketId;
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::{sequences, teams, tickets};
use crate::domain::teams::Team;
use crate::domain::tickets::{Stage, Ticket, TicketFilter, TicketSort};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
struct Row {
    id: Uid,
    number: i64,
    team_id: Uid,
    customer_id: Uid,
    title: String,
    description: Option<String>,
    stage: String,
    task_id: Option<Uid>,
    sale_line_id: Option<Uid>,
    hours_spent: Dec,
    hours_version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<Row> for Ticket {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self> {
        let stage = Stage::parse(&r.stage)
            .ok_or_else(|| StoreError::Other(format!("ticket {} has stage {:?}", r.id.0, r.stage)))?;
        Ok(Ticket {
            id: r.id.into(),
            number: r.number,
            team_id: r.team_id.into(),
            customer_id: r.customer_id.into(),
            title: r.title,
            description: r.description,
            stage,
            task_id: r.task_id.map(Into::into),
            sale_line_id: r.sale_line_id.map(Into::into),
            hours_spent: r.hours_spent.0,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// Takes the next number of a gap-free sequence. The row stays locked until the caller's
/// transaction ends, so concurrent creators queue, and a rollback gives the number back.
pub fn take_number(conn: &mut DbConn, sequence: &str) -> Result<i64> {
    let next: i64 = diesel::update(sequences::table.find(sequence))
        .set(sequences::next.eq(sequences::next + 1))
        .returning(sequences::next)
        .get_result(conn)?;
    Ok(next - 1)
}

pub fn insert(conn: &mut DbConn, t: &Ticket) -> Result<()> {
    let row = Row {
        id: t.id.into(),
        number: t.number,
        team_id: t.team_id.into(),
        customer_id: t.customer_id.into(),
        title: t.title.clone(),
        description: t.description.clone(),
        stage: t.stage.as_str().to_owned(),
        task_id: t.task_id.map(Into::into),
        sale_line_id: t.sale_line_id.map(Into::into),
        hours_spent: Dec(t.hours_spent),
        hours_version: 0,
        created_at: t.created_at.naive_utc(),
        updated_at: t.updated_at.naive_utc(),
    };
    diesel::insert_into(tickets::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the editable fields and `updated_at`; `hours_spent` is only ever changed by
/// `apply_total`.
pub fn update(conn: &mut DbConn, t: &Ticket) -> Result<()> {
    diesel::update(tickets::table.find(Uid::from(t.id)))
        .set((
            tickets::team_id.eq(Uid::from(t.team_id)),
            tickets::title.eq(&t.title),
            tickets::description.eq(&t.description),
            tickets::stage.eq(t.stage.as_str()),
            tickets::task_id.eq(t.task_id.map(Uid::from)),
            tickets::sale_line_id.eq(t.sale_line_id.map(Uid::from)),
            tickets::updated_at.eq(t.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a ticket's total hours if `version` is newer than the one held, in one conditional
/// update that marks the ticket changed now; returns whether it was applied.
pub fn apply_total(conn: &mut DbConn, id: TicketId, hours: Decimal, version: i64) -> Result<bool> {
    let changed = shared::db::cached(
        diesel::update(tickets::table.find(Uid::from(id)).filter(tickets::hours_version.lt(version)))
            .set((
                tickets::hours_spent.eq(Dec(hours)),
                tickets::hours_version.eq(version),
                tickets::updated_at.eq(now()),
            ))
            .returning(tickets::id),
    )
    .load::<Uid>(conn)?;
    Ok(!changed.is_empty())
}

/// The version of the total a ticket holds, if the ticket exists.
pub fn total_version(conn: &mut DbConn, id: TicketId) -> Result<Option<i64>> {
    Ok(tickets::table.find(Uid::from(id)).select(tickets::hours_version).first(conn).optional()?)
}

pub fn find(conn: &mut DbConn, id: TicketId) -> Result<Option<Ticket>> {
    let row = tickets::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    row.map(Ticket::try_from).transpose()
}

/// A ticket and its team, in one query.
pub fn find_with_team(conn: &mut DbConn, id: TicketId) -> Result<Option<(Ticket, Team)>> {
    let row = tickets::table
        .inner_join(teams::table)
        .filter(tickets::id.eq(Uid::from(id)))
        .select((Row::as_select(), super::teams::Row::as_select()))
        .first::<(Row, super::teams::Row)>(conn)
        .optional()?;
    row.map(|(t, team)| Ok((Ticket::try_from(t)?, team.into()))).transpose()
}

pub fn list(conn: &mut DbConn, f: &TicketFilter, req: &ListRequest<TicketSort>) -> Result<Vec<Ticket>> {
    let mut q = tickets::table.select(Row::as_select()).into_boxed();
    if let Some(t) = f.team_id {
        q = q.filter(tickets::team_id.eq(Uid::from(t)));
    }
    if let Some(c) = f.customer_id {
        q = q.filter(tickets::customer_id.eq(Uid::from(c)));
    }
    if let Some(s) = f.stage {
        q = q.filter(tickets::stage.eq(s.as_str()));
    }
    match req.sort.field {
        TicketSort::CreatedAt => shared::keyset!(q, tickets::created_at, tickets::id, req, Key::time),
        TicketSort::UpdatedAt => shared::keyset!(q, tickets::updated_at, tickets::id, req, Key::time),
        TicketSort::Number => shared::keyset!(q, tickets::number, tickets::id, req, Key::integer),
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    rows.into_iter().map(Ticket::try_from).collect()
}
