use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConn, Uid};
use shared::ids::TeamId;
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::teams;
use crate::domain::teams::{Team, TeamSort};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = teams)]
pub(super) struct Row {
    id: Uid,
    name: String,
    use_timesheets: bool,
    use_time_reinvoicing: bool,
    project_id: Option<Uid>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<Row> for Team {
    fn from(r: Row) -> Self {
        Team {
            id: r.id.into(),
            name: r.name,
            use_timesheets: r.use_timesheets,
            use_time_reinvoicing: r.use_time_reinvoicing,
            project_id: r.project_id.map(Into::into),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, t: &Team) -> Result<()> {
    let row = Row {
        id: t.id.into(),
        name: t.name.clone(),
        use_timesheets: t.use_timesheets,
        use_time_reinvoicing: t.use_time_reinvoicing,
        project_id: t.project_id.map(Into::into),
        created_at: t.created_at.naive_utc(),
        updated_at: t.updated_at.naive_utc(),
    };
    diesel::insert_into(teams::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the editable fields and `updated_at`.
pub fn update(conn: &mut DbConn, t: &Team) -> Result<()> {
    diesel::update(teams::table.find(Uid::from(t.id)))
        .set((
            teams::name.eq(&t.name),
            teams::use_timesheets.eq(t.use_timesheets),
            teams::use_time_reinvoicing.eq(t.use_time_reinvoicing),
            teams::project_id.eq(t.project_id.map(Uid::from)),
            teams::updated_at.eq(t.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: TeamId) -> Result<Option<Team>> {
    let row = teams::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(Into::into))
}

pub fn list(conn: &mut DbConn, req: &ListRequest<TeamSort>) -> Result<Vec<Team>> {
    let mut q = teams::table.select(Row::as_select()).into_boxed();
    match req.sort.field {
        TeamSort::CreatedAt => shared::keyset!(q, teams::created_at, teams::id, req, Key::time),
        TeamSort::UpdatedAt => shared::keyset!(q, teams::updated_at, teams::id, req, Key::time),
        TeamSort::Name => shared::keyset!(q, teams::name, teams::id, req, Key::text),
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
