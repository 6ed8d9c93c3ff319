"""Telling people what happened: an outbox that is also each user's in-app inbox, and an
e-mail sender (SMTP) that drains it."""
