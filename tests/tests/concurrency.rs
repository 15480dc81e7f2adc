#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Races, on every backend: many clients logging time on one line at once (through helpdesk and
//! directly through projects) give the exact total; two invoice requests for one order at once
//! make one invoice; order names, invoice numbers and ticket numbers stay gap-free and unique
//! under parallel creation. (Two confirms of one order at once: `sales_invoicing.rs`.) Each
//! test prints how many writes it raced.

use std::collections::BTreeSet;

use e2e::{Api, R, System, id, on_both, same};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use shared::config::Service::{Helpdesk, Invoicing, Projects, Sales};
use shared::db::Backend;

/// Runs `n` clients at once, each its own task; answers their results in order.
async fn race<F, Fut, T>(api: &Api, n: usize, f: F) -> R<Vec<T>>
where
    F: Fn(Api, usize) -> Fut,
    Fut: std::future::Future<Output = R<T>> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(f(api.clone(), i))).collect();
    let mut out = vec![];
    for h in handles {
        out.push(h.await??);
    }
    Ok(out)
}

async fn many_clients_logging_time_on_one_line_at_once_give_the_exact_total(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    one_line(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    many_clients_logging_time_on_one_line_at_once_give_the_exact_total,
    many_clients_logging_time_on_one_line_at_once_give_the_exact_total_sqlite,
    many_clients_logging_time_on_one_line_at_once_give_the_exact_total_postgres
);

async fn one_line(sys: &System) -> R {
    let shop = sys.shop("prepaid").await?;
    let (_, lines) = sys.sold(&shop, 1, "100").await?;
    let (line, task) = lines[0].clone();
    let (_, ticket) = sys.desk(&shop, &task, true).await?;
    let (clients, each) = (16, 5);
    let hours = |c: usize, k: usize| Decimal::new(25 * ((c + k) % 6) as i64 + 25, 2);
    let task2 = task.clone();
    let ticket2 = ticket.clone();
    race(sys, clients, move |api, c| {
        let (task, ticket) = (task2.clone(), ticket2.clone());
        async move {
            for k in 0..each {
                let h = hours(c, k).to_string();
                if c % 2 == 0 {
                    let body = json!({"employee": format!("Agent {c}"), "hours": h});
                    api.post(Helpdesk, &format!("/tickets/{ticket}/timesheets"), &body, StatusCode::CREATED).await?;
                } else {
                    let body = json!({"employee": format!("Agent {c}"), "hours": h, "task_id": task});
                    api.post(Projects, "/timesheets", &body, StatusCode::CREATED).await?;
                }
            }
            Ok(())
        }
    })
    .await?;
    let want: Decimal = (0..clients).flat_map(|c| (0..each).map(move |k| hours(c, k))).sum();
    let got = sys.converged(std::slice::from_ref(&line), 20).await?;
    assert_eq!(got, want);
    let via_ticket: Decimal = (0..clients).step_by(2).flat_map(|c| (0..each).map(move |k| hours(c, k))).sum();
    // The ticket's total arrives from projects through the outbox, like the line's.
    e2e::eventually(10, || async {
        let t = sys.get(Helpdesk, &format!("/tickets/{ticket}")).await?;
        same("ticket hours_spent", &t["hours_spent"], &via_ticket.to_string())
    })
    .await?;
    let task = sys.get(Projects, &format!("/tasks/{task}")).await?;
    same("task effective_hours", &task["effective_hours"], &want.to_string())?;
    println!(
        "races: {} timesheets logged at once on one line by {clients} clients (helpdesk and projects): {want} hours, 0 lost or doubled",
        clients * each
    );
    Ok(())
}

async fn two_invoice_requests_for_one_order_at_once_make_one_invoice(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    two_invoices(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    two_invoice_requests_for_one_order_at_once_make_one_invoice,
    two_invoice_requests_for_one_order_at_once_make_one_invoice_sqlite,
    two_invoice_requests_for_one_order_at_once_make_one_invoice_postgres
);

async fn two_invoices(sys: &System) -> R {
    let shop = sys.shop("timesheet").await?;
    let prepaid = sys.shop("prepaid").await?;
    let mut raced = 0;
    for round in 0..3 {
        let o = sys
            .post(
                Sales,
                "/orders",
                &json!({"customer_id": shop.customer, "lines": [
                    {"product_id": shop.product, "quantity": "10"}, {"product_id": prepaid.product, "quantity": "4"}]}),
                StatusCode::CREATED,
            )
            .await?;
        let order = id(&o);
        let o = sys.confirm(&order).await?;
        let task = o["lines"][0]["task_id"].as_str().unwrap().to_owned();
        sys.post(
            Projects,
            "/timesheets",
            &json!({"employee": "Ann", "hours": "2.5", "task_id": task}),
            StatusCode::CREATED,
        )
        .await?;
        sys.converged(&[id(&o["lines"][0])], 10).await?;
        let path = format!("/orders/{order}/invoices");
        let n = 2 + round;
        let answers = race(sys, n, move |api, _| {
            let path = path.clone();
            async move { api.call(Sales, Method::POST, &path, Some(&json!({}))).await }
        })
        .await?;
        raced += n;
        let invoices = sys.all(Invoicing, &format!("/invoices?sale_order_id={order}")).await?;
        assert_eq!(invoices.len(), 1, "one invoice: {invoices:?}; answers {answers:?}");
        for (s, v) in &answers {
            assert!((*s == StatusCode::CREATED && id(v) == id(&invoices[0])) || *s == StatusCode::CONFLICT, "{s}: {v}");
        }
        assert!(answers.iter().any(|(s, _)| *s == StatusCode::CREATED));
        same("invoiced", &invoices[0]["amount_untaxed"], "650")?;
        let sheets = sys.all(Projects, &format!("/timesheets?task_id={task}")).await?;
        assert!(sheets.iter().all(|t| t["invoice_id"] == json!(id(&invoices[0]))), "{sheets:?}");
    }
    println!("races: {raced} invoice requests, 2 to 4 at once per order: 1 invoice per order");
    Ok(())
}

async fn order_names_invoice_numbers_and_ticket_numbers_stay_gap_free_and_unique_under_parallel_creation(
    backend: Backend,
) -> R {
    let sys = System::start(backend).await?;
    numbering(&sys).await.map_err(|e| format!("{backend:?}: {e}"))?;
    sys.stop().await;
    Ok(())
}
on_both!(
    order_names_invoice_numbers_and_ticket_numbers_stay_gap_free_and_unique_under_parallel_creation,
    order_names_invoice_numbers_and_ticket_numbers_stay_gap_free_and_unique_under_parallel_creation_sqlite,
    order_names_invoice_numbers_and_ticket_numbers_stay_gap_free_and_unique_under_parallel_creation_postgres
);

fn gap_free(label: &str, mut got: Vec<i64>) -> R {
    got.sort();
    let want: Vec<i64> = (1..=got.len() as i64).collect();
    if got != want {
        return Err(format!("{label}: {got:?}, want {want:?}").into());
    }
    Ok(())
}

async fn numbering(sys: &System) -> R {
    let n = 24;
    let customer = id(&sys.post(Sales, "/customers", &json!({"name": "Gemini"}), StatusCode::CREATED).await?);
    let product = id(&sys
        .post(
            Sales,
            "/products",
            &json!({"name": "Chair", "type": "goods", "uom": "unit", "list_price": "10"}),
            StatusCode::CREATED,
        )
        .await?);
    // Orders, some of them refused (an unknown product): a refusal takes no number.
    let c2 = customer.clone();
    let orders: Vec<(StatusCode, Value)> = race(sys, n, move |api, i| {
        let p = if i % 4 == 3 { uuid::Uuid::now_v7().to_string() } else { product.clone() };
        let body = json!({"customer_id": c2, "lines": [{"product_id": p, "quantity": "1"}]});
        async move { api.call(Sales, Method::POST, "/orders", Some(&body)).await }
    })
    .await?;
    let made: Vec<&Value> = orders.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, v)| v).collect();
    assert_eq!(made.len(), n - n / 4);
    let names: Vec<i64> = made.iter().map(|o| o["name"].as_str().unwrap()[1..].parse().unwrap()).collect();
    gap_free("order names", names)?;

    // Invoices: one per order, posted all at once.
    let ids: Vec<String> = made.iter().map(|o| id(o)).collect();
    let mut invoices = vec![];
    for o in &ids {
        sys.post(Sales, &format!("/orders/{o}/confirm"), &json!({}), StatusCode::OK).await?;
        invoices.push(id(&sys.post(Sales, &format!("/orders/{o}/invoices"), &json!({}), StatusCode::CREATED).await?));
    }
    let inv2 = invoices.clone();
    let posted = race(sys, invoices.len(), move |api, i| {
        let inv = inv2[i].clone();
        async move { api.post(Invoicing, &format!("/invoices/{inv}/post"), &json!({}), StatusCode::OK).await }
    })
    .await?;
    let numbers: Vec<i64> =
        posted.iter().map(|v| v["number"].as_str().unwrap().rsplit('/').next().unwrap().parse().unwrap()).collect();
    gap_free("invoice numbers", numbers)?;

    // Tickets.
    let team = id(&sys.post(Helpdesk, "/teams", &json!({"name": "Desk"}), StatusCode::CREATED).await?);
    let tickets = race(sys, n, move |api, i| {
        let body = json!({"team_id": team, "customer_id": customer, "title": format!("Ticket {i}")});
        async move { api.post(Helpdesk, "/tickets", &body, StatusCode::CREATED).await }
    })
    .await?;
    let numbers: Vec<i64> = tickets.iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers.iter().collect::<BTreeSet<_>>().len(), n);
    gap_free("ticket numbers", numbers)?;
    println!(
        "races: {n} orders ({} refused), {} invoice posts and {n} tickets created at once: numbers gap-free and unique",
        n / 4,
        invoices.len()
    );
    Ok(())
}
