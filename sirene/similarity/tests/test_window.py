"""The window clustering on its own (no database): chains, near-miss pairs, corrections, contrast."""

from __future__ import annotations

import numpy as np

from sirene.similarity.window import Window, WindowReport, pair_score, report_terms

HOUR = 3600.0


def _vec(*weights: tuple[int, float]) -> np.ndarray:
    v = np.zeros(16, dtype=np.float32)
    for axis, w in weights:
        v[axis] = w
    return v / np.linalg.norm(v)


def _add(window: Window, key: int, vector: np.ndarray, who: str, at: float = 0.0, **kw: object) -> None:
    window.add(WindowReport(key=key, at=at, identity=who, vector=vector, **kw))  # type: ignore[arg-type]


def test_a_chain_of_near_reports_is_one_problem() -> None:
    # Each report is near the next (cosine ~0.7), the two ends are far apart (cosine ~0):
    # customers describe one failure in drifting words; it is still one problem.
    window = Window()
    for i in range(6):
        _add(window, i, _vec((i, 1.0), (i + 1, 1.0)), f"k{i}", at=i * 60.0)
    assert float(window.reports[0].vector @ window.reports[5].vector) < 0.1
    assert window.problem_of(5, since=-HOUR) == [0, 1, 2, 3, 4, 5]


def test_two_problems_nearer_to_their_own_kind_stay_two() -> None:
    # Two tight problems (own kind ~0.9) that touch each other at ~0.5: never one problem.
    window = Window()
    a, b = _vec((0, 1.0), (2, 0.3)), _vec((1, 1.0), (2, 0.3))
    bridge = _vec((0, 1.0), (1, 1.0), (2, 0.4))
    key = 0
    for i in range(4):
        _add(window, key, a + np.float32(0.05 * i) * _vec((3 + i, 1.0)), f"a{i}")
        key += 1
        _add(window, key, b + np.float32(0.05 * i) * _vec((8 + i, 1.0)), f"b{i}")
        key += 1
    _add(window, key, bridge, "bridge")
    mine = window.problem_of(0, since=-HOUR)
    assert set(mine) <= {0, 2, 4, 6, key}
    assert {0, 2, 4, 6} <= set(mine)


def test_reports_outside_the_window_do_not_belong_to_the_problem() -> None:
    window = Window()
    _add(window, 1, _vec((0, 1.0)), "old", at=0.0)
    _add(window, 2, _vec((0, 1.0)), "new", at=30 * HOUR)
    _add(window, 3, _vec((0, 1.0)), "new2", at=30 * HOUR + 60)
    assert window.problem_of(3, since=6 * HOUR) == [2, 3]


def test_an_agents_split_stays_split_and_a_merge_stays_merged() -> None:
    window = Window()
    same = _vec((0, 1.0))
    _add(window, 1, same, "a", group="g1")
    _add(window, 2, same, "b", group="g2")  # the agent split them: never linked
    _add(window, 3, _vec((5, 1.0)), "c", group="g1")  # the agent merged it: linked, unlike words
    assert 2 not in window.problem_of(1, since=-HOUR)
    assert 3 in window.problem_of(1, since=-HOUR)


def test_a_confirmed_known_problem_is_a_strong_hint() -> None:
    a = WindowReport(1, 0.0, "a", _vec((0, 1.0)), known="kp-1")
    b = WindowReport(2, 0.0, "b", _vec((0, 1.0), (1, 1.6)), known="kp-1")
    c = WindowReport(3, 0.0, "c", _vec((0, 1.0), (1, 1.6)), known="kp-2")
    cos = float(a.vector @ b.vector)
    assert pair_score(cos, a, b) > cos + 0.2
    assert pair_score(cos, a, c) == float("-inf")


def test_error_codes_and_area_tags_tell_near_problems_apart() -> None:
    v = _vec((0, 1.0))
    a = WindowReport(1, 0.0, "a", v, codes=frozenset({"404"}), tags=frozenset({"video"}))
    same = WindowReport(2, 0.0, "b", v, codes=frozenset({"404"}), tags=frozenset({"video"}))
    other = WindowReport(3, 0.0, "c", v, codes=frozenset({"500"}), tags=frozenset({"checkout"}))
    assert pair_score(0.4, a, same) > 0.4 > pair_score(0.4, a, other)


