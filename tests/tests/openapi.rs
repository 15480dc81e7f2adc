//! The committed `openapi/<service>.json` documents are exactly what the services serve;
//! regenerate them with `cargo run --bin stack -- openapi` when this fails.

use shared::config::Service;

#[test]
fn committed_openapi_documents_match_the_services() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    for s in Service::ALL {
        let path = dir.join(format!("{}.json", s.name()));
        let committed = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let served = stack::openapi_text(s)?;
        assert!(
            committed == served,
            "{} is out of date: run `cargo run --bin stack -- openapi` and commit the result",
            path.display()
        );
    }
    Ok(())
}

/// Each document names the project's own licence, the one in the repository's LICENSE file,
/// and no contact that is not the project's (utoipa fills in its own author by default).
#[test]
fn committed_openapi_documents_carry_the_project_s_licence() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let license = std::fs::read_to_string(root.join("LICENSE"))?;
    assert!(license.contains("Apache License") && license.contains("Version 2.0"), "LICENSE is not Apache-2.0");
    for s in Service::ALL {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(format!("openapi/{}.json", s.name())))?)?;
        assert_eq!(doc["info"]["license"]["identifier"], "Apache-2.0", "{}: {}", s.name(), doc["info"]);
        assert!(doc["info"].get("contact").is_none(), "{}: a contact that is not ours: {}", s.name(), doc["info"]);
    }
    Ok(())
}

