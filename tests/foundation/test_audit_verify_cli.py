"""``governance audit verify`` run as a real command against a tampered database on either engine.

Each test builds a short chain through the service, drops the append-only trigger the way someone
with database access could, tampers with one row, and expects the command to fail naming it.
"""

import re

import pytest

from governance import register
from governance.clock import utcnow
from governance.database import get_engine, is_sqlite
from governance.tables import AuditEntry
from tests.support import make_use_case, run_cli


async def _sql(statement: str) -> list:
    return await get_engine()._run_in_new_connection(statement)


async def _drop_triggers() -> None:
    if is_sqlite():
        await _sql("DROP TRIGGER audit_entry_no_update")
        await _sql("DROP TRIGGER audit_entry_no_delete")
    else:
        await _sql("DROP TRIGGER audit_entry_no_update ON audit_entry")


@pytest.fixture
async def chain(db, central):
    """Five or more audit entries made by real changes, with the triggers dropped."""
    await make_use_case(central)
    await register.update_use_case(central, "UC-001", 1, {"title": "Second title"})
    await register.update_use_case(central, "UC-001", 2, {"title": "Third title"})
    await register.move_use_case(central, "UC-001", "assessment")
    await _drop_triggers()
    return db


def _verify(database_url: str):
    return run_cli("audit", "verify", database_url=database_url)


def _named_seq(output: str) -> int | None:
    match = re.search(r"BROKEN at entry seq (\d+)", output)
    return int(match.group(1)) if match else None


async def test_verify_intact_exits_zero(chain):
    result = _verify(chain)
    assert result.returncode == 0, result.stderr


async def test_verify_intact_reports_count(chain):
    count = await AuditEntry.count().run()
    assert f"{count} entries verified" in _verify(chain).stdout


async def test_verify_altered_row_fails(chain):
    await _sql("UPDATE audit_entry SET note = 'quietly changed' WHERE seq = 3")
    result = _verify(chain)
    assert result.returncode == 1


async def test_verify_altered_row_named(chain):
    await _sql("UPDATE audit_entry SET note = 'quietly changed' WHERE seq = 3")
    assert _named_seq(_verify(chain).stderr) == 3


async def test_verify_altered_json_named(chain):
    await _sql("""UPDATE audit_entry SET "after" = '{"title":"Forged"}' WHERE seq = 4""")
    assert _named_seq(_verify(chain).stderr) == 4


async def test_verify_altered_names_row_id(chain):
    await _sql("UPDATE audit_entry SET actor = 'someone.else' WHERE seq = 2")
    row = await AuditEntry.select(AuditEntry.id).where(AuditEntry.seq == 2).first().run()
    assert f"row id {row['id']}" in _verify(chain).stderr


async def test_verify_removed_row_fails(chain):
    await _sql("DELETE FROM audit_entry WHERE seq = 2")
    result = _verify(chain)
    assert result.returncode == 1
    assert _named_seq(result.stderr) == 3


async def test_verify_removed_row_says_missing(chain):
    await _sql("DELETE FROM audit_entry WHERE seq = 2")
    assert "missing" in _verify(chain).stderr


async def test_verify_appended_forgery_named(chain):
    """A row inserted at the end with a made-up link is named."""
    head = await AuditEntry.select().order_by(AuditEntry.seq, ascending=False).first().run()
    forged_seq = head["seq"] + 1
    await AuditEntry.insert(
        AuditEntry(
            seq=forged_seq,
            occurred_at=utcnow(),
            actor="intruder",
            actor_roles="",
            action="use_case.updated",
            entity_type="use_case",
            entity_ref="UC-001",
            use_case_ref="UC-001",
            before=None,
            after=None,
            note="",
            prev_hash="f" * 64,
            entry_hash="e" * 64,
        )
    ).run()
    result = _verify(chain)
    assert result.returncode == 1
    assert _named_seq(result.stderr) == forged_seq


async def test_verify_reinserted_row_named(chain):
    """An entry deleted and written again (same content) now sits out of order, and is named."""
    row = await AuditEntry.select().where(AuditEntry.seq == 2).first().run()
    await _sql("DELETE FROM audit_entry WHERE seq = 2")
    del row["id"]
    await AuditEntry.insert(AuditEntry(**row)).run()
    result = _verify(chain)
    assert result.returncode == 1
    assert _named_seq(result.stderr) == 2


async def test_verify_inserted_in_middle_named(chain):
    """A row pushed in between existing entries (later ones renumbered) is named."""
    await _sql("UPDATE audit_entry SET seq = seq + 100")
    await _sql("UPDATE audit_entry SET seq = seq - 99 WHERE seq > 102")
    await _sql("UPDATE audit_entry SET seq = seq - 100 WHERE seq > 100")
    source = await AuditEntry.select().where(AuditEntry.seq == 2).first().run()
    del source["id"]
    source.update(seq=3, note="inserted", entry_hash="d" * 64)
    await AuditEntry.insert(AuditEntry(**source)).run()
    result = _verify(chain)
    assert result.returncode == 1
    assert _named_seq(result.stderr) == 3


@pytest.mark.skipif("not is_sqlite()", reason="PostgreSQL refuses a timestamp that is not one")
async def test_verify_unreadable_timestamp_named(chain):
    await _sql("UPDATE audit_entry SET occurred_at = 'garbage' WHERE seq = 3")
    assert _named_seq(_verify(chain).stderr) == 3


@pytest.mark.skipif("not is_sqlite()", reason="PostgreSQL refuses a timestamp that is not one")
async def test_verify_unreadable_timestamp_fails(chain):
    await _sql("UPDATE audit_entry SET occurred_at = 'garbage' WHERE seq = 3")
    assert _verify(chain).returncode == 1
