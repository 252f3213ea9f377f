"""Tables of the DPIA package: scoring matrices, approval conditions and ICO prior consultations.

The DPIA itself is a core assessment (kind "dpia"); these tables hold what hangs off it. Scoring
matrices are append-only: a changed matrix is a new row with a higher version, so every recorded
score can be re-derived from the matrix that produced it.
"""

from __future__ import annotations

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from governance.tables import Account, AssessmentVersion, UseCase


class ScoringMatrix(Table, tablename="dpia_scoring_matrix"):
    """A named, versioned risk scoring matrix stored as JSON; ``active`` marks the one for new drafts.

    Database triggers reject UPDATE and DELETE, so ``active`` is fixed when the row is written: the
    newest active version of a name is the one in use.
    """

    name = Varchar(length=60)
    version = Integer()
    title = Varchar(length=200)
    definition = Text()
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Condition(Table, tablename="dpia_condition"):
    """A condition attached to an approved DPIA version, owned by someone and due by a date."""

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    assessment_version = ForeignKey(AssessmentVersion, null=False, on_delete=OnDelete.restrict)
    text = Text()
    owner = Varchar(length=120)
    due_date = Date(null=True, default=None)
    before_go_live = Boolean(default=True)
    created_by = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    met_at = Timestamptz(null=True, default=None)
    met_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    met_note = Text(default="")
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    withdrawal_reason = Text(default="")
    version = Integer(default=1)


class IcoConsultation(Table, tablename="dpia_ico_consultation"):
    """Prior consultation with the ICO about an approved version whose residual risk is still high.

    ``status`` is "pending" until the ICO's response is recorded with an outcome, then "concluded";
    reopening it makes it pending again.
    """

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    assessment_version = ForeignKey(AssessmentVersion, null=False, on_delete=OnDelete.restrict)
    submitted_on = Date()
    ico_reference = Varchar(length=120, default="")
    notes = Text(default="")
    status = Varchar(length=20)
    response = Text(default="")
    response_received_on = Date(null=True, default=None)
    outcome = Varchar(length=40, null=True, default=None)
    recorded_by = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=1)


class ReviewOwner(Table, tablename="dpia_review_owner"):
    """The person named, when a version is approved, to keep that DPIA under review (ICO step 7).

    One row per approved version (a unique index on ``assessment_version``); Information Assurance
    names the owner in the decision, and the decider is the default.
    """

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    assessment_version = ForeignKey(AssessmentVersion, null=False, on_delete=OnDelete.restrict)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    named_by = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    named_at = Timestamptz(default=TimestamptzNow())