/// What a frontend developer reads on `/docs`: every operation says what it does, every field
/// and query/path parameter what it means, and every id, decimal, date and enum shows an example.
#[test]
fn committed_openapi_documents_describe_every_operation_field_and_parameter() -> Result<(), Box<dyn std::error::Error>>
{
    use serde_json::Value;

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    let mut offenders = vec![];
    for s in Service::ALL {
        let path = dir.join(format!("{}.json", s.name()));
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)?;
        let docs = Docs { doc: &doc };
        let service = s.name();

        let paths = doc["paths"].as_object().map(|m| m.iter()).into_iter().flatten();
        for (route, item) in paths {
            let shared_params = item["parameters"].as_array().cloned().unwrap_or_default();
            for method in ["get", "put", "post", "delete", "patch", "head", "options", "trace"] {
                let op = &item[method];
                if op.is_null() {
                    continue;
                }
                let at = format!("{service}: {} {route}", method.to_uppercase());
                if !has_text(&op["description"]) && !has_text(&op["summary"]) {
                    offenders.push(format!("{at}: operation has no summary or description"));
                }
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                for p in shared_params.iter().chain(params.iter()) {
                    let p = docs.resolve(p);
                    let (name, place) = (p["name"].as_str().unwrap_or("?"), p["in"].as_str().unwrap_or("?"));
                    if place != "query" && place != "path" {
                        continue;
                    }
                    if !has_text(&p["description"]) {
                        offenders.push(format!("{at}: {place} parameter `{name}` has no description"));
                    }
                    let has_example = has_own_example(p) || docs.example_reachable(&p["schema"], 0);
                    if docs.needs_example(&p["schema"], 0) && !has_example {
                        offenders.push(format!("{at}: {place} parameter `{name}` has no example"));
                    }
                }
            }
        }

        let schemas = doc["components"]["schemas"].as_object().map(|m| m.iter()).into_iter().flatten();
        for (name, schema) in schemas {
            for (field, prop) in docs.properties(schema) {
                let at = format!("{service}: {name}.{field}");
                if !docs.described(prop) {
                    offenders.push(format!("{at}: no description"));
                }
                if docs.needs_example(prop, 0) && !docs.example_reachable(prop, 0) {
                    offenders.push(format!("{at}: no example"));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "{} places in openapi/*.json a reader of /docs cannot understand (add `///` docs and \
         `#[schema(example = ...)]` at the source, then regenerate):\n{}",
        offenders.len(),
        offenders.join("\n")
    );
    Ok(())
}

fn has_text(v: &serde_json::Value) -> bool {
    v.as_str().is_some_and(|s| !s.trim().is_empty())
}

fn has_own_example(v: &serde_json::Value) -> bool {
    !v["example"].is_null() || v["examples"].as_array().is_some_and(|e| !e.is_empty()) || v["examples"].is_object()
}

/// Reads one OpenAPI document, following `$ref`s within it.
struct Docs<'a> {
    doc: &'a serde_json::Value,
}

impl<'a> Docs<'a> {
    /// The schema a `$ref` points at (one step), or the value itself.
    fn target(&self, v: &serde_json::Value) -> Option<&'a serde_json::Value> {
        let r = v["$ref"].as_str()?;
        self.doc.pointer(r.strip_prefix('#')?)
    }

    fn resolve(&self, v: &'a serde_json::Value) -> &'a serde_json::Value {
        let mut v = v;
        for _ in 0..8 {
            match self.target(v) {
                Some(t) => v = t,
                None => break,
            }
        }
        v
    }

    /// The alternatives of a composed schema that are not just `null`.
    fn parts(v: &serde_json::Value) -> Vec<&serde_json::Value> {
        ["oneOf", "anyOf", "allOf"]
            .iter()
            .filter_map(|k| v[*k].as_array())
            .flatten()
            .filter(|p| p["type"].as_str() != Some("null"))
            .collect()
    }

    /// The properties of an object schema, including those of its `allOf`/`oneOf` parts that
    /// are written inline (a referenced part is checked as its own component).
    fn properties(&self, v: &'a serde_json::Value) -> Vec<(&'a String, &'a serde_json::Value)> {
        let mut out: Vec<_> = v["properties"].as_object().map(|m| m.iter().collect()).unwrap_or_default();
        for p in Self::parts(v) {
            if p["$ref"].is_null() {
                out.extend(self.properties(p));
            }
        }
        out
    }

    /// A description on the property, or, for a plain reference (possibly optional), on the
    /// schema it references.
    fn described(&self, v: &serde_json::Value) -> bool {
        if has_text(&v["description"]) {
            return true;
        }
        if let Some(t) = self.target(v) {
            return has_text(&t["description"]);
        }
        let parts = Self::parts(v);
        parts.len() == 1 && parts[0]["$ref"].is_string() && self.described(parts[0])
    }

    /// An id, a date, a timestamp, an enum or a `Dec2` decimal, directly or through a
    /// reference, an option or an array.
    fn needs_example(&self, v: &serde_json::Value, depth: usize) -> bool {
        if depth > 8 || v.is_null() {
            return false;
        }
        if matches!(v["format"].as_str(), Some("date" | "date-time" | "uuid")) || v["enum"].is_array() {
            return true;
        }
        if let Some(r) = v["$ref"].as_str() {
            if r.ends_with("/Dec2") {
                return true;
            }
            return self.target(v).is_some_and(|t| self.needs_example(t, depth + 1));
        }
        Self::parts(v).iter().any(|p| self.needs_example(p, depth + 1)) || self.needs_example(&v["items"], depth + 1)
    }

    /// An example on the schema, on what it references, or on every alternative / the items.
    fn example_reachable(&self, v: &serde_json::Value, depth: usize) -> bool {
        if depth > 8 || v.is_null() {
            return false;
        }
        if has_own_example(v) {
            return true;
        }
        if let Some(t) = self.target(v) {
            return self.example_reachable(t, depth + 1);
        }
        let parts = Self::parts(v);
        if !parts.is_empty() {
            return parts.iter().all(|p| self.example_reachable(p, depth + 1));
        }
        self.example_reachable(&v["items"], depth + 1)
    }
}

/// Sales answers `POST /orders/{id}/invoices` with invoicing's invoice read through its own
/// typed mirror (`sales::api::invoices`); the two documents must describe the same fields.
#[test]
fn sales_order_invoice_mirrors_the_invoicing_invoice() -> Result<(), Box<dyn std::error::Error>> {
    use serde_json::Value;

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    let read = |name: &str| -> Result<Value, Box<dyn std::error::Error>> {
        Ok(serde_json::from_str(&std::fs::read_to_string(dir.join(name))?)?)
    };
    let (sales, invoicing) = (read("sales.json")?, read("invoicing.json")?);
    let op = &sales["paths"]["/api/v1/orders/{id}/invoices"]["post"];
    let answer = &op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(answer.as_str(), Some("#/components/schemas/InvoiceDto"), "the 201 body of create_order_invoice");
    let shape = |doc: &Value, name: &str| {
        let s = &doc["components"]["schemas"][name];
        let mut fields: Vec<String> =
            s["properties"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        fields.sort();
        let mut required: Vec<String> = s["required"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        required.sort();
        (fields, required)
    };
    for name in ["InvoiceDto", "InvoiceLineDto"] {
        let (mirror, owner) = (shape(&sales, name), shape(&invoicing, name));
        assert!(!owner.0.is_empty(), "invoicing has no {name}");
        assert_eq!(
            mirror, owner,
            "sales' {name} (fields, required) differs from invoicing's: update sales::api::invoices"
        );
    }
    let values = |doc: &Value, name: &str| doc["components"]["schemas"][name]["enum"].clone();
    for name in ["InvoiceKind", "InvoiceState", "InvoicePaymentState"] {
        assert!(values(&invoicing, name).is_array(), "invoicing has no enum {name}");
        assert_eq!(values(&sales, name), values(&invoicing, name), "sales' {name} differs from invoicing's");
    }
    Ok(())
}

/// What generated clients need for exact types, checked over the committed documents (the rules
/// `shared::openapi::finish` applies; each broken one is named).
#[test]
fn committed_openapi_documents_generate_exact_types() -> Result<(), Box<dyn std::error::Error>> {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    let mut offenders = vec![];
    // Enum values → the name it has, across the four documents.
    let mut enum_names: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for s in Service::ALL {
        let doc = e2e::document(s);
        let service = s.name();
        let schemas = doc["components"]["schemas"].as_object().cloned().unwrap_or_default();

        if !doc["servers"]
            .as_array()
            .is_some_and(|a| a.iter().all(|s| s["url"].as_str().is_some_and(|u| u.starts_with('/'))))
        {
            offenders.push(format!("{service}: servers must be relative: {}", doc["servers"]));
        }
        let declared: BTreeSet<&str> =
            doc["tags"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
        for t in doc["tags"].as_array().into_iter().flatten() {
            if t["description"].as_str().is_none_or(|d| d.is_empty()) {
                offenders.push(format!("{service}: tag {} has no description", t["name"]));
            }
        }
        let codes: BTreeSet<&str> = doc["components"]["schemas"]["ProblemCode"]["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for code in shared::problem::SHARED_CODES.iter().chain(stack::app(s).refusals) {
            if !codes.contains(code) {
                offenders.push(format!("{service}: Problem.code does not list `{code}`"));
            }
        }

        let mut internal_schemas = BTreeSet::new();
        let mut public_schemas = BTreeSet::new();
        for (route, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let at = format!("{service}: {} {route}", method.to_uppercase());
                let tags: Vec<&str> = op["tags"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                if tags.is_empty() || tags.iter().any(|t| !declared.contains(t)) {
                    offenders.push(format!("{at}: tags {tags:?} are not all declared at the top"));
                }
                let service_only = op["description"].as_str().is_some_and(|d| d.contains("Roles: admin, service."));
                if service_only != (tags == ["internal"]) {
                    offenders.push(format!("{at}: a service-to-service operation is tagged `internal`, and only one"));
                }
                let mut refs = vec![];
                collect_refs(op, &mut refs);
                let bucket = if service_only { &mut internal_schemas } else { &mut public_schemas };
                bucket.extend(refs);
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                if method == "post" && !params.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header") {
                    offenders.push(format!("{at}: Idempotency-Key is not declared"));
                }
                let lists = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|r| r.contains("/Page_"));
                let sort = params.iter().find(|p| p["name"] == "sort" && p["in"] == "query");
                let sort_schema = sort.and_then(|p| p["schema"]["$ref"].as_str()).and_then(|r| r.rsplit('/').next());
                if lists && !sort_schema.is_some_and(|s| schemas.get(s).is_some_and(|s| s["enum"].is_array())) {
                    offenders.push(format!("{at}: a list without a `sort` parameter of a named enum"));
                }
                for p in &params {
                    if p["schema"].get("enum").is_some() {
                        offenders.push(format!("{at}: parameter {} has an inline enum, not a named schema", p["name"]));
                    }
                    let choices =
                        p["description"].as_str().is_some_and(|d| d.matches('`').count() >= 4 && d.contains(" or "));
                    if choices && p["schema"]["type"] == "string" {
                        offenders.push(format!("{at}: parameter {} lists choices but is a plain string", p["name"]));
                    }
                }
                if (method == "patch" || method == "delete")
                    && (!params.iter().any(|p| p["name"] == "If-Match" && p["in"] == "header")
                        || op["responses"].get("412").is_none())
                {
                    offenders.push(format!("{at}: If-Match and its 412 are not declared"));
                }
                for (status, response) in op["responses"].as_object().into_iter().flatten() {
                    if response["description"].as_str().is_none_or(|d| d.trim().is_empty()) {
                        offenders.push(format!("{at}: response {status} has no description"));
                    }
                    let json = response["content"].get("application/json").is_some();
                    if status.starts_with('2') && json && response["headers"].get("ETag").is_none() {
                        offenders.push(format!("{at}: response {status} does not declare its ETag"));
                    }
                    if status == "201" && response["headers"].get("Location").is_none() {
                        offenders.push(format!("{at}: response 201 does not declare its Location"));
                    }
                }
            }
        }
        let reach = |start: &BTreeSet<String>| {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<String> = start.iter().cloned().collect();
            while let Some(n) = todo.pop() {
                if seen.insert(n.clone()) {
                    collect_refs(&schemas.get(&n).cloned().unwrap_or_default(), &mut todo);
                }
            }
            seen
        };
        let public = reach(&public_schemas);

        for (name, schema) in &schemas {
            if let Some(values) = schema["enum"].as_array() {
                let mut v: Vec<String> = values.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
                v.sort();
                enum_names.entry(v).or_default().insert(name.clone());
            }
            let mut integers = vec![];
            walk(schema, &mut |v| {
                if v["type"] == "integer" {
                    integers.push(v.clone());
                }
                if v.get("enum").is_some() && !std::ptr::eq(v, schema) {
                    offenders.push(format!("{service}: {name} has an inline enum, not a named schema"));
                }
            });
            for i in integers {
                let small = i["format"] == "int32" && i.get("minimum").is_some();
                if public.contains(name) && !small {
                    offenders.push(format!("{service}: {name} has an integer that is not int32 with bounds: {i}"));
                }
            }
            walk(schema, &mut |v| {
                for key in ["properties", "items", "oneOf", "required", "enum", "description"] {
                    if v.get(key).is_some_and(Value::is_null) {
                        offenders.push(format!("{service}: {name} has `{key}: null`, which is no schema"));
                    }
                }
            });
            for (prop, p) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(branches) = p["oneOf"].as_array() {
                    if branches.iter().any(|b| b.get("$ref").is_some() && b.get("description").is_some()) {
                        offenders.push(format!("{service}: {name}.{prop}: the description sits inside oneOf"));
                    }
                    if p.get("description").is_none() {
                        offenders.push(format!("{service}: {name}.{prop}: no description beside oneOf"));
                    }
                }
            }
        }
        // Records answered (and never sent) always carry every field: each one is required.
        for (name, schema) in &schemas {
            let is_record = name.ends_with("Dto") && !name.starts_with("Page_");
            if !is_record {
                continue;
            }
            let required: BTreeSet<&str> =
                schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            for prop in schema["properties"].as_object().into_iter().flatten().map(|(k, _)| k.as_str()) {
                if !required.contains(prop) {
                    offenders.push(format!("{service}: {name}.{prop} is always sent but not required"));
                }
            }
        }
    }
    for (values, names) in enum_names {
        // Two lists may sort by the same fields: their orders are still different things.
        let names: BTreeSet<String> = names.into_iter().filter(|n| !n.ends_with("Sort")).collect();
        if names.len() > 1 {
            offenders.push(format!("the enum {values:?} has several names: {names:?}"));
        }
    }
    assert!(offenders.is_empty(), "{} broken rules:\n{}", offenders.len(), offenders.join("\n"));
    Ok(())
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    walk(v, &mut |v| {
        if let Some(name) = v["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            out.push(name.to_owned());
        }
    });
}

fn walk(v: &serde_json::Value, f: &mut dyn FnMut(&serde_json::Value)) {
    f(v);
    match v {
        serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, f)),
        serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, f)),
        _ => {}
    }
}

/// Helpdesk answers a ticket's time with projects' timesheet as projects sent it, documented by
/// its own mirror (`TicketTimesheetDto`); the two documents must describe the same fields, so a
/// field added to projects' timesheet fails here until helpdesk's mirror has it too.
#[test]
fn helpdesk_ticket_time_mirrors_the_projects_timesheet() {
    let (helpdesk, projects) = (e2e::document(Service::Helpdesk), e2e::document(Service::Projects));
    let shape = |doc: &serde_json::Value, name: &str| {
        let s = &doc["components"]["schemas"][name];
        let mut fields: Vec<(String, serde_json::Value)> = s["properties"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.get("$ref").or(v.get("type")).cloned().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields
    };
    let (mirror, owner) = (shape(&helpdesk, "TicketTimesheetDto"), shape(&projects, "TimesheetDto"));
    assert!(!owner.is_empty(), "projects has no TimesheetDto");
    assert_eq!(
        mirror, owner,
        "helpdesk's TicketTimesheetDto differs from projects' TimesheetDto: update services/helpdesk/src/api/time.rs"
    );
}
