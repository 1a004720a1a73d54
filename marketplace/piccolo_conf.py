"""Piccolo's configuration: the engine from DATABASE_URL and one app per domain."""

from piccolo.conf.apps import AppRegistry

from marketplace.core.db import discover_apps, engine_from_url
from marketplace.settings import get_settings

DB = engine_from_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=discover_apps())
