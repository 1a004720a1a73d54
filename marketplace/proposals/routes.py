from marketplace.proposals import pages
from marketplace.proposals.attachments import ProposalDocumentController, upload_page
from marketplace.proposals.controllers import ProposalController

ROUTES = [
    ProposalController,
    ProposalDocumentController,
    upload_page,
    pages.my_proposals,
    pages.start_form,
    pages.start,
    pages.proposal_page,
    pages.save_stage,
    pages.withdraw,
    pages.decide,
    pages.board,
    pages.close_stage,
]
