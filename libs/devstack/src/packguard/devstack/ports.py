"""Choosing loopback ports: a pure chooser plus the one socket probe that feeds it."""

import random
import socket
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from packguard.devstack.errors import ComponentFailed

LOOPBACK = "127.0.0.1"
# SeaweedFS serves gRPC on port + 10000, so such ports need both free and port <= 55535.
GRPC_OFFSET = 10_000
MAX_PORT = 65_535
# Below Linux's ephemeral range (32768+), so outgoing connections never grab them.
CANDIDATE_RANGE = range(20_000, 32_768)


@dataclass(frozen=True)
class PortSpec:
    """A port a component listens on; `default` is used for the dev stack when it is free."""

    name: str
    default: int
    with_grpc_offset: bool = False


@dataclass(frozen=True)
class PortRequest:
    name: str
    preferred: int | None = None
    with_grpc_offset: bool = False


def choose_ports(
    requests: Sequence[PortRequest],
    is_free: Callable[[int], bool],
    candidates: Iterable[int],
    reserved: Collection[int] = (),
) -> dict[str, int]:
    """Give each request its preferred port if usable, else the next usable candidate.

    Usable means free, not reserved, not handed out already and, for gRPC-offset
    requests, also free at port + 10000 within the valid range.
    """
    taken = set(reserved)
    pool = iter(candidates)
    chosen: dict[str, int] = {}
    for request in requests:
        needed = (GRPC_OFFSET,) if request.with_grpc_offset else ()

        def usable(port: int, needed: tuple[int, ...] = needed) -> bool:
            ports = [port, *(port + offset for offset in needed)]
            return all(0 < p <= MAX_PORT and p not in taken and is_free(p) for p in ports)

        port = request.preferred
        if port is None or not usable(port):
            port = next((p for p in pool if usable(p)), None)
        if port is None:
            raise ComponentFailed(f"no free loopback port left for {request.name}")
        chosen[request.name] = port
        taken.update([port, *(port + offset for offset in needed)])
    return chosen


def is_port_free(port: int, host: str = LOOPBACK) -> bool:
    """True when a server could bind `host:port` now (same SO_REUSEADDR as real servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def random_candidates(rng: random.Random | None = None) -> Iterator[int]:
    ports = list(CANDIDATE_RANGE)
    (rng or random.Random()).shuffle(ports)  # noqa: S311 - spreading ports, not secrets
    return iter(ports)
