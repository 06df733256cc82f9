"""The table of IMAP commands: handler and the states each is valid in."""

from __future__ import annotations

from fakemail.imap import auth, mailboxes, messages
from fakemail.imap.session import Handler, State

_ANY = frozenset(State)
_NOT_AUTHENTICATED = frozenset({State.NOT_AUTHENTICATED})
_AUTHENTICATED = frozenset({State.AUTHENTICATED, State.SELECTED})
_SELECTED = frozenset({State.SELECTED})

COMMANDS: dict[bytes, tuple[Handler, frozenset[State]]] = {
    b"CAPABILITY": (auth.capability, _ANY),
    b"NOOP": (auth.noop, _ANY),
    b"LOGOUT": (auth.logout, _ANY),
    b"ID": (auth.id_command, _ANY),
    b"STARTTLS": (auth.starttls, _NOT_AUTHENTICATED),
    b"LOGIN": (auth.login, _NOT_AUTHENTICATED),
    b"AUTHENTICATE": (auth.authenticate, _NOT_AUTHENTICATED),
    b"ENABLE": (auth.enable, _AUTHENTICATED),
    b"NAMESPACE": (auth.namespace, _AUTHENTICATED),
    b"SELECT": (mailboxes.select, _AUTHENTICATED),
    b"EXAMINE": (mailboxes.examine, _AUTHENTICATED),
    b"CREATE": (mailboxes.create, _AUTHENTICATED),
    b"DELETE": (mailboxes.delete, _AUTHENTICATED),
    b"RENAME": (mailboxes.rename, _AUTHENTICATED),
    b"SUBSCRIBE": (mailboxes.subscribe, _AUTHENTICATED),
    b"UNSUBSCRIBE": (mailboxes.unsubscribe, _AUTHENTICATED),
    b"LIST": (mailboxes.list_command, _AUTHENTICATED),
    b"LSUB": (mailboxes.lsub, _AUTHENTICATED),
    b"STATUS": (mailboxes.status, _AUTHENTICATED),
    b"APPEND": (mailboxes.append, _AUTHENTICATED),
    b"IDLE": (mailboxes.idle, _AUTHENTICATED),
    b"CHECK": (mailboxes.check, _SELECTED),
    b"CLOSE": (mailboxes.close, _SELECTED),
    b"UNSELECT": (mailboxes.unselect, _SELECTED),
    b"EXPUNGE": (mailboxes.expunge, _SELECTED),
    b"SEARCH": (messages.search, _SELECTED),
    b"FETCH": (messages.fetch, _SELECTED),
    b"STORE": (messages.store, _SELECTED),
    b"COPY": (messages.copy, _SELECTED),
    b"MOVE": (messages.move, _SELECTED),
}

UID_COMMANDS: dict[bytes, tuple[Handler, frozenset[State]]] = {
    name: COMMANDS[name]
    for name in (b"FETCH", b"STORE", b"COPY", b"MOVE", b"SEARCH", b"EXPUNGE")
}

# The capability a command belongs to; leaving the capability out of a
# server also disables its commands.
COMMAND_CAPABILITY = {
    "STARTTLS": "STARTTLS",
    "IDLE": "IDLE",
    "MOVE": "MOVE",
    "UID MOVE": "MOVE",
    "UID EXPUNGE": "UIDPLUS",
    "NAMESPACE": "NAMESPACE",
    "ID": "ID",
    "ENABLE": "ENABLE",
    "UNSELECT": "UNSELECT",
}
