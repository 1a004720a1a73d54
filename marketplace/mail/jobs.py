from marketplace.mail.services import deliver_due_mail

JOBS = [deliver_due_mail]
