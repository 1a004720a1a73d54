from marketplace.challenges.controllers import ChallengeController, DialogueController

ROUTES = [ChallengeController, DialogueController]
