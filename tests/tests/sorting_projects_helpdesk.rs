#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every list of projects and helpdesk sorts (SQLite and PostgreSQL, each its own test): for
//! each `sort` value, both directions, paging two at a time by `next_cursor` gives exactly the
//! list ordered by that key then id, every record once; without `sort` a list is newest first
//! by `created_at`; a cursor is refused under another `sort`, and an unknown `sort` is refused,
//! both as 422s. A ticket's timesheets, which helpdesk reads from projects page by page, sort
//! the same way through helpdesk: helpdesk checks `sort`, projects sorts and makes the cursors
//! (one it refuses comes back through helpdesk as a 422 naming `cursor`).
//!
//! Names are lowercase ASCII letters only: PostgreSQL orders text by its database's collation,
//! which (unlike `C`) may order mixed case, spaces or punctuation otherwise than bytes do; plain
//! lowercase letters are ordered alike by every collation and by SQLite. (So the harness's
//! `shop` and `desk`, whose names are capitalised, make no record of a list sorted by name.)

use e2e::sorting::{Kind, created, sorts};
use e2e::{R, System, eventually, id, items, on_both, same};
use serde_json::json;
use shared::config::Service::{Helpdesk, Projects};
use shared::db::Backend;

/// Deliberately out of order, with one repeat (the id breaks the tie).
const NAMES: [&str; 6] = ["c", "a", "e", "b", "d", "b"];
const HOURS: [&str; 6] = ["3", "1", "5", "2", "4", "2"];
const DATES: [&str; 6] = ["2026-11-03", "2026-11-01", "2026-11-05", "2026-11-02", "2026-11-04", "2026-11-02"];

fn time(field: &str) -> (&str, Kind) {
    (field, Kind::Time)
}

async fn projects_lists_sort(backend: Backend) -> R {
    let sys = System::start(backend).await?;

    let mut projects = vec![];
    for n in NAMES {
        projects.push(id(&created(&sys, Projects, "/projects", json!({"name": n})).await?));
    }
    let (main, other) = (projects[0].clone(), projects[1].clone());

    // Tasks of the first project, and one of another (left out by the project filter).
    let mut tasks = vec![];
    for n in NAMES {
        tasks.push(id(&created(&sys, Projects, "/tasks", json!({"project_id": main, "name": n})).await?));
    }
    let elsewhere = id(&created(&sys, Projects, "/tasks", json!({"project_id": other, "name": "f"})).await?);

    // Timesheets of the second project: hours and dates out of order, one of each repeated;
    // one more of the first project (left out by the project filter).
    let mut sheets = vec![];
    for (h, d) in HOURS.iter().zip(DATES) {
        let body = json!({"project_id": other, "employee": "ann", "hours": h, "date": d});
        sheets.push(id(&created(&sys, Projects, "/timesheets", body).await?));
    }
    let body = json!({"project_id": main, "employee": "bob", "hours": "6", "date": "2026-11-06"});
    let stray = id(&created(&sys, Projects, "/timesheets", body).await?);

    // Changed out of creation order, so that `updated_at` orders them otherwise.
    for i in [2, 0, 4] {
        sys.patch(Projects, &format!("/projects/{}", projects[i]), &json!({"allow_timesheets": true})).await?;
    }
    for i in [3, 0, 5] {
        sys.patch(Projects, &format!("/tasks/{}", tasks[i]), &json!({"allocated_hours": "5"})).await?;
    }
    for i in [2, 0, 4] {
        sys.patch(Projects, &format!("/timesheets/{}", sheets[i]), &json!({"description": "x"})).await?;
    }

    let named = [time("created_at"), time("updated_at"), ("name", Kind::Text)];
    sorts(&sys, Projects, "/projects", &named, &projects, false).await?;

    let mut all_tasks = tasks.clone();
    all_tasks.push(elsewhere);
    sorts(&sys, Projects, "/tasks", &named, &all_tasks, false).await?;
    sorts(&sys, Projects, &format!("/tasks?project_id={main}"), &named, &tasks, false).await?;

    let sheet_sorts = [time("created_at"), time("updated_at"), ("date", Kind::Date), ("hours", Kind::Decimal)];
    let mut all_sheets = sheets.clone();
    all_sheets.push(stray);
    sorts(&sys, Projects, "/timesheets", &sheet_sorts, &all_sheets, false).await?;
    sorts(&sys, Projects, &format!("/timesheets?project_id={other}"), &sheet_sorts, &sheets, false).await?;
    // The filters hold under any sort: from the 2nd, only this project's (not the 1st's).
    let since: Vec<String> =
        sheets.iter().zip(DATES).filter(|(_, d)| *d >= "2026-11-02").map(|(s, _)| s.clone()).collect();
    let path = format!("/timesheets?project_id={other}&date_from=2026-11-02");
    sorts(&sys, Projects, &path, &sheet_sorts, &since, false).await?;

    sys.stop().await;
    Ok(())
}

