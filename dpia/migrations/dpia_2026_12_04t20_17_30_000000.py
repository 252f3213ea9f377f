import datetime as dt
import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from governance.database import create_unique_index, make_append_only

ID = "2026-12-04T20:17:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "dpia keys, append-only scoring matrices, and the ICO three-by-three matrix"

# The matrix as it stood when this migration was written; a later change is a new version row.
# Likelihood and severity follow the ICO's DPIA template (remote, possible, probable; minimal,
# significant, severe). Each cell is the product of the two positions (1 to 3): 1-2 low, 3-4
# medium, 6-9 high.
ICO_3X3 = {
    "likelihood": [
        {"key": "remote", "label": "Remote"},
        {"key": "possible", "label": "Possible"},
        {"key": "probable", "label": "Probable"},
    ],
    "severity": [
        {"key": "minimal", "label": "Minimal"},
        {"key": "significant", "label": "Significant"},
        {"key": "severe", "label": "Severe"},
    ],
    "levels": [
        {"key": "low", "label": "Low"},
        {"key": "medium", "label": "Medium"},
        {"key": "high", "label": "High"},
    ],
    "cells": {
        "remote": {"minimal": "low", "significant": "low", "severe": "medium"},
        "possible": {"minimal": "low", "significant": "medium", "severe": "high"},
        "probable": {"minimal": "medium", "significant": "high", "severe": "high"},
    },
}


class ScoringMatrix(Table, tablename="dpia_scoring_matrix"):
    name = Varchar(length=60)
    version = Integer()
    title = Varchar(length=200)
    definition = Text()
    active = Boolean(default=True)
    created_at = Timestamptz()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dpia", description=DESCRIPTION)

    async def seed():
        await create_unique_index("dpia_scoring_matrix", "name", "version")
        await create_unique_index("dpia_ico_consultation", "assessment_version")
        await ScoringMatrix.insert(
            ScoringMatrix(
                name="ico-3x3",
                version=1,
                title="ICO likelihood and severity matrix (3 by 3)",
                definition=json.dumps(ICO_3X3, sort_keys=True),
                active=True,
                created_at=dt.datetime.now(dt.timezone.utc),
            )
        ).run()
        await make_append_only("dpia_scoring_matrix")

    manager.add_raw(seed)
    return manager
