//! Claims never left dangling. Sales claims timesheets for an invoice, then asks invoicing to
//! make it; when that call's outcome stays unknown and nobody asks again, the timesheets would
//! stay billed by an invoice that may not exist. Projects owns the claims, so it settles them:
//! a claim still open a while after it was made is checked against invoicing; an invoice that
//! exists keeps it, one that does not (404) releases it. A claim asked again meanwhile (a retry,
//! which may be making the invoice now) is left for the next round.

use std::time::Duration;

use shared::config::Service;
use shared::ids::InvoiceId;
use shared::server::Ctx;
use tokio_util::sync::CancellationToken;

use crate::domain::{Error, billing};

/// How often open claims are looked at, and how old a claim must be to be checked: well past
/// the deadline of the request that made it (sales asks invoicing for 25 s at most).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub every: Duration,
    pub after: Duration,
}

impl Timing {
    pub const DEFAULT: Timing = Timing { every: Duration::from_secs(30), after: Duration::from_secs(120) };

    /// The default, or in a test build what `RECONCILE_MS` says (`every,after`).
    pub fn from_env() -> Timing {
        match shared::fault::test_millis_pair("RECONCILE_MS") {
            Some((every, after)) => Timing { every, after },
            None => Timing::DEFAULT,
        }
    }
}

/// Runs until `stop`: a round every `timing.every`.
pub async fn run(ctx: Ctx, stop: CancellationToken) {
    let timing = Timing::from_env();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(timing.every) => {}
        }
        if let Err(e) = round(&ctx, timing.after).await {
            tracing::warn!(error = %e, "could not reconcile open timesheet claims");
        }
    }
}

/// Checks every claim open for longer than `after`; answers how many it released.
pub async fn round(ctx: &Ctx, after: Duration) -> Result<usize, Error> {
    let before = shared::db::now() - chrono::Duration::milliseconds(after.as_millis() as i64);
    let open = ctx.db.run(move |c| billing::unsettled_claims(c, before)).await?;
    let mut released = 0;
    for (invoice, made_at) in open {
        match invoice_exists(ctx, invoice).await {
            Some(true) => ctx.db.write(move |c| billing::claim_stands(c, invoice)).await?,
            Some(false) => {
                let n = ctx.db.write(move |c| billing::abandon_claim(c, invoice, made_at)).await?;
                if n > 0 {
                    tracing::info!(%invoice, timesheets = n, "released the timesheets of an invoice that was never made");
                }
                released += n;
            }
            None => {}
        }
    }
    Ok(released)
}

/// Whether invoicing has the invoice; `None` when it cannot say now.
async fn invoice_exists(ctx: &Ctx, invoice: InvoiceId) -> Option<bool> {
    let path = format!("/api/v1/invoices/{invoice}");
    match ctx.peers.get::<serde_json::Value>(Service::Invoicing, &path).await {
        Ok(_) => Some(true),
        Err(e) if e.rejected_status() == Some(404) => Some(false),
        Err(e) => {
            tracing::debug!(%invoice, error = %e, "invoicing cannot say whether an invoice exists; later");
            None
        }
    }
}
