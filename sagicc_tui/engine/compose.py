"""Build outgoing replies and new messages with threading headers."""

from __future__ import annotations

import base64
import email
import email.policy
import mimetypes
import os
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sagicc_tui.mail.record import Address, MessageRecord
from sagicc_tui.settings.fields import find_forbidden_char

# RFC 5322 caps a header line at 998 characters. The References chain is
# trimmed to that length so it fits one line even where nothing folds it.
REFERENCES_LIMIT = 998

# Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
_FILETIME_EPOCH_OFFSET = 11_644_473_600
_POLICY = email.policy.SMTP.clone(max_line_length=998)
# A msg-id without its angle brackets: printable ASCII except "<" and ">",
# so an id can neither close the brackets early nor hide a second id.
_MESSAGE_ID = re.compile(r"[!-;=?-~]+")
# Longer inbound ids are not echoed: the root and parent ids that References
# always keeps must fit one 998-character line, or Python encodes the whole
# header as RFC 2047 words that no client reads as ids.
MAX_MESSAGE_ID_LENGTH = 400
# Dot-atom local part and host-name domain, as in RFC 5321 section 4.1.2.
# Quoted local parts and address literals are rejected.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_REPLY_PREFIX = re.compile(r"^\s*re\s*:\s*", re.IGNORECASE)


class ComposeError(ValueError):
    """A value that cannot go into an outgoing message, named in the error text."""


@dataclass(slots=True)
class Sender:
    """The outgoing channel's identity: display name, address and signature."""

    address: str
    name: str = ""
    signature: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"


@dataclass(slots=True)
class Composed:
    """A message ready for the outbox: its bytes and the SMTP envelope."""

    message: EmailMessage
    message_id: str  # without angle brackets
    mail_from: str
    recipients: list[str] = field(default_factory=list)

    def as_bytes(self) -> bytes:
        return self.message.as_bytes()


def reject_control_characters(field_name: str, value: str) -> str:
    """Return ``value`` when it contains no line break or control character.

    C0 and C1 controls (CR, LF, NEL...) and the Unicode line and paragraph
    separators are rejected, because some readers end a line at each.
    """
    if find_forbidden_char(value) is not None:
        raise ComposeError(
            f"{field_name} {value!r} contains a line break or control character; "
            "remove it, headers must be a single line"
        )
    return value


def one_line(value: str) -> str:
    """Return ``value`` with line breaks and control characters as spaces.

    For text copied from inbound mail, which the operator cannot correct.
    """
    spaced = "".join(" " if find_forbidden_char(c) else c for c in value)
    return " ".join(spaced.split())


def is_message_id(value: str) -> bool:
    """Tell whether ``value`` can be echoed between angle brackets safely."""
    if len(value) > MAX_MESSAGE_ID_LENGTH:
        return False
    return _MESSAGE_ID.fullmatch(value) is not None


def trim_references(ids: Sequence[str], limit: int = REFERENCES_LIMIT) -> list[str]:
    """Drop ids from the middle of a References chain until it fits ``limit``.

    The first id (the conversation's root) and the last ones (the direct
    parents) are kept, because threading clients rely on those.
    """
    chain = list(dict.fromkeys(i for i in ids if i))

    def length(items: Sequence[str]) -> int:
        return sum(len(i) + 3 for i in items)

    while len(chain) > 2 and length(chain) > limit:
        del chain[1]
    return chain


def reply_subject(ticket_subject: str, tag: str) -> str:
    """Return ``Re: <subject> <tag>`` with exactly one ``Re:`` and one tag."""
    subject = ticket_subject.replace(tag, "").strip()
    while _REPLY_PREFIX.match(subject):
        subject = _REPLY_PREFIX.sub("", subject, count=1)
    subject = " ".join(subject.split())
    return f"Re: {subject} {tag}".strip() if subject else f"Re: {tag}"


