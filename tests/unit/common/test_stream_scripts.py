"""The arguments of the consumer's Lua scripts and the parsing of their answers."""

from __future__ import annotations

from packguard.common.stream_scripts import parse_read_in_order, publish_then_ack_call


def test_publish_then_ack_lists_replies_first_then_ids_per_acked_stream() -> None:
    keys, args = publish_then_ack_call(
        "g",
        delete=True,
        acks=[("in:a", "1-0"), ("in:b", "2-0"), ("in:a", "3-0")],
        replies=[("out", {"data": b"x"}), ("out", {"data_z": b"y"})],
    )
    assert keys == ["out", "out", "in:a", "in:b"]
    assert args == ["g", "1", 2, "data", b"x", "data_z", b"y", 2, "1-0", "3-0", 1, "2-0"]


def test_publish_then_ack_without_replies_or_deletion() -> None:
    keys, args = publish_then_ack_call("g", delete=False, acks=[("in", "1-0")], replies=[])
    assert keys == ["in"]
    assert args == ["g", "0", 0, 1, "1-0"]


def test_read_in_order_answer_becomes_entries_with_field_maps() -> None:
    response = [
        [b"high", [[b"1-0", [b"data", b"p"]]]],
        [b"low", [[b"2-0", [b"data", b"q"]], [b"3-0", [b"data_z", b"r"]]]],
    ]
    assert parse_read_in_order(response) == [
        ("high", "1-0", {b"data": b"p"}),
        ("low", "2-0", {b"data": b"q"}),
        ("low", "3-0", {b"data_z": b"r"}),
    ]


def test_read_in_order_nothing_read() -> None:
    assert parse_read_in_order([]) == []
    assert parse_read_in_order(None) == []
