//! What invoicing tells the other services, in the same transaction as the change it
//! announces: each sale line's invoiced quantity (absolute, with a growing version, so sales
//! applies it once and in order whatever is retried or duplicated), and the release of the
//! timesheets an invoice billed once it is cancelled or credited.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use shared::config::Service;
use shared::contracts::{
    InvoicedTotal, ReleaseTimesheets, line_invoiced_total_path, release_claim_path, sale_line_aggregate,
};
use shared::db::DbConn;
use shared::ids::{InvoiceId, SaleLineId};
use shared::outbox::{self, Message};

use super::Result;
use super::invoices::Invoice;
use crate::store;

/// Invoiced quantity added (or, negative, removed) per sale line by a change.
#[derive(Debug, Default)]
pub struct InvoicedDeltas(BTreeMap<SaleLineId, Decimal>);

impl InvoicedDeltas {
    /// Counts the invoice's lines on their sale lines: `sign` 1 when it starts to count (it was
    /// created), -1 when it stops (it was cancelled). Credit notes count negatively.
    pub fn count(&mut self, invoice: &Invoice, sign: Decimal) {
        for line in &invoice.lines {
            if let Some(sale_line) = line.sale_line_id {
                *self.0.entry(sale_line).or_default() += line.quantity * invoice.kind.sign() * sign;
            }
        }
    }

    /// Applies the deltas and announces every sale line whose quantity changed. Lines are
    /// taken in id order so that concurrent transactions lock their rows in one order.
    pub fn apply(self, conn: &mut DbConn) -> Result<()> {
        for (line, delta) in self.0.into_iter().filter(|(_, d)| !d.is_zero()) {
            let (quantity, version) = store::totals::add_invoiced(conn, line, delta)?;
            let total = InvoicedTotal { quantity: quantity.into(), version };
            let path = line_invoiced_total_path(line.0);
            let message = Message::new(sale_line_aggregate(line.0), Service::Sales, "PUT", path, &total, true)?;
            outbox::enqueue(conn, message)?;
        }
        Ok(())
    }
}

/// Asks projects to unbill the timesheets that `claim` (the invoice that claimed them) billed
/// on these sale lines. Nothing is sent when there are none.
pub fn release_timesheets(conn: &mut DbConn, claim: InvoiceId, sale_lines: Vec<SaleLineId>) -> Result<()> {
    if sale_lines.is_empty() {
        return Ok(());
    }
    let body = ReleaseTimesheets { sale_line_ids: Some(sale_lines.into_iter().map(|l| l.0).collect()) };
    let message =
        Message::new(format!("invoice:{claim}"), Service::Projects, "POST", release_claim_path(claim.0), &body, false)?;
    outbox::enqueue(conn, message)?;
    Ok(())
}
