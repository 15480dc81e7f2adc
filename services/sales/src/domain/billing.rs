//! Flow 3, sending end: invoicing an order (claiming the timesheets of `timesheet` lines
//! first) and cancelling one (its draft invoices with it). Every call to another service
//! happens outside any transaction; a failure leaves nothing changed here.

use super::Refusal;
use std::collections::HashMap;

use chrono::NaiveDate;
use reqwest::Method;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use shared::auth::Caller;
use shared::config::Service;
use shared::contracts::{
    ClaimTimesheets, ClaimedTimesheets, NewInvoice, NewInvoiceLine, ReleaseTimesheets, release_claim_path,
};
use shared::db::DbConn;
use shared::decimal::round_half_up;
use shared::ids::{InvoiceId, OrderId};
use shared::peer::PeerError;
use shared::server::Ctx;
use uuid::Uuid;

use super::lines::Line;
use super::orders::{self, OrderWithLines};
use super::{Error, OrderState, Result, ServicePolicy};
use crate::store;

pub const INVOICES_PATH: &str = "/api/v1/invoices";
pub const CLAIMS_PATH: &str = "/api/v1/timesheet-claims";

/// Limits `timesheet` lines to the unbilled time logged in this period (both ends included).
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The invoice invoicing created, as it answered.
#[derive(Debug, Clone)]
pub struct CreatedInvoice {
    pub id: Uuid,
    pub location: String,
    pub body: serde_json::Value,
}

/// The invoice id for the order in its current invoiced state and the requested period: the
/// same for two identical requests (so they make one invoice), another once anything was
/// invoiced or credited, or when another period is asked for (which must not get the first
/// request's invoice back).
fn invoice_id(o: &OrderWithLines, period: Period) -> InvoiceId {
    let mut h = Sha256::new();
    h.update(o.order.id.0.as_bytes());
    for end in [period.from, period.to] {
        h.update(end.map(|d| d.to_string()).unwrap_or_else(|| "-".into()).as_bytes());
        h.update(b"|");
    }
    let mut lines: Vec<&Line> = o.lines.iter().collect();
    lines.sort_by_key(|l| l.seq);
    for l in lines {
        h.update(l.id.0.as_bytes());
        h.update(l.invoiced_version.to_be_bytes());
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // An RFC 9562 version 8 (custom) UUID.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    InvoiceId(Uuid::from_bytes(bytes))
}

/// A definite refusal by a peer is the caller's 422; anything else a peer failure (503).
fn refused(e: PeerError) -> Error {
    match e {
        PeerError::Rejected { peer, status, body } if !matches!(status, 408 | 425 | 429) => {
            let detail = body
                .get("detail")
                .and_then(|d| d.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("answered {status}"));
            Error::invalid(peer.name(), detail)
        }
        other => Error::Peer(other),
    }
}

/// Creates one draft invoice in invoicing for every line with something to invoice.
pub async fn invoice(ctx: &Ctx, caller: &Caller, id: OrderId, period: Period) -> Result<CreatedInvoice> {
    super::access::may_invoice_orders(caller)?;
    if let (Some(from), Some(to)) = (period.from, period.to)
        && from > to
    {
        return Err(Error::invalid("timesheets_to", "must not be before timesheets_from"));
    }
    let o = ctx.db.run(move |c| orders::load(c, id)).await?;
    if o.order.state != OrderState::Sale {
        return Err(Error::conflict(
            Refusal::OrderNotConfirmed,
            format!("order {} is {}; only confirmed orders are invoiced", o.order.name, o.order.state),
        ));
    }
    let mut candidates: Vec<&Line> =
        o.lines.iter().filter(|l| l.qty_to_invoice(OrderState::Sale) > Decimal::ZERO).collect();
    candidates.sort_by_key(|l| l.seq);
    if candidates.is_empty() {
        return Err(nothing_to_invoice(&o));
    }
    let invoice = invoice_id(&o, period);
    let timesheet_lines: Vec<Uuid> =
        candidates.iter().filter(|l| l.service_policy == Some(ServicePolicy::Timesheet)).map(|l| l.id.0).collect();
    let claimed =
        if timesheet_lines.is_empty() { HashMap::new() } else { claim(ctx, invoice, timesheet_lines, period).await? };
    let claimed_any = claimed.values().any(|h| !h.is_zero());
    let mut lines = Vec::new();
    for l in candidates {
        let bills_timesheets = l.service_policy == Some(ServicePolicy::Timesheet);
        let quantity = if bills_timesheets {
            let hours = claimed.get(&l.id.0).copied().unwrap_or(Decimal::ZERO);
            if l.uom.is_time() { round_half_up(hours / l.uom.hours(), 2) } else { hours }
        } else {
            l.qty_to_invoice(OrderState::Sale)
        };
        if quantity <= Decimal::ZERO {
            continue;
        }
        lines.push(NewInvoiceLine {
            sale_line_id: Some(l.id.0),
            description: l.description.clone(),
            quantity: quantity.into(),
            uom: l.uom.as_str().to_owned(),
            unit_price: l.unit_price.into(),
            discount: l.discount.into(),
            tax_rate: l.tax_rate.into(),
            bills_timesheets,
        });
    }
    if lines.is_empty() {
        if claimed_any {
            release(ctx, invoice).await;
        }
        return Err(nothing_to_invoice(&o));
    }
    let body = NewInvoice {
        id: Some(invoice.0),
        customer_id: o.order.customer_id.0,
        sale_order_id: Some(o.order.id.0),
        lines,
    };
    match create_invoice(ctx, invoice, &body).await {
        Ok(answer) => {
            let created =
                answer.get("id").and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok()).unwrap_or(invoice.0);
            // Relative, as every create answers: invoicing's own address is internal (under
            // compose `http://invoicing:8082`), and behind one origin the path is the same.
            let location = format!("{INVOICES_PATH}/{created}");
            Ok(CreatedInvoice { id: created, location, body: answer })
        }
        Err(e) => {
            if claimed_any && should_release(ctx, invoice, &e).await {
                release(ctx, invoice).await;
            }
            Err(refused(e))
        }
    }
}

