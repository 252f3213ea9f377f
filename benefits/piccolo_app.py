"""Piccolo app for the benefits tables."""

import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="benefits",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=table_finder(modules=["benefits.tables"], exclude_imported=True),
    migration_dependencies=["governance.piccolo_app"],
    commands=[],
)
