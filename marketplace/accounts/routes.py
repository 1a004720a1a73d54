from marketplace.accounts import link_pages, pages
from marketplace.accounts.controllers import AuthController, OrganisationController

ROUTES = [
    AuthController,
    OrganisationController,
    pages.signup_form,
    pages.signup,
    pages.signin_form,
    pages.signin,
    pages.signout,
    pages.invitation_form,
    pages.invitation_accept,
    pages.account,
    pages.account_invite,
    pages.account_portfolio_request,
    pages.account_portfolio_decide,
    pages.notifications,
    pages.notification_open,
    pages.notifications_read,
    pages.admin_organisations,
    pages.admin_create_public_body,
    link_pages.email_request_form,
    link_pages.email_request,
    link_pages.link_form,
    link_pages.link_use,
    link_pages.resend_confirmation,
]