fn nothing_to_invoice(o: &OrderWithLines) -> Error {
    Error::conflict(Refusal::NothingToInvoice, format!("order {} has nothing to invoice", o.order.name))
}

async fn claim(ctx: &Ctx, invoice: InvoiceId, lines: Vec<Uuid>, period: Period) -> Result<HashMap<Uuid, Decimal>> {
    let body =
        ClaimTimesheets { invoice_id: invoice.0, sale_line_ids: lines, date_from: period.from, date_to: period.to };
    // Projects makes a claim idempotent by the invoice id itself (a repeat answers what the
    // invoice already holds). The key is this attempt's only: a claim released after a failed
    // attempt must stamp the timesheets again on the retry, not replay the first answer.
    let key = format!("sales-claim-{invoice}-{}", Uuid::now_v7());
    let claimed: ClaimedTimesheets =
        ctx.peers.call(Service::Projects, Method::POST, CLAIMS_PATH, Some(&body), Some(&key)).await.map_err(refused)?;
    let mut hours = HashMap::new();
    for l in claimed.lines {
        *hours.entry(l.sale_line_id).or_insert(Decimal::ZERO) += l.hours.0;
    }
    Ok(hours)
}

/// Posts the invoice under a key of its own id: the same invoice is never made twice, and a
/// call whose outcome is unknown is asked again with that key until invoicing says.
async fn create_invoice(
    ctx: &Ctx,
    invoice: InvoiceId,
    body: &NewInvoice,
) -> std::result::Result<serde_json::Value, PeerError> {
    let key = format!("sales-invoice-{invoice}");
    ctx.peers
        .call::<_, serde_json::Value>(Service::Invoicing, Method::POST, INVOICES_PATH, Some(body), Some(&key))
        .await
}

/// The claim is released at once only when the invoice surely does not exist: a lost answer
/// may hide an invoice that was made, and its timesheets must stay billed. When it cannot be
/// told now, the claim stays and [`reconcile`] settles it later.
async fn should_release(ctx: &Ctx, invoice: InvoiceId, error: &PeerError) -> bool {
    if !error.may_have_arrived() {
        return true;
    }
    let path = format!("{INVOICES_PATH}/{invoice}");
    match ctx.peers.get::<serde_json::Value>(Service::Invoicing, &path).await {
        Ok(_) => false,
        Err(e) if e.rejected_status() == Some(404) => true,
        Err(_) => false,
    }
}

