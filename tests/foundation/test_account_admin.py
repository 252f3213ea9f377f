"""Account administration: machine accounts never gain a password, disabled accounts are enabled
before a reset, and department names are unique regardless of capitals."""

import pytest

from governance import accounts
from governance.audit import SYSTEM
from governance.errors import Conflict
from governance.tables import Account
from tests.support import DEFAULT_PASSWORD


async def _machine(db) -> None:
    await accounts.create_account(
        SYSTEM, username="pipeline", display_name="Release pipeline", roles=["programme_board"], password=None
    )


async def _person(db) -> None:
    await accounts.create_account(
        SYSTEM, username="grace", display_name="Grace", roles=["central_team"], password=DEFAULT_PASSWORD
    )


async def test_machine_account_marked(db):
    await _machine(db)
    assert (await accounts.get_account("pipeline")).machine is True


async def test_person_account_not_marked(db):
    await _person(db)
    assert (await accounts.get_account("grace")).machine is False


async def test_machine_account_password_refused(db):
    await _machine(db)
    with pytest.raises(Conflict, match="machine account"):
        await accounts.set_password(SYSTEM, "pipeline", "another long password")


async def test_machine_account_keeps_no_password(db):
    await _machine(db)
    with pytest.raises(Conflict):
        await accounts.set_password(SYSTEM, "pipeline", "another long password")
    row = await Account.select(Account.password_hash).where(Account.username == "pipeline").first().run()
    assert row["password_hash"] is None


async def test_disabled_account_password_refused(db):
    await _person(db)
    await accounts.disable_account(SYSTEM, "grace")
    with pytest.raises(Conflict, match="users enable grace"):
        await accounts.set_password(SYSTEM, "grace", "another long password")


async def test_enable_account(db):
    await _person(db)
    await accounts.disable_account(SYSTEM, "grace")
    assert (await accounts.enable_account(SYSTEM, "grace")).active is True


async def test_enable_active_account_conflicts(db):
    await _person(db)
    with pytest.raises(Conflict):
        await accounts.enable_account(SYSTEM, "grace")


async def test_enabled_account_signs_in(db):
    await _person(db)
    await accounts.disable_account(SYSTEM, "grace")
    await accounts.enable_account(SYSTEM, "grace")
    session = await accounts.sign_in("grace", DEFAULT_PASSWORD, "127.0.0.1")
    assert session.actor.username == "grace"


async def test_department_in_other_capitals_refused(db):
    from governance.errors import InvalidInput

    await accounts.ensure_department(SYSTEM, "Force Contact Centre")
    with pytest.raises(InvalidInput, match="already exists"):
        await accounts.ensure_department(SYSTEM, "force contact centre")
