"""Mail accounts of a fakemail run: passwords and OAuth tokens with their status.

``Accounts`` is the registry the IMAP and SMTP servers check credentials
against. User names are matched case-insensitively, as mail providers do.
``Accounts.get`` returns the account under its canonical spelling, and the
mail store files messages under that name.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class TokenStatus(enum.Enum):
    """State of an OAuth access token, as the provider would judge it."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class Account:
    """One mailbox owner: a password (None disables password login) and tokens."""

    username: str
    password: str | None = None
    tokens: dict[str, TokenStatus] = field(default_factory=dict)


class Accounts:
    """Registry of accounts, keyed by case-folded user name."""

    def __init__(self, accounts: Iterable[Account] = ()) -> None:
        self._accounts: dict[str, Account] = {}
        for account in accounts:
            self.add(account)

    def add(self, account: Account) -> None:
        """Register ``account``; raise ValueError if its user name is taken."""
        key = account.username.casefold()
        if key in self._accounts:
            raise ValueError(
                f"account {account.username!r} is defined twice; "
                "give each account a distinct user name"
            )
        self._accounts[key] = account

    def get(self, username: str) -> Account | None:
        """Return the account for ``username`` (any letter case), or None."""
        return self._accounts.get(username.casefold())

    def __iter__(self) -> Iterator[Account]:
        return iter(self._accounts.values())

    def __len__(self) -> int:
        return len(self._accounts)

    def __contains__(self, username: object) -> bool:
        return isinstance(username, str) and username.casefold() in self._accounts

    def check_password(self, username: str, password: str) -> bool:
        """Return True when ``username`` exists and ``password`` is its password."""
        account = self.get(username)
        if account is None or account.password is None:
            return False
        return hmac.compare_digest(
            account.password.encode("utf-8"), password.encode("utf-8")
        )

    def check_token(self, username: str, token: str) -> TokenStatus | None:
        """Return the status of ``token`` for ``username``; None if unknown."""
        account = self.get(username)
        if account is None:
            return None
        for known, status in account.tokens.items():
            if hmac.compare_digest(known.encode("utf-8"), token.encode("utf-8")):
                return status
        return None
