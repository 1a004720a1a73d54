from marketplace.proposals import pages
from marketplace.proposals.attachments import ProposalDocumentController, upload_page
from marketplace.proposals.controllers import ProposalController
from marketplace.proposals.pitch_routes import PitchController, add_slot_page, choose_page, pitch_page

ROUTES = [
    ProposalController,
    ProposalDocumentController,
    upload_page,
    pages.my_proposals,
    pages.start_form,
    pages.start,
    pages.proposal_page,
    pages.save_stage,
    pages.save_team,
    pages.withdraw,
    pages.decide,
    pages.board,
    pages.close_stage,
    PitchController,
    pitch_page,
    add_slot_page,
    choose_page,
]
