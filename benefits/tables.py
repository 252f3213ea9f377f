"""Tables of the benefits package.

Times are stored in whole seconds so that sums stay exact on every engine; pages and the API show
minutes.
"""

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from governance.tables import UseCase


class Baseline(Table, tablename="baseline"):
    """The measured manual process of one use case, from which benefits will be forecast.

    ``residual_seconds_per_item`` is the human time still needed per item once the bot runs.
    """

    use_case = ForeignKey(UseCase, null=False, unique=True, on_delete=OnDelete.restrict)
    volume_per_month = Integer()
    manual_seconds_per_item = Integer()
    residual_seconds_per_item = Integer()
    source_note = Text(default="")
    recorded_by = Varchar(length=64)
    recorded_at = Timestamptz()
    version = Integer(default=1)
