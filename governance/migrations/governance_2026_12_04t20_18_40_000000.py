from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from governance.database import make_append_only

ID = "2026-12-04T20:18:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only trigger on go-live decisions"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="governance", description=DESCRIPTION)

    async def add_constraints():
        await make_append_only("go_live_decision")

    manager.add_raw(add_constraints)
    return manager