async fn helpdesk_lists_sort(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let shop = sys.shop("prepaid").await?;
    let (_, lines) = sys.sold(&shop, 1, "40").await?;
    let (_, task) = lines[0].clone();

    // Teams; the first logs time on tickets, on the shop's project.
    let mut teams = vec![];
    for (i, n) in NAMES.iter().enumerate() {
        let body = if i == 0 {
            json!({"name": n, "use_timesheets": true, "project_id": shop.project})
        } else {
            json!({"name": n})
        };
        teams.push(id(&created(&sys, Helpdesk, "/teams", body).await?));
    }
    let desk = teams[0].clone();

    // Tickets, all but one of the first team; the first on the line's task.
    let mut tickets = vec![];
    for (i, n) in NAMES.iter().enumerate() {
        let team = if i == 4 { &teams[1] } else { &desk };
        let mut body = json!({"team_id": team, "customer_id": shop.customer, "title": n});
        if i == 0 {
            body["task_id"] = json!(task);
        }
        tickets.push(id(&created(&sys, Helpdesk, "/tickets", body).await?));
    }
    let ticket = tickets[0].clone();

    // Time on the first ticket, through helpdesk: hours and dates out of order, each with a
    // repeat; then some of it changed, out of order (and so the total, to one not seen before).
    let mut sheets = vec![];
    for (h, d) in HOURS.iter().zip(DATES) {
        let body = json!({"employee": "ann", "hours": h, "date": d});
        sheets.push(id(&created(&sys, Helpdesk, &format!("/tickets/{ticket}/timesheets"), body).await?));
    }
    for (i, h) in [(2, "6"), (0, "3.5"), (4, "4.25")] {
        sys.patch(Helpdesk, &format!("/tickets/{ticket}/timesheets/{}", sheets[i]), &json!({"hours": h})).await?;
    }
    // The ticket changes when projects' last total arrives: wait for it, so that nothing moves
    // its `updated_at` while the list is read.
    eventually(10, || async {
        same("hours_spent", &sys.get(Helpdesk, &format!("/tickets/{ticket}")).await?["hours_spent"], "18.75")
    })
    .await?;

    // Changed out of creation order, so that `updated_at` orders them otherwise.
    for i in [2, 0, 4] {
        sys.patch(Helpdesk, &format!("/teams/{}", teams[i]), &json!({"use_time_reinvoicing": false})).await?;
    }
    for i in [3, 0, 5] {
        sys.patch(Helpdesk, &format!("/tickets/{}", tickets[i]), &json!({"stage": "in_progress"})).await?;
    }

    let team_sorts = [time("created_at"), time("updated_at"), ("name", Kind::Text)];
    sorts(&sys, Helpdesk, "/teams", &team_sorts, &teams, false).await?;

    let ticket_sorts = [time("created_at"), time("updated_at"), ("number", Kind::Integer)];
    sorts(&sys, Helpdesk, "/tickets", &ticket_sorts, &tickets, false).await?;
    let theirs: Vec<String> = tickets.iter().enumerate().filter(|(i, _)| *i != 4).map(|(_, t)| t.clone()).collect();
    sorts(&sys, Helpdesk, &format!("/tickets?team_id={desk}"), &ticket_sorts, &theirs, false).await?;
    let path = format!("/tickets?customer_id={}", shop.customer);
    sorts(&sys, Helpdesk, &path, &ticket_sorts, &tickets, false).await?;
    let started = sys.all(Helpdesk, "/tickets?stage=in_progress&sort=-number").await?;
    assert_eq!(started.len(), 3, "the stage filter holds under sort: {started:?}");

    let sheet_sorts = [time("created_at"), time("updated_at"), ("date", Kind::Date), ("hours", Kind::Decimal)];
    sorts(&sys, Helpdesk, &format!("/tickets/{ticket}/timesheets"), &sheet_sorts, &sheets, false).await?;
    // Another ticket's time is not this one's, whatever the order.
    let none = sys.get(Helpdesk, &format!("/tickets/{}/timesheets?sort=hours", tickets[1])).await?;
    assert_eq!(items(&none).len(), 0, "{none}");

    sys.stop().await;
    Ok(())
}

on_both!(projects_lists_sort, projects_lists_sort_on_sqlite, projects_lists_sort_on_postgres);
on_both!(helpdesk_lists_sort, helpdesk_lists_sort_on_sqlite, helpdesk_lists_sort_on_postgres);
