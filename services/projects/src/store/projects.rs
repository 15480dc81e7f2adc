use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConn, Uid};
use shared::ids::ProjectId;
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::projects;
use crate::domain::projects::{Project, ProjectFilter, ProjectSort};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = projects, treat_none_as_null = true)]
pub(super) struct Row {
    id: Uid,
    name: String,
    customer_id: Option<Uid>,
    sale_line_id: Option<Uid>,
    allow_timesheets: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<Row> for Project {
    fn from(r: Row) -> Self {
        Project {
            id: r.id.into(),
            name: r.name,
            customer_id: r.customer_id.map(Into::into),
            sale_line_id: r.sale_line_id.map(Into::into),
            allow_timesheets: r.allow_timesheets,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

impl From<&Project> for Row {
    fn from(p: &Project) -> Self {
        Row {
            id: p.id.into(),
            name: p.name.clone(),
            customer_id: p.customer_id.map(Into::into),
            sale_line_id: p.sale_line_id.map(Into::into),
            allow_timesheets: p.allow_timesheets,
            created_at: p.created_at.naive_utc(),
            updated_at: p.updated_at.naive_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, p: &Project) -> Result<()> {
    diesel::insert_into(projects::table).values(Row::from(p)).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, p: &Project) -> Result<()> {
    diesel::update(projects::table.find(Uid::from(p.id))).set(Row::from(p)).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: ProjectId) -> Result<Option<Project>> {
    let row = projects::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(Into::into))
}

pub fn list(conn: &mut DbConn, f: &ProjectFilter, req: &ListRequest<ProjectSort>) -> Result<Vec<Project>> {
    let mut q = projects::table.select(Row::as_select()).into_boxed();
    if let Some(c) = f.customer_id {
        q = q.filter(projects::customer_id.eq(Uid::from(c)));
    }
    if let Some(l) = f.sale_line_id {
        q = q.filter(projects::sale_line_id.eq(Uid::from(l)));
    }
    match req.sort.field {
        ProjectSort::CreatedAt => shared::keyset!(q, projects::created_at, projects::id, req, Key::time),
        ProjectSort::UpdatedAt => shared::keyset!(q, projects::updated_at, projects::id, req, Key::time),
        ProjectSort::Name => shared::keyset!(q, projects::name, projects::id, req, Key::text),
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
