"""Commands valid in any state and the login commands: CAPABILITY to STARTTLS."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from fakemail.accounts import TokenStatus
from fakemail.imap.session import CommandError, ConnectionClosed, State
from fakemail.imap.syntax import ParseError, Parser, quote

if TYPE_CHECKING:
    from fakemail.imap.session import Session

# The last challenge Gmail sends for a failed XOAUTH2, base64-encoded.
XOAUTH2_ERROR = base64.b64encode(
    b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'
)
_AUTH_FAILED = "[AUTHENTICATIONFAILED] Authentication failed."
_SERVER_ID = (b"name", b"fakemail", b"vendor", b"sagicc-tui")


async def capability(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.end()
    await session.send_line(
        "* CAPABILITY " + " ".join(session.server.capabilities(session))
    )
    return "Capability completed."


async def noop(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.end()
    return "NOOP completed."


async def logout(session: Session, tag: bytes, parser: Parser, uid: bool) -> None:
    parser.end()
    await session.send_line("* BYE Logging out.")
    await session.send_line(tag + b" OK Logout completed.")
    session.state = State.LOGOUT
    return None


async def id_command(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    if not parser.skip(b"NIL") and not parser.skip(b"nil"):
        parser.expect(b"(")
        first = True
        while not parser.skip(b")"):
            if not first:
                parser.space()
            parser.string()
            parser.space()
            if not parser.skip(b"NIL"):
                parser.string()
            first = False
    parser.end()
    fields = b" ".join(quote(value) for value in _SERVER_ID)
    await session.send_line(b"* ID (" + fields + b")")
    return "ID completed."


async def enable(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    names: list[str] = []
    while not parser.at_end():
        parser.space()
        names.append(parser.atom().decode("ascii").upper())
    if not names:
        raise ParseError("ENABLE needs at least one capability")
    # No extension that ENABLE switches on is implemented, so none is enabled;
    # RFC 5161 allows an empty ENABLED response.
    await session.send_line("* ENABLED")
    return "Enabled."


async def namespace(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.end()
    await session.send_line('* NAMESPACE (("" "/")) NIL NIL')
    return "Namespace completed."


async def starttls(session: Session, tag: bytes, parser: Parser, uid: bool) -> None:
    parser.end()
    context = session.server.starttls
    if session.tls or context is None:
        raise CommandError(
            "BAD",
            "TLS is already active." if session.tls else "STARTTLS is not offered.",
        )
    if _has_buffered_input(session):
        # Commands pipelined after STARTTLS arrived in plaintext; running them
        # after the upgrade would let an attacker inject them (CVE-2011-0411).
        await session.send_line(tag + b" BAD Plaintext data after STARTTLS; closing.")
        raise ConnectionClosed
    await session.send_line(tag + b" OK Begin TLS negotiation now.")
    await session.writer.start_tls(context)
    session.tls = True
    return None


def _has_buffered_input(session: Session) -> bool:
    # StreamReader has no public way to ask whether bytes are waiting.
    buffer = getattr(session.reader, "_buffer", b"")
    return len(buffer) > 0


def _login_allowed(session: Session) -> None:
    if session.server.login_disabled(session):
        raise CommandError(
            "NO", "[PRIVACYREQUIRED] Plaintext authentication disallowed: use STARTTLS."
        )


async def _logged_in(session: Session, username: str) -> str:
    account = session.server.accounts.get(username)
    assert account is not None
    session.user = account.username
    session.state = State.AUTHENTICATED
    capabilities = " ".join(session.server.capabilities(session))
    return f"[CAPABILITY {capabilities}] Logged in."


async def login(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    username = parser.astring().decode("utf-8", "replace")
    parser.space()
    password = parser.astring().decode("utf-8", "replace")
    parser.end()
    _login_allowed(session)
    if not session.server.accounts.check_password(username, password):
        raise CommandError("NO", _AUTH_FAILED)
    return await _logged_in(session, username)


async def authenticate(session: Session, tag: bytes, parser: Parser, uid: bool) -> str:
    parser.space()
    mechanism = parser.atom().decode("ascii").upper()
    initial: bytes | None = None
    if parser.skip(b" "):
        initial = parser.atom() if parser.peek() != 0x3D else b"="
        parser.skip(b"=")
    parser.end()
    _login_allowed(session)
    if not session.server.mechanism_enabled(mechanism):
        raise CommandError("NO", f"Unsupported authentication mechanism {mechanism}.")
    if mechanism == "PLAIN":
        return await _plain(session, initial)
    if mechanism == "LOGIN":
        return await _login_mechanism(session, initial)
    return await _xoauth2(session, initial)


async def _challenge(session: Session, text: bytes) -> bytes:
    """Send a SASL challenge and return the decoded answer; ``*`` cancels."""
    await session.send_line(b"+ " + text)
    line = (await session.read_line())[:-2]
    if session.server.transcript is not None:
        session.server.transcript.record(session.id, "C", line)
    if line == b"*":
        raise CommandError("BAD", "Authentication cancelled by the client.")
    return _decode(line)


def _decode(data: bytes) -> bytes:
    if data == b"=":
        return b""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise CommandError("BAD", "Invalid base64 in SASL response.") from None


async def _plain(session: Session, initial: bytes | None) -> str:
    response = (
        _decode(initial) if initial is not None else await _challenge(session, b"")
    )
    fields = response.split(b"\0")
    if len(fields) != 3:
        raise CommandError(
            "BAD", "Invalid SASL PLAIN response: expected authzid\\0user\\0password."
        )
    authzid, user, password = (field.decode("utf-8", "replace") for field in fields)
    if authzid and authzid.casefold() != user.casefold():
        raise CommandError("NO", _AUTH_FAILED)
    if not session.server.accounts.check_password(user, password):
        raise CommandError("NO", _AUTH_FAILED)
    return await _logged_in(session, user)


async def _login_mechanism(session: Session, initial: bytes | None) -> str:
    user = (
        _decode(initial)
        if initial is not None
        else await _challenge(session, b"VXNlcm5hbWU6")
    )
    password = await _challenge(session, b"UGFzc3dvcmQ6")
    username = user.decode("utf-8", "replace")
    if not session.server.accounts.check_password(
        username, password.decode("utf-8", "replace")
    ):
        raise CommandError("NO", _AUTH_FAILED)
    return await _logged_in(session, username)


async def _xoauth2(session: Session, initial: bytes | None) -> str:
    response = (
        _decode(initial) if initial is not None else await _challenge(session, b"")
    )
    fields = dict(_xoauth2_fields(response))
    user = fields.get("user", "")
    auth = fields.get("auth", "")
    if not user or not auth.lower().startswith("bearer "):
        raise CommandError(
            "BAD", "Invalid XOAUTH2 response: expected user= and auth=Bearer."
        )
    status = session.server.accounts.check_token(user, auth[7:].strip())
    if status is TokenStatus.VALID:
        return await _logged_in(session, user)
    # Gmail answers a rejected token with a JSON error challenge; the client
    # must answer it with an empty line before it gets the NO.
    await session.send_line(b"+ " + XOAUTH2_ERROR)
    line = await session.read_line()
    if session.server.transcript is not None:
        session.server.transcript.record(session.id, "C", line[:-2])
    raise CommandError("NO", "[AUTHENTICATIONFAILED] Invalid credentials (Failure)")


def _xoauth2_fields(response: bytes) -> list[tuple[str, str]]:
    fields = []
    for item in response.decode("utf-8", "replace").split("\x01"):
        name, sep, value = item.partition("=")
        if sep:
            fields.append((name.lower(), value))
    return fields
