"""The sinkhole's resolver and listeners on real loopback sockets (ephemeral ports).

Every client here talks to 127.0.0.1 only, with short timeouts; names are reserved.
"""

from __future__ import annotations

import socket
import ssl
import urllib.request
from collections.abc import Iterator

import dns.message
import pytest

from packguard.analyzer.dynamic.sinkhole import Sinkhole, SinkholeConfig

pytestmark = pytest.mark.integration
TIMEOUT = 5.0


@pytest.fixture
def sinkhole() -> Iterator[Sinkhole]:
    with Sinkhole(SinkholeConfig(dns_port=0, tcp_ports=(0,), read_timeout=1.0)) as running:
        yield running


def test_resolver_answers_every_a_query_with_loopback_and_records_it(sinkhole: Sinkhole) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(TIMEOUT)
        query = dns.message.make_query("exfil.invalid", "A")
        client.sendto(query.to_wire(), ("127.0.0.1", sinkhole.bound_ports["dns"]))
        reply = dns.message.from_wire(client.recv(512))
    assert [rdata.address for rrset in reply.answer for rdata in rrset] == ["127.0.0.1"]
    assert [(d.name, d.qtype) for d in sinkhole.take().dns] == [("exfil.invalid", "A")]


def test_listener_records_http_request_line_and_host(sinkhole: Sinkhole) -> None:
    port = sinkhole.bound_ports["tcp:0"]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/collect?k=1", data=b"token=x", headers={"Host": "exfil.invalid"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        assert (response.status, response.read()) == (200, b"")
    (seen,) = sinkhole.take().http
    assert seen.request.request_line == "POST /collect?k=1 HTTP/1.1"
    assert seen.request.host == "exfil.invalid"
    assert seen.payload.endswith(b"token=x")


def test_listener_records_tls_server_name(sinkhole: Sinkhole) -> None:
    port = sinkhole.bound_ports["tcp:0"]
    context = ssl.create_default_context()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        pytest.raises((ssl.SSLError, OSError)),
    ):
        context.wrap_socket(raw, server_hostname="c2.invalid")
    assert [(t.server_name, t.port) for t in sinkhole.take().tls] == [("c2.invalid", port)]


def test_stop_closes_everything_and_keeps_the_log() -> None:
    sinkhole = Sinkhole(SinkholeConfig(dns_port=0, tcp_ports=(0,)))
    sinkhole.start()
    port = sinkhole.bound_ports["tcp:0"]
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
        client.sendall(b"hello\n")
        client.recv(1)  # the listener closes after the first chunk of an unknown protocol
    log = sinkhole.stop()
    assert log.raw == [(port, b"hello\n")]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
        pass


def test_ports_it_cannot_bind_become_notes() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with Sinkhole(SinkholeConfig(dns_port=0, tcp_ports=(busy,))) as sinkhole:
            notes = sinkhole.take().notes
    assert any(f"127.0.0.1:{busy}" in note for note in notes)
