"""Customer and merchant email: Jinja2 templates, an SMTP mailer, an in-memory one for
tests, and the email sink the outbox worker delivers through."""
