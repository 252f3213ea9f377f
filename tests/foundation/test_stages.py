"""The use-case state machine, as pure functions: every allowed and every refused move."""

import pytest

from governance.stages import (
    GATED,
    HOLDABLE,
    PIPELINE,
    MoveNotAllowed,
    Stage,
    allowed_moves,
    check_move,
    held_from_after_move,
    parse_stage,
)

# The intended lifecycle, written out independently of the module's table. On hold is added to
# every holdable stage by allowed_moves, and the return from hold depends on where it came from.
EXPECTED: dict[Stage, set[Stage]] = {
    Stage.IDEA: {Stage.ASSESSMENT, Stage.REJECTED, Stage.ON_HOLD},
    Stage.ASSESSMENT: {Stage.QUALIFIED, Stage.IDEA, Stage.REJECTED, Stage.ON_HOLD},
    Stage.QUALIFIED: {Stage.DESIGN, Stage.ASSESSMENT, Stage.REJECTED, Stage.ON_HOLD},
    Stage.DESIGN: {Stage.BUILD, Stage.QUALIFIED, Stage.REJECTED, Stage.ON_HOLD},
    Stage.BUILD: {Stage.TEST, Stage.DESIGN, Stage.REJECTED, Stage.ON_HOLD},
    Stage.TEST: {Stage.READY_FOR_LIVE, Stage.BUILD, Stage.REJECTED, Stage.ON_HOLD},
    Stage.READY_FOR_LIVE: {Stage.LIVE, Stage.TEST, Stage.ON_HOLD},
    Stage.LIVE: {Stage.SUSPENDED, Stage.RETIRED},
    Stage.SUSPENDED: {Stage.LIVE, Stage.TEST, Stage.RETIRED},
    Stage.REJECTED: {Stage.IDEA},
    Stage.RETIRED: set(),
    Stage.ON_HOLD: {Stage.REJECTED},
}

PAIRS = [(current, target) for current in Stage for target in Stage]


@pytest.mark.parametrize("current", list(Stage))
def test_allowed_moves_match_lifecycle(current):
    assert set(allowed_moves(current)) == EXPECTED[current]


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_check_move_every_pair(current, target):
    if target in EXPECTED[current]:
        assert check_move(current, target.value) is target
    else:
        with pytest.raises(MoveNotAllowed) as caught:
            check_move(current, target.value)
        assert set(caught.value.allowed) == EXPECTED[current]


def test_refusal_lists_allowed_moves():
    with pytest.raises(MoveNotAllowed) as caught:
        check_move(Stage.IDEA, "live")
    assert str(caught.value) == (
        "A use case cannot move from Idea to Live. Allowed moves: Assessment, On hold, Rejected."
    )


def test_retired_is_final():
    with pytest.raises(MoveNotAllowed) as caught:
        check_move(Stage.RETIRED, "idea")
    assert str(caught.value) == "A use case cannot move from Retired to Idea. Retired is a final stage, so no move is allowed."


def test_unknown_stage_refused():
    with pytest.raises(MoveNotAllowed) as caught:
        check_move(Stage.IDEA, "banana")
    assert caught.value.requested == "banana"


def test_unknown_stage_quoted_in_refusal():
    with pytest.raises(MoveNotAllowed) as caught:
        check_move(Stage.IDEA, "banana")
    assert str(caught.value).startswith("A use case cannot move from Idea to 'banana'.")


@pytest.mark.parametrize("held_from", sorted(HOLDABLE, key=PIPELINE.index))
def test_on_hold_returns_to_held_stage(held_from):
    assert check_move(Stage.ON_HOLD, held_from.value, held_from) is held_from


@pytest.mark.parametrize("held_from", sorted(HOLDABLE, key=PIPELINE.index))
def test_on_hold_returns_nowhere_else(held_from):
    others = [stage for stage in HOLDABLE if stage is not held_from]
    for other in others:
        with pytest.raises(MoveNotAllowed):
            check_move(Stage.ON_HOLD, other.value, held_from)


def test_on_hold_without_origin_only_rejects():
    assert allowed_moves(Stage.ON_HOLD) == [Stage.REJECTED]


def test_held_from_remembered_on_hold():
    assert held_from_after_move(Stage.DESIGN, Stage.ON_HOLD) is Stage.DESIGN


def test_held_from_cleared_on_release():
    assert held_from_after_move(Stage.ON_HOLD, Stage.DESIGN) is None


def test_live_cannot_be_held():
    assert Stage.ON_HOLD not in allowed_moves(Stage.LIVE)


def test_gated_stages():
    assert GATED == {Stage.READY_FOR_LIVE, Stage.LIVE}


def test_allowed_moves_in_pipeline_order():
    moves = allowed_moves(Stage.TEST)
    assert moves == sorted(moves, key=PIPELINE.index)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ready_for_live", Stage.READY_FOR_LIVE),
        ("Ready for live", Stage.READY_FOR_LIVE),
        ("ready-for-live", Stage.READY_FOR_LIVE),
        (" LIVE ", Stage.LIVE),
        ("launched", None),
        ("", None),
    ],
)
def test_parse_stage(text, expected):
    assert parse_stage(text) is expected


def test_every_stage_has_label():
    assert all(stage.label for stage in Stage)
