"""The pure engine on its own: no database, no clock, just (run, snapshot, facts, now) → decision."""

from __future__ import annotations

import datetime as dt

import pytest

from sirene.escalation.engine import AttemptView, Facts, RunView, decide, simulate
from sirene.escalation.snapshot import PolicySnapshot, SnapshotError

T0 = dt.datetime(2024, 1, 1, 3, 0, tzinfo=dt.UTC)
SNAPSHOT = PolicySnapshot.parse(
    {
        "name": "t",
        "people": {"1": {"name": "Tara"}, "2": {"name": "Piwi"}},
        "steps": [
            {"kind": "slack_post", "channel": "#cs", "mentions": ["1", "2"]},
            {"kind": "wait_ack", "minutes": 15},
            {"kind": "call", "person": "1", "attempts": 2, "gap_minutes": 5, "ring_seconds": 30},
            {"kind": "call", "person": "2", "attempts": 1, "gap_minutes": 0, "ring_seconds": 30},
        ],
    }
)


def test_the_first_decision_posts_and_sleeps_until_the_wait_is_over() -> None:
    decision = decide(RunView("active", 0, 0, T0), SNAPSHOT, Facts(), T0)
    assert [a.kind for a in decision.actions] == ["slack_post"]
    assert decision.step_index == 1 and decision.next_action_at == T0 + dt.timedelta(minutes=15)


def test_the_same_inputs_give_the_same_decision() -> None:
    run = RunView("active", 1, 0, T0)
    now = T0 + dt.timedelta(minutes=15)
    assert decide(run, SNAPSHOT, Facts(), now) == decide(run, SNAPSHOT, Facts(), now)


def test_a_call_still_ringing_is_waited_for_not_repeated() -> None:
    placed = T0 + dt.timedelta(minutes=15)
    deadline = placed + dt.timedelta(seconds=150)
    run = RunView("active", 2, 0, placed, (AttemptView(1, "sent", placed, None, deadline),))
    decision = decide(run, SNAPSHOT, Facts(), placed + dt.timedelta(seconds=40))
    assert decision.actions == () and decision.next_action_at == deadline


def test_after_an_unanswered_call_it_waits_the_gap_then_calls_again() -> None:
    placed = T0 + dt.timedelta(minutes=15)
    ended = placed + dt.timedelta(seconds=30)
    run = RunView("active", 2, 0, placed, (AttemptView(1, "unanswered", placed, ended, None),))
    waiting = decide(run, SNAPSHOT, Facts(), ended)
    assert waiting.actions == () and waiting.next_action_at == ended + dt.timedelta(minutes=5)
    again = decide(run, SNAPSHOT, Facts(), ended + dt.timedelta(minutes=5))
    assert [(a.kind, a.person, a.number, a.of) for a in again.actions] == [("call", "1", 2, 2)]


def test_an_absent_person_is_skipped_and_the_next_one_called_at_once() -> None:
    now = T0 + dt.timedelta(minutes=15)
    decision = decide(RunView("active", 1, 0, T0), SNAPSHOT, Facts(absent=frozenset({"1"})), now)
    assert [(a.kind, a.person) for a in decision.actions] == [("skip", "1"), ("call", "2")]


def test_an_acknowledged_run_stops_without_any_action_but_stop() -> None:
    decision = decide(RunView("active", 2, 0, T0), SNAPSHOT, Facts(acknowledged=True), T0)
    assert [a.kind for a in decision.actions] == ["stop"] and decision.status == "acknowledged"
    assert decision.next_action_at is None


def test_unknown_step_kinds_do_not_stall_a_run() -> None:
    snapshot = {"people": {}, "steps": [{"kind": "carrier_pigeon"}, {"kind": "slack_post", "channel": "#cs"}]}
    decision = decide(RunView("active", 0, 0, T0), PolicySnapshot.parse(snapshot), Facts(), T0)
    assert [a.kind for a in decision.actions] == ["slack_post", "stop"]


def test_repeat_loops_back_a_bounded_number_of_times() -> None:
    snapshot = {
        "people": {"1": {"name": "Tara"}},
        "steps": [
            {"kind": "slack_post", "channel": "#cs"},
            {"kind": "wait_ack", "minutes": 1},
            {"kind": "repeat", "times": 2, "from_step": 1},
        ],
    }
    lines = simulate(PolicySnapshot.parse(snapshot))
    # Issue 22: each repeat is shown (and announced in the siren's thread by the worker).
    assert [line.action for line in lines] == ["slack_post", "repeat", "repeat", "stop"]
    assert lines[-1].at == 180  # three waits of one minute: the first pass and two repeats


def test_simulate_matches_the_process_when_nobody_answers() -> None:
    lines = simulate(SNAPSHOT, no_answer=frozenset({"1", "2"}))
    calls = [(int(line.at), line.person) for line in lines if line.action == "call"]
    assert calls == [(900, "Tara"), (1230, "Tara"), (1260, "Piwi")]


def test_a_snapshot_is_typed_with_the_engines_defaults_when_read() -> None:
    parsed = PolicySnapshot.parse(
        {"name": "p", "people": {"1": {"name": "Tara"}}, "steps": [{"kind": "call", "person": 1}]}
    )
    call = parsed.steps[0]
    assert (call.person, call.attempts, call.ring_seconds, call.gap_minutes) == ("1", 1, 30, 0.0)
    assert parsed.person_name("1") == "Tara" and parsed.person_name("9") == "9"
    assert parsed.ring_seconds(0) == 30 and parsed.ring_seconds(5) == 30


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"name": "p", "steps": [{"kind": "wait_ack", "minutes": "soon"}]}, "steps[0].minutes"),
        ({"name": "p", "steps": [{"kind": "call", "attempts": [2]}]}, "steps[0].attempts"),
        ({"name": "p", "steps": {"kind": "call"}}, "steps"),
        ({"name": "p", "people": {"1": "Tara"}}, "people.1"),
        (["not", "an", "object"], "snapshot"),
    ],
)
def test_a_malformed_snapshot_is_refused_naming_the_field(raw: object, field: str) -> None:
    with pytest.raises(SnapshotError) as err:
        PolicySnapshot.parse(raw)
    assert err.value.field == field
