"""Loads the demo programme from its data files into an empty database.

The core file (``governance/demo_data/programme.toml``) holds the business case, departments, accounts
and use cases; each package may add its own file and loader (assessments, baselines). Demo accounts
get fresh random passwords at every start, returned so the CLI can print them once.
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from pathlib import Path
from typing import Any

from governance import accounts, audit, golive, manual_checks, overrides, programme, register
from governance.audit import Actor
from governance.clock import utcnow
from governance.database import write_transaction
from governance.packages import Contribution, DemoContext
from governance.security import generate_password
from governance.stages import Stage
from governance.tables import Account, UseCase

logger = logging.getLogger(__name__)

DEMO_FILE = Path(__file__).parent / "demo_data" / "programme.toml"
GATE_DEMO_FILE = Path(__file__).parent / "demo_data" / "gate.toml"
DEMO_LOADER = Actor(account_id=None, username="demo-loader", kind="system", display_name="Demo loader")


def read_demo_file(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


async def _set_stage(reference: str, stage: Stage, held_from: str | None) -> None:
    """Place a demo use case at its stage directly, recording that it was imported there."""
    before = await register.get_use_case(reference)
    await UseCase.update(
        {UseCase.stage: stage.value, UseCase.held_from: held_from, UseCase.version: before.version + 1}
    ).where(UseCase.reference == reference).run()
    await audit.record(
        DEMO_LOADER,
        "use_case.imported_at_stage",
        "use_case",
        reference,
        before={"stage": before.stage.value},
        after={"stage": stage.value, "held_from": held_from},
        use_case_ref=reference,
        note="demo data loaded at this stage",
    )


async def demo_is_loaded() -> bool:
    return await Account.exists().where(Account.username == "admin").run()


async def reset_demo_passwords(data: dict[str, Any]) -> dict[str, str]:
    passwords = {}
    for item in data["accounts"]:
        password = generate_password()
        await accounts.set_password(DEMO_LOADER, item["username"], password)
        passwords[item["username"]] = password
    return passwords


async def load_demo(contributions: list[Contribution]) -> dict[str, str]:
    """Load the demo programme (or, if already loaded, issue new passwords); return the passwords."""
    data = read_demo_file(DEMO_FILE)

    if await demo_is_loaded():
        logger.info("demo programme already loaded; issuing new demo passwords")
        return await reset_demo_passwords(data)

    if await UseCase.exists().run():
        raise RuntimeError(
            "the database already holds use cases that are not the demo programme; "
            "point DATABASE_URL at an empty database to load the demo"
        )

    async with write_transaction():
        for name in data["departments"]:
            await accounts.ensure_department(DEMO_LOADER, name)
        await programme.load_business_case(DEMO_LOADER, data["business_case"])

        passwords: dict[str, str] = {}
        actors: dict[str, Actor] = {}
        for item in data["accounts"]:
            password = generate_password()
            await accounts.create_account(
                DEMO_LOADER,
                username=item["username"],
                display_name=item["display_name"],
                roles=item["roles"],
                password=password,
                department=item.get("department"),
            )
            passwords[item["username"]] = password
            actors[item["username"]] = await accounts.actor_for_username(item["username"])

        central = actors["central.team"]
        use_case_ids: dict[str, int] = {}
        for item in data["use_cases"]:
            fields = {
                key: item[key]
                for key in (
                    "reference",
                    "title",
                    "department",
                    "business_owner",
                    "description",
                    "systems",
                    "data_categories",
                    "purposes",
                    "rpa_platform",
                    "bot_identifiers",
                )
                if key in item
            }
            view = await register.create_use_case(
                central, fields, illustrative=bool(item.get("illustrative", True))
            )
            use_case_ids[view.reference] = view.id
            stage = Stage(item.get("stage", "idea"))
            if stage is not Stage.IDEA:
                await _set_stage(view.reference, stage, item.get("held_from"))

        # Use cases were placed at their stages directly, so the lapse watch would flag the live
        # one at every step of loading. The gate checks them once, after everything is loaded.
        with golive.lapse_watch_paused():
            for contribution in contributions:
                if contribution.demo_loader is None:
                    continue
                section: dict[str, Any] = {}
                if contribution.demo_file:
                    section = read_demo_file(Path(contribution.demo_file))
                await contribution.demo_loader(DemoContext(section, actors, use_case_ids))
                logger.info("demo data loaded for %s", contribution.name)
            await _load_gate_demo(read_demo_file(GATE_DEMO_FILE), actors)

        await golive.settle_imported_use_cases(DEMO_LOADER)
    return passwords


async def _load_gate_demo(data: dict[str, Any], actors: dict[str, Actor]) -> None:
    """Add the demo's manual checks and sign-offs, and request its emergency go-live."""
    for item in data.get("manual_checks", []):
        await manual_checks.create_definition(DEMO_LOADER, item)
    for item in data.get("sign_offs", []):
        await manual_checks.sign(actors[item["signer"]], item["use_case"], item["check"], item.get("note", ""))
    for item in data.get("emergency_overrides", []):
        await overrides.request_override(
            actors[item["requested_by"]],
            item["use_case"],
            item["reason"],
            utcnow() + dt.timedelta(days=int(item["days"])),
        )
    logger.info("demo data loaded for the go-live gate")
