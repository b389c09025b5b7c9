"""Who may do what: roles and scopes (pure), accounts and devices on their own event store, and
sessions with the login lockout beside them."""
