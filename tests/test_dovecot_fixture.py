"""The Dovecot fixture starts a server that a real client can log in to."""

from __future__ import annotations

import imaplib
import ssl

from tests.support.dovecot import Dovecot


def test_dovecot_accepts_login_over_tls(dovecot: Dovecot) -> None:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    client = imaplib.IMAP4_SSL("127.0.0.1", dovecot.imaps_port, ssl_context=context)
    try:
        status, _ = client.login(dovecot.username, dovecot.password)
        assert status == "OK"
        status, data = client.select("INBOX")
        assert status == "OK"
        assert data == [b"0"]
    finally:
        client.logout()


def test_dovecot_starttls_then_append(dovecot: Dovecot) -> None:
    client = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    try:
        context = ssl.create_default_context(cafile=str(dovecot.ca_file))
        client.starttls(context)
        client.login(dovecot.username, dovecot.password)
        message = b"From: a@example.test\r\nSubject: hi\r\n\r\nbody\r\n"
        status, _ = client.append("INBOX", None, None, message)
        assert status == "OK"
        client.select("INBOX")
        status, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
        assert status == "OK"
        assert data[0][1] == message
    finally:
        client.logout()
