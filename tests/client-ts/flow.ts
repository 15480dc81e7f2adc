// The seed flow of tests/client/seed_flow.py, driven only through openapi-fetch clients typed by
// openapi-typescript from openapi/*.json (generated/{service}.d.ts).
//
// Run by scripts/ts-client-test.sh, which generates the types, compiles this file with tsc
// (strict) and starts `stack`. Base URLs come from SALES_URL, INVOICING_URL, PROJECTS_URL and
// HELPDESK_URL (default: the ports of DESIGN.md); the paths in the documents start with /api/v1,
// so a base URL is the service's origin. The bearer token comes from AUTH_TOKEN (an admin token:
// the script mints one with `stack token --role admin`). Prints one line per check and, last,
// `N passed, M failed`; exits non-zero when a check failed.
//
// No casts, no non-null assertions, no escape hatches from the type checker: every response is
// narrowed by a real check, so a document that does not describe what the services answer fails
// here either at compile time or at run time.

import createClient from "openapi-fetch";

type SalesPaths = import("./generated/sales.js").paths;
type InvoicingPaths = import("./generated/invoicing.js").paths;
type ProjectsPaths = import("./generated/projects.js").paths;
type HelpdeskPaths = import("./generated/helpdesk.js").paths;

const TIMEOUT_MS = 10_000;

function url(name: string, port: number): string {
  return process.env[`${name.toUpperCase()}_URL`] ?? `http://127.0.0.1:${port}`;
}

const token = process.env["AUTH_TOKEN"] ?? "";
if (token === "") {
  console.error("flow: set AUTH_TOKEN (e.g. `stack token --role admin --sub me`)");
  process.exit(2);
}

// Every request gets its own deadline, like the Python clients' timeout.
function fetchWithTimeout(input: Request): Promise<Response> {
  return fetch(input, { signal: AbortSignal.timeout(TIMEOUT_MS) });
}

const auth = { Authorization: `Bearer ${token}` };
const sales = createClient<SalesPaths>({ baseUrl: url("sales", 8081), headers: auth, fetch: fetchWithTimeout });
const invoicing = createClient<InvoicingPaths>({
  baseUrl: url("invoicing", 8082),
  headers: auth,
  fetch: fetchWithTimeout,
});
const projects = createClient<ProjectsPaths>({ baseUrl: url("projects", 8083), headers: auth, fetch: fetchWithTimeout });
const helpdesk = createClient<HelpdeskPaths>({ baseUrl: url("helpdesk", 8084), headers: auth, fetch: fetchWithTimeout });
const anonymous = createClient<SalesPaths>({ baseUrl: url("sales", 8081), fetch: fetchWithTimeout });

let passed = 0;
let failed = 0;

class Failed extends Error {}

function check(label: string, ok: boolean, detail = ""): boolean {
  if (ok) {
    passed += 1;
    console.log(`ok   ${label}`);
  } else {
    failed += 1;
    console.log(`FAIL ${label} ${detail}`);
  }
  return ok;
}

// What every openapi-fetch call answers: the 2xx body in `data`, the problem in `error`.
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

// Checks the status of a call and returns its typed body; a wrong status or a missing body
// stops the flow, like seed_flow.py's `call`.
function expectStatus<T>(label: string, res: Answer<T>, want: number): T {
  const status = res.response.status;
  const ok = check(`${label}: ${status}`, status === want && res.data !== undefined, `want ${want}: ${show(res.error)}`);
  if (!ok || res.data === undefined) {
    throw new Failed(label);
  }
  return res.data;
}

// Like expectStatus for a read that is not a check of its own in the flow.
function body<T>(label: string, res: Answer<T>): T {
  if (res.data === undefined) {
    check(label, false, `${res.response.status}: ${show(res.error)}`);
    throw new Failed(label);
  }
  return res.data;
}

