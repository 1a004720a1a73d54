from marketplace.challenges import document_pages, editor_pages, pages
from marketplace.challenges.controllers import ChallengeController, DialogueController
from marketplace.challenges.document_controllers import ChallengeDocumentController

ROUTES = [
    ChallengeController,
    DialogueController,
    ChallengeDocumentController,
    document_pages.documents_page,
    document_pages.attach_page,
    document_pages.download_page,
    editor_pages.new_draft_page,
    editor_pages.create_draft_page,
    editor_pages.my_challenges_page,
    editor_pages.edit_page,
    editor_pages.save_page,
    editor_pages.publish_form,
    editor_pages.publish_page,
    editor_pages.request_approval_page,
    editor_pages.send_back_page,
    pages.catalogue_page,
    pages.challenge_page,
    pages.versions_page,
    pages.ask_page,
    pages.answer_page,
    pages.questions_page,
    pages.follow_page,
    pages.co_sponsor_page,
    pages.subscriptions_page,
    pages.subscribe_page,
    pages.unsubscribe_page,
    pages.close_page,
    pages.archive_page,
]
