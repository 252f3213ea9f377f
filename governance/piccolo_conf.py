"""Piccolo configuration: the engine and the apps whose tables and migrations it manages.

The engine is the process-wide one from ``governance.database``, so Piccolo's migrations and the
service share it. Domain packages are listed by ``GOVERNANCE_PACKAGES`` (all of them by default).
"""

from piccolo.conf.apps import AppRegistry

from governance.database import get_engine
from governance.settings import get_settings

DB = get_engine()

APP_REGISTRY = AppRegistry(
    apps=["governance.piccolo_app"]
    + [f"{package}.piccolo_app" for package in get_settings().packages]
)