def test_negation_and_contrast_are_read_from_the_text() -> None:
    assert "-ton" in report_terms("Leider kein Ton bei den Videos")
    terms = report_terms("Ton ist da, aber keine Schrift (Untertitel fehlen)")
    assert "ton" in terms and "-schrift" in terms and "-ton" not in terms
    no_sound = WindowReport(1, 0.0, "a", _vec((0, 1.0)), terms=report_terms("Video läuft, aber kein Ton"))
    no_subs = WindowReport(
        2, 0.0, "b", _vec((0, 1.0)), terms=report_terms("Ton ist da, aber keine Untertitel")
    )
    assert pair_score(0.5, no_sound, no_subs) < pair_score(0.5, no_sound, no_sound)


def test_early_warning_novelty_looks_at_the_days_before() -> None:
    window = Window(horizon=24 * HOUR)
    _add(window, 1, _vec((0, 1.0)), "old", at=0.0)
    _add(window, 2, _vec((0, 1.0)), "a", at=5 * 24 * HOUR)
    _add(window, 3, _vec((7, 1.0)), "b", at=5 * 24 * HOUR)
    assert window.similar_before([2], since=0.0, until=5 * 24 * HOUR) == [1]
    assert window.similar_before([3], since=0.0, until=5 * 24 * HOUR) == []


def test_evicted_reports_are_gone_and_the_rest_still_links() -> None:
    window = Window()
    for i in range(5):
        _add(window, i, _vec((0, 1.0)), f"k{i}", at=float(i))
    assert window.evict(before=2.0) == 2
    assert len(window) == 3
    _add(window, 9, _vec((0, 1.0)), "k9", at=10.0)
    assert window.problem_of(9, since=0.0) == [2, 3, 4, 9]


def test_the_link_threshold_rises_with_the_time_between_two_reports() -> None:
    # Two reports with the same words: linked when they arrive an hour apart, not a day apart
    # (a burst arrives within hours; an everyday look-alike the next evening is another matter).
    a = WindowReport(key=1, at=0.0, identity="a", vector=_vec((0, 1.0)))
    b_soon = WindowReport(key=2, at=HOUR, identity="b", vector=_vec((0, 1.0)))
    b_late = WindowReport(key=3, at=23 * HOUR, identity="c", vector=_vec((0, 1.0)))
    cosine = 0.5
    soon, late = pair_score(cosine, a, b_soon), pair_score(cosine, a, b_late)
    assert soon >= Window().params.link > late
    assert soon - late > 0.15


def test_an_everyday_look_alike_needs_more_than_one_chance_neighbour_before() -> None:
    # kin = the 3rd best cosine to the days before: one old look-alike does not make a new
    # problem "everyday", three do.
    window = Window(horizon=24 * HOUR)
    _add(window, 1, _vec((0, 1.0)), "old1", at=-3 * 24 * HOUR)
    _add(window, 2, _vec((1, 1.0)), "old2", at=-3 * 24 * HOUR)
    _add(window, 3, _vec((0, 1.0), (2, 0.2)), "new", at=0.0)
    assert window.reports[3].kin < 0.5
    for i in range(3):
        _add(window, 10 + i, _vec((4, 1.0), (5 + i, 0.1)), f"every{i}", at=-(2 + i) * 24 * HOUR)
    _add(window, 20, _vec((4, 1.0)), "today", at=0.0)
    assert window.reports[20].kin > 0.9


