use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, OptionalBody};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{InvoiceId, SaleLineId};
use shared::problem::{ApiError, Problem};
use shared::server::Ctx;
use shared::{Date, Dec2};
use utoipa::ToSchema;

use crate::domain::billing::{self, Claim};

/// Bill the unbilled timesheets of some sale lines on one invoice (service use: sales, when
/// it invoices `timesheet` policy lines).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// The invoice that bills the timesheets; a repeat for the same invoice claims nothing new.
    pub invoice_id: InvoiceId,
    /// The sale lines whose unbilled timesheets to bill: 1 to 200.
    #[schema(max_items = 200)]
    pub sale_line_ids: Vec<SaleLineId>,
    /// Only timesheets dated on or after this day (`YYYY-MM-DD`, 2000-01-01 to 2099-12-31).
    #[schema(example = "2026-11-01")]
    pub date_from: Option<Date>,
    /// Only timesheets dated on or before this day (`YYYY-MM-DD`, 2000-01-01 to 2099-12-31).
    #[schema(example = "2026-11-30")]
    pub date_to: Option<Date>,
}

/// The hours billed on one sale line.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimedLineDto {
    /// The sale line billed.
    pub sale_line_id: SaleLineId,
    /// Hours of the timesheets billed on the invoice for this line.
    pub hours: Dec2,
    /// How many timesheets make these hours.
    #[schema(value_type = i32, minimum = 0)]
    pub timesheets: i64,
}

/// What an invoice bills, line by line.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDto {
    /// The invoice that bills them.
    pub invoice_id: InvoiceId,
    /// The hours billed, per sale line asked for.
    pub lines: Vec<ClaimedLineDto>,
}

/// Which lines' timesheets to release; all of the invoice's when absent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// Only these sale lines' timesheets (at most 200); absent releases all of the invoice's.
    #[schema(max_items = 200)]
    pub sale_line_ids: Option<Vec<SaleLineId>>,
}

/// How many timesheets were released.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseDto {
    /// The invoice whose timesheets were released.
    pub invoice_id: InvoiceId,
    /// How many timesheets are unbilled again.
    pub released: usize,
}

/// Stamp the unbilled timesheets of these sale lines with an invoice, atomically, and answer
/// their hours. Repeating it for the same invoice answers the same hours.
///
/// Roles: admin, service.
#[utoipa::path(tag = "internal", operation_id = "claim_timesheets", request_body = ClaimRequest,
    responses((status = 200, body = ClaimDto), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/timesheet-claims")]
pub async fn claim_timesheets(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<ClaimRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let invoice_id = b.invoice_id;
    let claim = Claim {
        invoice_id,
        sale_line_ids: b.sale_line_ids,
        date_from: b.date_from.map(Date::day),
        date_to: b.date_to.map(Date::day),
    };
    let answer = idem
        .write(&ctx.db, move |c| {
            let lines = billing::claim(c, &caller, claim)?
                .into_iter()
                .map(|l| ClaimedLineDto {
                    sale_line_id: l.sale_line_id,
                    hours: l.hours.into(),
                    timesheets: l.timesheets,
                })
                .collect();
            Ok::<_, Error>(Answer::ok(&ClaimDto { invoice_id, lines })?)
        })
        .await?;
    Ok(answer.into())
}

/// Release an invoice's timesheets (it was cancelled or credited): they are unbilled again,
/// editable, and the next invoice bills them.
///
/// Roles: admin, service.
#[utoipa::path(tag = "internal", operation_id = "release_timesheets", params(("invoice_id" = InvoiceId, Path, description = "The invoice whose timesheets to release (cancelled or credited).")),
    request_body = Option<ReleaseRequest>, responses((status = 200, body = ReleaseDto)))]
#[post("/timesheet-claims/{invoice_id}/release")]
pub async fn release_timesheets(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    invoice_id: web::Path<InvoiceId>,
    body: OptionalBody<ReleaseRequest>,
) -> Result<HttpResponse, ApiError> {
    let invoice_id = invoice_id.into_inner();
    let lines = body.0.and_then(|b| b.sale_line_ids);
    let answer = idem
        .write(&ctx.db, move |c| {
            let released = billing::release(c, &caller, invoice_id, lines)?;
            Ok::<_, Error>(Answer::ok(&ReleaseDto { invoice_id, released })?)
        })
        .await?;
    Ok(answer.into())
}
