"""People, organisations, memberships and roles; sign-in by password, API tokens and web sessions."""
