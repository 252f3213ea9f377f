from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from governance.database import create_unique_index, make_append_only

ID = "2026-12-04T20:05:30:734644"
VERSION = "1.38.0"
DESCRIPTION = "composite unique keys, and append-only triggers on the audit log and sign-offs"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="governance", description=DESCRIPTION)

    async def add_constraints():
        await create_unique_index("account_role", "account", "role")
        await create_unique_index("bot_identity", "platform", "identifier")
        await create_unique_index("business_case_line", "business_case", "kind", "financial_year")
        await create_unique_index("assessment", "use_case", "kind")
        await create_unique_index("assessment_version", "assessment", "number")
        await make_append_only("audit_entry")
        await make_append_only("sign_off")

    manager.add_raw(add_constraints)
    return manager