def extend_thread_index(parent: bytes, now: datetime | None = None) -> bytes:
    """Return the Outlook Thread-Index of a reply to a message with ``parent``.

    A reply appends one 5-byte child block to its parent's index: a flag bit
    and 31 bits of the time since the conversation started, then 4 random
    bits and a 4-bit sequence number (Microsoft's MS-OXOMSG, PidTagConversationIndex).
    """
    if len(parent) < 22:
        return parent
    moment = now or datetime.now(UTC)
    filetime = int((moment.timestamp() + _FILETIME_EPOCH_OFFSET) * 10_000_000)
    root_time = int.from_bytes(parent[:6], "big") << 16
    delta = max(filetime - root_time, 0)
    if delta >> 49 == 0:
        bits = (delta >> 18) & 0x7FFF_FFFF
    else:
        bits = 0x8000_0000 | ((delta >> 23) & 0x7FFF_FFFF)
    tail = (secrets.randbits(4) << 4) | ((len(parent) - 22) // 5 & 0x0F)
    return parent + bits.to_bytes(4, "big") + bytes([tail])


def _header_address(address: Address, field_name: str) -> HeaderAddress:
    """Build a header address; recipients' names come from inbound mail.

    The sender's name is the administrator's setting, so a line break there
    is an error to fix. A recipient's name is cleaned instead, so a hostile
    display name cannot stop the operator from answering.
    """
    if field_name == "sender":
        name = reject_control_characters(f"{field_name} name", address.name)
    else:
        name = one_line(address.name)
    addr = reject_control_characters(f"{field_name} address", address.addr.strip())
    local, domain = _split_address(addr, field_name)
    return HeaderAddress(display_name=name, username=local, domain=domain)


def _split_address(addr: str, field_name: str) -> tuple[str, str]:
    """Return the local part and the ASCII (IDNA) domain of a plain address."""
    invalid = ComposeError(
        f"{field_name} address {addr!r} is not a valid email address; "
        "use the form name@example.com"
    )
    local, at, domain = addr.rpartition("@")
    if not at:
        raise invalid
    if not local.isascii():
        raise ComposeError(
            f"{field_name} address {addr!r} has non-ASCII characters before the @; "
            "sending to it needs SMTPUTF8, which is not supported: ask for "
            "another address"
        )
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    if not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(ascii_domain):
        raise invalid
    return local, ascii_domain


def _unique_addresses(addresses: Iterable[Address], exclude: set[str]) -> list[Address]:
    seen = set(exclude)
    found = []
    for address in addresses:
        if address.key and address.key not in seen:
            seen.add(address.key)
            found.append(address)
    return found


def _body_with_signature(body: str, signature: str) -> str:
    text = body.rstrip("\n")
    if signature.strip():
        text += "\n\n-- \n" + signature.strip("\n")
    return text + "\n"


def _attach_files(message: EmailMessage, paths: Sequence[Path]) -> None:
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise ComposeError(
                f"attachment {str(path)!r} cannot be read ({error.strerror}); "
                "check the path and its permissions"
            ) from error
        content_type, _ = mimetypes.guess_type(path.name)
        maintype, _, subtype = (content_type or "application/octet-stream").partition(
            "/"
        )
        # The file name goes into a header, so a line break in it is
        # replaced rather than refused: the file itself is fine.
        message.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=one_line(path.name)
        )


def _new_message(sender: Sender, message_id: str, now: datetime) -> EmailMessage:
    # Fold only past RFC 5322's 998-character line limit, so long signed
    # Message-IDs and References stay on one line for simple parsers.
    message = EmailMessage(policy=_POLICY)
    message["From"] = _header_address(Address(sender.name, sender.address), "sender")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{reject_control_characters('Message-ID', message_id)}>"
    return message


def _finish(
    message: EmailMessage,
    sender: Sender,
    message_id: str,
    to: list[Address],
    cc: list[Address],
    body: str,
    attachments: Sequence[Path],
) -> Composed:
    if not to:
        raise ComposeError("the message has no recipient; add an address to To")
    to_headers = [_header_address(a, "To") for a in to]
    cc_headers = [_header_address(a, "Cc") for a in cc]
    message["To"] = to_headers
    if cc_headers:
        message["Cc"] = cc_headers
    message.set_content(_body_with_signature(body, sender.signature))
    _attach_files(message, attachments)
    recipients = [a.addr_spec for a in (*to_headers, *cc_headers)]
    return Composed(message, message_id, sender.address, recipients)


