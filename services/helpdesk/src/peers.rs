//! What helpdesk asks of its peers: projects (projects, tasks, timesheets) and sales (order
//! lines, prepaid hours). Reads are lenient (unknown fields ignored); a 404 is `None`, so the
//! caller can turn an unknown referenced id into a 422 on the field that named it.

use reqwest::Method;
use serde::Deserialize;
use shared::Dec2;
use shared::config::Service;
use shared::contracts::{NewProject, NewTimesheet, OrderLineView, ProjectView, TaskView};
use shared::ids::{CustomerId, InvoiceId, ProjectId, SaleLineId, TaskId, TicketId, TimesheetId};
use shared::page::MAX_LIMIT;
use shared::peer::{PeerClient, PeerError};

/// `GET {sales}/api/v1/customers/{id}/prepaid-hours`: the customer's confirmed prepaid lines.
#[derive(Debug, Clone, Deserialize)]
pub struct PrepaidHours {
    #[serde(default)]
    pub lines: Vec<PrepaidLine>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PrepaidLine {
    pub sale_line_id: SaleLineId,
    /// `S00001`, `S00002`, …: gap-free, so the smallest is the first bought.
    #[serde(default)]
    pub order_name: String,
    pub remaining_hours: Dec2,
}

/// The parts of a timesheet (projects) helpdesk reads when moving a ticket's time.
#[derive(Debug, Clone, Deserialize)]
pub struct TimesheetView {
    pub id: TimesheetId,
    pub task_id: Option<TaskId>,
    pub sale_line_id: Option<SaleLineId>,
    pub invoice_id: Option<InvoiceId>,
}

#[derive(Debug, Clone, Deserialize)]
struct PageView<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// A 404 becomes `None`; every other failure stays.
pub fn found<T>(r: Result<T, PeerError>) -> Result<Option<T>, PeerError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.rejected_status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn project(peers: &PeerClient, id: ProjectId) -> Result<Option<ProjectView>, PeerError> {
    found(peers.get(Service::Projects, &format!("/api/v1/projects/{id}")).await)
}

/// Creates a project with an id chosen here, so a retry cannot make a second one.
pub async fn create_project(peers: &PeerClient, id: ProjectId, name: &str) -> Result<ProjectView, PeerError> {
    let body = NewProject { id: Some(id.0), name: name.to_owned(), customer_id: None, sale_line_id: None };
    let key = format!("helpdesk-team-project:{id}");
    peers.call(Service::Projects, Method::POST, "/api/v1/projects", Some(&body), Some(&key)).await
}

pub async fn task(peers: &PeerClient, id: TaskId) -> Result<Option<TaskView>, PeerError> {
    found(peers.get(Service::Projects, &format!("/api/v1/tasks/{id}")).await)
}

pub async fn order_line(peers: &PeerClient, id: SaleLineId) -> Result<Option<OrderLineView>, PeerError> {
    found(peers.get(Service::Sales, &format!("/api/v1/order-lines/{id}")).await)
}

pub async fn prepaid_hours(peers: &PeerClient, customer: CustomerId) -> Result<Option<PrepaidHours>, PeerError> {
    found(peers.get(Service::Sales, &format!("/api/v1/customers/{customer}/prepaid-hours")).await)
}

/// Records a timesheet; answers projects' timesheet as it sent it.
pub async fn log_time(peers: &PeerClient, body: &NewTimesheet, key: &str) -> Result<serde_json::Value, PeerError> {
    peers.call(Service::Projects, Method::POST, "/api/v1/timesheets", Some(body), Some(key)).await
}

/// One page of a ticket's timesheets, as projects sent it: after `cursor` (projects' own), in
/// `sort`'s order (projects' default when none).
pub async fn timesheet_page(
    peers: &PeerClient,
    ticket: TicketId,
    limit: i64,
    cursor: Option<&str>,
    sort: Option<&str>,
) -> Result<serde_json::Value, PeerError> {
    let mut path = format!("/api/v1/timesheets?ticket_id={ticket}&limit={limit}");
    if let Some(s) = sort {
        path.push_str(&format!("&sort={}", encode(s)));
    }
    if let Some(c) = cursor {
        path.push_str(&format!("&cursor={}", encode(c)));
    }
    peers.get(Service::Projects, &path).await
}

/// A query string value, percent-encoded: every byte but ASCII letters, digits and `-._~`.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Changes a timesheet, only if it is still the version `held` (its `ETag`) when one is given;
/// answers projects' timesheet as it sent it.
pub async fn edit_timesheet(
    peers: &PeerClient,
    id: TimesheetId,
    changes: serde_json::Value,
    held: Option<&str>,
) -> Result<serde_json::Value, PeerError> {
    let path = format!("/api/v1/timesheets/{id}");
    peers.change_if_match(Service::Projects, Method::PATCH, &path, Some(changes), held).await
}

/// Deletes a timesheet, only if it is still the version `held` when one is given.
pub async fn delete_timesheet(peers: &PeerClient, id: TimesheetId, held: Option<&str>) -> Result<(), PeerError> {
    let path = format!("/api/v1/timesheets/{id}");
    peers.change_if_match(Service::Projects, Method::DELETE, &path, None, held).await.map(|_| ())
}

pub async fn timesheet(peers: &PeerClient, id: TimesheetId) -> Result<Option<serde_json::Value>, PeerError> {
    found(peers.get(Service::Projects, &format!("/api/v1/timesheets/{id}")).await)
}

/// Every timesheet of a ticket, all pages.
pub async fn ticket_timesheets(peers: &PeerClient, ticket: TicketId) -> Result<Vec<TimesheetView>, PeerError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/timesheets?ticket_id={ticket}&limit={MAX_LIMIT}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", encode(c)));
        }
        let page: PageView<TimesheetView> = peers.get(Service::Projects, &path).await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(all),
        }
    }
}

/// Changes a timesheet (`PATCH`, absolute values, so repeating it is harmless).
pub async fn patch_timesheet(
    peers: &PeerClient,
    id: TimesheetId,
    changes: &serde_json::Value,
) -> Result<(), PeerError> {
    let path = format!("/api/v1/timesheets/{id}");
    peers.call::<_, serde_json::Value>(Service::Projects, Method::PATCH, &path, Some(changes), None).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_passed_on_value_cannot_add_query_parameters() {
        assert_eq!(super::encode("-created_at"), "-created_at");
        assert_eq!(super::encode("2d6372"), "2d6372");
        assert_eq!(super::encode("x&ticket_id=1 é"), "x%26ticket_id%3D1%20%C3%A9");
    }
}
