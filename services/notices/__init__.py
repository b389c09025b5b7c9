"""Notices by rule: to the notices page, NATS subjects, signed webhooks and e-mail."""
