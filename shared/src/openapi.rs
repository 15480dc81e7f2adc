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
        let entry = op.responses.responses.entry(code.to_owned()).or_insert_with(|| problem(description));
        // An operation that declares the status itself gets the shared words unless it has its own.
        if let RefOr::T(r) = entry
            && r.description.is_empty()
        {
            r.description = description.to_owned();
        }
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
                .description(Some("The records, in the list's order (newest first unless `sort` says otherwise)."))
                .into();
        }
    }
}

/// A schema by its name, for [`crate::server::ServiceApp::schemas`].
pub fn schema<T: utoipa::ToSchema>() -> (String, RefOr<utoipa::openapi::schema::Schema>) {
    (T::name().into_owned(), T::schema())
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
                    "Paste a token (without `Bearer`). Mint one where the stack runs, from its folder: \
                     `cargo run -q --release --bin stack -- token --role admin --sub me --ttl 1d` (or \
                     `stack token --role admin --sub me --ttl 1d`; add `--data-dir DIR` before `token` when \
                     the stack keeps its data elsewhere than `data/`). Roles: admin, sales, accounting, agent, \
                     customer (with `--customer <id>`), service. \
                     \n\nA JWT: HS256 signed with the services' shared `AUTH_SECRET` (the stack makes one \
                     under its data folder on first start), or RS256/ES256 from an identity provider whose \
                     public key the services hold. Claims: `sub`, `role`, `customer_id` (customer only), \
                     `exp`, `iat`.",
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

/// The description of every service's tags, in the order `/docs` shows them; a document lists
/// the ones its operations use. Service-to-service operations sit under `internal`.
const TAGS: &[(&str, &str)] = &[
    ("customers", "Customers and their prepaid hours."),
    ("products", "Products, services of hours among them, and units of measure."),
    ("orders", "Sales orders: draft, confirm, cancel, invoice."),
    ("order-lines", "Order lines: what was sold, delivered and invoiced."),
    ("invoices", "Invoices and credit notes: draft, post, cancel, credit."),
    ("payments", "Payments recorded against posted invoices."),
    ("projects", "Projects that hold the tasks of sold services."),
    ("tasks", "Tasks: where time is logged, each on at most one sale line."),
    ("timesheets", "Timesheets: the one ledger of time."),
    ("teams", "Helpdesk teams and the project their time goes to."),
    ("tickets", "Tickets and the time logged on them."),
    (
        "internal",
        "Service-to-service operations (role `service` only): the totals and claims the services \
         exchange through their outboxes. Not for frontends.",
    ),
];

/// Turns a collected document into the one served and committed, with what generated clients
/// need to produce exact types (each rule is checked over the committed documents by a test):
///
/// - every property of a response-only record is `required` (a nullable one stays nullable):
///   the services always send every field, so `email: string | null`, not `email?: ...`;
/// - a nullable reference (`oneOf: [null, $ref]`) carries its description beside `oneOf`,
///   where generators read it, not inside the `$ref` branch;
/// - `Idempotency-Key` is a declared header of every POST;
/// - `Problem.code` is the enum of every code this service answers (`codes`);
/// - top-level `tags` describe the tags the operations use;
/// - `servers` is relative, so the document works wherever the service is served.
pub fn finish(api: &OpenApi, codes: &[&str]) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut doc = serde_json::to_value(api).unwrap_or(Value::Null);
    doc["servers"] = json!([{"url": "/", "description": "The service itself, where this document is served."}]);

    let mut used_tags = std::collections::BTreeSet::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for (method, op) in item.as_object_mut().into_iter().flatten() {
                for t in op["tags"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    used_tags.insert(t.to_owned());
                }
                let extra = match method.as_str() {
                    "post" => Some(idempotency_key_parameter()),
                    "patch" | "delete" => Some(if_match_parameter()),
                    _ => None,
                };
                if let Some(param) = extra {
                    let params = op.as_object_mut().map(|o| o.entry("parameters").or_insert_with(|| json!([])));
                    if let Some(Value::Array(params)) = params {
                        params.push(param);
                    }
                }
                if method == "patch" || method == "delete" {
                    op["responses"]["412"] = json!({
                        "description": "`precondition_failed`: `If-Match` names another version than the record's \
                                        current one (it changed since it was read); nothing was changed.",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
                    });
                }
                declare_headers(op);
            }
        }
    }
    doc["tags"] = TAGS
        .iter()
        .filter(|(name, _)| used_tags.contains(*name))
        .map(|(name, description)| json!({"name": name, "description": description}))
        .collect();

    describe_successes(&mut doc);
    let responses = reachable(&doc, &["paths"], |key| key == "responses");
    let requests = reachable(&doc, &["paths"], |key| key == "requestBody" || key == "parameters");
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            if responses.contains(name) && !requests.contains(name) && name != "Problem" {
                require_every_property(schema);
            }
            describe_beside_one_of(schema);
        }
        if let Some(code) = schemas.get_mut("Problem").and_then(|p| p["properties"].get_mut("code")) {
            let description = code["description"].take();
            *code = json!({"$ref": "#/components/schemas/ProblemCode", "description": description});
            let mut all: Vec<&str> = crate::problem::SHARED_CODES.iter().chain(codes).copied().collect();
            all.sort_unstable();
            all.dedup();
            schemas.insert(
                "ProblemCode".into(),
                json!({
                    "type": "string",
                    "description": "Every code this service answers: the shared ones, and the refusals (409) of its \
                                    own catalogue.",
                    "enum": all,
                    "example": "validation",
                }),
            );
        }
    }
    doc
}

