"""Tables of the equality package.

Screenings and full equality impact assessments are core assessment versions (kinds
``equality_screening`` and ``equality_assessment``); this package only adds the local protected
characteristics that administrators configure.
"""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from governance.tables import Account


class LocalCharacteristic(Table, tablename="equality_local_characteristic"):
    """A characteristic the force screens for on top of the nine in the Equality Act 2010.

    The ``key`` never changes, because frozen screening versions refer to it. Deactivating one
    removes it from new screening versions only; versions already frozen keep their own list.
    """

    key = Varchar(length=60, unique=True)
    label = Varchar(length=120)
    description = Text(default="")
    active = Boolean(default=True)
    created_by = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=1)
