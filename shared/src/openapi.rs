//! Completes a service's OpenAPI document with what every operation can answer besides its
//! own successes: the problem+json errors the shared machinery produces (malformed request,
//! unknown id, too large, not JSON, validation, idempotency conflicts, a peer unavailable),
//! and the bearer token every operation needs (401 without a valid one, 403 for a role that may
//! not). Declared once here, so no operation can forget one and a client knows every status.
//! (The document itself, `GET /api/v1/openapi.json`, is served without a token.)

use utoipa::PartialSchema;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::problem::{FieldError, PROBLEM_JSON, Problem};

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
        .build()
        .into()
}

fn complete_operation(op: &mut Operation, has_path_id: bool, has_body: bool, is_post: bool) {
    let mut add = |code: &str, description: &str| {
        op.responses.responses.entry(code.to_owned()).or_insert_with(|| problem(description));
    };
    add(
        "400",
        "Malformed request: a body that is not JSON (syntax) or not UTF-8 (`errors` names `body`), a \
         malformed `Idempotency-Key`, or a malformed HTTP request.",
    );
    add(
        "401",
        "No bearer token, or one that is malformed, expired, wrongly signed or of an unknown role \
         (with `WWW-Authenticate: Bearer`); nothing was changed.",
    );
    add("403", "The caller's role may not do this (see Roles in the description); nothing was changed.");
    if has_path_id {
        add("404", "No record with this id (a malformed id is a 422 naming the path parameter).");
    }
    if is_post {
        add("409", "Not allowed in the current state.");
    }
    if has_body || is_post {
        add(
            "408",
            "The body did not arrive within 10 seconds of the headers; nothing was changed and the connection \
             is closed.",
        );
        add("413", "The body is larger than 1 MiB.");
    }
    if has_body {
        add("415", "The body is not `application/json` (or `application/*+json`) in UTF-8.");
    }
    add(
        "422",
        "Invalid input: JSON of the wrong shape or type, a missing, unknown, repeated or invalid field, an \
         invalid or unknown query parameter, or a malformed id in the path. The `errors` list names each \
         (`lines[0].quantity`, `limit`, `id`) and says what is expected.",
    );
    add("500", "An internal error; the body carries no detail, the log has it under the request id.");
    add(
        "503",
        "`unavailable`: a service needed for the answer is unreachable, nothing was changed. \
         `outcome_unknown`: a service asked to make a change did not answer in time, so it may have \
         been made; the same request with the same `Idempotency-Key` tells.",
    );
}

/// utoipa inlines the record schema into each `Page_<Record>`; point its `items` at the
/// record's own component instead, so a generated client names the item type.
fn reference_page_items(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::schema::{ArrayBuilder, Schema};
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in names {
        let Some(record) = name.strip_prefix("Page_") else { continue };
        if !components.schemas.contains_key(record) {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(page))) = components.schemas.get_mut(&name)
            && let Some(items) = page.properties.get_mut("items")
        {
            *items = ArrayBuilder::new()
                .items(Ref::from_schema_name(record))
                .description(Some("The records, newest first."))
                .into();
        }
    }
}

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

/// Adds the shared error responses, the `Problem` schema and the bearer requirement to every
/// operation.
pub fn complete(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    reference_page_items(components);
    components.schemas.entry("Problem".into()).or_insert_with(Problem::schema);
    components.schemas.entry("FieldError".into()).or_insert_with(FieldError::schema);
    // Referenced by every list's `limit` parameter (parameters do not register their schemas).
    components.schemas.entry("Limit".into()).or_insert_with(crate::page::Limit::schema);
    components.security_schemes.entry(BEARER.into()).or_insert_with(|| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A JWT: HS256 signed with the services' shared `AUTH_SECRET` (`stack token` mints one), \
                     or RS256/ES256 from an identity provider whose public key the services hold. Claims: \
                     `sub`, `role` (admin, sales, accounting, agent, customer, service), `customer_id` \
                     (customer only), `exp`, `iat`.",
                ))
                .build(),
        )
    });
    api.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    for (path, item) in api.paths.paths.iter_mut() {
        let has_path_id = path.contains('{');
        let ops = [
            (item.get.as_mut(), false),
            (item.post.as_mut(), true),
            (item.put.as_mut(), false),
            (item.patch.as_mut(), false),
            (item.delete.as_mut(), false),
        ];
        for (op, is_post) in ops {
            if let Some(op) = op {
                let has_body = op.request_body.is_some();
                complete_operation(op, has_path_id, has_body, is_post);
            }
        }
    }
}
