//! Who may do what in projects: the one place the roles of its use cases are decided (the
//! matrix is in the README, section Authentication, and in each operation's OpenAPI
//! description). Every use case asks here first, before it reads or changes anything.
//! Customers see nothing here.

use shared::auth::{Caller, Role};

use super::Result;

/// Projects, tasks and timesheets: staff and services.
pub fn may_read_work(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Accounting, Role::Agent, Role::Service])
}

/// Create and change projects and tasks: sales, and services (sales confirming an order,
/// helpdesk making a team's project).
pub fn may_plan_work(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Service])
}

/// Record, edit and delete time: agents, and helpdesk's service for ticket time.
pub fn may_record_time(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Agent, Role::Service])
}

/// Record time on someone else's behalf (`created_by`): services only (helpdesk passes on the
/// agent who logged ticket time).
pub fn may_record_for_others(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Service])
}

/// Claim and release timesheets for invoices: services only (sales and invoicing).
pub fn may_bill_time(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Service])
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ids::CustomerId;

    #[test]
    fn each_role_gets_what_the_matrix_says() {
        use Role::*;
        type Rule = fn(&Caller) -> Result<()>;
        let cases: [(Rule, &[Role]); 5] = [
            (may_read_work, &[Admin, Sales, Accounting, Agent, Service]),
            (may_plan_work, &[Admin, Sales, Service]),
            (may_record_time, &[Admin, Agent, Service]),
            (may_record_for_others, &[Admin, Service]),
            (may_bill_time, &[Admin, Service]),
        ];
        for (rule, allowed) in cases {
            for role in Role::ALL {
                let caller = Caller { sub: "t".into(), role, customer_id: (role == Customer).then(CustomerId::new) };
                assert_eq!(rule(&caller).is_ok(), allowed.contains(&role), "{role:?}");
            }
        }
    }
}
