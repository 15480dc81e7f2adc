//! Completes a service's OpenAPI document with what every operation can answer besides its
//! own successes: the problem+json errors the shared machinery produces (malformed request,
//! unknown id, too large, not JSON, validation, idempotency conflicts, a peer unavailable).
//! Declared once here, so no operation can forget one and a client knows every status.

use utoipa::PartialSchema;
use utoipa::openapi::path::Operation;
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
    add("400", "Malformed request: invalid JSON, a wrong type, or a bad query parameter.");
    if has_path_id {
        add("404", "No record with this id (or a malformed id).");
    }
    if is_post {
        add("409", "Not allowed in the current state, or a request with the same Idempotency-Key is still running.");
    }
    if has_body {
        add("413", "The body is larger than 1 MiB.");
        add("415", "The body is not application/json.");
    }
    add("422", "Well-formed but invalid: the `errors` list names each field.");
    add("500", "An internal error; the body carries no detail, the log has it under the request id.");
    add("503", "A service needed for the answer is unreachable; nothing was changed.");
}

/// Adds the shared error responses and the `Problem` schema to every operation.
pub fn complete(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.entry("Problem".into()).or_insert_with(Problem::schema);
    components.schemas.entry("FieldError".into()).or_insert_with(FieldError::schema);
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