function show(value: unknown): string {
  return JSON.stringify(value ?? null).slice(0, 400);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Retries `probe` until it passes or `secs` run out.
async function eventually(label: string, probe: () => Promise<[boolean, string]>, secs = 10): Promise<void> {
  const deadline = Date.now() + secs * 1000;
  for (;;) {
    const [ok, detail] = await probe();
    if (ok || Date.now() > deadline) {
      if (!check(label, ok, detail)) {
        throw new Failed(label);
      }
      return;
    }
    await sleep(200);
  }
}

async function seedFlow(): Promise<void> {
  const refused = await anonymous.POST("/api/v1/customers", { body: { name: "Nobody" } });
  check(
    "without a token: 401 problem",
    refused.response.status === 401 &&
      refused.response.headers.get("www-authenticate") === "Bearer" &&
      (refused.response.headers.get("content-type") ?? "").startsWith("application/problem+json") &&
      refused.error?.status === 401,
    `${refused.response.status} ${show(refused.error)}`,
  );

  // Every POST declares an optional Idempotency-Key header parameter, so the key is typed
  // (params.header); a repeat with the same key and body gets the first answer back.
  const key = `client-ts-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  const azure = { name: "Azure Interior", email: "azure@example.com" };
  const customer = expectStatus(
    "create customer (with an Idempotency-Key)",
    await sales.POST("/api/v1/customers", { params: { header: { "Idempotency-Key": key } }, body: azure }),
    201,
  );
  check("the customer keeps its email", customer.email === "azure@example.com", `${customer.email}`);
  const again = await sales.POST("/api/v1/customers", { params: { header: { "Idempotency-Key": key } }, body: azure });
  check(
    "the same key and body replay the first answer",
    again.response.status === 201 &&
      again.data?.id === customer.id &&
      again.response.headers.get("idempotent-replayed") === "true",
    `${again.response.status} ${again.data?.id} != ${customer.id}, idempotent-replayed ${again.response.headers.get("idempotent-replayed")}`,
  );

  const project = expectStatus(
    "create project",
    await projects.POST("/api/v1/projects", { body: { name: "Helpdesk Services" } }),
    201,
  );
  const team = expectStatus(
    "create team",
    await helpdesk.POST("/api/v1/teams", {
      body: { name: "Support", use_timesheets: true, use_time_reinvoicing: true, project_id: project.id },
    }),
    201,
  );
  check("team bills time to the project", team.project_id === project.id, `${team.project_id}`);
  const product = expectStatus(
    "create prepaid hours product",
    await sales.POST("/api/v1/products", {
      body: {
        name: "Support hours",
        type: "service",
        uom: "hour",
        list_price: "100",
        service_policy: "prepaid",
        service_tracking: "task_in_project",
        project_id: project.id,
      },
    }),
    201,
  );
  const order = expectStatus(
    "create order for 10 h",
    await sales.POST("/api/v1/orders", {
      body: { customer_id: customer.id, lines: [{ product_id: product.id, quantity: "10" }] },
    }),
    201,
  );
  check("order is a draft", order.state === "draft", order.state);
  check("the order totals 1000.00 untaxed", order.amount_untaxed === "1000.00", order.amount_untaxed);

  const confirmed = expectStatus(
    "confirm order",
    await sales.POST("/api/v1/orders/{id}/confirm", { params: { path: { id: order.id } } }),
    200,
  );
  check("order is confirmed", confirmed.state === "sale", confirmed.state);

  const firstLine = async () => {
    const o = body("get order", await sales.GET("/api/v1/orders/{id}", { params: { path: { id: order.id } } }));
    const line = o.lines[0];
    if (line === undefined) {
      check("the order has its line", false, show(o));
      throw new Failed("the order has its line");
    }
    return line;
  };
  await eventually("the line gets its task", async () => {
    const line = await firstLine();
    return [typeof line.task_id === "string", `line ${line.id} task_id ${line.task_id}`];
  });
  const line = await firstLine();
  const taskId = line.task_id;
  if (typeof taskId !== "string") {
    check("the line keeps its task", false, `${taskId}`);
    throw new Failed("the line keeps its task");
  }
  const task = expectStatus(
    "get task",
    await projects.GET("/api/v1/tasks/{id}", { params: { path: { id: taskId } } }),
    200,
  );
  check("the task points back at the line", task.sale_line_id === line.id, `${task.sale_line_id} != ${line.id}`);
  check("the task is in the product's project", task.project_id === project.id, task.project_id);

  const invoice = expectStatus(
    "invoice the order",
    await sales.POST("/api/v1/orders/{id}/invoices", { params: { path: { id: order.id } }, body: {} }),
    201,
  );
  check("the new invoice is a draft", invoice.state === "draft", invoice.state);
  check("the new invoice bills the order", invoice.sale_order_id === order.id, `${invoice.sale_order_id}`);
  check("the new invoice totals 1000.00 untaxed", invoice.amount_untaxed === "1000.00", invoice.amount_untaxed);
  const draft = expectStatus(
    "get draft invoice",
    await invoicing.GET("/api/v1/invoices/{id}", { params: { path: { id: invoice.id } } }),
    200,
  );
  const draftLine = draft.lines[0];
  check("the invoice bills 10 hours", draftLine?.quantity === "10.00", `${draftLine?.quantity}`);
  check("the invoice line points at the order line", draftLine?.sale_line_id === line.id, `${draftLine?.sale_line_id}`);
  const posted = expectStatus(
    "post invoice",
    await invoicing.POST("/api/v1/invoices/{id}/post", { params: { path: { id: invoice.id } } }),
    200,
  );
  const year = new Date().getFullYear();
  check("the invoice is posted", posted.state === "posted", posted.state);
  check(`the invoice is numbered INV/${year}/00001`, posted.number === `INV/${year}/00001`, `${posted.number}`);
  check("posting keeps the totals", posted.amount_total === draft.amount_total, `${posted.amount_total}`);

  const ticket = expectStatus(
    "create ticket",
    await helpdesk.POST("/api/v1/tickets", {
      body: { team_id: team.id, customer_id: customer.id, title: "Printer on fire" },
    }),
    201,
  );
  check("the ticket is new", ticket.stage === "new", ticket.stage);
  const linked = expectStatus(
    "link the ticket to the task",
    await helpdesk.PATCH("/api/v1/tickets/{id}", { params: { path: { id: ticket.id } }, body: { task_id: taskId } }),
    200,
  );
  check("the ticket takes the task's sale line", linked.sale_line_id === line.id, `${linked.sale_line_id}`);

  for (let i = 1; i <= 3; i++) {
    const ts = expectStatus(
      `log 1.5 h on the ticket (${i})`,
      await helpdesk.POST("/api/v1/tickets/{id}/timesheets", {
        params: { path: { id: ticket.id } },
        body: { employee: "Marc Demo", hours: "1.5" },
      }),
      201,
    );
    check(
      `timesheet ${i} is on the ticket, task and line`,
      ts.ticket_id === ticket.id && ts.task_id === taskId && ts.sale_line_id === line.id && ts.hours === "1.50",
      show(ts),
    );
  }

  const getLine = async () =>
    body("get order line", await sales.GET("/api/v1/order-lines/{id}", { params: { path: { id: line.id } } }));
  await eventually("the line shows 4.50 delivered and 5.50 remaining", async () => {
    const l = await getLine();
    return [
      l.qty_delivered === "4.50" && l.remaining_hours === "5.50",
      `qty_delivered ${l.qty_delivered}, remaining_hours ${l.remaining_hours}`,
    ];
  });
  const l = await getLine();
  check("the line stays invoiced for 10", l.qty_invoiced === "10.00", l.qty_invoiced);
  const t = body("get task", await projects.GET("/api/v1/tasks/{id}", { params: { path: { id: taskId } } }));
  check("the task shows 4.50 effective hours", t.effective_hours === "4.50", t.effective_hours);
  const tk = body("get ticket", await helpdesk.GET("/api/v1/tickets/{id}", { params: { path: { id: ticket.id } } }));
  check("the ticket shows 4.50 hours spent", tk.hours_spent === "4.50", tk.hours_spent);
  const page = body(
    "list timesheets",
    await projects.GET("/api/v1/timesheets", { params: { query: { ticket_id: ticket.id } } }),
  );
  check("projects lists the ticket's 3 timesheets", page.items.length === 3, `${page.items.length}`);
  const creators = page.items.map((ts) => ts.created_by);
  check(
    "each was created by the token's subject, passed on by helpdesk",
    creators.every((c) => c === "client-test"),
    show(creators),
  );
  const hours = body(
    "get prepaid hours",
    await sales.GET("/api/v1/customers/{id}/prepaid-hours", { params: { path: { id: customer.id } } }),
  );
  check("the customer has 5.50 prepaid hours left", hours.remaining_hours === "5.50", hours.remaining_hours);

  const bad = await helpdesk.POST("/api/v1/tickets/{id}/timesheets", {
    params: { path: { id: ticket.id } },
    body: { employee: "Marc Demo", hours: "1.234" },
  });
  check(
    "three decimals is a 422 problem naming hours",
    bad.response.status === 422 && (bad.error?.errors ?? []).some((e) => e.field === "hours"),
    `${bad.response.status} ${show(bad.error)}`,
  );
}

async function main(): Promise<number> {
  try {
    await seedFlow();
  } catch (e) {
    if (!(e instanceof Failed)) {
      failed += 1;
      console.log(e instanceof Error ? (e.stack ?? e.message) : String(e));
      console.log("FAIL the flow stopped on an exception");
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
