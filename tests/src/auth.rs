//! Authentication in the end-to-end tests: the four services in-process with tokens checked
//! (HS256 with [`SECRET`]), tokens of every role, and a small world of records to ask about.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::auth::{AuthConfig, Role};
use shared::config::Service;
use shared::db::Backend;
use uuid::Uuid;

use crate::{Api, R, System, eventually, id};

/// The secret the services of these tests share (at least 32 bytes).
pub const SECRET: &str = "e2e-tests-only-secret-0123456789abcdef";

/// The authentication of the services under test.
pub fn config() -> AuthConfig {
    AuthConfig { secret: Some(SECRET.as_bytes().to_vec()), public_key_pem: None, service_token: None }
}

/// A token of `role` for `sub`, valid for an hour, signed with [`SECRET`].
pub fn token(role: Role, sub: &str, customer: Option<Uuid>) -> R<String> {
    Ok(shared::auth::mint(SECRET.as_bytes(), &shared::auth::claims(sub, role, customer, 3600))?)
}

/// Starts the four services in-process with tokens checked, each on a fresh database; its
/// [`Api`] carries an admin token (use [`Api::with_token`] or [`Api::anonymous`] for others).
pub async fn secured(backend: Backend) -> R<System> {
    let mut system = System::start_with_auth(backend, Some(config())).await?;
    system.api = system.api.with_token(token(Role::Admin, "admin", None)?);
    Ok(system)
}

impl Api {
    /// The same services, without a token.
    pub fn anonymous(&self) -> Api {
        Api { token: None, ..self.clone() }
    }

    /// The same services as a caller of `role` (a customer token for `customer`).
    pub fn as_role(&self, role: Role, customer: Option<&str>) -> R<Api> {
        let customer = customer.map(Uuid::parse_str).transpose()?;
        Ok(self.clone().with_token(token(role, &format!("{}-user", role.name()), customer)?))
    }
}

/// What one customer has: an order with a prepaid line, its task, a posted invoice with a
/// payment, a ticket with time on it.
#[derive(Debug, Clone)]
pub struct Account {
    pub customer: String,
    pub order: String,
    pub line: String,
    pub invoice: String,
    pub payment: String,
    pub ticket: String,
    pub timesheet: String,
}

/// Records to ask about: two customers' accounts and what they share.
#[derive(Debug, Clone)]
pub struct World {
    pub mine: Account,
    pub other: Account,
    pub product: String,
    pub project: String,
    pub task: String,
    pub team: String,
}

impl World {
    /// Builds the world as admin (`api` carries an admin token) and waits until every total
    /// has arrived, so that nothing changes afterwards unless a request changes it.
    pub async fn build(api: &Api) -> R<World> {
        let project =
            id(&api.post(Service::Projects, "/projects", &json!({"name": "Support"}), StatusCode::CREATED).await?);
        let team = id(&api
            .post(
                Service::Helpdesk,
                "/teams",
                &json!({"name": "Support", "use_timesheets": true, "use_time_reinvoicing": true, "project_id": project}),
                StatusCode::CREATED,
            )
            .await?);
        let product = id(&api
            .post(
                Service::Sales,
                "/products",
                &json!({"name": "Support hours", "type": "service", "uom": "hour", "list_price": "100",
                        "service_policy": "prepaid", "service_tracking": "task_in_project", "project_id": project}),
                StatusCode::CREATED,
            )
            .await?);
        let mine = account(api, "Mine", &product, &team).await?;
        let other = account(api, "Other", &product, &team).await?;
        let task = api.get(Service::Sales, &format!("/order-lines/{}", mine.line)).await?["task_id"]
            .as_str()
            .ok_or("the line has no task")?
            .to_owned();
        Ok(World { mine, other, product, project, task, team })
    }
}

