"""E-mail: an outbox written in the same transaction as the change, sent by the background worker."""
