from marketplace.web.controllers import health, home, switch_language

ROUTES = [home, switch_language, health]
