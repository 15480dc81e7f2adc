//! Running totals: one row per sale line and per ticket, and each task's effective hours,
//! changed by adding deltas, so that concurrent writers serialize on the rows (briefly) and none
//! reads the timesheets again.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rust_decimal::Decimal;
use shared::db::{DbConn, DbDecimal, DbUuid, Dec, Uid, add_to_total, add_to_total_sql, cached, now};
use shared::ids::{SaleLineId, TaskId, TicketId};

use super::Result;

/// Hours to add (negative to remove) to sale lines, tickets and tasks. A task may name the sale
/// line it must still be on (`Some(None)`: none) for its hours to be added.
#[derive(Debug, Default)]
pub struct Changes {
    pub lines: Vec<(SaleLineId, Decimal)>,
    pub tickets: Vec<(TicketId, Decimal)>,
    pub tasks: Vec<(TaskId, Decimal, Option<Option<SaleLineId>>)>,
}

/// The totals after the change: each line's and ticket's hours and version; the tasks changed
/// (a task missing here was not on the line it had to be on, and was left alone).
#[derive(Debug, Default)]
pub struct Applied {
    pub lines: Vec<(SaleLineId, Decimal, i64)>,
    pub tickets: Vec<(TicketId, Decimal, i64)>,
    pub tasks: Vec<TaskId>,
}

/// Applies `changes`; every task changed is marked changed now (`updated_at`, the one instant
/// for all of them, bound as a parameter like every other timestamp the store writes, so both
/// backends keep it in the format they keep all others in). On PostgreSQL in one statement:
/// every round trip made while the first of these rows is locked holds up every other writer
/// of the same line (BENCHMARKS.md); lines, then tickets, then tasks, each in the order given,
/// so that writers lock rows in one order.
pub fn apply(conn: &mut DbConn, changes: &Changes) -> Result<Applied> {
    let at = now();
    match conn {
        DbConn::Pg(_) => apply_in_one_statement(conn, changes, at),
        DbConn::Sqlite(_) => apply_one_by_one(conn, changes, at),
    }
}

fn apply_one_by_one(conn: &mut DbConn, changes: &Changes, at: NaiveDateTime) -> Result<Applied> {
    let mut applied = Applied::default();
    for &(line, delta) in &changes.lines {
        let (hours, version) = add_to_total(conn, "line_totals", "sale_line_id", "hours", Uid::from(line), delta)?;
        applied.lines.push((line, hours, version));
    }
    for &(ticket, delta) in &changes.tickets {
        let (hours, version) = add_to_total(conn, "ticket_totals", "ticket_id", "hours", Uid::from(ticket), delta)?;
        applied.tickets.push((ticket, hours, version));
    }
    for &(task, delta, on_line) in &changes.tasks {
        if super::tasks::add_effective_hours(conn, task, delta, on_line, at)? {
            applied.tasks.push(task);
        }
    }
    Ok(applied)
}

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    kind: i32,
    #[diesel(sql_type = DbUuid)]
    key: Uid,
    #[diesel(sql_type = DbDecimal)]
    hours: Dec,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
}

const LINE: i32 = 0;
const TICKET: i32 = 1;
const TASK: i32 = 2;

fn apply_in_one_statement(conn: &mut DbConn, changes: &Changes, at: NaiveDateTime) -> Result<Applied> {
    enum Bind {
        Key(Uid),
        Hours(Decimal),
        At(NaiveDateTime),
    }
    let mut binds = Vec::new();
    let mut param = |b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let mut parts = Vec::new();
    let upsert = |table: &str, key_column: &str, kind: i32, key: String, delta: String| {
        let upsert = add_to_total_sql(table, key_column, "hours", &key, &delta);
        format!("{upsert} RETURNING {kind} AS kind, {key_column} AS key, hours, version")
    };
    for &(line, delta) in &changes.lines {
        let (k, d) = (param(Bind::Key(Uid::from(line))), param(Bind::Hours(delta)));
        parts.push(upsert("line_totals", "sale_line_id", LINE, k, d));
    }
    for &(ticket, delta) in &changes.tickets {
        let (k, d) = (param(Bind::Key(Uid::from(ticket))), param(Bind::Hours(delta)));
        parts.push(upsert("ticket_totals", "ticket_id", TICKET, k, d));
    }
    // One parameter for the instant, shared by every task's update.
    let mut updated_at = None;
    for &(task, delta, on_line) in &changes.tasks {
        let t = updated_at.get_or_insert_with(|| param(Bind::At(at))).clone();
        let (d, k) = (param(Bind::Hours(delta)), param(Bind::Key(Uid::from(task))));
        let condition = match on_line {
            Some(Some(line)) => format!(" AND sale_line_id = {}", param(Bind::Key(Uid::from(line)))),
            Some(None) => " AND sale_line_id IS NULL".to_owned(),
            None => String::new(),
        };
        parts.push(format!(
            "UPDATE tasks SET effective_hours = effective_hours + {d}, updated_at = {t} WHERE id = {k}{condition} \
             RETURNING {TASK} AS kind, id AS key, effective_hours AS hours, 0::BIGINT AS version"
        ));
    }
    if parts.is_empty() {
        return Ok(Applied::default());
    }
    let ctes: Vec<String> = parts.iter().enumerate().map(|(i, p)| format!("c{i} AS ({p})")).collect();
    let selects: Vec<String> =
        (0..parts.len()).map(|i| format!("SELECT kind, key, hours, version FROM c{i}")).collect();
    let sql = format!("WITH {} {}", ctes.join(", "), selects.join(" UNION ALL "));
    let mut query = diesel::sql_query(sql).into_boxed();
    for b in binds {
        query = match b {
            Bind::Key(k) => query.bind::<DbUuid, _>(k),
            Bind::Hours(h) => query.bind::<DbDecimal, _>(Dec(h)),
            Bind::At(t) => query.bind::<diesel::sql_types::Timestamp, _>(t),
        };
    }
    let rows: Vec<Changed> = cached(query).load(conn)?;
    let mut applied = Applied::default();
    for r in rows {
        match r.kind {
            LINE => applied.lines.push((r.key.into(), r.hours.0, r.version)),
            TICKET => applied.tickets.push((r.key.into(), r.hours.0, r.version)),
            _ => applied.tasks.push(r.key.into()),
        }
    }
    Ok(applied)
}
