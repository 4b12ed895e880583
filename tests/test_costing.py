"""Examples for invctl.costing: cost layers, FEFO, lot counts, negative stock, average."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from invctl.costing import Layer, Position, add, consume

TS = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
DEC5 = dt.date(2026, 12, 5)
JAN10 = dt.date(2027, 1, 10)


def layer(qty: int, cost: str, lot: str | None = None, expires: dt.date | None = None) -> Layer:
    return Layer(qty, D(cost), lot, expires, TS)


def position(*layers: Layer) -> Position:
    pos = Position("TEE-M", "main")
    for la in layers:
        assert add(pos, [la]) == 0
    return pos


def shape(pos: Position) -> list[tuple[object, ...]]:
    return [(la.qty, la.cost, la.lot, la.expires) for la in pos.layers]


# --- FIFO ---------------------------------------------------------------------------------


def test_fifo_takes_whole_layers_then_part_of_the_next() -> None:
    pos = position(layer(5, "2.00"), layer(5, "3.00"))
    cost, pieces = consume(pos, 7, D("9.99"), False, TS)
    assert cost == D("16.00")  # 5 x 2.00 + 2 x 3.00
    assert [(p.qty, p.cost) for p in pieces] == [(5, D("2.00")), (2, D("3.00"))]
    assert shape(pos) == [(3, D("3.00"), None, None)]
    assert (pos.qty, pos.value) == (3, D("9.00"))


def test_fifo_takes_all_exactly() -> None:
    pos = position(layer(2, "1.10"), layer(3, "1.20"))
    cost, _ = consume(pos, 5, D("0"), False, TS)
    assert cost == D("5.80")
    assert (pos.qty, pos.value, pos.layers) == (0, D("0.00"), [])


def test_expiring_lots_go_first_earliest_expiry_first() -> None:
    pos = position(
        layer(1, "1.00", "NOEXP"),
        layer(1, "2.00", "LJAN", JAN10),
        layer(1, "3.00", "LDEC-a", DEC5),
        layer(1, "4.00", "LDEC-b", DEC5),  # same expiry: the one that came in first goes first
    )
    assert [la.lot for la in pos.layers] == ["LDEC-a", "LDEC-b", "LJAN", "NOEXP"]
    cost, pieces = consume(pos, 3, D("0"), False, TS)
    assert cost == D("9.00")
    assert [p.lot for p in pieces] == ["LDEC-a", "LDEC-b", "LJAN"]
    assert shape(pos) == [(1, D("1.00"), "NOEXP", None)]


def test_lot_count_takes_only_that_lot() -> None:
    pos = position(layer(4, "2.00", "A", DEC5), layer(4, "5.00", "B", JAN10), layer(4, "3.00", "A", DEC5))
    assert pos.lot_qty("A") == 8
    cost, pieces = consume(pos, 6, D("0"), False, TS, lot="A")
    assert cost == D("14.00")  # 4 x 2.00 + 2 x 3.00, B untouched although it is not last
    assert {p.lot for p in pieces} == {"A"}
    assert shape(pos) == [(2, D("3.00"), "A", DEC5), (4, D("5.00"), "B", JAN10)]
    assert (pos.qty, pos.value) == (6, D("26.00"))


# --- negative stock and the COGS true-up ----------------------------------------------------


def test_shortage_is_booked_at_the_fallback_cost() -> None:
    pos = position(layer(2, "10.00"))
    cost, pieces = consume(pos, 5, D("4.00"), False, TS)
    assert cost == D("32.00")  # 2 on hand at 10.00, 3 missing at the estimate 4.00
    assert [(p.qty, p.cost) for p in pieces] == [(2, D("10.00")), (3, D("4.00"))]
    assert (pos.qty, pos.value, pos.layers) == (-3, D("-12.00"), [])


def test_receipt_that_fills_the_gap_books_the_true_up() -> None:
    pos = Position("TEE-M", "main")
    consume(pos, 3, D("5.00"), False, TS)
    trueup = add(pos, [layer(5, "6.00", "L1", JAN10)])
    assert trueup == D("3.00")  # the 3 missing units really cost 6.00, not 5.00
    assert (pos.qty, pos.value) == (2, D("12.00"))
    assert shape(pos) == [(2, D("6.00"), "L1", JAN10)]


def test_partial_fills_true_up_step_by_step() -> None:
    pos = Position("TEE-M", "main")
    consume(pos, 3, D("5.00"), False, TS)
    assert add(pos, [layer(2, "6.00")]) == D("2.00")
    assert (pos.qty, pos.value, pos.layers) == (-1, D("-5.00"), [])
    assert add(pos, [layer(1, "4.00")]) == D("-1.00")  # cheaper than the estimate: COGS goes down
    assert (pos.qty, pos.value, pos.layers) == (0, D("0.00"), [])


def test_fill_with_several_pieces_keeps_the_later_ones() -> None:
    pos = Position("TEE-M", "main")
    consume(pos, 3, D("5.00"), False, TS)
    trueup = add(pos, [layer(2, "1.00", "A"), layer(2, "2.00", "B"), layer(2, "3.00", "C")])
    assert trueup == D("2.00") + D("2.00") - D("15.00")  # 2 x 1.00 + 1 x 2.00 fill the gap
    assert shape(pos) == [(1, D("2.00"), "B", None), (2, D("3.00"), "C", None)]
    assert (pos.qty, pos.value) == (3, D("8.00"))


def test_a_partly_filled_gap_gives_back_its_average_estimate() -> None:
    # Pinned behaviour: the estimates of a gap are averaged (pro rata), not filled
    # first-booked-first; the true-ups add up to the same once the gap is closed.
    pos = Position("TEE-M", "main")
    consume(pos, 1, D("5.00"), False, TS)
    consume(pos, 2, D("8.00"), False, TS)
    assert (pos.qty, pos.value) == (-3, D("-21.00"))
    assert add(pos, [layer(1, "6.00")]) == D("-1.00")  # 6.00 - 21.00 / 3
    assert (pos.qty, pos.value) == (-2, D("-14.00"))
    assert add(pos, [layer(2, "6.00")]) == D("-2.00")
    assert (pos.qty, pos.value, pos.layers) == (0, D("0.00"), [])


def test_selling_from_negative_stock_goes_further_down() -> None:
    pos = Position("TEE-M", "main")
    consume(pos, 1, D("5.00"), False, TS)
    cost, _ = consume(pos, 2, D("7.00"), False, TS)
    assert cost == D("14.00")
    assert (pos.qty, pos.value) == (-3, D("-19.00"))
    # The whole gap filled: the true-up is real cost minus every estimate.
    assert add(pos, [layer(3, "6.00")]) == D("18.00") - D("19.00")
    assert (pos.qty, pos.value) == (0, D("0.00"))


# --- average costing ------------------------------------------------------------------------


def test_average_cost_is_value_over_quantity() -> None:
    pos = position(layer(4, "10.00", "A", DEC5), layer(2, "16.00"))
    assert pos.unit_cost() == D("12")
    cost, pieces = consume(pos, 3, D("0"), True, TS)
    assert cost == D("36.00")
    assert all(p.cost == D("12") for p in pieces)
    assert [(p.qty, p.lot) for p in pieces] == [(3, "A")]  # lots still leave first-expiring-first-out
    assert (pos.qty, pos.value) == (3, D("36.00"))
    assert [(la.qty, la.lot) for la in pos.layers] == [(1, "A"), (2, None)]


def test_average_lot_count_is_valued_at_the_average() -> None:
    pos = position(layer(2, "1.00", "A"), layer(2, "5.00", "B"))
    cost, _ = consume(pos, 2, D("0"), True, TS, lot="B")
    assert cost == D("6.00")  # 2 x the average 3.00, not the 5.00 of lot B
    assert pos.lot_qty("B") == 0
    assert (pos.qty, pos.value) == (2, D("6.00"))


def test_average_transfer_moves_exact_value() -> None:
    src = position(layer(3, "10.00"))
    src.value = D("10")  # 3 units worth 10: a unit cost of 3.333...
    dst = Position("TEE-M", "store2")
    cost, pieces = consume(src, 1, D("0"), True, TS)
    assert add(dst, pieces, cost) == 0
    assert dst.value == cost  # the value moved, not 1 x a rounded unit cost
    assert src.value + dst.value == D("10")
    cost, pieces = consume(src, 2, D("0"), True, TS)  # the last units take the rest of the value
    assert (src.qty, src.value) == (0, D("0"))
    add(dst, pieces, cost)
    assert (dst.qty, dst.value) == (3, D("10"))


def test_average_transfer_into_negative_stock() -> None:
    dst = Position("TEE-M", "store2")
    consume(dst, 2, D("4.00"), True, TS)  # store2 sold 2 it did not have: booked at 4.00
    src = position(layer(3, "12.00", "L1", JAN10))
    cost, pieces = consume(src, 3, D("0"), True, TS)
    trueup = add(dst, pieces, cost)
    assert trueup == D("24.00") - D("8.00")
    assert (dst.qty, dst.value) == (1, D("12.00"))
    assert shape(dst) == [(1, D("12"), "L1", JAN10)]


def test_average_transfer_beyond_stock_moves_the_shortage_estimate() -> None:
    src = position(layer(2, "10.00"))
    dst = Position("TEE-M", "store2")
    cost, pieces = consume(src, 5, D("4.00"), True, TS)
    assert cost == D("32.00")  # 2 at the average 10.00 + 3 missing at 4.00
    assert add(dst, pieces, cost) == 0
    assert (src.qty, src.value) == (-3, D("-12.00"))
    assert (dst.qty, dst.value) == (5, D("32.00"))
