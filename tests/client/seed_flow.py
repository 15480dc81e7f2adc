"""The seed flow, driven only through Python clients generated from openapi/*.json.

Run by scripts/client-test.sh, which generates the packages `sales_client`, `invoicing_client`,
`projects_client` and `helpdesk_client` with openapi-python-client, puts them on PYTHONPATH and
starts `stack`. Base URLs come from SALES_URL, INVOICING_URL, PROJECTS_URL and HELPDESK_URL
(default: the ports of DESIGN.md); the bearer token from AUTH_TOKEN (an admin token: the script
mints one with `stack token --role admin`). Prints one line per check and, last, `N passed, M failed`;
exits non-zero when anything failed.
"""

import datetime
import os
import sys
import time
import traceback
from http import HTTPStatus

from sales_client import AuthenticatedClient as SalesClient
from sales_client import Client as AnonymousSalesClient
from sales_client.api.customers import create_customer, get_customer_prepaid_hours
from sales_client.api.order_lines import get_order_line
from sales_client.api.orders import confirm_order, create_order, create_order_invoice, get_order
from sales_client.api.products import create_product
from sales_client.models import (
    CreateCustomer,
    CreateLine,
    CreateOrder,
    CreateProduct,
    InvoiceDto as SalesInvoice,
    InvoiceOrder,
    InvoiceState as SalesInvoiceState,
    OrderState,
    ProductType,
    ServicePolicy,
    ServiceTracking,
    Uom,
)
from invoicing_client import AuthenticatedClient as InvoicingClient
from invoicing_client.api.invoices import get_invoice, post_invoice
from invoicing_client.models import InvoiceState
from projects_client import AuthenticatedClient as ProjectsClient
from projects_client.api.projects import create_project
from projects_client.api.tasks import get_task
from projects_client.api.timesheets import list_timesheets
from projects_client.models import CreateProject
from helpdesk_client import AuthenticatedClient as HelpdeskClient
from helpdesk_client.api.teams import create_team
from helpdesk_client.api.tickets import create_ticket, create_ticket_timesheet, get_ticket, update_ticket
from helpdesk_client.models import CreateTeam, CreateTicket, LogTicketTime, UpdateTicket


def url(name, port):
    return os.environ.get(f"{name.upper()}_URL", f"http://127.0.0.1:{port}")


TIMEOUT = 10.0
TOKEN = os.environ.get("AUTH_TOKEN", "")
if not TOKEN:
    sys.exit("seed_flow: set AUTH_TOKEN (e.g. `stack token --role admin --sub me`)")
common = dict(token=TOKEN, timeout=TIMEOUT, raise_on_unexpected_status=True)
sales = SalesClient(base_url=url("sales", 8081), **common)
invoicing = InvoicingClient(base_url=url("invoicing", 8082), **common)
projects = ProjectsClient(base_url=url("projects", 8083), **common)
helpdesk = HelpdeskClient(base_url=url("helpdesk", 8084), **common)
anonymous = AnonymousSalesClient(base_url=url("sales", 8081), timeout=TIMEOUT, raise_on_unexpected_status=True)

passed = 0
failed = 0


class Failed(Exception):
    pass


