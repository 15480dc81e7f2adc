//! The ids of every kind of record in the system. Each service owns some and refers to the
//! others' by id only.

crate::typed_id!(
    /// The id of a customer (the sales service).
    CustomerId
);
crate::typed_id!(
    /// The id of a product (the sales service).
    ProductId
);
crate::typed_id!(
    /// The id of a sales order (the sales service).
    OrderId
);
crate::typed_id!(
    /// The id of a sales order line (the sales service).
    SaleLineId
);
crate::typed_id!(
    /// The id of an invoice or credit note (the invoicing service).
    InvoiceId
);
crate::typed_id!(
    /// The id of an invoice line (the invoicing service).
    InvoiceLineId
);
crate::typed_id!(
    /// The id of a payment (the invoicing service).
    PaymentId
);
crate::typed_id!(
    /// The id of a project (the projects service).
    ProjectId
);
crate::typed_id!(
    /// The id of a task (the projects service).
    TaskId
);
crate::typed_id!(
    /// The id of a timesheet (the projects service).
    TimesheetId
);
crate::typed_id!(
    /// The id of a helpdesk team (the helpdesk service).
    TeamId
);
crate::typed_id!(
    /// The id of a helpdesk ticket (the helpdesk service).
    TicketId
);
