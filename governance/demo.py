"""Loads the demo programme from its data files into an empty database.

The core file (``governance/demo_data/programme.toml``) holds the business case, departments, accounts
and use cases; each package may add its own file and loader (assessments, baselines). Demo accounts
get fresh random passwords at every start, returned so the CLI can print them once.
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Any

from governance import accounts, audit, gate, programme, register
from governance.audit import Actor
from governance.clock import utcnow
from governance.database import write_transaction
from governance.packages import Contribution, DemoContext
from governance.security import generate_password
from governance.stages import Stage
from governance.tables import Account, UseCase

logger = logging.getLogger(__name__)

DEMO_FILE = Path(__file__).parent / "demo_data" / "programme.toml"
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

        for contribution in contributions:
            if contribution.demo_loader is None:
                continue
            section: dict[str, Any] = {}
            if contribution.demo_file:
                section = read_demo_file(Path(contribution.demo_file))
            await contribution.demo_loader(DemoContext(section, actors, use_case_ids))
            logger.info("demo data loaded for %s", contribution.name)

    await _report_gated_stages()
    return passwords


async def _report_gated_stages() -> None:
    """Log the readiness of demo use cases placed at ready for live or live, to catch bad demo data."""
    for view in await register.list_use_cases():
        if view.stage not in (Stage.LIVE, Stage.READY_FOR_LIVE):
            continue
        readiness = await gate.evaluate(view.ref, utcnow())
        if readiness.ready:
            logger.info("demo use case %s is %s and ready", view.reference, view.stage.value)
        else:
            logger.warning(
                "demo use case %s is %s but not ready: %s",
                view.reference,
                view.stage.value,
                json.dumps([check.name for check in readiness.blockers]),
            )
