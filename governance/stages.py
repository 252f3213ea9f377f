"""The use-case lifecycle as one state machine; pure functions with no I/O."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    IDEA = "idea"
    ASSESSMENT = "assessment"
    QUALIFIED = "qualified"
    DESIGN = "design"
    BUILD = "build"
    TEST = "test"
    READY_FOR_LIVE = "ready_for_live"
    LIVE = "live"
    RETIRED = "retired"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.IDEA: "Idea",
    Stage.ASSESSMENT: "Assessment",
    Stage.QUALIFIED: "Qualified",
    Stage.DESIGN: "Design",
    Stage.BUILD: "Build",
    Stage.TEST: "Test",
    Stage.READY_FOR_LIVE: "Ready for live",
    Stage.LIVE: "Live",
    Stage.RETIRED: "Retired",
    Stage.REJECTED: "Rejected",
    Stage.ON_HOLD: "On hold",
    Stage.SUSPENDED: "Suspended",
}

# The main line in order, used for sorting and for the board's columns.
PIPELINE: tuple[Stage, ...] = (
    Stage.IDEA,
    Stage.ASSESSMENT,
    Stage.QUALIFIED,
    Stage.DESIGN,
    Stage.BUILD,
    Stage.TEST,
    Stage.READY_FOR_LIVE,
    Stage.LIVE,
    Stage.SUSPENDED,
    Stage.ON_HOLD,
    Stage.RETIRED,
    Stage.REJECTED,
)

# Stages a use case may be put on hold from; it returns to the same stage when released.
HOLDABLE: frozenset[Stage] = frozenset(
    {
        Stage.IDEA,
        Stage.ASSESSMENT,
        Stage.QUALIFIED,
        Stage.DESIGN,
        Stage.BUILD,
        Stage.TEST,
        Stage.READY_FOR_LIVE,
    }
)

_MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.IDEA: frozenset({Stage.ASSESSMENT, Stage.REJECTED}),
    Stage.ASSESSMENT: frozenset({Stage.QUALIFIED, Stage.IDEA, Stage.REJECTED}),
    Stage.QUALIFIED: frozenset({Stage.DESIGN, Stage.ASSESSMENT, Stage.REJECTED}),
    Stage.DESIGN: frozenset({Stage.BUILD, Stage.QUALIFIED, Stage.REJECTED}),
    Stage.BUILD: frozenset({Stage.TEST, Stage.DESIGN, Stage.REJECTED}),
    Stage.TEST: frozenset({Stage.READY_FOR_LIVE, Stage.BUILD, Stage.REJECTED}),
    Stage.READY_FOR_LIVE: frozenset({Stage.LIVE, Stage.TEST}),
    Stage.LIVE: frozenset({Stage.SUSPENDED, Stage.RETIRED}),
    Stage.SUSPENDED: frozenset({Stage.LIVE, Stage.TEST, Stage.RETIRED}),
    Stage.REJECTED: frozenset({Stage.IDEA}),
    Stage.RETIRED: frozenset(),
    Stage.ON_HOLD: frozenset({Stage.REJECTED}),
}

# Moving into these stages runs the go-live gate in the same transaction as the move.
GATED: frozenset[Stage] = frozenset({Stage.READY_FOR_LIVE, Stage.LIVE})


class MoveNotAllowed(Exception):
    """The requested move is not in the state machine; ``allowed`` lists the moves that are."""

    def __init__(self, current: Stage, requested: str, allowed: list[Stage]) -> None:
        target = parse_stage(requested)
        requested_name = target.label if target is not None else repr(requested)
        names = ", ".join(stage.label for stage in allowed)
        moves = f"Allowed moves: {names}." if allowed else f"{current.label} is a final stage, so no move is allowed."
        super().__init__(f"A use case cannot move from {current.label} to {requested_name}. {moves}")
        self.current = current
        self.requested = requested
        self.allowed = allowed


def parse_stage(value: str) -> Stage | None:
    """Return the stage named ``value`` (accepting "Ready for live" or "ready-for-live"), or None."""
    normalised = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Stage(normalised)
    except ValueError:
        return None


def allowed_moves(current: Stage, held_from: Stage | None = None) -> list[Stage]:
    """List the stages ``current`` may move to, in pipeline order."""
    moves = set(_MOVES[current])

    if current in HOLDABLE:
        moves.add(Stage.ON_HOLD)
    if current is Stage.ON_HOLD and held_from is not None:
        moves.add(held_from)

    return sorted(moves, key=PIPELINE.index)


def check_move(current: Stage, requested: str, held_from: Stage | None = None) -> Stage:
    """Return the target stage if the move is allowed; raise ``MoveNotAllowed`` otherwise."""
    allowed = allowed_moves(current, held_from)
    target = parse_stage(requested)

    if target is None or target not in allowed:
        raise MoveNotAllowed(current, requested, allowed)
    return target


def held_from_after_move(current: Stage, target: Stage) -> Stage | None:
    """Return the stage to remember after a move: the stage left when going on hold, else None."""
    return current if target is Stage.ON_HOLD else None
