"""The hash-chained audit log: pure verification, appending with the change, append-only tables."""

import datetime as dt

import pytest

from governance import audit, register
from governance.audit import GENESIS_HASH, SYSTEM, hash_entry, verify_entries
from governance.database import get_engine, is_sqlite, write_transaction
from governance.tables import AuditEntry
from tests.conftest import IS_POSTGRES
from tests.support import audit_head, make_use_case

START = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.timezone.utc)


def build_chain(length: int) -> list[dict]:
    """Return ``length`` valid audit rows, as the database would hand them back."""
    rows = []
    previous = GENESIS_HASH
    for seq in range(1, length + 1):
        row = {
            "id": seq * 10,
            "seq": seq,
            "occurred_at": START + dt.timedelta(minutes=seq),
            "actor": "central",
            "actor_roles": "central_team",
            "action": "use_case.updated",
            "entity_type": "use_case",
            "entity_ref": "UC-001",
            "use_case_ref": "UC-001",
            "before": '{"title":"Old"}',
            "after": '{"title":"New"}',
            "note": "",
            "prev_hash": previous,
        }
        row["entry_hash"] = hash_entry(row)
        previous = row["entry_hash"]
        rows.append(row)
    return rows


def test_pure_intact_chain_ok():
    report = verify_entries(build_chain(5))
    assert report.ok


def test_pure_intact_chain_counts():
    report = verify_entries(build_chain(5))
    assert report.checked == 5


def test_pure_head_hash_is_last():
    rows = build_chain(3)
    assert verify_entries(rows).head_hash == rows[-1]["entry_hash"]


def test_pure_empty_chain_ok():
    assert verify_entries([]).ok


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor", "someone.else"),
        ("after", '{"title":"Forged"}'),
        ("before", None),
        ("note", "added later"),
        ("occurred_at", START),
        ("action", "use_case.created"),
        ("actor_roles", "administrator"),
    ],
)
def test_pure_altered_field_detected(field, value):
    rows = build_chain(5)
    rows[2][field] = value
    report = verify_entries(rows)
    assert not report.ok
    assert report.bad_seq == 3


def test_pure_altered_names_problem():
    rows = build_chain(3)
    rows[1]["after"] = "{}"
    assert "altered" in verify_entries(rows).problem


def test_pure_rehashed_entry_breaks_next_link():
    rows = build_chain(4)
    rows[1]["after"] = '{"title":"Forged"}'
    rows[1]["entry_hash"] = hash_entry(rows[1])
    report = verify_entries(rows)
    assert not report.ok
    assert report.bad_seq == 3


def test_pure_removed_entry_detected():
    rows = build_chain(5)
    del rows[2]
    report = verify_entries(rows)
    assert not report.ok
    assert report.bad_seq == 4


def test_pure_removed_first_entry_detected():
    rows = build_chain(3)[1:]
    assert verify_entries(rows).bad_seq == 2


def test_pure_removed_names_missing():
    rows = build_chain(5)
    del rows[2]
    assert "missing" in verify_entries(rows).problem


def test_pure_reordered_rows_detected():
    rows = build_chain(4)
    rows[1]["id"], rows[2]["id"] = rows[2]["id"], rows[1]["id"]
    report = verify_entries(rows)
    assert not report.ok
    assert report.bad_seq == 2


def test_pure_reordered_names_order():
    rows = build_chain(4)
    rows[1]["id"], rows[2]["id"] = rows[2]["id"], rows[1]["id"]
    assert "out of order" in verify_entries(rows).problem


def test_pure_duplicate_seq_detected():
    rows = build_chain(3)
    duplicate = dict(rows[1], id=25)
    report = verify_entries([rows[0], rows[1], duplicate, rows[2]])
    assert not report.ok
    assert report.bad_seq == 2


