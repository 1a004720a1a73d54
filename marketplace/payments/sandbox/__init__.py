"""The payments sandbox: the Stripe API subset the marketplace uses, served inside the app under
/sandbox/stripe, so that the whole payout journey works offline through the real `stripe` SDK."""
