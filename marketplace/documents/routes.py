from marketplace.documents.controllers import challenge_brief_api, challenge_brief_page

ROUTES = [challenge_brief_api, challenge_brief_page]
