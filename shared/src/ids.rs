//! The ids of every kind of record in the system. Each service owns some and refers to the
//! others' by id only.

crate::typed_id!(
    /// A customer (sales).
    CustomerId
);
crate::typed_id!(
    /// A product (sales).
    ProductId
);
crate::typed_id!(
    /// A sales order (sales).
    OrderId
);
crate::typed_id!(
    /// A sales order line (sales).
    SaleLineId
);
crate::typed_id!(
    /// An invoice or credit note (invoicing).
    InvoiceId
);
crate::typed_id!(
    /// An invoice line (invoicing).
    InvoiceLineId
);
crate::typed_id!(
    /// A payment (invoicing).
    PaymentId
);
crate::typed_id!(
    /// A project (projects).
    ProjectId
);
crate::typed_id!(
    /// A task (projects).
    TaskId
);
crate::typed_id!(
    /// A timesheet (projects).
    TimesheetId
);
crate::typed_id!(
    /// A helpdesk team (helpdesk).
    TeamId
);
crate::typed_id!(
    /// A helpdesk ticket (helpdesk).
    TicketId
);
