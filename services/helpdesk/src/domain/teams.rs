use chrono::{DateTime, Utc};
use shared::auth::Caller;
use shared::db::DbConn;
use shared::error::Precondition;
use shared::ids::{ProjectId, TeamId};
use shared::page::{Key, ListRequest, Page};
use shared::server::Ctx;

use super::{Checks, Error, Result, check_text};
use crate::{peers, store};

#[derive(Debug, Clone)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    /// "Timesheet on Ticket": time may be logged on the team's tickets.
    pub use_timesheets: bool,
    /// "Time Reinvoicing": tickets count their time on a customer's sale line.
    pub use_time_reinvoicing: bool,
    /// The project that ticket time goes to when the ticket has no task.
    pub project_id: Option<ProjectId>,
    pub created_at: DateTime<Utc>,
    /// When the team last changed; its creation time until then.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: String,
    pub use_timesheets: bool,
    pub use_time_reinvoicing: bool,
    pub project_id: Option<ProjectId>,
}

#[derive(Debug, Clone, Default)]
pub struct TeamChanges {
    pub name: Option<String>,
    pub use_timesheets: Option<bool>,
    pub use_time_reinvoicing: Option<bool>,
    pub project_id: Option<Option<ProjectId>>,
}

fn check_flags(checks: &mut Checks, team: &Team) {
    if team.use_time_reinvoicing && !team.use_timesheets {
        checks.push("use_time_reinvoicing", "needs use_timesheets");
    }
}

/// A project named by the caller must exist in projects.
async fn check_project(ctx: &Ctx, id: ProjectId) -> Result<()> {
    match peers::project(&ctx.peers, id).await? {
        Some(_) => Ok(()),
        None => Err(Error::unknown("project_id", "project", id.0)),
    }
}

/// A team with timesheets needs a project for its tickets' time: one named after the team is
/// created in projects, before the team is written, so that a failure changes nothing here.
async fn ensure_project(ctx: &Ctx, team: &mut Team) -> Result<()> {
    if team.use_timesheets && team.project_id.is_none() {
        let project = peers::create_project(&ctx.peers, ProjectId::new(), &team.name).await?;
        team.project_id = Some(ProjectId(project.id));
    }
    Ok(())
}

/// Checks a new team and makes sure its project exists (asking projects), without writing the
/// team: [`insert`] does, in the transaction that also keeps the request's answer.
pub async fn prepare(ctx: &Ctx, caller: &Caller, new: NewTeam) -> Result<Team> {
    super::access::may_manage_teams(caller)?;
    let now = shared::db::now_utc();
    let mut team = Team {
        id: TeamId::new(),
        name: new.name.trim().to_owned(),
        use_timesheets: new.use_timesheets,
        use_time_reinvoicing: new.use_time_reinvoicing,
        project_id: new.project_id,
        created_at: now,
        updated_at: now,
    };
    let mut checks = Checks::new();
    check_text(&mut checks, "name", &new.name, 200);
    check_flags(&mut checks, &team);
    checks.finish()?;
    if let Some(p) = new.project_id {
        check_project(ctx, p).await?;
    }
    ensure_project(ctx, &mut team).await?;
    Ok(team)
}

/// Writes a prepared team, in the caller's transaction.
pub fn insert(conn: &mut DbConn, team: Team) -> Result<Team> {
    store::teams::insert(conn, &team)?;
    Ok(team)
}

/// Changes a team. A team left with timesheets on and no project gets a new one.
pub async fn update(
    ctx: &Ctx,
    caller: &Caller,
    id: TeamId,
    changes: TeamChanges,
    expected: Precondition<Team>,
) -> Result<Team> {
    super::access::may_manage_teams(caller)?;
    let mut team = load(ctx, id).await?;
    expected.check(&team)?;
    let mut checks = Checks::new();
    if let Some(name) = &changes.name {
        check_text(&mut checks, "name", name, 200);
        team.name = name.trim().to_owned();
    }
    if let Some(t) = changes.use_timesheets {
        team.use_timesheets = t;
    }
    if let Some(r) = changes.use_time_reinvoicing {
        team.use_time_reinvoicing = r;
    }
    if let Some(p) = changes.project_id {
        team.project_id = p;
    }
    check_flags(&mut checks, &team);
    checks.finish()?;
    if let Some(Some(p)) = changes.project_id {
        check_project(ctx, p).await?;
    }
    ensure_project(ctx, &mut team).await?;
    ctx.db
        .write(move |c| {
            // Checked again where it counts: in the write, with the row locked.
            expected.lock(c, "teams", id.0)?;
            expected.check(&find(c, id)?)?;
            let team = Team { updated_at: shared::db::now_utc(), ..team };
            store::teams::update(c, &team)?;
            Ok(team)
        })
        .await
}

pub fn find(conn: &mut DbConn, id: TeamId) -> Result<Team> {
    store::teams::find(conn, id)?.ok_or_else(|| Error::not_found("team", id))
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: TeamId) -> Result<Team> {
    super::access::may_read_teams(caller)?;
    load(ctx, id).await
}

/// A team, for the use cases that already checked their caller.
pub async fn load(ctx: &Ctx, id: TeamId) -> Result<Team> {
    ctx.db.run(move |c| find(c, id)).await
}

shared::sort_fields! {
    /// How the team list can be ordered.
    pub enum TeamSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Name = "name": Text,
    }
    default CreatedAt
}

impl TeamSort {
    pub fn key(self, t: &Team) -> Key {
        match self {
            TeamSort::CreatedAt => Key::Time(t.created_at.naive_utc()),
            TeamSort::UpdatedAt => Key::Time(t.updated_at.naive_utc()),
            TeamSort::Name => Key::Text(t.name.clone()),
        }
    }
}

/// Teams, in the asked order (newest first by default).
pub async fn list(ctx: &Ctx, caller: &Caller, req: ListRequest<TeamSort>) -> Result<Page<Team>> {
    super::access::may_read_teams(caller)?;
    let asked = req.clone();
    let rows = ctx.db.run(move |c| Ok::<_, Error>(store::teams::list(c, &asked)?)).await?;
    Ok(req.page(rows, |t| (req.sort.field.key(t), t.id.0), |t| t))
}
