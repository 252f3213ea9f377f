"""Core tables: departments, accounts, sessions, tokens, the audit log, the register and assessments.

Composite unique constraints are unique indexes created by the migrations, because SQLite cannot add a
constraint to an existing table and Piccolo creates tables first. Foreign keys restrict deletion:
records that the audit log refers to are never removed by cascade.

Conventions: money is integer pence in ``BigInt`` columns; times are ``Timestamptz`` and always written
as aware UTC datetimes; lists and structured content are canonical JSON in ``Text`` columns, decoded
by the service layer; rows that people edit carry a ``version`` number for optimistic locking.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Department(Table, tablename="department"):
    """A business area that proposes use cases, such as the Contact Centre."""

    name = Varchar(length=120, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Account(Table, tablename="account"):
    """A person (or a machine, with no password) who signs in or holds API tokens."""

    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=120)
    password_hash = Text(null=True, default=None)
    department = ForeignKey(Department, null=True, on_delete=OnDelete.restrict)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_sign_in_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class AccountRole(Table, tablename="account_role"):
    """One role held by an account; an account may hold several."""

    account = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    role = Varchar(length=40)


class WebSession(Table, tablename="web_session"):
    """A signed-in browser session; the cookie carries a secret whose SHA-256 is stored here."""

    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    csrf_secret = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    remote_address = Varchar(length=64, default="")


class ApiToken(Table, tablename="api_token"):
    """A scoped machine credential. Only the SHA-256 of its secret part is stored."""

    token_id = Varchar(length=24, unique=True)
    secret_hash = Varchar(length=64)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    label = Varchar(length=120, default="")
    scopes = Varchar(length=255)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class SignInAttempt(Table, tablename="sign_in_attempt"):
    """One password sign-in attempt, kept for throttling.

    ``cleared_at`` is set on failed attempts when the account's password is set again; cleared
    failures no longer count towards the sign-in pause.
    """

    username = Varchar(length=64, index=True)
    remote_address = Varchar(length=64, default="")
    attempted_at = Timestamptz(default=TimestamptzNow(), index=True)
    succeeded = Boolean(default=False)
    cleared_at = Timestamptz(null=True, default=None)


class FormSubmission(Table, tablename="form_submission"):
    """A create request already carried out, found again by its one-time form id or Idempotency-Key.

    A repeat of the same request (a double click, a retried API call) returns the record the first
    one created instead of creating another. ``form_id`` is unique per actor and action.
    """

    actor = Varchar(length=64)
    action = Varchar(length=40)
    form_id = Varchar(length=200)
    request_hash = Varchar(length=64)
    result = Varchar(length=80)
    created_at = Timestamptz(default=TimestamptzNow())


class AuditEntry(Table, tablename="audit_entry"):
    """One link of the append-only, hash-chained audit log.

    Database triggers reject UPDATE and DELETE on this table on both engines.
    """

    seq = BigInt(unique=True)
    occurred_at = Timestamptz()
    actor = Varchar(length=64)
    actor_roles = Varchar(length=255, default="")
    action = Varchar(length=80, index=True)
    entity_type = Varchar(length=40, index=True)
    entity_ref = Varchar(length=80)
    use_case_ref = Varchar(length=20, null=True, default=None, index=True)
    before = Text(null=True, default=None)
    after = Text(null=True, default=None)
    note = Text(default="")
    prev_hash = Varchar(length=64)
    entry_hash = Varchar(length=64, unique=True)


class UseCase(Table, tablename="use_case"):
    """An automation use case on the register."""

    reference = Varchar(length=20, unique=True)
    title = Varchar(length=200)
    department = ForeignKey(Department, null=False, on_delete=OnDelete.restrict)
    business_owner = Varchar(length=120)
    description = Text(default="")
    systems = Text(default="[]")
    data_categories = Text(default="[]")
    purposes = Text(default="[]")
    rpa_platform = Varchar(length=40, default="")
    stage = Varchar(length=30, index=True)
    held_from = Varchar(length=30, null=True, default=None)
    illustrative = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=1)
    # Time of the go-live decision that put the use case live; None while it is not live.
    went_live_at = Timestamptz(null=True, default=None)


class BotIdentity(Table, tablename="bot_identity"):
    """A bot's identifier on its RPA platform, used to match run data and pipeline queries."""

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    platform = Varchar(length=40)
    identifier = Varchar(length=120)


class BusinessCase(Table, tablename="business_case"):
    """The programme's approved business case, with its totals exactly as stated in the document."""

    title = Varchar(length=200)
    stated_capital_total_pence = BigInt(null=True, default=None)
    stated_revenue_total_pence = BigInt(null=True, default=None)
    supplier_contract_pence = BigInt(null=True, default=None)
    supplier_contract_terms = Text(default="")
    benefits_note = Text(default="")
    source = Text(default="")
    illustrative = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=1)


class BusinessCaseLine(Table, tablename="business_case_line"):
    """One capital or revenue line for one financial year, as entered."""

    business_case = ForeignKey(BusinessCase, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=20)
    financial_year = Varchar(length=7)
    amount_pence = BigInt()
    note = Varchar(length=200, default="")


