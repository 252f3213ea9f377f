"""Automation Governance: the core of the service.

The core holds settings, the database, accounts and roles, the audit trail, the use-case register,
the assessment versioning machinery and the go-live gate. Domain packages (``dpia``, ``equality``,
``benefits``) build on it and register their own routes, gate checks and demo loaders.
"""

import os

# Piccolo finds its engine and apps through this module; set it before any Piccolo import runs.
os.environ.setdefault("PICCOLO_CONF", "governance.piccolo_conf")
