"""Pieces every domain uses: database, errors, authorisation, time, money, i18n, templates."""
