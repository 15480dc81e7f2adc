//! Invoicing's business rules and use cases. No HTTP and no SQL here: use cases take a
//! connection only to hand it to the store, inside the caller's transaction.

pub mod access;
pub mod invoices;
pub mod ledger;
pub mod lifecycle;
pub mod payments;

pub use shared::error::{Checks, Error, Result, check_text};

shared::refusals! {
    /// Every refusal of this service: the `code` of each 409 its domain answers.
    pub enum Refusal {
        /// The credit note released billed timesheets when posted.
        CreditNoteReleasedTimesheets = "credit_note_released_timesheets",
        /// The invoice is cancelled already.
        InvoiceCancelled = "invoice_cancelled",
        /// A credit note that is not cancelled reverses the invoice.
        InvoiceCredited = "invoice_credited",
        /// The invoice has payments.
        InvoiceHasPayments = "invoice_has_payments",
        /// Only a draft invoice can be posted.
        InvoiceNotDraft = "invoice_not_draft",
        /// The invoice is not posted.
        InvoiceNotPosted = "invoice_not_posted",
        /// A credit note cannot be credited.
        NotAnInvoice = "not_an_invoice",
        /// Everything on the invoice is credited already.
        NothingToCredit = "nothing_to_credit",
    }
}