/// Gives the invoice's timesheets back; when projects cannot be told now, the outbox tells it.
async fn release(ctx: &Ctx, invoice: InvoiceId) {
    let body = ReleaseTimesheets { sale_line_ids: None };
    let path = release_claim_path(invoice.0);
    let key = Uuid::now_v7().to_string();
    let sent =
        ctx.peers.call::<_, serde_json::Value>(Service::Projects, Method::POST, &path, Some(&body), Some(&key)).await;
    if let Err(e) = sent {
        tracing::warn!(invoice = %invoice, error = %e, "could not release claimed timesheets; queued");
        let aggregate = format!("invoice:{invoice}");
        let queued = ctx
            .db
            .write(move |c| {
                let message = shared::outbox::Message::new(aggregate, Service::Projects, "POST", path, &body, false)?;
                shared::outbox::enqueue(c, message)
            })
            .await;
        if let Err(e) = queued {
            tracing::error!(invoice = %invoice, error = %e, "could not queue the release of claimed timesheets");
        }
    }
}

/// What cancelling needs to know of an invoice.
#[derive(Debug, Clone, serde::Deserialize)]
struct InvoiceSummary {
    id: Uuid,
    kind: String,
    state: String,
    #[serde(default)]
    reversed_invoice_id: Option<Uuid>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct InvoicePage {
    items: Vec<InvoiceSummary>,
    next_cursor: Option<String>,
}

async fn invoices_of(ctx: &Ctx, order: OrderId) -> Result<Vec<InvoiceSummary>> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{INVOICES_PATH}?sale_order_id={order}&limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: InvoicePage = ctx.peers.get(Service::Invoicing, &path).await.map_err(Error::Peer)?;
        all.extend(page.items);
        match page.next_cursor {
            Some(c) if !c.is_empty() => cursor = Some(c),
            _ => return Ok(all),
        }
    }
}

/// Gets an order ready to cancel: refused while a posted invoice of it stands that no posted
/// credit note reverses; its draft invoices are cancelled (in invoicing) first. Tasks and
/// projects stay linked. [`cancel`] then cancels it here.
pub async fn prepare_cancel(ctx: &Ctx, caller: &Caller, id: OrderId) -> Result<()> {
    super::access::may_sell(caller)?;
    let o = ctx.db.run(move |c| orders::load(c, id)).await?;
    if o.order.state == OrderState::Cancel {
        return Err(Error::conflict(Refusal::OrderCancelled, format!("order {} is already cancelled", o.order.name)));
    }
    if o.order.state == OrderState::Sale {
        let invoices = invoices_of(ctx, id).await?;
        let reversed: Vec<Uuid> = invoices
            .iter()
            .filter(|i| i.kind == "credit_note" && i.state == "posted")
            .filter_map(|i| i.reversed_invoice_id)
            .collect();
        if let Some(posted) =
            invoices.iter().find(|i| i.kind == "invoice" && i.state == "posted" && !reversed.contains(&i.id))
        {
            return Err(Error::conflict(
                Refusal::OrderInvoiced,
                format!(
                    "order {} has posted invoice {} that no credit note reverses; credit it first",
                    o.order.name, posted.id
                ),
            ));
        }
        for draft in invoices.iter().filter(|i| i.kind == "invoice" && i.state == "draft") {
            let path = format!("{INVOICES_PATH}/{}/cancel", draft.id);
            let key = format!("sales-cancel-{}", draft.id);
            let res = ctx
                .peers
                .call::<(), serde_json::Value>(Service::Invoicing, Method::POST, &path, None, Some(&key))
                .await;
            match res {
                Ok(_) => {}
                // Cancelled meanwhile: nothing left to do for it.
                Err(e) if e.rejected_status() == Some(409) => {}
                Err(e) => return Err(Error::Peer(e)),
            }
        }
    }
    Ok(())
}

/// Cancels an order made ready by [`prepare_cancel`], in the caller's transaction.
pub fn cancel(c: &mut DbConn, id: OrderId) -> Result<OrderWithLines> {
    store::orders::lock(c, id)?;
    let o = orders::load(c, id)?;
    if o.order.state == OrderState::Cancel {
        return Err(Error::conflict(Refusal::OrderCancelled, format!("order {} is already cancelled", o.order.name)));
    }
    store::orders::set_state(c, id, OrderState::Cancel, o.order.confirmed_at)?;
    orders::refresh_status(c, id)
}
