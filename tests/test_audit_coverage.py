"""Every state change of every domain leaves an audit event: a function that writes a domain table
calls `audit.record` in the same function, or is listed here with the reason it need not. A new
write without an audit event fails this test, naming the function."""

import ast
from pathlib import Path

import marketplace

ROOT = Path(marketplace.__file__).parent
SKIPPED_FILES = {"tables.py", "demo.py", "schemas.py"}
SKIPPED_DIRS = {"piccolo_migrations", "sandbox", "core", "transparency", "mail", "locale"}
WRITES = {"update", "insert", "delete", "save"}

NOT_STATE_CHANGES = {
    # sessions and tokens: the sign-in itself is audited in accounts.signin.check_password (or the link's use)
    "accounts/services.py:issue_token": "an API token after an audited sign-in",
    "accounts/services.py:revoke_token": "a person signs their own token out",
    "accounts/services.py:open_session": "a web session after an audited sign-in",
    "accounts/services.py:close_session": "signing out",
    # mailed links: asking is not a change; what a link does when used is recorded by its caller
    "accounts/email_links.py:_new_link": "a link mailed to an address (its use is audited)",
    "accounts/email_links.py:_use": "marks a link used; the caller records what it did",
    "accounts/email_links.py:_mark_verified": "called by the audited link uses",
    "accounts/email_links.py:use_registration_link": "erases the pending password hash; create_founder records account.registered",
    "accounts/jobs.py:forget_stale_sign_in_records": "housekeeping: expired sign-in attempts and links",
    "accounts/services.py:_within_daily_invitations": "removes the invitation it refused; invite records what was sent",
    # a person's own alert preferences and what they are told
    "challenges/matchmaking.py:tell_subscribers": "notifications",
    "challenges/matchmaking.py:send_match_digests": "notifications",
    "challenges/matchmaking.py:follow": "a person's own alert preferences",
    "challenges/matchmaking.py:subscribe": "a person's own alert preferences",
    "challenges/matchmaking.py:unsubscribe": "a person's own alert preferences",
    # private working state before anything is submitted
    "proposals/services.py:_ensure_working_copy": "the team's private draft copy",
    "proposals/services.py:save_answers": "a private draft; submissions are audited",
    # payments internals: payouts and webhooks are recorded where their state changes
    "payments/connect.py:_ensure_account": "the connected account id, recorded when its state is applied",
    "awards/services.py:next_contract_number": "a counter, inside the award's transaction (award.made)",
    "awards/services.py:step": "a counter, inside the award's transaction (award.made)",
    "opendata/exports.py:build_ocds_bulk": "derived open data files",
    "experiments/services.py:start_experiment": "links the contract to the experiment that create_experiment records",
    "payments/payouts.py:create_payout": "recorded by its caller in the same transaction (payout.created, experiments)",
    "payments/payouts.py:wake_waiting_payouts": "retry timing only: the payouts' state does not change",
    "accounts/pages.py:notification_open": "a reader marks their own notification read",
    "accounts/pages.py:notifications_read": "a reader marks their own notifications read",
    "operations/heartbeat.py:beat": "a worker's liveness stamp for /readyz and /metrics, not a domain state change",
    # file bytes (MARKETPLACE_FILE_STORAGE=database): storing bytes is not a domain change; the rows that refer to
    # them (attachments, deliverables, documents) are recorded with their SHA-256 where they are written
    "files/__init__.py": "file bytes in the stored_file table; the referring rows are audited",
}


def writing_functions():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if path.name in SKIPPED_FILES or SKIPPED_DIRS & set(rel.parts[:-1]) or len(rel.parts) < 2:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            calls = [c for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)]
            writes = any(c.func.attr in WRITES and (c.func.attr == "save" or (isinstance(c.func.value, ast.Name)
                         and c.func.value.id[:1].isupper())) for c in calls)
            if writes:
                names = {getattr(c.func, "attr", None) for c in ast.walk(node) if isinstance(c, ast.Call)} | {
                    getattr(c.func, "id", None) for c in ast.walk(node) if isinstance(c, ast.Call)}
                yield f"{rel.as_posix()}:{node.name}", "record" in names


def test_every_function_that_changes_state_records_an_audit_event():
    unaudited = [name for name, audited in writing_functions()
                 if not audited and name not in NOT_STATE_CHANGES and name.split(":")[0] not in NOT_STATE_CHANGES]
    assert unaudited == [], "these change state without an audit event (record one, or say here why not)"


def test_the_exceptions_still_exist():
    found = {name for name, _ in writing_functions()} | {name.split(":")[0] for name, _ in writing_functions()}
    assert set(NOT_STATE_CHANGES) <= found, set(NOT_STATE_CHANGES) - found
