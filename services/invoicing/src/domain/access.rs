//! Who may do what in invoicing: the one place the roles of its use cases are decided (the
//! matrix is in the README, section Authentication, and in each operation's OpenAPI
//! description). Every use case asks here first, before it reads or changes anything. A
//! `customer` reads its own invoices and their payments only; another customer's answer 404.

use shared::auth::{Caller, Role};

use super::Result;

/// Invoices, credit notes and their payments: accounting, sales and services; a customer its own.
pub fn may_read_invoices(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Accounting, Role::Sales, Role::Customer, Role::Service])
}

/// Create a draft invoice: accounting, and sales' service when it invoices an order.
pub fn may_create_invoices(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Accounting, Role::Service])
}

/// Cancel an invoice: accounting, and sales' service when an order is cancelled.
pub fn may_cancel_invoices(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Accounting, Role::Service])
}

/// Post invoices, make credit notes, record payments: accounting.
pub fn may_keep_books(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Accounting])
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ids::CustomerId;

    #[test]
    fn each_role_gets_what_the_matrix_says() {
        use Role::*;
        type Rule = fn(&Caller) -> Result<()>;
        let cases: [(Rule, &[Role]); 4] = [
            (may_read_invoices, &[Admin, Sales, Accounting, Customer, Service]),
            (may_create_invoices, &[Admin, Accounting, Service]),
            (may_cancel_invoices, &[Admin, Accounting, Service]),
            (may_keep_books, &[Admin, Accounting]),
        ];
        for (rule, allowed) in cases {
            for role in Role::ALL {
                let caller = Caller { sub: "t".into(), role, customer_id: (role == Customer).then(CustomerId::new) };
                assert_eq!(rule(&caller).is_ok(), allowed.contains(&role), "{role:?}");
            }
        }
    }
}