def check(label, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {label}")
    else:
        failed += 1
        print(f"FAIL {label} {detail}")
    return ok


def call(label, endpoint, want, *args, **kwargs):
    """Calls a generated endpoint's sync_detailed; checks the status; returns the parsed body."""
    res = endpoint.sync_detailed(*args, **kwargs)
    if not check(f"{label}: {int(res.status_code)}", res.status_code == want, f"want {int(want)}: {res.content[:400]!r}"):
        raise Failed(label)
    return res.parsed


def eventually(label, probe, secs=10.0):
    """Retries `probe` (returns (ok, detail)) until it passes or `secs` run out."""
    deadline = time.monotonic() + secs
    while True:
        ok, detail = probe()
        if ok or time.monotonic() > deadline:
            if not check(label, ok, detail):
                raise Failed(label)
            return
        time.sleep(0.2)


def seed_flow():
    refused = create_customer.sync_detailed(client=anonymous, body=CreateCustomer(name="Nobody"))
    check("without a token: 401 problem", refused.status_code == HTTPStatus.UNAUTHORIZED
          and refused.headers.get("www-authenticate") == "Bearer"
          and refused.headers.get("content-type", "").startswith("application/problem+json"),
          f"{int(refused.status_code)} {refused.content[:300]!r}")
    customer = call(
        "create customer", create_customer, HTTPStatus.CREATED,
        client=sales, body=CreateCustomer(name="Azure Interior", email="azure@example.com"),
    )
    project = call("create project", create_project, HTTPStatus.CREATED,
                   client=projects, body=CreateProject(name="Helpdesk Services"))
    team = call(
        "create team", create_team, HTTPStatus.CREATED, client=helpdesk,
        body=CreateTeam(name="Support", use_timesheets=True, use_time_reinvoicing=True, project_id=project.id),
    )
    check("team bills time to the project", team.project_id == project.id, f"{team.project_id}")
    product = call(
        "create prepaid hours product", create_product, HTTPStatus.CREATED, client=sales,
        body=CreateProduct(
            name="Support hours", type_=ProductType.SERVICE, uom=Uom.HOUR, list_price="100",
            service_policy=ServicePolicy.PREPAID, service_tracking=ServiceTracking.TASK_IN_PROJECT,
            project_id=project.id,
        ),
    )
    order = call(
        "create order for 10 h", create_order, HTTPStatus.CREATED, client=sales,
        body=CreateOrder(customer_id=customer.id, lines=[CreateLine(product_id=product.id, quantity="10")]),
    )
    check("order is a draft", order.state == OrderState.DRAFT, f"{order.state}")

    confirmed = call("confirm order", confirm_order, HTTPStatus.OK, order.id, client=sales)
    check("order is confirmed", confirmed.state == OrderState.SALE, f"{confirmed.state}")

    def task_linked():
        o = get_order.sync(order.id, client=sales)
        line = o.lines[0]
        return isinstance(line.task_id, type(order.id)), f"line {line.id} task_id {line.task_id}"

    eventually("the line gets its task", task_linked)
    line = get_order.sync(order.id, client=sales).lines[0]
    task = call("get task", get_task, HTTPStatus.OK, line.task_id, client=projects)
    check("the task points back at the line", task.sale_line_id == line.id, f"{task.sale_line_id} != {line.id}")
    check("the task is in the product's project", task.project_id == project.id, f"{task.project_id}")

    invoice = call("invoice the order", create_order_invoice, HTTPStatus.CREATED, order.id,
                   client=sales, body=InvoiceOrder())
    check("the invoice is typed", isinstance(invoice, SalesInvoice), f"{type(invoice)}")
    check("the new invoice is a draft", invoice.state == SalesInvoiceState.DRAFT, f"{invoice.state}")
    check("the new invoice bills the order", invoice.sale_order_id == order.id, f"{invoice.sale_order_id}")
    invoice_id = invoice.id
    draft = call("get draft invoice", get_invoice, HTTPStatus.OK, invoice_id, client=invoicing)
    check("the invoice bills 10 hours", draft.lines[0].quantity == "10.00", f"{draft.lines[0].quantity}")
    posted = call("post invoice", post_invoice, HTTPStatus.OK, invoice_id, client=invoicing)
    year = datetime.date.today().year
    check("the invoice is posted", posted.state == InvoiceState.POSTED, f"{posted.state}")
    check(f"the invoice is numbered INV/{year}/00001", posted.number == f"INV/{year}/00001", f"{posted.number}")

    ticket = call(
        "create ticket", create_ticket, HTTPStatus.CREATED, client=helpdesk,
        body=CreateTicket(team_id=team.id, customer_id=customer.id, title="Printer on fire"),
    )
    linked = call("link the ticket to the task", update_ticket, HTTPStatus.OK, ticket.id,
                  client=helpdesk, body=UpdateTicket(task_id=line.task_id))
    check("the ticket takes the task's sale line", linked.sale_line_id == line.id, f"{linked.sale_line_id}")

    for i in range(3):
        ts = call(f"log 1.5 h on the ticket ({i + 1})", create_ticket_timesheet, HTTPStatus.CREATED, ticket.id,
                  client=helpdesk, body=LogTicketTime(employee="Marc Demo", hours="1.5"))
        check(f"timesheet {i + 1} is on the ticket, task and line",
              ts.ticket_id == ticket.id and ts.task_id == line.task_id and ts.sale_line_id == line.id and ts.hours == "1.50",
              f"{ts}")

    def delivered():
        l = get_order_line.sync(line.id, client=sales)
        return (l.qty_delivered == "4.50" and l.remaining_hours == "5.50",
                f"qty_delivered {l.qty_delivered}, remaining_hours {l.remaining_hours}")

    eventually("the line shows 4.50 delivered and 5.50 remaining", delivered)
    l = get_order_line.sync(line.id, client=sales)
    check("the line stays invoiced for 10", l.qty_invoiced == "10.00", f"{l.qty_invoiced}")
    t = get_task.sync(line.task_id, client=projects)
    check("the task shows 4.50 effective hours", t.effective_hours == "4.50", f"{t.effective_hours}")
    tk = get_ticket.sync(ticket.id, client=helpdesk)
    check("the ticket shows 4.50 hours spent", tk.hours_spent == "4.50", f"{tk.hours_spent}")
    page = list_timesheets.sync(client=projects, ticket_id=ticket.id)
    check("projects lists the ticket's 3 timesheets", len(page.items) == 3, f"{len(page.items)}")
    check("each was created by the token's subject, passed on by helpdesk",
          all(t.created_by == "client-test" for t in page.items), f"{[t.created_by for t in page.items]}")
    hours = get_customer_prepaid_hours.sync(customer.id, client=sales)
    check("the customer has 5.50 prepaid hours left", hours.remaining_hours == "5.50", f"{hours.remaining_hours}")

    bad = create_ticket_timesheet.sync_detailed(ticket.id, client=helpdesk,
                                                body=LogTicketTime(employee="Marc Demo", hours="1.234"))
    check("three decimals is a 422 problem naming hours",
          bad.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
          and any(e.field == "hours" for e in (bad.parsed.errors or [])),
          f"{int(bad.status_code)} {bad.content[:300]!r}")


def main():
    try:
        seed_flow()
    except Failed:
        pass
    except Exception:
        global failed
        failed += 1
        traceback.print_exc()
        print("FAIL the flow stopped on an exception")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
