from marketplace.procedures.controllers import get_procedure, list_procedures

ROUTES = [list_procedures, get_procedure]
