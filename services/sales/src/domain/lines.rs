//! Order lines: what a line sells, and everything derived from the totals other services
//! report (delivered hours, invoiced quantity): delivered and to-invoice quantities, remaining
//! hours, invoice status and the upsell warning.

use super::Refusal;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::round_half_up;
use shared::error::Precondition;
use shared::ids::{CustomerId, OrderId, ProductId, ProjectId, SaleLineId, TaskId};
use shared::page::{Key, ListRequest, Page};

use super::{
    Checks, DeliveredMethod, Error, InvoiceStatus, OrderState, ProductType, Result, ServicePolicy, ServiceTracking,
    Uom, access, check_amount,
};
use crate::store;

#[derive(Debug, Clone)]
pub struct Line {
    pub id: SaleLineId,
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    /// Position in the order, from 0.
    pub seq: i32,
    pub product_id: ProductId,
    pub description: String,
    pub quantity: Decimal,
    pub uom: Uom,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub tax_rate: Decimal,
    pub price_subtotal: Decimal,
    pub price_tax: Decimal,
    pub price_total: Decimal,
    /// The product's kind, policy, tracking and threshold when the line was made.
    pub product_type: ProductType,
    pub service_policy: Option<ServicePolicy>,
    pub service_tracking: ServiceTracking,
    pub upsell_threshold: Decimal,
    /// Hours logged on the line, as projects last reported them (the source of truth).
    pub delivered_hours: Decimal,
    pub delivered_version: i64,
    /// Delivered quantity set by hand (manual policy).
    pub manual_delivered: Decimal,
    /// Invoiced quantity, as invoicing last reported it.
    pub invoiced_qty: Decimal,
    pub invoiced_version: i64,
    pub task_id: Option<TaskId>,
    pub project_id: Option<ProjectId>,
    pub pending_task_id: Option<TaskId>,
    pub pending_project_id: Option<ProjectId>,
    pub created_at: DateTime<Utc>,
    /// When it last changed (its creation at first).
    pub updated_at: DateTime<Utc>,
}

pub use shared::decimal::line_amounts as amounts;

impl Line {
    pub fn delivered_method(&self) -> DeliveredMethod {
        match (self.product_type, self.service_policy) {
            (ProductType::Service, Some(ServicePolicy::Prepaid | ServicePolicy::Timesheet)) => {
                DeliveredMethod::Timesheet
            }
            (ProductType::Service, Some(ServicePolicy::Manual)) => DeliveredMethod::Manual,
            _ => DeliveredMethod::None,
        }
    }

    /// Delivered quantity in the line's uom: logged hours summed, converted once, half up.
    pub fn qty_delivered(&self) -> Decimal {
        match self.delivered_method() {
            DeliveredMethod::Timesheet if self.uom.is_time() => {
                round_half_up(self.delivered_hours / self.uom.hours(), 2)
            }
            // Hours on a line of another category are taken unconverted (Odoo R6).
            DeliveredMethod::Timesheet => self.delivered_hours,
            DeliveredMethod::Manual => self.manual_delivered,
            DeliveredMethod::None => Decimal::ZERO,
        }
    }

    fn invoiced_on_order(&self) -> bool {
        self.product_type == ProductType::Goods || self.service_policy == Some(ServicePolicy::Prepaid)
    }

    pub fn is_prepaid(&self) -> bool {
        self.product_type == ProductType::Service && self.service_policy == Some(ServicePolicy::Prepaid)
    }

    /// 0 unless the order is confirmed; ordered − invoiced for prepaid and goods, delivered −
    /// invoiced otherwise. May be negative.
    pub fn qty_to_invoice(&self, state: OrderState) -> Decimal {
        if state != OrderState::Sale {
            Decimal::ZERO
        } else if self.invoiced_on_order() {
            self.quantity - self.invoiced_qty
        } else {
            self.qty_delivered() - self.invoiced_qty
        }
    }

    /// First match wins: order not confirmed, something to invoice, prepaid over-delivered,
    /// fully invoiced, else nothing.
    pub fn invoice_status(&self, state: OrderState) -> InvoiceStatus {
        if state != OrderState::Sale {
            InvoiceStatus::No
        } else if !self.qty_to_invoice(state).is_zero() {
            InvoiceStatus::ToInvoice
        } else if self.is_prepaid() && self.qty_delivered() > self.quantity {
            InvoiceStatus::Upselling
        } else if self.invoiced_qty >= self.quantity {
            InvoiceStatus::Invoiced
        } else {
            InvoiceStatus::No
        }
    }

    /// Ordered hours minus logged hours, exact, for prepaid lines in a time uom; else none.
    pub fn remaining_hours(&self) -> Option<Decimal> {
        (self.is_prepaid() && self.uom.is_time()).then(|| self.ordered_hours() - self.delivered_hours)
    }

    pub fn ordered_hours(&self) -> Decimal {
        self.quantity * self.uom.hours()
    }

    /// A prepaid line delivered strictly beyond ordered × threshold.
    pub fn upsell_warning(&self) -> bool {
        self.is_prepaid()
            && self.qty_delivered() > round_half_up(self.quantity * self.upsell_threshold / Decimal::ONE_HUNDRED, 2)
    }

