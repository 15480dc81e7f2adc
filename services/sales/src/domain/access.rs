//! Who may do what in sales: the one place the roles of its use cases are decided (the matrix
//! is in the README, section Authentication, and in each operation's OpenAPI description).
//! Every use case asks here first, before it reads or changes anything. A `customer` reads its
//! own customer, orders, lines and prepaid hours only; another customer's answer 404.

use shared::auth::{Caller, Role};

use super::Result;

/// Customers, orders, order lines and prepaid hours: staff and services; a customer its own.
pub fn may_read_accounts(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Accounting, Role::Agent, Role::Customer, Role::Service])
}

/// The product catalogue: staff and services.
pub fn may_read_products(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Accounting, Role::Agent, Role::Service])
}

/// Create and change customers, products, orders and their lines: sales.
pub fn may_sell(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales])
}

/// Invoice a confirmed order: sales, and accounting (who keeps the invoices).
pub fn may_invoice_orders(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Accounting])
}

/// Report a line's logged hours or invoiced quantity: services only (projects, invoicing).
pub fn may_report_totals(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Service])
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ids::CustomerId;

    fn caller(role: Role) -> Caller {
        let customer_id = (role == Role::Customer).then(CustomerId::new);
        Caller { sub: "t".into(), role, customer_id }
    }

    #[test]
    fn each_role_gets_what_the_matrix_says() {
        use Role::*;
        type Rule = fn(&Caller) -> Result<()>;
        let cases: [(Rule, &[Role]); 5] = [
            (may_read_accounts, &[Admin, Sales, Accounting, Agent, Customer, Service]),
            (may_read_products, &[Admin, Sales, Accounting, Agent, Service]),
            (may_sell, &[Admin, Sales]),
            (may_invoice_orders, &[Admin, Sales, Accounting]),
            (may_report_totals, &[Admin, Service]),
        ];
        for (rule, allowed) in cases {
            for role in Role::ALL {
                assert_eq!(rule(&caller(role)).is_ok(), allowed.contains(&role), "{role:?}");
            }
        }
    }
}
