//! Time counts on a customer's sale line only for that customer's work: a timesheet's sale line
//! must be the customer's of its ticket and of its task's sale line, and a ticket the customer's
//! of its task. Whose a line or a ticket is, is a fact owned by sales or helpdesk: learned from
//! them before the write (`crate::peers`), and read here, inside the write's transaction, from
//! what projects keeps of it (`store::customers`).

use super::Refusal;
use std::collections::{HashMap, HashSet};

use shared::db::DbConn;
use shared::ids::{CustomerId, SaleLineId, TaskId, TicketId};

use super::{Checks, Error, Result};
use crate::store;

/// Whose the sale lines and tickets are, as far as it is known here. A ticket may have no
/// customer.
#[derive(Debug, Clone, Default)]
pub struct Customers {
    pub lines: HashMap<SaleLineId, CustomerId>,
    pub tickets: HashMap<TicketId, Option<CustomerId>>,
}

/// What a link of a timesheet points to, as far as whose it is goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    Line(SaleLineId),
    Ticket(TicketId),
    /// A sold task: its customer is its sale line's.
    TaskLine(TaskId, SaleLineId),
    /// A task without a sale line: its own customer, if any.
    Task(TaskId, CustomerId),
}

impl std::fmt::Display for Whose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Whose::Line(l) => write!(f, "sale line {l}"),
            Whose::Ticket(t) => write!(f, "ticket {t}"),
            Whose::TaskLine(t, l) => write!(f, "task {t} (sale line {l})"),
            Whose::Task(t, _) => write!(f, "task {t}"),
        }
    }
}

/// A link and the request field that set it: named by the request itself, or taken from the
/// task, the project or the record as it was (then `named` is false).
#[derive(Debug, Clone, Copy)]
pub struct Party {
    pub whose: Whose,
    pub field: &'static str,
    pub named: bool,
}

/// A fact to learn from its owner, and the request field to name if the owner does not know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fact {
    Line(SaleLineId),
    Ticket(TicketId),
}

/// Whose lines and tickets are, remembered in memory by a running service once read: the facts
/// never change, so what was read once holds for good, and the time-logging path then checks a
/// timesheet without reading them again (one statement fewer per entry).
#[derive(Debug, Default)]
pub struct Memo(std::sync::RwLock<Customers>);

