"""DNS messages the sandbox sees: the names a query asks for, and the sinkhole's answer.

Every A question is answered with the sinkhole address (so the package goes on to connect
to our listeners); other types get an empty, successful answer so clients fall back to A.
Parsing is dnspython's; malformed packets yield nothing rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

SINKHOLE_TTL = 60


@dataclass(frozen=True)
class DnsQuestion:
    name: str
    """Lower-case, no final dot, non-printable bytes escaped as dnspython shows them."""
    qtype: str


def _query(payload: bytes) -> dns.message.Message | None:
    try:
        message = dns.message.from_wire(payload, ignore_trailing=True)
    except (dns.exception.DNSException, ValueError, UnicodeError):
        return None
    if message.flags & dns.flags.QR:  # a response, not a query
        return None
    return message


def questions(payload: bytes) -> list[DnsQuestion]:
    """The questions of a DNS query packet; empty for anything else."""
    message = _query(payload)
    if message is None:
        return []
    return [_question(rrset) for rrset in message.question]


def sinkhole_answer(payload: bytes, address: str) -> tuple[bytes | None, list[DnsQuestion]]:
    """The reply to send (``None``: not a query, stay silent) and what was asked."""
    message = _query(payload)
    if message is None:
        return None, []
    response = dns.message.make_response(message)
    response.flags |= dns.flags.RA  # some stub resolvers distrust answers without it
    for rrset in message.question:
        if rrset.rdtype == dns.rdatatype.A and rrset.rdclass == dns.rdataclass.IN:
            response.answer.append(
                dns.rrset.from_text(rrset.name, SINKHOLE_TTL, "IN", "A", address)
            )
    try:
        wire = response.to_wire()
    except dns.exception.DNSException:
        return None, [_question(rrset) for rrset in message.question]
    return wire, [_question(rrset) for rrset in message.question]


def _question(rrset: dns.rrset.RRset) -> DnsQuestion:
    name = rrset.name.to_text(omit_final_dot=True).lower() if rrset.name != dns.name.root else "."
    return DnsQuestion(name=name, qtype=dns.rdatatype.to_text(rrset.rdtype))
