"""What one message between two processes costs on this machine: a TCP ping-pong over
loopback, the unit every stream hop, query and HTTP request is built from.

    .venv/bin/python -m bench.loopback [--rounds 20000]

On a virtual machine a wake-up of the other process can cost far more than the bytes
sent; this number puts the per-task CPU of the control plane in proportion.
"""

from __future__ import annotations

import argparse
import os
import socket
import time


def _echo(listener: socket.socket) -> None:
    """The child: answer every message until the parent hangs up."""
    connection, _ = listener.accept()
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while message := connection.recv(64):
        connection.sendall(message)
    os._exit(0)


def round_trip(rounds: int = 20_000) -> dict[str, float]:
    """Microseconds per round trip: wall time, and CPU of the sending side."""
    listener = socket.create_server(("127.0.0.1", 0))
    address = listener.getsockname()
    child = os.fork()
    if child == 0:
        _echo(listener)
    listener.close()
    client = socket.create_connection(address)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(rounds):
            client.sendall(b"ping")
            client.recv(64)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        client.close()
        os.waitpid(child, 0)
    return {
        "round_trip_wall_us": round(wall / rounds * 1e6, 1),
        "round_trip_cpu_us_one_side": round(cpu / rounds * 1e6, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    print(round_trip(parser.parse_args().rounds))