/// A success without a description gets its record's: "A sales order ..." for a 200 or 201
/// of `OrderDto`, "A page of ..." for a list.
fn describe_successes(doc: &mut serde_json::Value) {
    use serde_json::Value;
    let schemas = doc["components"]["schemas"].clone();
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for op in paths.values_mut().flat_map(|item| item.as_object_mut().into_iter().flat_map(|o| o.values_mut())) {
        let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else { continue };
        for (status, response) in responses.iter_mut() {
            if response["description"].as_str().is_some_and(|d| !d.is_empty()) {
                continue;
            }
            let record = response["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .unwrap_or_default();
            let about = match record.strip_prefix("Page_") {
                Some(item) => format!("A page of records, in the list's order: {}", first_sentence(&schemas[item])),
                None => first_sentence(&schemas[record]),
            };
            let description = match (status.as_str(), about.is_empty()) {
                ("201", false) => format!("Created: {about} `Location` gives its path."),
                ("201", true) => "Created; `Location` gives its path.".to_owned(),
                ("204", _) => "Done; no content.".to_owned(),
                (_, false) => about,
                (_, true) => "OK.".to_owned(),
            };
            response["description"] = Value::String(description);
        }
    }
}

fn first_sentence(schema: &serde_json::Value) -> String {
    let text = schema["description"].as_str().unwrap_or_default();
    match text.find(". ") {
        Some(end) => text[..=end].replace('\n', " "),
        None => text.replace('\n', " "),
    }
}

/// Every JSON success carries `ETag`; a 201 also `Location`.
fn declare_headers(op: &mut serde_json::Value) {
    use serde_json::json;
    let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else { return };
    for (status, response) in responses.iter_mut() {
        if !status.starts_with('2') || response["content"].get("application/json").is_none() {
            continue;
        }
        response["headers"]["ETag"] = json!({
            "description": "A strong tag of this representation; send it back in `If-Match` to change the record \
                            only if it is still this version.",
            "schema": {"type": "string"},
            "example": "\"9f86d081884c7d659a2feaa0c55ad015\""
        });
        if status == "201" {
            response["headers"]["Location"] = json!({
                "description": "The new record's path, relative to the service (`/api/v1/...`).",
                "schema": {"type": "string"},
                "example": "/api/v1/customers/0193a4b2-7c1e-7d3a-9f3e-2b1c4d5e6f70"
            });
        }
    }
}

fn if_match_parameter() -> serde_json::Value {
    serde_json::json!({
        "name": "If-Match",
        "in": "header",
        "required": false,
        "description": "Change the record only if it is still this version: the `ETag` of an earlier answer (or \
                        `*`). Another version is a 412 and changes nothing; without the header the change proceeds.",
        "schema": {"type": "string"},
        "example": "\"9f86d081884c7d659a2feaa0c55ad015\""
    })
}

fn idempotency_key_parameter() -> serde_json::Value {
    serde_json::json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes a retry safe: a repeat with the same key (and the same body) from the same caller \
                        answers what the first answered and changes nothing more; the same key with another body \
                        is a 422. Keys are kept at least 24 hours.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        "example": "4f1c2a9e-order-17"
    })
}

/// The component schemas reachable from the members named `key` under `root` (following
/// `$ref`s through other components).
fn reachable(doc: &serde_json::Value, root: &[&str], key: impl Fn(&str) -> bool) -> std::collections::BTreeSet<String> {
    use serde_json::Value;
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref")
                    && let Some(name) = r.strip_prefix("#/components/schemas/")
                {
                    out.push(name.to_owned());
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn under_key(v: &Value, key: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => o.iter().for_each(|(k, v)| if key(k) { refs(v, out) } else { under_key(v, key, out) }),
            Value::Array(a) => a.iter().for_each(|v| under_key(v, key, out)),
            _ => {}
        }
    }
    let mut start = doc;
    for r in root {
        start = &start[*r];
    }
    let mut todo = vec![];
    under_key(start, &key, &mut todo);
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            refs(&doc["components"]["schemas"][&name], &mut todo);
        }
    }
    seen
}

fn require_every_property(schema: &mut serde_json::Value) {
    if let Some(props) = schema["properties"].as_object() {
        let all: Vec<serde_json::Value> = props.keys().map(|k| serde_json::Value::String(k.clone())).collect();
        schema["required"] = serde_json::Value::Array(all);
    }
}

/// `{"oneOf": [{"type": "null"}, {"$ref": ..., "description": ...}]}` keeps its description
/// (and example) beside `oneOf`, for every property of `schema`.
fn describe_beside_one_of(schema: &mut serde_json::Value) {
    // `get_mut`, not `[...]`: indexing a value mutably adds the key (as null) when it is missing.
    let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else { return };
    for prop in props.values_mut() {
        let Some(branches) = prop.get_mut("oneOf").and_then(|b| b.as_array_mut()) else { continue };
        let mut lifted = serde_json::Map::new();
        for branch in branches.iter_mut() {
            if let Some(b) = branch.as_object_mut()
                && b.contains_key("$ref")
            {
                for key in ["description", "example", "examples"] {
                    if let Some(v) = b.remove(key) {
                        lifted.insert(key.to_owned(), v);
                    }
                }
            }
        }
        if let Some(p) = prop.as_object_mut() {
            for (k, v) in lifted {
                p.entry(k).or_insert(v);
            }
        }
    }
}
