//! Sales' business rules and use cases. No HTTP and no SQL here: use cases take a connection
//! only to hand it to the store, inside the caller's transaction; the few that need another
//! service take the service context and call it outside any transaction.

pub mod access;
pub mod billing;
pub mod customers;
pub mod generation;
pub mod lines;
pub mod orders;
pub mod products;
pub mod totals;

use rust_decimal::Decimal;
pub use shared::error::{Checks, Error, Result, check_text};

/// Declares a closed set of values spelled as snake_case strings on the wire and in the store.
macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        // `rename_all` rather than a rename per variant: utoipa does not see a rename whose
        // value comes through a macro token, and the texts are the variants in snake_case.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
        $(#[$meta])*
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The accepted spellings, for error messages.
            pub fn choices() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Parses a value of a closed set from a request, recording a field error when it is unknown.
pub fn parse_choice<T>(
    checks: &mut Checks,
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    choices: String,
) -> Option<T> {
    let parsed = parse(value);
    if parsed.is_none() {
        checks.push(field, format!("must be one of: {choices}"));
    }
    parsed
}

pub use shared::uom::{Uom, UomCategory};

str_enum!(
    /// `service` or `goods`.
    #[schema(example = "service")]
    ProductType { Service = "service", Goods = "goods" }
);

str_enum!(
    /// How a service is invoiced: `prepaid` (the ordered quantity; delivered comes from
    /// timesheets), `timesheet` (the delivered quantity, from timesheets), `manual` (the
    /// delivered quantity, set by hand).
    #[schema(example = "prepaid")]
    ServicePolicy { Prepaid = "prepaid", Timesheet = "timesheet", Manual = "manual" }
);

str_enum!(
    /// What confirming an order line of a service creates in projects.
    #[schema(example = "task_in_project")]
    ServiceTracking {
        None = "none",
        TaskInProject = "task_in_project",
        TaskInNewProject = "task_in_new_project",
        ProjectOnly = "project_only",
    }
);

impl ServiceTracking {
    /// The tracking shares the order's new project.
    pub fn uses_new_project(self) -> bool {
        matches!(self, ServiceTracking::TaskInNewProject | ServiceTracking::ProjectOnly)
    }
}

str_enum!(
    /// `draft` (a quotation), `sale` (confirmed), `cancel`.
    #[schema(example = "sale")]
    OrderState { Draft = "draft", Sale = "sale", Cancel = "cancel" }
);

str_enum!(
    /// Invoice status of a line or an order: `no`, `to_invoice`, `invoiced`, `upselling`.
    #[schema(example = "to_invoice")]
    InvoiceStatus { No = "no", ToInvoice = "to_invoice", Invoiced = "invoiced", Upselling = "upselling" }
);

str_enum!(
    /// Where a line's delivered quantity comes from.
    #[schema(example = "timesheet")]
    DeliveredMethod { Timesheet = "timesheet", Manual = "manual", None = "none" }
);

/// Checks a decimal that must fit in storage: at most 2 decimals, within the given bounds.
pub fn check_amount(checks: &mut Checks, field: &str, d: Decimal, positive: bool, max: Option<Decimal>) {
    shared::decimal::check_decimal(checks, field, d, positive, max);
}

shared::refusals! {
    /// Every refusal of this service: the `code` of each 409 its domain answers.
    pub enum Refusal {
        /// The line's delivered quantity is not set by hand.
        LineNotManual = "line_not_manual",
        /// Nothing on the order is left to invoice.
        NothingToInvoice = "nothing_to_invoice",
        /// The order is cancelled.
        OrderCancelled = "order_cancelled",
        /// The order has a posted invoice no credit note reverses.
        OrderInvoiced = "order_invoiced",
        /// The order is not confirmed (draft or cancelled).
        OrderNotConfirmed = "order_not_confirmed",
        /// Only a draft order can be confirmed.
        OrderNotDraft = "order_not_draft",
        /// A product that makes tasks names no project.
        ProjectRequired = "project_required",
    }
}
