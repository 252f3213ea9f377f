from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from governance.database import create_unique_index

ID = "2026-12-04T21:59:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique form id per actor and action on form submissions"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="governance", description=DESCRIPTION)

    async def add_constraints():
        await create_unique_index("form_submission", "actor", "action", "form_id")

    manager.add_raw(add_constraints)
    return manager
