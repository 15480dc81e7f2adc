use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConn, Uid, now};
use shared::ids::TeamId;
use shared::page::PageRequest;

use super::Result;
use super::schema::teams;
use crate::domain::teams::Team;

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
        updated_at: now(),
    };
    diesel::insert_into(teams::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the editable fields.
pub fn update(conn: &mut DbConn, t: &Team) -> Result<()> {
    diesel::update(teams::table.find(Uid::from(t.id)))
        .set((
            teams::name.eq(&t.name),
            teams::use_timesheets.eq(t.use_timesheets),
            teams::use_time_reinvoicing.eq(t.use_time_reinvoicing),
            teams::project_id.eq(t.project_id.map(Uid::from)),
            teams::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: TeamId) -> Result<Option<Team>> {
    let row = teams::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(Into::into))
}

pub fn list(conn: &mut DbConn, page: PageRequest) -> Result<Vec<Team>> {
    let mut q = teams::table.select(Row::as_select()).into_boxed();
    if let Some(before) = page.before {
        q = q.filter(teams::id.lt(Uid(before)));
    }
    let rows = q.order(teams::id.desc()).limit(page.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