async fn account(api: &Api, name: &str, product: &str, team: &str) -> R<Account> {
    let customer = id(&api.post(Service::Sales, "/customers", &json!({"name": name}), StatusCode::CREATED).await?);
    let order = api
        .post(
            Service::Sales,
            "/orders",
            &json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": "10"}]}),
            StatusCode::CREATED,
        )
        .await?;
    let order = id(&order);
    let confirmed = api.confirm(&order).await?;
    let line = confirmed["lines"][0]["id"].as_str().ok_or("no line")?.to_owned();
    let invoice =
        id(&api.post(Service::Sales, &format!("/orders/{order}/invoices"), &json!({}), StatusCode::CREATED).await?);
    api.post(Service::Invoicing, &format!("/invoices/{invoice}/post"), &json!({}), StatusCode::OK).await?;
    let paid = api
        .post(
            Service::Invoicing,
            &format!("/invoices/{invoice}/payments"),
            &json!({"amount": "10"}),
            StatusCode::CREATED,
        )
        .await?;
    let payment = id(&paid);
    let ticket = id(&api
        .post(
            Service::Helpdesk,
            "/tickets",
            &json!({"team_id": team, "customer_id": customer, "title": format!("{name} needs help")}),
            StatusCode::CREATED,
        )
        .await?);
    let sheet = api
        .post(
            Service::Helpdesk,
            &format!("/tickets/{ticket}/timesheets"),
            &json!({"employee": "Marc Demo", "hours": "1.50"}),
            StatusCode::CREATED,
        )
        .await?;
    let timesheet = id(&sheet);
    eventually(10, || async {
        let t = api.get(Service::Helpdesk, &format!("/tickets/{ticket}")).await?;
        let l = api.get(Service::Sales, &format!("/order-lines/{line}")).await?;
        if t["hours_spent"] == "1.50" && l["delivered_hours"] == "1.50" {
            Ok(())
        } else {
            Err(format!("not arrived yet: ticket {} line {}", t["hours_spent"], l["delivered_hours"]).into())
        }
    })
    .await?;
    Ok(Account { customer, order, line, invoice, payment, ticket, timesheet })
}

/// Everything the four services hold, as admin sees it: compared before and after requests
/// that must change nothing.
pub async fn snapshot(api: &Api, world: &World) -> R<Value> {
    let mut all = serde_json::Map::new();
    let lists = [
        (Service::Sales, "/customers"),
        (Service::Sales, "/products"),
        (Service::Sales, "/orders"),
        (Service::Sales, "/order-lines"),
        (Service::Invoicing, "/invoices"),
        (Service::Projects, "/projects"),
        (Service::Projects, "/tasks"),
        (Service::Projects, "/timesheets"),
        (Service::Helpdesk, "/teams"),
        (Service::Helpdesk, "/tickets"),
    ];
    for (s, path) in lists {
        all.insert(format!("{s}{path}"), Value::Array(api.all(s, path).await?));
    }
    for a in [&world.mine, &world.other] {
        let path = format!("/invoices/{}/payments", a.invoice);
        all.insert(path.clone(), api.get(Service::Invoicing, &path).await?);
        let path = format!("/customers/{}/prepaid-hours", a.customer);
        all.insert(path.clone(), api.get(Service::Sales, &path).await?);
    }
    Ok(Value::Object(all))
}

/// One operation of an OpenAPI document.
#[derive(Debug, Clone)]
pub struct Operation {
    pub service: Service,
    pub method: Method,
    /// As documented, with `{id}`-style parameters, `/api/v1` included.
    pub path: String,
    pub operation_id: String,
    /// The roles the description names after `Roles:` (`any` spelled out as every role).
    pub documented_roles: Vec<Role>,
}

/// Every operation of the committed `openapi/<service>.json` documents.
pub fn operations() -> R<Vec<Operation>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    let mut out = vec![];
    for s in Service::ALL {
        let text = std::fs::read_to_string(dir.join(format!("{}.json", s.name())))?;
        let doc: Value = serde_json::from_str(&text)?;
        for (path, item) in doc["paths"].as_object().ok_or("no paths")? {
            for (method, op) in item.as_object().ok_or("bad path item")? {
                let method = Method::from_bytes(method.to_uppercase().as_bytes())?;
                let operation_id = op["operationId"].as_str().ok_or("no operationId")?.to_owned();
                let description = op["description"].as_str().unwrap_or_default();
                let documented_roles = roles_in(description)
                    .ok_or_else(|| format!("{operation_id}: the description names no roles: {description:?}"))?;
                out.push(Operation { service: s, method, path: path.clone(), operation_id, documented_roles });
            }
        }
    }
    Ok(out)
}

/// The roles of a description's `Roles: admin, sales, customer (its own only).` line.
fn roles_in(description: &str) -> Option<Vec<Role>> {
    let line = description.lines().find_map(|l| l.trim().strip_prefix("Roles:"))?;
    let line = line.trim().trim_end_matches('.');
    if line.starts_with("any") {
        return Some(Role::ALL.to_vec());
    }
    let mut roles = vec![];
    let mut depth = 0;
    let mut name = String::new();
    for c in line.chars().chain(std::iter::once(',')) {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                roles.push(Role::parse(name.trim())?);
                name.clear();
            }
            _ if depth == 0 => name.push(c),
            _ => {}
        }
    }
    Some(roles)
}