def test_pure_inserted_forged_entry_detected():
    """A row slipped in at the end whose link does not match the previous hash."""
    rows = build_chain(3)
    forged = dict(rows[-1], id=99, seq=4, prev_hash=GENESIS_HASH, note="forged")
    forged["entry_hash"] = hash_entry(forged)
    report = verify_entries([*rows, forged])
    assert not report.ok
    assert report.bad_seq == 4


def test_pure_replaced_entry_detected_by_row_order():
    """A deleted entry re-inserted with the same seq gets a later row id than its successors."""
    rows = build_chain(4)
    rows[1]["id"] = 1000
    report = verify_entries(rows)
    assert not report.ok
    assert report.bad_seq == 2


def test_pure_removed_newest_not_detectable():
    """The chain alone cannot show that its newest entries were cut off."""
    assert verify_entries(build_chain(5)[:3]).ok


# Against the database -----------------------------------------------------------------------------


async def test_record_needs_write_transaction(db):
    with pytest.raises(RuntimeError):
        await audit.record(SYSTEM, "test.action", "test", "1")


async def test_record_links_entries(db):
    async with write_transaction():
        await audit.record(SYSTEM, "test.first", "test", "1")
        await audit.record(SYSTEM, "test.second", "test", "2")
    rows = await AuditEntry.select().order_by(AuditEntry.seq).run()
    assert rows[1]["prev_hash"] == rows[0]["entry_hash"]


async def test_record_stores_aware_utc(db):
    async with write_transaction():
        await audit.record(SYSTEM, "test.action", "test", "1")
    row = await AuditEntry.select().first().run()
    assert row["occurred_at"].utcoffset() == dt.timedelta(0)


async def test_stored_chain_verifies(db, central):
    await make_use_case(central)
    await register.update_use_case(central, "UC-001", 1, {"title": "Renamed"})
    report = await audit.verify_chain()
    assert report.ok
    assert report.checked == (await audit_head())[0]


async def test_change_records_before_and_after(db, central):
    await make_use_case(central, title="Old title")
    await register.update_use_case(central, "UC-001", 1, {"title": "New title"})
    entry = (await audit.history_for_use_case("UC-001"))[-1]
    assert entry["before"]["title"] == "Old title"
    assert entry["after"]["title"] == "New title"


async def test_change_records_who(db, central):
    await make_use_case(central)
    entry = (await audit.history_for_use_case("UC-001"))[-1]
    assert entry["actor"] == "central"
    assert entry["actor_roles"] == "central_team"


async def test_rolled_back_block_leaves_no_entry(db):
    head = await audit_head()
    with pytest.raises(ValueError):
        async with write_transaction():
            await audit.record(SYSTEM, "test.action", "test", "1")
            raise ValueError("the change failed after its audit entry was written")
    assert await audit_head() == head


async def test_failing_move_leaves_no_entry(db, central, monkeypatch):
    """A move that fails after the stage was updated rolls back the stage and its audit entry."""
    await make_use_case(central)
    head = await audit_head()

    async def fail_after_move(*args, **kwargs):
        raise RuntimeError("hook failed")

    monkeypatch.setattr("governance.golive.after_move", fail_after_move)
    with pytest.raises(RuntimeError):
        await register.move_use_case(central, "UC-001", "assessment")
    assert await audit_head() == head


async def test_failing_move_leaves_stage(db, central, monkeypatch):
    await make_use_case(central)

    async def fail_after_move(*args, **kwargs):
        raise RuntimeError("hook failed")

    monkeypatch.setattr("governance.golive.after_move", fail_after_move)
    with pytest.raises(RuntimeError):
        await register.move_use_case(central, "UC-001", "assessment")
    assert (await register.get_use_case("UC-001")).stage.value == "idea"


async def test_concurrent_records_keep_chain(db):
    import asyncio

    async def write(number: int) -> None:
        async with write_transaction():
            await audit.record(SYSTEM, "test.action", "test", str(number))

    await asyncio.gather(*(write(number) for number in range(8)))
    report = await audit.verify_chain()
    assert report.ok
    assert report.checked == 8


