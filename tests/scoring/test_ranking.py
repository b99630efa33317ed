"""Rankings never claim an order the intervals do not support."""

from scoring.ranking import Scored, Verdict, compare, rank


def places(items: list[Scored]) -> list[tuple[str, int, int]]:
    return [(p.item.key, p.best, p.worst) for p in rank(items)]


def test_items_whose_intervals_overlap_share_a_band_of_places() -> None:
    items = [Scored("b", 4.19, (4.0, 4.4)), Scored("a", 4.21, (4.0, 4.4)), Scored("c", 3.1, (2.9, 3.3))]
    assert places(items) == [("a", 1, 2), ("b", 1, 2), ("c", 3, 3)]


def test_items_clearly_apart_get_places_of_their_own() -> None:
    items = [Scored("low", 2.0, (1.8, 2.2)), Scored("high", 4.5, (4.3, 4.7)), Scored("mid", 3.0, (2.8, 3.2))]
    assert places(items) == [("high", 1, 1), ("mid", 2, 2), ("low", 3, 3)]
    assert not any(p.tied for p in rank(items))


def test_a_chain_of_overlaps_widens_bands_only_as_far_as_each_overlap_reaches() -> None:
    # a overlaps b, b overlaps c, but a is certainly ahead of c.
    items = [Scored("a", 4.4, (4.2, 4.6)), Scored("b", 4.1, (3.9, 4.3)), Scored("c", 3.8, (3.6, 4.0))]
    assert places(items) == [("a", 1, 2), ("b", 1, 3), ("c", 2, 3)]


def test_compare_calls_overlapping_intervals_a_tie_and_separate_ones_a_real_difference() -> None:
    a, b = Scored("a", 4.3, (4.1, 4.5)), Scored("b", 4.0, (3.8, 4.2))
    assert compare(a, b) is Verdict.TIED
    c = Scored("c", 3.0, (2.8, 3.2))
    assert compare(a, c) is Verdict.HIGHER
    assert compare(c, a) is Verdict.LOWER
