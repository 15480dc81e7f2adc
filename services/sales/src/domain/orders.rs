use super::Refusal;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::ids::{CustomerId, OrderId, ProductId, ProjectId, SaleLineId};
use shared::page::{Key, ListRequest, Page};
use shared::server::Ctx;

use super::lines::{Line, LineView, amounts};
use super::{
    Checks, Error, InvoiceStatus, OrderState, Result, ServiceTracking, Uom, access, check_amount, generation,
    parse_choice,
};
use shared::error::{MAX_ITEMS, check_count, check_long_text};

/// Longest description of an order line.
pub const DESCRIPTION_MAX: usize = 1000;
use crate::store;

#[derive(Debug, Clone)]
pub struct Order {
    pub id: OrderId,
    /// `S00001`, `S00002`, … gap-free per database.
    pub name: String,
    pub customer_id: CustomerId,
    pub state: OrderState,
    /// Kept up to date with every change to the order or its lines' totals, so that lists
    /// filter on it.
    pub invoice_status: InvoiceStatus,
    pub amount_untaxed: Decimal,
    pub amount_tax: Decimal,
    pub amount_total: Decimal,
    /// The project the order creates for its lines that want a new one.
    pub new_project_id: Option<ProjectId>,
    pub created_at: DateTime<Utc>,
    /// When it last changed (its creation at first).
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct OrderWithLines {
    pub order: Order,
    pub lines: Vec<Line>,
}

impl OrderWithLines {
    pub fn line_views(&self) -> Vec<LineView> {
        self.lines
            .iter()
            .map(|l| LineView { line: l.clone(), order_name: self.order.name.clone(), order_state: self.order.state })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct NewLine {
    pub product_id: ProductId,
    pub quantity: Decimal,
    pub uom: Option<String>,
    pub unit_price: Option<Decimal>,
    pub discount: Option<Decimal>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer_id: CustomerId,
    pub lines: Vec<NewLine>,
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub customer_id: Option<CustomerId>,
    pub state: Option<OrderState>,
    pub invoice_status: Option<InvoiceStatus>,
}

/// Builds a line from a request, recording what is wrong with it under `field` (e.g.
/// `lines[0]`); `None` when it cannot be built.
fn build_line(
    conn: &mut DbConn,
    checks: &mut Checks,
    field: &str,
    new: &NewLine,
    order: (OrderId, CustomerId),
    seq: i32,
) -> Result<Option<Line>> {
    let now = shared::db::now_utc();
    let f = |name: &str| {
        if field.is_empty() { name.to_owned() } else { format!("{field}.{name}") }
    };
    check_amount(checks, &f("quantity"), new.quantity, true, None);
    if let Some(p) = new.unit_price {
        check_amount(checks, &f("unit_price"), p, false, None);
    }
    let discount = new.discount.unwrap_or(Decimal::ZERO);
    check_amount(checks, &f("discount"), discount, false, Some(Decimal::ONE_HUNDRED));
    if let Some(d) = &new.description {
        if d.trim().is_empty() {
            checks.push(f("description"), "must not be empty");
        } else {
            check_long_text(checks, &f("description"), d, DESCRIPTION_MAX);
        }
    }
    let uom = new.uom.as_deref().and_then(|u| parse_choice(checks, &f("uom"), u, Uom::parse, Uom::choices()));
    let Some(product) = store::products::find(conn, new.product_id)? else {
        checks.push(f("product_id"), format!("no product with id {}", new.product_id));
        return Ok(None);
    };
    let uom = match (uom, new.uom.is_some()) {
        (Some(u), _) if u.category() != product.uom.category() => {
            checks.push(
                f("uom"),
                format!("must be of the product's uom category ({}), like {}", product.uom.category(), product.uom),
            );
            return Ok(None);
        }
        (Some(u), _) => u,
        (None, true) => return Ok(None),
        (None, false) => product.uom,
    };
    let unit_price = new.unit_price.unwrap_or_else(|| product.price_in(uom));
    let (subtotal, tax, total) = amounts(new.quantity, unit_price, discount, product.tax_rate);
    if shared::decimal::too_large(total) {
        checks.push(f("quantity"), "makes the line total too large (quantity × unit price must stay below 10^12)");
        return Ok(None);
    }
    Ok(Some(Line {
        id: SaleLineId::new(),
        order_id: order.0,
        customer_id: order.1,
        seq,
        product_id: product.id,
        description: new.description.as_deref().map(str::trim).unwrap_or(&product.name).to_owned(),
        quantity: new.quantity,
        uom,
        unit_price,
        discount,
        tax_rate: product.tax_rate,
        price_subtotal: subtotal,
        price_tax: tax,
        price_total: total,
        product_type: product.product_type,
        service_policy: product.service_policy,
        service_tracking: product.service_tracking,
        upsell_threshold: product.upsell_threshold,
        delivered_hours: Decimal::ZERO,
        delivered_version: 0,
        manual_delivered: Decimal::ZERO,
        invoiced_qty: Decimal::ZERO,
        invoiced_version: 0,
        task_id: None,
        project_id: None,
        pending_task_id: None,
        pending_project_id: None,
        created_at: now,
        updated_at: now,
    }))
}

fn totals(lines: &[Line]) -> (Decimal, Decimal, Decimal) {
    lines.iter().fold((Decimal::ZERO, Decimal::ZERO, Decimal::ZERO), |(u, t, a), l| {
        (u + l.price_subtotal, t + l.price_tax, a + l.price_total)
    })
}

/// Creates a draft order; its number is taken in the same transaction, so a failed create
/// leaves no gap.
pub fn create(conn: &mut DbConn, caller: &Caller, new: NewOrder) -> Result<OrderWithLines> {
    let now = shared::db::now_utc();
    access::may_sell(caller)?;
    let mut checks = Checks::new();
    check_count(&mut checks, "lines", new.lines.len(), MAX_ITEMS);
    // Nothing more is read of a request that is too long.
    std::mem::take(&mut checks).finish()?;
    let id = OrderId::new();
    if store::customers::find(conn, new.customer_id)?.is_none() {
        checks.push("customer_id", format!("no customer with id {}", new.customer_id));
    }
    let mut lines = Vec::with_capacity(new.lines.len());
    for (i, l) in new.lines.iter().enumerate() {
        let seq = i32::try_from(i).map_err(|_| Error::invalid("lines", "too many lines"))?;
        if let Some(line) = build_line(conn, &mut checks, &format!("lines[{i}]"), l, (id, new.customer_id), seq)? {
            lines.push(line);
        }
    }
    let (untaxed, tax, total) = totals(&lines);
    if shared::decimal::too_large(total) {
        checks.push("lines", "make the order total too large (it must stay below 10^12)");
    }
    checks.finish()?;
    let number = store::orders::next_number(conn)?;
    let order = Order {
        id,
        name: format!("S{number:05}"),
        customer_id: new.customer_id,
        state: OrderState::Draft,
        invoice_status: InvoiceStatus::No,
        amount_untaxed: untaxed,
        amount_tax: tax,
        amount_total: total,
        new_project_id: None,
        created_at: now,
        updated_at: now,
        confirmed_at: None,
    };
    store::orders::insert(conn, &order)?;
    for line in &lines {
        store::lines::insert(conn, line)?;
    }
    Ok(OrderWithLines { order, lines })
}

/// An order with its lines; a `customer` caller sees only its own (404 for any other).
pub fn get(conn: &mut DbConn, caller: &Caller, id: OrderId) -> Result<OrderWithLines> {
    access::may_read_accounts(caller)?;
    let o = load(conn, id)?;
    caller.must_see(o.order.customer_id, "order", id)?;
    Ok(o)
}

/// An order with its lines, for the use cases that already checked their caller.
pub fn load(conn: &mut DbConn, id: OrderId) -> Result<OrderWithLines> {
    let order = store::orders::find(conn, id)?.ok_or_else(|| Error::not_found("order", id))?;
    let lines = store::lines::of_order(conn, id)?;
    Ok(OrderWithLines { order, lines })
}

shared::sort_fields! {
    /// How the order list can be ordered.
    pub enum OrderSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Name = "name": Text,
        AmountTotal = "amount_total": Decimal,
    }
    default CreatedAt
}

impl OrderSort {
    pub fn key(self, o: &Order) -> Key {
        match self {
            OrderSort::CreatedAt => Key::Time(o.created_at.naive_utc()),
            OrderSort::UpdatedAt => Key::Time(o.updated_at.naive_utc()),
            OrderSort::Name => Key::Text(o.name.clone()),
            OrderSort::AmountTotal => Key::Decimal(o.amount_total),
        }
    }
}

/// Orders, in the asked order (newest first by default); a `customer` caller lists only its
/// own.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &OrderFilter,
    req: ListRequest<OrderSort>,
) -> Result<Page<OrderWithLines>> {
    access::may_read_accounts(caller)?;
    let Some(customer_id) = caller.list_scope(filter.customer_id) else {
        return Ok(Page { items: vec![], next_cursor: None });
    };
    let filter = OrderFilter { customer_id, ..filter.clone() };
    let orders = store::orders::list(conn, &filter, &req)?;
    let mut lines = store::lines::of_orders(conn, &orders.iter().map(|o| o.id).collect::<Vec<_>>())?;
    let rows = orders
        .into_iter()
        .map(|order| {
            let (mine, rest): (Vec<Line>, Vec<Line>) =
                std::mem::take(&mut lines).into_iter().partition(|l| l.order_id == order.id);
            lines = rest;
            OrderWithLines { order, lines: mine }
        })
        .collect();
    Ok(req.page(rows, |o| (req.sort.field.key(&o.order), o.order.id.0), |o| o))
}

/// Recomputes and stores the order's invoice status; the caller holds the order's lock.
pub fn refresh_status(conn: &mut DbConn, id: OrderId) -> Result<OrderWithLines> {
    let mut o = load(conn, id)?;
    let status = Line::order_status(o.order.state, &o.lines);
    if status != o.order.invoice_status {
        store::orders::set_invoice_status(conn, id, status)?;
        o.order.invoice_status = status;
    }
    Ok(o)
}

/// Adds a line to a draft or confirmed order; a confirmed order asks projects for the
/// line's task or project at once (through the outbox).
pub fn add_line(conn: &mut DbConn, id: OrderId, new: NewLine) -> Result<LineView> {
    store::orders::lock(conn, id)?;
    let mut o = load(conn, id)?;
    if o.order.state == OrderState::Cancel {
        return Err(Error::conflict(
            Refusal::OrderCancelled,
            format!("order {} is cancelled; lines cannot be added", o.order.name),
        ));
    }
    if o.lines.len() >= MAX_ITEMS {
        return Err(Error::invalid(
            "lines",
            format!("order {} has {} lines already; an order holds at most {MAX_ITEMS}", o.order.name, o.lines.len()),
        ));
    }
    let seq = o.lines.iter().map(|l| l.seq + 1).max().unwrap_or(0);
    let mut checks = Checks::new();
    let line = build_line(conn, &mut checks, "", &new, (id, o.order.customer_id), seq)?;
    checks.finish()?;
    let line = line.ok_or_else(|| Error::invalid("product_id", "is invalid"))?;
    o.lines.push(line.clone());
    let (untaxed, tax, total) = totals(&o.lines);
    if shared::decimal::too_large(total) {
        return Err(Error::invalid("quantity", "makes the order total too large (it must stay below 10^12)"));
    }
    store::lines::insert(conn, &line)?;
    store::orders::set_amounts(conn, id, untaxed, tax, total)?;
    if o.order.state == OrderState::Sale {
        generation::generate(conn, &mut o.order, std::slice::from_ref(&line))?;
    }
    refresh_status(conn, id)?;
    super::lines::load(conn, line.id)
}

/// Confirms a draft order and, in the same transaction, asks projects (through the outbox)
/// for the tasks and projects its lines' products want.
pub fn confirm_in(conn: &mut DbConn, id: OrderId) -> Result<OrderWithLines> {
    store::orders::lock(conn, id)?;
    let mut o = load(conn, id)?;
    if o.order.state != OrderState::Draft {
        return Err(Error::conflict(
            Refusal::OrderNotDraft,
            format!("order {} is {}; only a draft order can be confirmed", o.order.name, o.order.state),
        ));
    }
    let at = shared::db::now_utc();
    store::orders::set_state(conn, id, OrderState::Sale, Some(at))?;
    o.order.state = OrderState::Sale;
    o.order.confirmed_at = Some(at);
    generation::generate(conn, &mut o.order, &o.lines)?;
    refresh_status(conn, id)
}

/// Confirms, then waits briefly for projects to create what was asked for, so that the usual
/// answer already shows the task ids; when projects is down the answer comes without them.
/// Confirms a draft, in the caller's transaction; [`with_tasks`] then waits for its tasks.
pub fn confirm(conn: &mut DbConn, caller: &Caller, id: OrderId) -> Result<OrderWithLines> {
    access::may_sell(caller)?;
    confirm_in(conn, id)
}

/// The order once projects has created what its lines asked for, or `WAIT` has passed
/// (projects is down: the dispatcher goes on trying): confirming answers it, so the usual
/// answer already shows the tasks.
pub async fn with_tasks(ctx: &Ctx, confirmed: &OrderWithLines) -> Result<OrderWithLines> {
    let id = confirmed.order.id;
    if confirmed.lines.iter().any(|l| l.service_tracking != ServiceTracking::None) {
        generation::await_delivery(ctx, id).await;
    }
    ctx.db.run(move |c| load(c, id)).await
}

/// Adds a line, in the caller's transaction; [`line_with_task`] then waits for its task.
pub fn add_line_for(conn: &mut DbConn, caller: &Caller, id: OrderId, new: NewLine) -> Result<LineView> {
    access::may_sell(caller)?;
    add_line(conn, id, new)
}

/// The added line once its task exists (on a confirmed order), as [`with_tasks`].
pub async fn line_with_task(ctx: &Ctx, view: LineView) -> Result<LineView> {
    if view.order_state == OrderState::Sale && view.line.service_tracking != ServiceTracking::None {
        generation::await_delivery(ctx, view.line.order_id).await;
        let line = view.line.id;
        return ctx.db.run(move |c| super::lines::load(c, line)).await;
    }
    Ok(view)
}