def test_an_everyday_question_does_not_link_to_a_new_problem_but_a_burst_like_old_reports_stays_whole() -> (
    None
):
    from sirene.similarity.window import _kin_apart

    everyday = WindowReport(key=1, at=0.0, identity="a", vector=_vec((0, 1.0)), kin=0.8)
    new = WindowReport(key=2, at=0.0, identity="b", vector=_vec((0, 1.0)), kin=0.3)
    # The everyday report is far nearer to its own kind (0.8) than to the new report (0.45).
    assert _kin_apart(everyday, new, 0.45, margin=0.1)
    # A burst report that happens to resemble old reports (kin 0.5) next to one that does not
    # quite (0.42): both new, close to each other (0.45) -> still linked.
    burst_a = WindowReport(key=3, at=0.0, identity="c", vector=_vec((0, 1.0)), kin=0.5)
    burst_b = WindowReport(key=4, at=0.0, identity="d", vector=_vec((0, 1.0)), kin=0.42)
    assert not _kin_apart(burst_a, burst_b, 0.45, margin=0.1)
    # Two reports of an everyday question that spikes today: both have kin, they stay linked.
    spike_a = WindowReport(key=5, at=0.0, identity="e", vector=_vec((0, 1.0)), kin=0.8)
    spike_b = WindowReport(key=6, at=0.0, identity="f", vector=_vec((0, 1.0)), kin=0.75)
    assert not _kin_apart(spike_a, spike_b, 0.6, margin=0.1)


def test_a_split_moves_each_report_to_the_part_it_is_nearer_to_on_average() -> None:
    from sirene.similarity.window import _refine

    # Reports 0-2 are one problem, 3-5 another; report 2 was cut into the wrong part, but it
    # is nearer to 0-1 on average.
    s = np.full((6, 6), 0.1)
    s[np.ix_([0, 1, 2], [0, 1, 2])] = 0.8
    s[np.ix_([3, 4, 5], [3, 4, 5])] = 0.8
    np.fill_diagonal(s, 1.0)
    wrong = np.array([True, True, False, False, False, False])
    assert _refine(s, wrong, me=0).tolist() == [True, True, True, False, False, False]


def test_the_newest_report_of_a_tight_burst_is_not_shut_out_by_a_hair() -> None:
    # Six customers wrote the same words in one second; the 7th writes them a second later (its
    # score is a hair lower to everybody, by the time between them). Each old report's 5 best are
    # the old ones, but the 7th is a near-tie: it belongs to the burst.
    window = Window()
    for i in range(6):
        _add(window, i, _vec((0, 1.0)), f"k{i}", at=0.0)
    _add(window, 6, _vec((0, 1.0)), "late", at=1.0)
    assert window.problem_of(6, since=-HOUR) == [0, 1, 2, 3, 4, 5, 6]


def _two_wordings(window: Window, background: np.ndarray) -> int:
    """Three old reports 48 h before (the background), then 4 + 4 reports in two tight wordings
    whose parts are ~0.45 apart. Returns the last key."""
    for i in range(3):
        _add(
            window, 100 + i, background + np.float32(0.01 * i) * _vec((9 + i, 1.0)), f"old{i}", at=-48 * HOUR
        )
    a, b = _vec((0, 1.0), (2, 0.9)), _vec((1, 1.0), (2, 0.9))
    key = 0
    for i in range(4):
        _add(window, key, a + np.float32(0.03 * i) * _vec((3 + i, 1.0)), f"a{i}", at=i * 60.0)
        key += 1
        _add(window, key, b + np.float32(0.03 * i) * _vec((12 + i % 3, 1.0)), f"b{i}", at=i * 60.0 + 30)
        key += 1
    return key - 1


def test_two_wordings_far_nearer_to_each_other_than_to_anything_before_are_one_problem_said_twice() -> None:
    # Nothing like them in the days before (kin ~0): the two wordings are one new problem, kept
    # together, and the team is told it may be two.
    window = Window(horizon=24 * HOUR)
    last = _two_wordings(window, _vec((7, 1.0)))
    problem = window.problem(last, since=-HOUR)
    assert problem.members == list(range(8))
    assert problem.parts is not None
    assert {frozenset(problem.parts[0]), frozenset(problem.parts[1])} == {
        frozenset({0, 2, 4, 6}),
        frozenset({1, 3, 5, 7}),
    }


def test_two_problems_of_an_everyday_area_are_split_against_that_background() -> None:
    # The area's everyday reports are about as near to both parts as the parts are to each
    # other: the parts are two problems of one feature, split as before.
    window = Window(horizon=24 * HOUR)
    last = _two_wordings(window, _vec((0, 0.6), (1, 0.6), (2, 1.0)))
    assert min(window.reports[k].kin for k in range(8)) > 0.5
    problem = window.problem(last, since=-HOUR)
    assert problem.members == [1, 3, 5, 7]
    assert problem.parts is None
