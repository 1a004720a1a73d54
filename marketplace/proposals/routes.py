from marketplace.proposals.controllers import ProposalController

ROUTES = [ProposalController]