    /// The status of an order from its lines.
    pub fn order_status(state: OrderState, lines: &[Line]) -> InvoiceStatus {
        if state != OrderState::Sale || lines.is_empty() {
            return InvoiceStatus::No;
        }
        let statuses: Vec<InvoiceStatus> = lines.iter().map(|l| l.invoice_status(state)).collect();
        if statuses.contains(&InvoiceStatus::ToInvoice) {
            InvoiceStatus::ToInvoice
        } else if statuses.iter().all(|s| *s == InvoiceStatus::Invoiced) {
            InvoiceStatus::Invoiced
        } else if statuses.iter().all(|s| matches!(s, InvoiceStatus::Invoiced | InvoiceStatus::Upselling)) {
            InvoiceStatus::Upselling
        } else {
            InvoiceStatus::No
        }
    }
}

/// A line with what its callers need to know of its order.
#[derive(Debug, Clone)]
pub struct LineView {
    pub line: Line,
    pub order_name: String,
    pub order_state: OrderState,
}

#[derive(Debug, Clone, Default)]
pub struct LineFilter {
    pub customer_id: Option<CustomerId>,
    pub order_id: Option<OrderId>,
}

/// A line; a `customer` caller sees only its own orders' lines (404 for any other).
pub fn get(conn: &mut DbConn, caller: &Caller, id: SaleLineId) -> Result<LineView> {
    access::may_read_accounts(caller)?;
    let line = store::lines::find(conn, id)?.ok_or_else(|| Error::not_found("order line", id))?;
    caller.must_see(line.customer_id, "order line", id)?;
    view(conn, line)
}

/// A line, for the use cases that already checked their caller.
pub fn load(conn: &mut DbConn, id: SaleLineId) -> Result<LineView> {
    let line = store::lines::find(conn, id)?.ok_or_else(|| Error::not_found("order line", id))?;
    view(conn, line)
}

fn view(conn: &mut DbConn, line: Line) -> Result<LineView> {
    let order = store::orders::find(conn, line.order_id)?.ok_or_else(|| Error::not_found("order", line.order_id))?;
    Ok(LineView { line, order_name: order.name, order_state: order.state })
}

shared::sort_fields! {
    /// How the order line list can be ordered.
    pub enum LineSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
    }
    default CreatedAt
}

impl LineSort {
    pub fn key(self, l: &Line) -> Key {
        match self {
            LineSort::CreatedAt => Key::Time(l.created_at.naive_utc()),
            LineSort::UpdatedAt => Key::Time(l.updated_at.naive_utc()),
        }
    }
}

/// Lines, in the asked order (newest first by default); a `customer` caller lists only its
/// own orders' lines.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &LineFilter,
    req: ListRequest<LineSort>,
) -> Result<Page<LineView>> {
    access::may_read_accounts(caller)?;
    let Some(customer_id) = caller.list_scope(filter.customer_id) else {
        return Ok(Page { items: vec![], next_cursor: None });
    };
    let filter = LineFilter { customer_id, ..filter.clone() };
    let rows = store::lines::list(conn, &filter, &req)?;
    let orders = store::orders::names_and_states(conn, &rows.iter().map(|l| l.order_id).collect::<Vec<_>>())?;
    let mut views = Vec::with_capacity(rows.len());
    for line in rows {
        let (order_name, order_state) =
            orders.get(&line.order_id).cloned().ok_or_else(|| Error::not_found("order", line.order_id))?;
        views.push(LineView { line, order_name, order_state });
    }
    Ok(req.page(views, |v| (req.sort.field.key(&v.line), v.line.id.0), |v| v))
}

/// Sets the delivered quantity of a manual line of a confirmed order.
pub fn set_delivered(
    conn: &mut DbConn,
    caller: &Caller,
    id: SaleLineId,
    qty: Decimal,
    expected: Precondition<LineView>,
) -> Result<LineView> {
    access::may_sell(caller)?;
    let line = store::lines::find(conn, id)?.ok_or_else(|| Error::not_found("order line", id))?;
    let mut checks = Checks::new();
    check_amount(&mut checks, "qty_delivered", qty, false, None);
    checks.finish()?;
    if line.delivered_method() != DeliveredMethod::Manual {
        return Err(Error::conflict(
            Refusal::LineNotManual,
            format!(
                "the delivered quantity of line {id} comes from {}; only manual lines are set by hand",
                line.delivered_method()
            ),
        ));
    }
    store::orders::lock(conn, line.order_id)?;
    if expected.is_set() {
        expected.check(&load(conn, id)?)?;
    }
    let order = store::orders::find(conn, line.order_id)?.ok_or_else(|| Error::not_found("order", line.order_id))?;
    if order.state != OrderState::Sale {
        return Err(Error::conflict(
            Refusal::OrderNotConfirmed,
            format!("order {} is {}; delivered quantities are set on confirmed orders", order.name, order.state),
        ));
    }
    store::lines::set_manual_delivered(conn, id, qty)?;
    super::orders::refresh_status(conn, line.order_id)?;
    load(conn, id)
}
