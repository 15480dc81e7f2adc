//! What projects asks of its peers: whose a sale line is (sales) and whose a ticket is
//! (helpdesk), so that time never counts on another customer's line (`domain::customers`).
//!
//! Projects never reads another service's database, yet checks every timesheet write against
//! these two facts. Both never change: an order has no customer edit, and a ticket keeps the
//! customer it was opened for. So an answer is remembered for good (`store::customers`), each
//! line and ticket is asked about once, when a write first needs it, and the question is asked
//! before the write's transaction, never inside it. After that, checking a timesheet is a
//! local read. A line or ticket its owner does not know is a 422 on the field that named it; an
//! owner that cannot answer is a 503, and nothing is recorded.

use serde::Deserialize;
use shared::auth::Caller;
use shared::config::Service;
use shared::contracts::OrderLineView;
use shared::error::Error;
use shared::ids::{CustomerId, SaleLineId, TaskId, TicketId, TimesheetId};
use shared::peer::{PeerClient, PeerError};
use shared::problem::ApiError;
use shared::server::Ctx;

use crate::domain::customers::{Customers, Fact};
use crate::domain::tasks::{self, TaskChanges};
use crate::domain::timesheets::{self, LogTime, TimesheetChanges};
use crate::store;

/// The part of a ticket (helpdesk) projects reads.
#[derive(Debug, Clone, Deserialize)]
struct TicketView {
    customer_id: Option<CustomerId>,
}

/// A 404 becomes `None`; every other failure stays.
fn found<T>(r: Result<T, PeerError>) -> Result<Option<T>, PeerError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.rejected_status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET {sales}/api/v1/order-lines/{id}`: the customer of the line's order; `None` when sales
/// knows no such line.
pub async fn line_customer(peers: &PeerClient, id: SaleLineId) -> Result<Option<CustomerId>, PeerError> {
    let line: Option<OrderLineView> = found(peers.get(Service::Sales, &format!("/api/v1/order-lines/{id}")).await)?;
    Ok(line.map(|l| CustomerId(l.customer_id)))
}

/// `GET {helpdesk}/api/v1/tickets/{id}`: the ticket's customer (`Some(None)`: it has none);
/// `None` when helpdesk knows no such ticket.
pub async fn ticket_customer(peers: &PeerClient, id: TicketId) -> Result<Option<Option<CustomerId>>, PeerError> {
    let ticket: Option<TicketView> = found(peers.get(Service::Helpdesk, &format!("/api/v1/tickets/{id}")).await)?;
    Ok(ticket.map(|t| t.customer_id))
}

/// Asks the owners whose these lines and tickets are, and remembers the answers.
pub async fn learn(ctx: &Ctx, unknown: Vec<(Fact, &'static str)>) -> Result<(), ApiError> {
    if unknown.is_empty() {
        return Ok(());
    }
    let mut learned = Customers::default();
    for (fact, field) in unknown {
        match fact {
            Fact::Line(l) => match line_customer(&ctx.peers, l).await? {
                Some(c) => {
                    learned.lines.insert(l, c);
                }
                None => return Err(Error::invalid(field, format!("sales knows no sale line {l}")).into()),
            },
            Fact::Ticket(t) => match ticket_customer(&ctx.peers, t).await? {
                Some(c) => {
                    learned.tickets.insert(t, c);
                }
                None => return Err(Error::invalid(field, format!("helpdesk knows no ticket {t}")).into()),
            },
        }
    }
    ctx.db.write(move |c| store::customers::remember(c, &learned).map_err(ApiError::from)).await
}

/// Before time is recorded: learns whose its sale line and ticket are, when projects does not
/// know yet (a request that would be refused anyway is refused here, unasked).
pub async fn learn_for_log(
    ctx: &Ctx,
    caller: &Caller,
    cmd: &LogTime,
    on_behalf_of: Option<&str>,
) -> Result<(), ApiError> {
    if !timesheets::needs_customers(cmd) {
        return Ok(());
    }
    let (caller, cmd, who) = (caller.clone(), cmd.clone(), on_behalf_of.map(str::to_owned));
    let unknown = ctx.db.run(move |c| timesheets::unknown_customers_for_log(c, &caller, &cmd, who.as_deref())).await?;
    learn(ctx, unknown).await
}

/// Before a timesheet is edited or moved: as [`learn_for_log`], for what it will be linked to.
pub async fn learn_for_edit(
    ctx: &Ctx,
    caller: &Caller,
    id: TimesheetId,
    changes: &TimesheetChanges,
) -> Result<(), ApiError> {
    let (caller, changes) = (caller.clone(), changes.clone());
    let unknown = ctx.db.run(move |c| timesheets::unknown_customers_for_edit(c, &caller, id, &changes)).await?;
    learn(ctx, unknown).await
}

/// Before a task moves to another sale line: whose that line is, and the tickets of the time
/// that moves along.
pub async fn learn_for_task(ctx: &Ctx, caller: &Caller, id: TaskId, changes: &TaskChanges) -> Result<(), ApiError> {
    if changes.sale_line_id.is_none() {
        return Ok(());
    }
    let (caller, changes) = (caller.clone(), changes.clone());
    let unknown = ctx.db.run(move |c| tasks::unknown_customers_for_update(c, &caller, id, &changes)).await?;
    learn(ctx, unknown).await
}