def build_reply(
    original: MessageRecord,
    *,
    sender: Sender,
    ticket_subject: str,
    tag: str,
    body: str,
    message_id: str,
    reply_all: bool = False,
    own_addresses: Iterable[str] = (),
    attachments: Sequence[Path] = (),
    now: datetime | None = None,
) -> Composed:
    """Build a reply to ``original`` on a ticket.

    To is the customer (Reply-To when present); reply-all adds the original
    To and Cc as Cc, without our own addresses. Subject is the ticket's
    subject with one ``Re:`` and the ticket tag; In-Reply-To names the
    message answered and References carries the chain, trimmed to fit.
    Outlook's Thread-Index is extended and Thread-Topic echoed.
    """
    moment = now or datetime.now(UTC)
    own = {a.strip().lower() for a in own_addresses} | {sender.address.lower()}
    message = _new_message(sender, message_id, moment)

    customer = original.reply_to or ([original.from_addr] if original.from_addr else [])
    to = _unique_addresses(customer, own)
    cc: list[Address] = []
    if reply_all:
        taken = own | {a.key for a in to}
        cc = _unique_addresses([*original.to, *original.cc], taken)

    # The ticket's subject came from the customer's mail, so a control
    # character in it is cleaned rather than blocking every reply.
    message["Subject"] = one_line(reply_subject(ticket_subject, tag))
    # Ids come from inbound mail: one that could break out of its angle
    # brackets is left out rather than making the ticket unanswerable.
    if is_message_id(original.message_id):
        message["In-Reply-To"] = f"<{original.message_id}>"
    # RFC 5322 3.6.4: without References, the parent's In-Reply-To (when it
    # names one message) starts the chain.
    ancestors = original.references
    if not ancestors and len(original.in_reply_to) == 1:
        ancestors = original.in_reply_to
    chain = trim_references(
        [i for i in (*ancestors, original.message_id) if is_message_id(i)]
    )
    if chain:
        message["References"] = " ".join(f"<{i}>" for i in chain)
    if original.thread_index:
        index = extend_thread_index(original.thread_index, moment)
        value = base64.b64encode(index).decode("ascii")
        # Base64 cannot be folded, and an index over one line would go out
        # as RFC 2047 words Outlook cannot read: leave it out instead.
        if len("Thread-Index: ") + len(value) <= REFERENCES_LIMIT:
            message["Thread-Index"] = value
    topic = one_line(original.thread_topic or "")
    if topic:
        message["Thread-Topic"] = topic
    return _finish(message, sender, message_id, to, cc, body, attachments)


def build_new_message(
    *,
    sender: Sender,
    to: Sequence[Address],
    subject: str,
    body: str,
    message_id: str,
    cc: Sequence[Address] = (),
    attachments: Sequence[Path] = (),
    forwarded: bytes | None = None,
    now: datetime | None = None,
) -> Composed:
    """Build a message that starts a conversation (the console's ``m`` key).

    ``forwarded`` is the raw original of a forward: it is attached whole as
    message/rfc822, so its own attachments travel with it.
    """
    message = _new_message(sender, message_id, now or datetime.now(UTC))
    message["Subject"] = reject_control_characters("subject", subject.strip())
    composed = _finish(
        message, sender, message_id, list(to), list(cc), body, attachments
    )
    if forwarded is not None:
        original = email.message_from_bytes(forwarded, policy=email.policy.default)
        message.add_attachment(original, filename="forwarded-message.eml")
    return composed


def quote_body(original: MessageRecord, body_text: str | None = None) -> str:
    """Return the original's text quoted with ``> `` under an attribution line."""
    text = original.body_text if body_text is None else body_text
    sender = str(original.from_addr) if original.from_addr else "someone"
    when = original.date.strftime("%Y-%m-%d %H:%M")
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
    return f"\n\nOn {when}, {sender} wrote:\n{quoted}\n"


def local_message_id(domain: str) -> str:
    """Return a unique Message-ID for mail that belongs to no ticket yet."""
    stamp = int(time.time() * 1000)
    return f"sagicc.{stamp}.{secrets.token_hex(8)}.{os.getpid()}@{domain}"
