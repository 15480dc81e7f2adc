//! Projects' business rules and use cases. No HTTP and no SQL here: use cases take a
//! connection only to hand it to the store, inside the caller's transaction.

pub mod access;
pub mod billing;
pub mod customers;
pub mod ledger;
pub mod projects;
pub mod tasks;
pub mod timesheets;

pub use shared::error::{Checks, Error, Result, check_text};

/// A period given by its two optional ends must not end before it starts.
pub fn check_period(from: Option<chrono::NaiveDate>, to: Option<chrono::NaiveDate>) -> Result<()> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(Error::invalid("date_from", "must not be after date_to")),
        _ => Ok(()),
    }
}

shared::refusals! {
    /// Every refusal of this service: the `code` of each 409 its domain answers.
    pub enum Refusal {
        /// A task's or ticket's links changed while the request was checked.
        LinksChanged = "links_changed",
        /// The task moved to another sale line while the time was recorded.
        TaskMoved = "task_moved",
        /// The timesheet is billed on an invoice.
        TimesheetInvoiced = "timesheet_invoiced",
    }
}
