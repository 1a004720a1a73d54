from marketplace.web.controllers import favicon, health, home, switch_language

ROUTES = [home, switch_language, health, favicon]
