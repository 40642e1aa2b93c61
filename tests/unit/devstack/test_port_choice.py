from collections.abc import Callable

import pytest

from packguard.devstack.errors import ComponentFailed
from packguard.devstack.ports import PortRequest, choose_ports


def free_except(*busy: int) -> Callable[[int], bool]:
    return lambda port: port not in busy


def test_choose_ports_preferred_free_is_kept() -> None:
    chosen = choose_ports([PortRequest("redis", 16379)], free_except(), [30000])
    assert chosen == {"redis": 16379}


def test_choose_ports_preferred_busy_takes_next_candidate() -> None:
    chosen = choose_ports([PortRequest("redis", 16379)], free_except(16379, 30000), [30000, 30001])
    assert chosen == {"redis": 30001}


def test_choose_ports_grpc_offset_busy_rejects_port() -> None:
    request = PortRequest("s3", 18333, with_grpc_offset=True)
    chosen = choose_ports([request], free_except(28333), [20000])
    assert chosen == {"s3": 20000}


def test_choose_ports_grpc_offset_above_range_is_rejected() -> None:
    request = PortRequest("s3", 60000, with_grpc_offset=True)
    assert choose_ports([request], free_except(), [55535]) == {"s3": 55535}


def test_choose_ports_reserved_ports_are_skipped() -> None:
    chosen = choose_ports([PortRequest("a", 20000)], free_except(), [20000, 20001], {20000})
    assert chosen == {"a": 20001}


def test_choose_ports_requests_never_share_ports_or_offsets() -> None:
    requests = [
        PortRequest("s3", None, with_grpc_offset=True),  # takes 20000 and 30000
        PortRequest("master", 30000),
        PortRequest("filer", None, with_grpc_offset=True),
    ]
    chosen = choose_ports(requests, free_except(), [20000, 30000, 20001, 20002])
    assert chosen == {"s3": 20000, "master": 20001, "filer": 20002}


def test_choose_ports_exhausted_candidates_raise() -> None:
    with pytest.raises(ComponentFailed, match="redis"):
        choose_ports([PortRequest("redis")], free_except(20000), [20000])
