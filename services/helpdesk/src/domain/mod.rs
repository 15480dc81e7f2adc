//! Helpdesk's business rules and use cases. No HTTP framework and no SQL here: store work
//! runs through the service's `Db`, peer questions through `crate::peers`, and no peer call
//! is ever made inside a database transaction.

pub mod access;
pub mod teams;
pub mod tickets;
pub mod time;

use shared::peer::PeerError;
use shared::problem::FieldError;

pub use shared::error::{Checks, Error, Result, check_text};

/// Checks an optional long text: at most 10000 characters, tabs and line breaks allowed, no
/// other control character.
pub fn check_description(checks: &mut Checks, value: Option<&str>) {
    if let Some(d) = value {
        shared::error::check_long_text(checks, "description", d, shared::error::DESCRIPTION_MAX);
    }
}

/// A peer's 422 about what we sent on the caller's behalf, passed on with its field names;
/// any other failure stays a peer failure (unreachable: 503).
pub fn peer_rejection(e: PeerError) -> Error {
    match e {
        PeerError::Rejected { peer, status: 422, body } => {
            let errors: Vec<FieldError> = body
                .get("errors")
                .and_then(|e| e.as_array())
                .map(|list| {
                    list.iter()
                        .filter_map(|e| Some(FieldError::new(e.get("field")?.as_str()?, e.get("message")?.as_str()?)))
                        .collect()
                })
                .unwrap_or_default();
            if errors.is_empty() {
                let detail = body.get("detail").and_then(|d| d.as_str()).unwrap_or("rejected");
                Error::invalid(peer.name(), detail)
            } else {
                Error::Invalid(errors)
            }
        }
        other => Error::Peer(other),
    }
}

shared::refusals! {
    /// Every refusal of this service: the `code` of each 409 its domain answers.
    pub enum Refusal {
        /// The ticket's team has no project for its time.
        TeamWithoutProject = "team_without_project",
        /// The timesheet is billed on an invoice (projects' rule).
        TimesheetInvoiced = "timesheet_invoiced",
        /// The ticket's team does not use timesheets.
        TimesheetsDisabled = "timesheets_disabled",
    }
}