async def test_list_entries_filters(db, central):
    await make_use_case(central)
    await make_use_case(central, title="Second")
    rows = await audit.list_entries(audit.AuditFilter(use_case_ref="UC-002"))
    assert [row["entity_ref"] for row in rows] == ["UC-002"]


async def test_list_entries_pages_newest_first(db):
    async with write_transaction():
        for number in range(5):
            await audit.record(SYSTEM, "test.action", "test", str(number))
    first = await audit.list_entries(audit.AuditFilter(), limit=2)
    second = await audit.list_entries(audit.AuditFilter(), limit=2, before_seq=first[-1]["seq"])
    assert [row["seq"] for row in first + second] == [5, 4, 3, 2]


# Append-only triggers -----------------------------------------------------------------------------


async def _run_sql(statement: str) -> None:
    await get_engine()._run_in_new_connection(statement)


async def _make_sign_off() -> None:
    """Insert one sign-off row (with the rows it refers to) directly, to test the triggers."""
    from governance import accounts
    from governance.clock import utcnow
    from governance.tables import Account, Assessment, AssessmentVersion, SignOff, UseCase

    await accounts.ensure_department(SYSTEM, "Force Contact Centre")
    author = await accounts.create_account(
        SYSTEM, username="author", display_name="Author", roles=["business_owner"], password=None
    )
    use_case = await UseCase.select(UseCase.id).first().run()
    assessment = Assessment(use_case=use_case["id"], kind="dpia")
    await assessment.save().run()
    version = AssessmentVersion(
        assessment=assessment.id, number=1, status="approved", schema="dpia-1", author=author.id
    )
    await version.save().run()
    account = await Account.select(Account.id).first().run()
    await SignOff.insert(
        SignOff(
            assessment_version=version.id,
            account=account["id"],
            signer_name="Signer",
            signer_role="information_assurance",
            meaning="approved",
            decision="approved",
            content_hash="0" * 64,
            version_number=1,
            signed_at=utcnow(),
        )
    ).run()


@pytest.fixture
async def append_only_rows(db, central):
    await make_use_case(central)
    await _make_sign_off()


@pytest.mark.parametrize("table", ["audit_entry", "sign_off"])
async def test_update_refused(append_only_rows, table):
    column = "note" if table == "audit_entry" else "summary"
    with pytest.raises(Exception, match="append-only"):
        await _run_sql(f"UPDATE {table} SET {column} = 'changed'")


@pytest.mark.parametrize("table", ["audit_entry", "sign_off"])
async def test_delete_refused(append_only_rows, table):
    with pytest.raises(Exception, match="append-only"):
        await _run_sql(f"DELETE FROM {table}")


@pytest.mark.parametrize("table", ["audit_entry", "sign_off"])
async def test_refused_change_leaves_rows(append_only_rows, table):
    before = await get_engine()._run_in_new_connection(f"SELECT COUNT(*) AS n FROM {table}")
    with pytest.raises(Exception, match="append-only"):
        await _run_sql(f"DELETE FROM {table}")
    after = await get_engine()._run_in_new_connection(f"SELECT COUNT(*) AS n FROM {table}")
    assert after == before


@pytest.mark.postgres_only
@pytest.mark.parametrize("table", ["audit_entry", "sign_off"])
async def test_truncate_refused(append_only_rows, table):
    with pytest.raises(Exception, match="append-only"):
        await _run_sql(f"TRUNCATE {table} CASCADE")


async def test_triggers_exist_on_engine(db):
    if is_sqlite():
        rows = await get_engine()._run_in_new_connection(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        )
    else:
        rows = await get_engine()._run_in_new_connection(
            "SELECT DISTINCT trigger_name AS name FROM information_schema.triggers ORDER BY 1"
        )
    names = {row["name"] for row in rows}
    assert {"audit_entry_no_update", "sign_off_no_update"} <= names


def test_postgres_flag_matches_engine():
    assert IS_POSTGRES == (not is_sqlite())
