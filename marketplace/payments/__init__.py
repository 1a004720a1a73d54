"""Payments: Stripe Connect through the real `stripe` SDK, webhooks, payouts, the payment clock, and the sandbox."""
