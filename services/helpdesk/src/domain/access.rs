//! Who may do what in helpdesk: the one place the roles of its use cases are decided (the
//! matrix is in the README, section Authentication, and in each operation's OpenAPI
//! description). Every use case asks here first, before it reads or changes anything. A
//! `customer` reads and opens its own tickets only; another customer's answer 404.

use shared::auth::{Caller, Role};

use super::Result;

/// Teams: every role (a customer picks the team it opens a ticket with).
pub fn may_read_teams(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Accounting, Role::Agent, Role::Customer, Role::Service])
}

/// Create and change teams (and with them, projects for their time): admin only.
pub fn may_manage_teams(caller: &Caller) -> Result<()> {
    caller.require(&[])
}

/// Tickets: staff and services; a customer its own.
pub fn may_read_tickets(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Accounting, Role::Agent, Role::Customer, Role::Service])
}

/// Open a ticket: agents, and a customer for itself.
pub fn may_open_tickets(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Agent, Role::Customer])
}

/// Work on tickets: change them and record time on them: agents.
pub fn may_work_tickets(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Agent])
}

/// The time recorded on a ticket: staff and services.
pub fn may_read_ticket_time(caller: &Caller) -> Result<()> {
    caller.require(&[Role::Sales, Role::Accounting, Role::Agent, Role::Service])
}

/// Report a ticket's logged hours: services only (projects).
pub fn may_report_totals(caller: &Caller) -> Result<()> {
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
        let cases: [(Rule, &[Role]); 7] = [
            (may_read_teams, &[Admin, Sales, Accounting, Agent, Customer, Service]),
            (may_manage_teams, &[Admin]),
            (may_read_tickets, &[Admin, Sales, Accounting, Agent, Customer, Service]),
            (may_open_tickets, &[Admin, Agent, Customer]),
            (may_work_tickets, &[Admin, Agent]),
            (may_read_ticket_time, &[Admin, Sales, Accounting, Agent, Service]),
            (may_report_totals, &[Admin, Service]),
        ];
        for (rule, allowed) in cases {
            for role in Role::ALL {
                let caller = Caller { sub: "t".into(), role, customer_id: (role == Customer).then(CustomerId::new) };
                assert_eq!(rule(&caller).is_ok(), allowed.contains(&role), "{role:?}");
            }
        }
    }
}
