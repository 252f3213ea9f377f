from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from governance.database import create_unique_index

ID = "2026-12-04T21:59:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one review owner per DPIA version"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dpia", description=DESCRIPTION)

    async def add_constraints():
        await create_unique_index("dpia_review_owner", "assessment_version")

    manager.add_raw(add_constraints)
    return manager
