use chrono::{DateTime, Utc};
use shared::auth::Caller;
use shared::db::DbConn;
use shared::error::Precondition;
use shared::ids::{CustomerId, ProjectId, SaleLineId};
use shared::page::{Key, ListRequest, Page};

use super::{Checks, Error, Result, check_text};
use crate::store;

#[derive(Debug, Clone)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub customer_id: Option<CustomerId>,
    pub sale_line_id: Option<SaleLineId>,
    pub allow_timesheets: bool,
    pub created_at: DateTime<Utc>,
    /// When the project last changed; its creation time until then.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub id: Option<ProjectId>,
    pub name: String,
    pub customer_id: Option<CustomerId>,
    pub sale_line_id: Option<SaleLineId>,
    pub allow_timesheets: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub customer_id: Option<Option<CustomerId>>,
    pub sale_line_id: Option<Option<SaleLineId>>,
    pub allow_timesheets: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub customer_id: Option<CustomerId>,
    pub sale_line_id: Option<SaleLineId>,
}

/// Creates a project; a caller that chose the id gets the existing project on a repeat.
pub fn create(conn: &mut DbConn, caller: &Caller, new: NewProject) -> Result<Project> {
    super::access::may_plan_work(caller)?;
    let mut checks = Checks::new();
    check_text(&mut checks, "name", &new.name, 200);
    checks.finish()?;
    if let Some(existing) = new.id.map(|id| store::projects::find(conn, id)).transpose()?.flatten() {
        return Ok(existing);
    }
    let now = shared::db::now_utc();
    let project = Project {
        id: new.id.unwrap_or_else(ProjectId::new),
        name: new.name.trim().to_owned(),
        customer_id: new.customer_id,
        sale_line_id: new.sale_line_id,
        allow_timesheets: new.allow_timesheets,
        created_at: now,
        updated_at: now,
    };
    store::projects::insert(conn, &project)?;
    Ok(project)
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: ProjectId) -> Result<Project> {
    super::access::may_read_work(caller)?;
    find(conn, id)
}

fn find(conn: &mut DbConn, id: ProjectId) -> Result<Project> {
    store::projects::find(conn, id)?.ok_or_else(|| Error::not_found("project", id))
}

pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    id: ProjectId,
    changes: ProjectChanges,
    expected: Precondition<Project>,
) -> Result<Project> {
    super::access::may_plan_work(caller)?;
    expected.lock(conn, "projects", id.0)?;
    let mut project = find(conn, id)?;
    expected.check(&project)?;
    let mut checks = Checks::new();
    if let Some(name) = &changes.name {
        check_text(&mut checks, "name", name, 200);
    }
    checks.finish()?;
    if let Some(name) = changes.name {
        project.name = name.trim().to_owned();
    }
    if let Some(c) = changes.customer_id {
        project.customer_id = c;
    }
    if let Some(l) = changes.sale_line_id {
        project.sale_line_id = l;
    }
    if let Some(a) = changes.allow_timesheets {
        project.allow_timesheets = a;
    }
    project.updated_at = shared::db::now_utc();
    store::projects::update(conn, &project)?;
    Ok(project)
}

shared::sort_fields! {
    /// How the project list can be ordered.
    pub enum ProjectSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Name = "name": Text,
    }
    default CreatedAt
}

impl ProjectSort {
    pub fn key(self, p: &Project) -> Key {
        match self {
            ProjectSort::CreatedAt => Key::Time(p.created_at.naive_utc()),
            ProjectSort::UpdatedAt => Key::Time(p.updated_at.naive_utc()),
            ProjectSort::Name => Key::Text(p.name.clone()),
        }
    }
}

/// Projects, in the asked order (newest first by default).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &ProjectFilter,
    req: &ListRequest<ProjectSort>,
) -> Result<Page<Project>> {
    super::access::may_read_work(caller)?;
    let rows = store::projects::list(conn, filter, req)?;
    Ok(req.page(rows, |p| (req.sort.field.key(p), p.id.0), |p| p))
}
