//! What the services say to each other: the bodies one sends and the parts of answers it
//! reads. The owner's API documents the full shapes; these are the caller's view, lenient on
//! reading (unknown fields ignored) so that an owner can add fields without breaking callers.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Dec2;

/// Outbox aggregate of everything about one sale line.
pub fn sale_line_aggregate(line: Uuid) -> String {
    format!("sale_line:{line}")
}

// ---- projects ----

/// `POST /api/v1/projects` (projects). A caller may choose the id, which makes the create
/// idempotent by id as well as by `Idempotency-Key`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewProject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub name: String,
    pub customer_id: Option<Uuid>,
    pub sale_line_id: Option<Uuid>,
}

/// `POST /api/v1/tasks` (projects), as sales sends it on confirm.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTask {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub project_id: Uuid,
    pub name: String,
    pub customer_id: Option<Uuid>,
    pub sale_order_id: Option<Uuid>,
    pub sale_line_id: Option<Uuid>,
    pub allocated_hours: Dec2,
}

/// The parts of a project (projects) its callers read.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectView {
    pub id: Uuid,
    pub name: String,
    pub customer_id: Option<Uuid>,
    pub sale_line_id: Option<Uuid>,
}

/// The parts of a task (projects) its callers read.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskView {
    pub id: Uuid,
    pub project_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub sale_order_id: Option<Uuid>,
    pub sale_line_id: Option<Uuid>,
}

/// `POST /api/v1/timesheets` (projects), as helpdesk sends it for ticket time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTimesheet {
    pub employee: String,
    pub hours: Dec2,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sale_line_id: Option<Uuid>,
    /// Whom the time is recorded for (the agent's token subject); projects honours it from a
    /// `service` caller only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Whose the ticket is: helpdesk owns tickets, so projects takes this from helpdesk's own
    /// token as it would take helpdesk's answer, and checks the entry without asking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_customer_id: Option<Uuid>,
}

// ---- sales ----

/// `PUT /api/v1/order-lines/{id}/timesheet-total` (sales), from projects: the line's logged
/// hours now total `hours`, as of `version`. Applied only when newer than what sales holds.
/// The same body goes to helpdesk for a ticket: `PUT /api/v1/tickets/{id}/timesheet-total`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimesheetTotal {
    pub hours: Dec2,
    pub version: i64,
}

pub fn line_timesheet_total_path(line: Uuid) -> String {
    format!("/api/v1/order-lines/{line}/timesheet-total")
}

pub fn ticket_timesheet_total_path(ticket: Uuid) -> String {
    format!("/api/v1/tickets/{ticket}/timesheet-total")
}

/// `PUT /api/v1/order-lines/{id}/invoiced-total` (sales), from invoicing: the line's invoiced
/// quantity (invoices not cancelled, drafts included, minus credit notes) is now `quantity`, as
/// of `version`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoicedTotal {
    pub quantity: Dec2,
    pub version: i64,
}

pub fn line_invoiced_total_path(line: Uuid) -> String {
    format!("/api/v1/order-lines/{line}/invoiced-total")
}

/// Whether a receiver applied a versioned total or already held a newer one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TotalApplied {
    pub applied: bool,
    pub version: i64,
}

/// The parts of an order line (sales) its callers read.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderLineView {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    /// `draft`, `sale` or `cancel`.
    pub order_state: String,
    /// `service` or `goods`.
    pub product_type: String,
    pub remaining_hours: Option<Dec2>,
    pub task_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
}

// ---- invoicing ----

/// `POST /api/v1/invoices` (invoicing), as sales sends it for an order. Sales chooses the id
/// when it has claimed timesheets for the invoice first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewInvoice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub customer_id: Uuid,
    pub sale_order_id: Option<Uuid>,
    pub lines: Vec<NewInvoiceLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewInvoiceLine {
    pub sale_line_id: Option<Uuid>,
    pub description: String,
    pub quantity: Dec2,
    pub uom: String,
    pub unit_price: Dec2,
    pub discount: Dec2,
    pub tax_rate: Dec2,
    /// The line bills timesheets (a `timesheet` policy line): credited whole or not at all,
    /// and cancelling or crediting it releases its timesheets in projects.
    #[serde(default)]
    pub bills_timesheets: bool,
}

// ---- projects: billing timesheets ----

/// `POST /api/v1/timesheet-claims` (projects): stamps the unbilled timesheets of these sale
/// lines (dated within the period, when given) with the invoice id, atomically, and answers
/// the hours claimed per line. Repeating it for the same invoice claims nothing new and
/// answers the same hours.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimTimesheets {
    pub invoice_id: Uuid,
    pub sale_line_ids: Vec<Uuid>,
    pub date_from: Option<chrono::NaiveDate>,
    pub date_to: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimedLine {
    pub sale_line_id: Uuid,
    pub hours: Dec2,
    pub timesheets: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimedTimesheets {
    pub invoice_id: Uuid,
    pub lines: Vec<ClaimedLine>,
}

/// `POST /api/v1/timesheet-claims/{invoice_id}/release` (projects): the invoice was cancelled
/// or credited; its timesheets (of these lines, or all) are unbilled again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseTimesheets {
    pub sale_line_ids: Option<Vec<Uuid>>,
}

pub fn release_claim_path(invoice: Uuid) -> String {
    format!("/api/v1/timesheet-claims/{invoice}/release")
}
