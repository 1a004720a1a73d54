from marketplace.evaluation import jury_pages, pages
from marketplace.evaluation.controllers import EvaluationController

ROUTES = [
    EvaluationController,
    pages.my_evaluations,
    pages.declaration_form,
    pages.declare,
    pages.score_form,
    pages.score,
    pages.assign,
    pages.set_blind,
    pages.report,
    pages.report_pdf,
    jury_pages.jury_page,
    jury_pages.jury_score,
    jury_pages.appoint_page,
]
