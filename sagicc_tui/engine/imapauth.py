"""Sign-in for the IMAP client: AUTHENTICATE PLAIN, LOGIN and XOAUTH2."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from aioimaplib.aioimaplib import AUTH, CRLF, NONAUTH, Command, Response, quoted

from sagicc_tui.engine.errors import AuthenticationFailed, TokenRejected

if TYPE_CHECKING:
    from sagicc_tui.engine.imap import ImapClient


class ImapAuthMixin:
    """The sign-in methods of ``ImapClient``.

    Credentials reach the wire only inside the command or SASL response; aioimaplib's
    debug log gets them scrubbed.
    """

    async def login(self: ImapClient, username: str, password: str) -> None:
        """Sign in with AUTHENTICATE PLAIN when offered, else LOGIN.

        Sends nothing after a PREAUTH greeting, which signed the client in.
        """
        if self.protocol.state != NONAUTH:
            return
        capabilities = self.capabilities
        if "AUTH=PLAIN" in capabilities:
            initial = b"\0" + username.encode() + b"\0" + password.encode()
            await self._authenticate("PLAIN", initial, username, oauth=False)
            return

        if "LOGINDISABLED" in capabilities:
            raise AuthenticationFailed(
                "the server refuses password sign-in on this connection "
                "(LOGINDISABLED)",
                host=self.endpoint.host,
                port=self.endpoint.port,
                fix="Set encryption to starttls or ssl",
            )
        if not (username.isascii() and password.isascii()):
            raise AuthenticationFailed(
                "the user name or password has non-ASCII characters, which "
                "LOGIN cannot carry, and the server offers no AUTHENTICATE PLAIN",
                host=self.endpoint.host,
                port=self.endpoint.port,
                fix="Use an ASCII password or ask the administrator to enable PLAIN",
            )
        await self._login_command(username, password)

    async def _login_command(self: ImapClient, username: str, password: str) -> None:
        protocol = self.protocol
        secret = quoted(password)
        # aioimaplib's own login() scrubs the raw password from its debug log
        # but sends the quoted form, so a password with " or \ was logged.
        command = Command(
            "LOGIN", protocol.new_tag(), quoted(username), secret, loop=protocol.loop
        )
        response = await self._run(protocol.execute(command, scrub=secret), "LOGIN")
        await self._finish_auth(response, username, oauth=False, details={})

    async def login_xoauth2(self: ImapClient, username: str, access_token: str) -> None:
        """Sign in with XOAUTH2; a rejected token raises TokenRejected.

        Never falls back to a password. Sends nothing after PREAUTH.
        """
        if self.protocol.state != NONAUTH:
            return
        initial = f"user={username}\1auth=Bearer {access_token}\1\1".encode()
        await self._authenticate("XOAUTH2", initial, username, oauth=True)

    async def _authenticate(
        self: ImapClient, mechanism: str, initial: bytes, username: str, *, oauth: bool
    ) -> None:
        protocol = self.protocol
        encoded = base64.b64encode(initial).decode("ascii")
        with_initial = "SASL-IR" in self.capabilities
        sent = with_initial
        details: dict[str, Any] = {}

        def answer(line: bytes) -> None:
            nonlocal sent
            if not sent:
                sent = True
                protocol.write(encoded.encode("ascii") + CRLF)
            elif oauth:
                # The XOAUTH2 error challenge: an empty response makes the
                # server finish with NO instead of waiting for its timeout.
                details.update(_decode_challenge(line[1:].strip()))
                protocol.write(CRLF)
            else:
                protocol.write(b"*" + CRLF)

        args = (mechanism, encoded) if with_initial else (mechanism,)
        command = Command("AUTHENTICATE", protocol.new_tag(), *args, loop=protocol.loop)
        protocol.continuation_handler = answer
        try:
            response = await self._run(
                protocol.execute(command, scrub=encoded), f"AUTHENTICATE {mechanism}"
            )
        finally:
            protocol.continuation_handler = None
        await self._finish_auth(response, username, oauth=oauth, details=details)

    async def _finish_auth(
        self: ImapClient,
        response: Response,
        username: str,
        *,
        oauth: bool,
        details: dict,
    ) -> None:
        host, port = self.endpoint.host, self.endpoint.port
        if response.result == "OK":
            self.protocol.state = AUTH
            await self._run(self.protocol.capability(), "CAPABILITY")
            return

        text = response_text(response)
        if oauth:
            raise TokenRejected(
                f"the server rejected the OAuth access token for {username}",
                host=host,
                port=port,
                details=details,
                server_text=_with_details(text, details),
                fix="Sign in to this channel again",
            )
        raise AuthenticationFailed(
            f"the server rejected the user name or password for {username}",
            host=host,
            port=port,
            server_text=text,
            fix=(
                "Check the user name and password; accounts with two-step "
                "verification need an app password or OAuth"
            ),
        )


def _decode_challenge(text: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.b64decode(text, validate=True))
    except (ValueError, json.JSONDecodeError):
        return {"challenge": text.decode("ascii", "replace")}
    return decoded if isinstance(decoded, dict) else {"challenge": decoded}


def _with_details(text: str, details: dict) -> str:
    if not details:
        return text
    return f"{text} {json.dumps(details, sort_keys=True)}"


def response_text(response: Response) -> str:
    """Return the text of the tagged response (the last line), decoded."""
    if not response.lines:
        return ""
    last = response.lines[-1]
    return bytes(last).decode("utf-8", "replace").strip()
