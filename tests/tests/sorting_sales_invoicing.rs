#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every list of sales and invoicing sorts (SQLite and PostgreSQL, each its own test): for each
//! `sort` value, both directions, paging two at a time by `next_cursor` gives exactly the list
//! ordered by that key then id, every record once; without `sort` a list is newest first by
//! `created_at` (invoices too, whose ids, when made from an order, are not in creation order); a
//! cursor is refused under another `sort`, and an unknown `sort` is refused, both as 422s.
//!
//! Names are lowercase ASCII letters only: PostgreSQL orders text by its database's collation,
//! which (unlike `C`) may order mixed case, spaces or punctuation otherwise than bytes do; plain
//! lowercase letters are ordered alike by every collation and by SQLite.

use e2e::sorting::{Kind, SortKey, created, key, sorts};
use e2e::{R, System, id, on_both};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use shared::config::Service::{Invoicing, Sales};
use shared::db::Backend;

/// Deliberately out of order, with one repeat (the id breaks the tie).
const NAMES: [&str; 6] = ["c", "a", "e", "b", "d", "b"];
const AMOUNTS: [&str; 6] = ["3", "1", "5", "2", "4", "2"];

async fn sales_lists_sort(backend: Backend) -> R {
    let sys = System::start(backend).await?;

    let mut customers = vec![];
    for n in NAMES {
        customers.push(id(&created(&sys, Sales, "/customers", json!({"name": n})).await?));
    }
    // Changed out of creation order, so that `updated_at` orders them otherwise.
    for i in [2, 0, 4] {
        sys.patch(Sales, &format!("/customers/{}", customers[i]), &json!({"email": "x@example.com"})).await?;
    }

    let mut products = vec![];
    for (i, n) in NAMES.iter().enumerate() {
        let body = if i % 3 == 1 {
            json!({"name": n, "type": "goods", "uom": "unit", "list_price": "7"})
        } else {
            json!({"name": n, "type": "service", "uom": "hour", "list_price": "10", "tax_rate": "10",
                   "service_policy": "manual"})
        };
        products.push(id(&created(&sys, Sales, "/products", body).await?));
    }
    for i in [3, 0, 5] {
        sys.patch(Sales, &format!("/products/{}", products[i]), &json!({"upsell_threshold": "150"})).await?;
    }
    let service = &products[0];

    // Orders of two customers, totals out of order (one repeated); some with two lines.
    let mut orders = vec![];
    let mut lines = vec![];
    for (i, q) in AMOUNTS.iter().enumerate() {
        let customer = &customers[if i < 4 { 0 } else { 1 }];
        let mut order_lines = vec![json!({"product_id": service, "quantity": q})];
        if i % 2 == 0 {
            order_lines.push(json!({"product_id": products[1], "quantity": "1"}));
        }
        let o = created(&sys, Sales, "/orders", json!({"customer_id": customer, "lines": order_lines})).await?;
        lines.extend(o["lines"].as_array().into_iter().flatten().map(id));
        orders.push(id(&o));
    }
    // Confirmed, then delivered, out of creation order: `updated_at` orders them otherwise.
    for i in [3, 0, 4, 1] {
        sys.confirm(&orders[i]).await?;
    }
    for i in [3, 0, 4] {
        let o = sys.get(Sales, &format!("/orders/{}", orders[i])).await?;
        let first = id(&o["lines"][0]);
        sys.patch(Sales, &format!("/order-lines/{first}"), &json!({"qty_delivered": "1"})).await?;
    }

    let time = |f| (f, Kind::Time);
    let customer_sorts = [time("created_at"), time("updated_at"), ("name", Kind::Text)];
    sorts(&sys, Sales, "/customers", &customer_sorts, &customers, true).await?;

    let product_sorts = [time("created_at"), time("updated_at"), ("name", Kind::Text)];
    sorts(&sys, Sales, "/products", &product_sorts, &products, true).await?;
    let services: Vec<String> =
        products.iter().enumerate().filter(|(i, _)| i % 3 != 1).map(|(_, p)| p.clone()).collect();
    sorts(&sys, Sales, "/products?type=service", &product_sorts, &services, true).await?;
    let goods = sys.all(Sales, "/products?type=goods&sort=name").await?;
    assert!(goods.iter().all(|p| p["type"] == "goods"), "the type filter holds under sort: {goods:?}");

    let order_sorts = [time("created_at"), time("updated_at"), ("name", Kind::Text), ("amount_total", Kind::Decimal)];
    sorts(&sys, Sales, "/orders", &order_sorts, &orders, true).await?;
    let first_customer = &customers[0];
    sorts(&sys, Sales, &format!("/orders?customer_id={first_customer}"), &order_sorts, &orders[..4], true).await?;
    let sold = sys.all(Sales, "/orders?state=sale&sort=amount_total").await?;
    assert_eq!(sold.len(), 4, "the state filter holds under sort: {sold:?}");

    let line_sorts = [time("created_at"), time("updated_at")];
    sorts(&sys, Sales, "/order-lines", &line_sorts, &lines, true).await?;
    let theirs = sys.all(Sales, &format!("/order-lines?customer_id={first_customer}&sort=-updated_at")).await?;
    assert!(theirs.iter().all(|l| orders[..4].contains(&l["order_id"].as_str().unwrap_or("").to_owned())));

    sys.stop().await;
    Ok(())
}

