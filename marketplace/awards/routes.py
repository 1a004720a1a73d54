from marketplace.awards import pages
from marketplace.awards.controllers import AwardController, ContractController

ROUTES = [AwardController, ContractController, *pages.ROUTES]
