"""First bytes of a connection (HTTP head, TLS ClientHello) and DNS messages, in memory."""

from __future__ import annotations

import ssl

import dns.flags
import dns.message
import dns.rdatatype
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packguard.analyzer.dynamic.dns_messages import questions, sinkhole_answer
from packguard.analyzer.dynamic.wire import (
    HttpRequest,
    is_http_request,
    is_tls_client_hello,
    parse_client_hello_sni,
    parse_http_request,
)


def client_hello(server_name: str) -> bytes:
    """What a TLS client sends first, made by the ssl module over memory (no socket)."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    return outgoing.read()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"GET /collect?k=1 HTTP/1.1\r\nHost: Exfil.Invalid\r\nUser-Agent: x\r\n\r\n",
            HttpRequest("GET", "exfil.invalid", "/collect?k=1", "HTTP/1.1"),
        ),
        (
            b"POST http://proxy-form.invalid:8080/up HTTP/1.0\r\nHost: other.invalid\r\n\r\nbody",
            HttpRequest("POST", "proxy-form.invalid:8080", "/up", "HTTP/1.0"),
        ),
        (b"PUT /x HTTP/1.1\r\n", HttpRequest("PUT", "", "/x", "HTTP/1.1")),  # cut short
    ],
)
def test_http_request_line_and_host(raw: bytes, expected: HttpRequest) -> None:
    assert is_http_request(raw)
    assert parse_http_request(raw) == expected


@pytest.mark.parametrize("raw", [b"", b"SSH-2.0-OpenSSH\r\n", b"GET", b"FOO / HTTP/1.1\r\n"])
def test_not_http(raw: bytes) -> None:
    assert parse_http_request(raw) is None


def test_request_line_property() -> None:
    assert HttpRequest("GET", "h", "/p", "HTTP/1.1").request_line == "GET /p HTTP/1.1"


def test_client_hello_server_name() -> None:
    hello = client_hello("c2.invalid")
    assert is_tls_client_hello(hello)
    assert parse_client_hello_sni(hello) == "c2.invalid"


def test_client_hello_cut_before_the_extension_has_no_name() -> None:
    hello = client_hello("c2.invalid")
    assert parse_client_hello_sni(hello[:60]) is None
    assert parse_client_hello_sni(b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00") is None


def test_dns_query_names_and_sinkhole_answers_a_with_loopback() -> None:
    query = dns.message.make_query("Exfil.Invalid", "A").to_wire()
    assert [(q.name, q.qtype) for q in questions(query)] == [("exfil.invalid", "A")]
    answer, asked = sinkhole_answer(query, "127.0.0.1")
    assert answer is not None and [q.name for q in asked] == ["exfil.invalid"]
    reply = dns.message.from_wire(answer)
    assert reply.flags & dns.flags.QR
    assert [rdata.address for rrset in reply.answer for rdata in rrset] == ["127.0.0.1"]


def test_dns_aaaa_gets_an_empty_successful_answer() -> None:
    answer, asked = sinkhole_answer(
        dns.message.make_query("x.invalid", "AAAA").to_wire(), "127.0.0.1"
    )
    assert answer is not None and asked[0].qtype == "AAAA"
    assert dns.message.from_wire(answer).answer == []


def test_dns_responses_and_garbage_are_not_queries() -> None:
    query = dns.message.make_query("x.invalid", "A")
    response = dns.message.make_response(query).to_wire()
    assert questions(response) == []
    assert sinkhole_answer(b"\x00\x01garbage", "127.0.0.1") == (None, [])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_parsers_never_raise(data: bytes) -> None:
    parse_http_request(data)
    parse_client_hello_sni(data)
    parse_client_hello_sni(b"\x16\x03\x01" + data)
    questions(data)
    sinkhole_answer(data, "127.0.0.1")