async fn invoicing_lists_sort(backend: Backend) -> R {
    let sys = System::start(backend).await?;
    let customer = id(&created(&sys, Sales, "/customers", json!({"name": "a"})).await?);
    let product = id(&created(
        &sys,
        Sales,
        "/products",
        json!({"name": "b", "type": "service", "uom": "hour", "list_price": "10", "service_policy": "prepaid"}),
    )
    .await?);

    // Invoices made from orders (ids derived from the order) and by hand (ids by time), mixed.
    let mut invoices = vec![];
    let mut from_orders = vec![];
    for (i, q) in AMOUNTS.iter().enumerate() {
        if i % 2 == 0 {
            let o = created(
                &sys,
                Sales,
                "/orders",
                json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": q}]}),
            )
            .await?;
            sys.confirm(&id(&o)).await?;
            let inv = created(&sys, Sales, &format!("/orders/{}/invoices", id(&o)), json!({})).await?;
            from_orders.push(id(&inv));
            invoices.push(id(&inv));
        }
        let manual = created(
            &sys,
            Invoicing,
            "/invoices",
            json!({"customer_id": customer,
                   "lines": [{"description": "x", "quantity": "1", "unit_price": format!("{q}0")}]}),
        )
        .await?;
        invoices.push(id(&manual));
    }
    // Posted out of creation order: `updated_at` orders them otherwise.
    for i in [7, 2, 5, 0, 8] {
        sys.post(Invoicing, &format!("/invoices/{}/post", invoices[i]), &json!({}), StatusCode::OK).await?;
    }

    // Payments of one invoice: amounts and dates out of order, one of each repeated.
    let paid = &invoices[8];
    let total: Decimal =
        sys.get(Invoicing, &format!("/invoices/{paid}")).await?["amount_total"].as_str().unwrap_or("0").parse()?;
    let sum: Decimal = AMOUNTS.iter().map(|a| a.parse::<Decimal>().unwrap()).sum();
    assert!(total > sum, "invoice {paid} ({total}) can take all payments ({sum})");
    let dates = ["2026-11-03", "2026-11-01", "2026-11-05", "2026-11-02", "2026-11-04", "2026-11-02"];
    let mut payments = vec![];
    for (amount, date) in AMOUNTS.iter().zip(dates) {
        let p =
            created(&sys, Invoicing, &format!("/invoices/{paid}/payments"), json!({"amount": amount, "date": date}))
                .await?;
        payments.push(id(&p));
    }

    // Without `sort`: newest first by creation, whatever the ids.
    let listed = sys.all(Invoicing, "/invoices").await?;
    for i in &listed {
        assert_eq!(i["sale_order_id"].is_null(), !from_orders.contains(&id(i)), "{i}");
    }
    let times: Vec<SortKey> = listed.iter().map(|i| key(i, "created_at", Kind::Time)).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "GET /invoices is not newest first: {times:?}");
    let mut made = invoices.clone();
    made.reverse();
    assert_eq!(listed.iter().map(id).collect::<Vec<_>>(), made, "GET /invoices is not in the reverse order made");

    let invoice_sorts = [("created_at", Kind::Time), ("updated_at", Kind::Time), ("amount_total", Kind::Decimal)];
    sorts(&sys, Invoicing, "/invoices", &invoice_sorts, &invoices, true).await?;
    let posted = sys.all(Invoicing, "/invoices?state=posted&sort=amount_total").await?;
    assert_eq!(posted.len(), 5, "the state filter holds under sort");
    sorts(&sys, Invoicing, &format!("/invoices?customer_id={customer}&kind=invoice"), &invoice_sorts, &invoices, true)
        .await?;

    let payment_sorts = [("created_at", Kind::Time), ("amount", Kind::Decimal), ("date", Kind::Date)];
    sorts(&sys, Invoicing, &format!("/invoices/{paid}/payments"), &payment_sorts, &payments, true).await?;

    sys.stop().await;
    Ok(())
}

on_both!(sales_lists_sort, sales_lists_sort_on_sqlite, sales_lists_sort_on_postgres);
on_both!(invoicing_lists_sort, invoicing_lists_sort_on_sqlite, invoicing_lists_sort_on_postgres);