class Assessment(Table, tablename="assessment"):
    """One assessment document of one kind (for example "dpia") for one use case."""

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=40)
    created_at = Timestamptz(default=TimestamptzNow())


class AssessmentVersion(Table, tablename="assessment_version"):
    """A numbered version of an assessment.

    While ``status`` is editable (a draft) the content may change. Submitting freezes it: the content
    is stored in canonical JSON and ``content_hash`` is its SHA-256. A frozen version never changes
    content again; revising it starts a new version.
    """

    assessment = ForeignKey(Assessment, null=False, on_delete=OnDelete.restrict)
    number = Integer()
    status = Varchar(length=40, index=True)
    schema = Varchar(length=40)
    content = Text(default="{}")
    content_hash = Varchar(length=64, null=True, default=None)
    author = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    editors = Text(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    submitted_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    submitted_at = Timestamptz(null=True, default=None)
    decision = Varchar(length=40, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    review_date = Date(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    revocation_reason = Text(null=True, default=None)
    version = Integer(default=1)


class SignOff(Table, tablename="sign_off"):
    """A signature on one assessment version, bound to that version's content hash.

    Database triggers reject UPDATE and DELETE: sign-offs are never edited or removed.
    """

    assessment_version = ForeignKey(AssessmentVersion, null=False, on_delete=OnDelete.restrict)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    signer_name = Varchar(length=120)
    signer_role = Varchar(length=40)
    meaning = Varchar(length=200)
    decision = Varchar(length=40)
    content_hash = Varchar(length=64)
    version_number = Integer()
    signed_at = Timestamptz()
    summary = Text(default="")
    reasons = Text(default="")


# The go-live gate ---------------------------------------------------------------------------------


class EmergencyOverride(Table, tablename="emergency_override"):
    """A request to let a use case go live although readiness checks fail.

    It covers only the checks named in ``covered_checks`` (those failing when it was requested), and
    only until ``expires_at``. It needs two approvals by different people, neither the requester: one
    holding the Information Assurance role and one the Data Protection Officer role.
    """

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    status = Varchar(length=20, index=True)
    reason = Text()
    covered_checks = Text(default="[]")
    expires_at = Timestamptz()
    requested_by = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    requested_at = Timestamptz()
    ia_approved_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    ia_approved_at = Timestamptz(null=True, default=None)
    dpo_approved_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    dpo_approved_at = Timestamptz(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Varchar(length=64, null=True, default=None)
    close_reason = Text(null=True, default=None)
    version = Integer(default=1)


class GoLiveDecision(Table, tablename="go_live_decision"):
    """One evaluation of the gate on a move into ready for live or live, granted or refused.

    ``checks`` is the canonical JSON of every check result with its evidence (assessment version
    numbers and content hashes); ``decision_hash`` is the SHA-256 of the whole record. Database
    triggers reject UPDATE and DELETE.
    """

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    use_case_ref = Varchar(length=20)
    from_stage = Varchar(length=30)
    target_stage = Varchar(length=30)
    granted = Boolean()
    ready = Boolean()
    basis = Varchar(length=30)
    checks = Text(default="[]")
    emergency_override = ForeignKey(
        EmergencyOverride, null=True, default=None, on_delete=OnDelete.restrict
    )
    decided_by = Varchar(length=64)
    decided_by_roles = Varchar(length=255, default="")
    decided_at = Timestamptz(index=True)
    reason = Text(default="")
    decision_hash = Varchar(length=64)


class ManualCheck(Table, tablename="manual_check"):
    """A go-live check that a person signs, such as security sign-off; administrators define them."""

    key = Varchar(length=40, unique=True)
    title = Varchar(length=120)
    description = Text(default="")
    signing_role = Varchar(length=40)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=1)


class ManualCheckSignOff(Table, tablename="manual_check_sign_off"):
    """A signature on a manual check for one use case; revoking it keeps the row and adds a reason."""

    manual_check = ForeignKey(ManualCheck, null=False, on_delete=OnDelete.restrict)
    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    account = ForeignKey(Account, null=False, on_delete=OnDelete.restrict)
    signer_name = Varchar(length=120)
    signer_role = Varchar(length=40)
    signed_at = Timestamptz()
    note = Text(default="")
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.restrict)
    revocation_reason = Text(null=True, default=None)


class ReadinessLapse(Table, tablename="readiness_lapse"):
    """A period during which a live (or ready for live) use case stopped being ready.

    At most one lapse per use case is open (``cleared_at`` null); the service keeps it that way.
    """

    use_case = ForeignKey(UseCase, null=False, on_delete=OnDelete.restrict)
    lapsed_at = Timestamptz(index=True)
    reason = Text()
    blockers = Text(default="[]")
    cleared_at = Timestamptz(null=True, default=None)
    cleared_by = Varchar(length=64, null=True, default=None)
    cleared_reason = Text(null=True, default=None)