impl Memo {
    /// What is remembered of `facts`.
    fn known(&self, facts: &[(Fact, &'static str)]) -> Customers {
        let mut out = Customers::default();
        let Ok(memo) = self.0.read() else { return out };
        for (f, _) in facts {
            match *f {
                Fact::Line(l) => {
                    if let Some(c) = memo.lines.get(&l) {
                        out.lines.insert(l, *c);
                    }
                }
                Fact::Ticket(t) => {
                    if let Some(c) = memo.tickets.get(&t) {
                        out.tickets.insert(t, *c);
                    }
                }
            }
        }
        out
    }

    /// Whose a ticket is, told by helpdesk itself with the ticket's time: as good as its answer.
    pub fn told_ticket(&self, ticket: TicketId, customer: CustomerId) {
        if let Ok(mut memo) = self.0.write() {
            memo.tickets.insert(ticket, Some(customer));
        }
    }

    fn keep(&self, known: &Customers) {
        if let Ok(mut memo) = self.0.write() {
            memo.lines.extend(known.lines.iter().map(|(k, v)| (*k, *v)));
            memo.tickets.extend(known.tickets.iter().map(|(k, v)| (*k, *v)));
        }
    }
}

/// Pairs of links that must be the same customer's.
#[derive(Debug, Default)]
pub struct Rules(Vec<(Party, Party)>);

impl Rules {
    pub fn new() -> Rules {
        Rules::default()
    }

    /// `a` and `b` must belong to the same customer.
    pub fn same(&mut self, a: Party, b: Party) {
        self.0.push((a, b));
    }

    /// The lines and tickets whose customer the rules need, each with the field that brought it.
    pub fn facts(&self) -> Vec<(Fact, &'static str)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for p in self.0.iter().flat_map(|(a, b)| [a, b]) {
            let fact = match p.whose {
                Whose::Line(l) | Whose::TaskLine(_, l) => Fact::Line(l),
                Whose::Ticket(t) => Fact::Ticket(t),
                Whose::Task(..) => continue,
            };
            if seen.insert(fact) {
                out.push((fact, p.field));
            }
        }
        out
    }

    /// What the rules need and projects does not know yet (read before the transaction, so
    /// that it can be asked for outside of it).
    pub fn unknown(&self, conn: &mut DbConn) -> Result<Vec<(Fact, &'static str)>> {
        let facts = self.facts();
        if facts.is_empty() {
            return Ok(facts);
        }
        let known = read(conn, &facts)?;
        Ok(facts.into_iter().filter(|(f, _)| !known.knows(*f)).collect())
    }

    /// Refuses with a 422 on the field that set a link when two links are not the same
    /// customer's. Reads what is known in one statement; nothing when there is nothing to compare.
    pub fn check(&self, conn: &mut DbConn, memo: Option<&Memo>) -> Result<()> {
        let facts = self.facts();
        if facts.is_empty() {
            return Ok(());
        }
        let mut known = memo.map(|m| m.known(&facts)).unwrap_or_default();
        let missing: Vec<_> = facts.iter().copied().filter(|(f, _)| !known.knows(*f)).collect();
        if !missing.is_empty() {
            let read = read(conn, &missing)?;
            if let Some(m) = memo {
                m.keep(&read);
            }
            known.lines.extend(read.lines);
            known.tickets.extend(read.tickets);
        }
        let mut checks = Checks::new();
        let mut blamed = HashSet::new();
        for (a, b) in &self.0 {
            let (ca, cb) = (known.of(a.whose)?, known.of(b.whose)?);
            if ca == cb {
                continue;
            }
            let field = blame(a, b);
            if blamed.insert(field) {
                checks.push(
                    field,
                    format!(
                        "{} belongs to {}, {} to {}: time counts only on a sale line, ticket and task of one customer",
                        a.whose,
                        customer(ca),
                        b.whose,
                        customer(cb)
                    ),
                );
            }
        }
        checks.finish()
    }
}

fn read(conn: &mut DbConn, facts: &[(Fact, &'static str)]) -> Result<Customers> {
    let mut lines = Vec::new();
    let mut tickets = Vec::new();
    for (f, _) in facts {
        match f {
            Fact::Line(l) => lines.push(*l),
            Fact::Ticket(t) => tickets.push(*t),
        }
    }
    Ok(store::customers::find(conn, &lines, &tickets)?)
}

impl Customers {
    pub fn of_line(line: SaleLineId, customer: CustomerId) -> Customers {
        Customers { lines: HashMap::from([(line, customer)]), tickets: HashMap::new() }
    }

    fn knows(&self, fact: Fact) -> bool {
        match fact {
            Fact::Line(l) => self.lines.contains_key(&l),
            Fact::Ticket(t) => self.tickets.contains_key(&t),
        }
    }

    /// Whose a link is. A line or ticket not learned before the transaction means that what the
    /// write links to changed since (a task moved to another line meanwhile): nothing is
    /// written, and the request may be sent again.
    fn of(&self, whose: Whose) -> Result<Option<CustomerId>> {
        let known = match whose {
            Whose::Line(l) | Whose::TaskLine(_, l) => self.lines.get(&l).map(|c| Some(*c)),
            Whose::Ticket(t) => self.tickets.get(&t).copied(),
            Whose::Task(_, c) => Some(Some(c)),
        };
        known.ok_or_else(|| {
            Error::conflict(
                Refusal::LinksChanged,
                format!(
                    "{whose} came into this request while it was checked (a task moved to another line \
                     meanwhile); nothing was recorded, send it again"
                ),
            )
        })
    }
}

fn customer(c: Option<CustomerId>) -> String {
    c.map_or_else(|| "no customer".to_owned(), |c| format!("customer {c}"))
}

/// The field to name when `a` and `b` are not the same customer's: the one the request named
/// (both named: a sale line before a ticket before a task).
fn blame(a: &Party, b: &Party) -> &'static str {
    let rank = |p: &Party| {
        let order = ["sale_line_id", "ticket_id", "task_id", "project_id"];
        (!p.named, order.iter().position(|f| *f == p.field).unwrap_or(order.len()))
    };
    if rank(a) <= rank(b) { a.field } else { b.field }
}
