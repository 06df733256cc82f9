"""TLS contexts for mail servers and operator-facing wording of TLS failures."""

from __future__ import annotations

import ssl

from sagicc_tui.engine.errors import CertificateInvalid, TlsFailed

# OpenSSL X509 verify codes (x509_vfy.h) that have their own advice.
_EXPIRED = 10
_NOT_YET_VALID = 9
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNKNOWN_ISSUER = 20
_UNKNOWN_ISSUER_LEAF = 21
_HOSTNAME_MISMATCH = 62
_IP_ADDRESS_MISMATCH = 64

_TRUST_OFF_ADVICE = (
    "Turn certificate validation off for this channel only if you administer "
    "this server or trust whoever does"
)


def client_context(validate: bool, ca_file: str | None = None) -> ssl.SSLContext:
    """Build the TLS context for a client connection.

    With ``validate`` on: the system's trusted CAs plus ``ca_file`` when given
    (for self-hosted servers and tests), and the host name is checked. Off:
    no verification at all, so any certificate is accepted.
    """
    if not validate:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def describe_tls_error(
    error: ssl.SSLError, *, host: str, port: int, step: str = "TLS handshake"
) -> TlsFailed:
    """Turn an ``ssl`` exception into an error with the cause and the fix."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return _certificate_error(error, host=host, port=port, step=step)

    reason = (getattr(error, "reason", None) or "").upper()
    if reason in {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}:
        return TlsFailed(
            f"{step} failed: the server answered without TLS ({error.reason})",
            host=host,
            port=port,
            fix=(
                "This port probably expects a plain connection: use encryption "
                "starttls (usually port 143 for IMAP, 587 for SMTP), or the "
                "implicit-TLS port (993 for IMAP, 465 for SMTP)"
            ),
        )
    return TlsFailed(
        f"{step} failed: {error}",
        host=host,
        port=port,
        fix="Check that the port and the encryption setting match the server",
    )


def _certificate_error(
    error: ssl.SSLCertVerificationError, *, host: str, port: int, step: str
) -> CertificateInvalid:
    code = error.verify_code
    detail = error.verify_message or str(error)
    if code == _EXPIRED:
        cause = "the server's certificate has expired"
        fix = "Ask the server's administrator to renew it. " + _TRUST_OFF_ADVICE
    elif code == _NOT_YET_VALID:
        cause = "the server's certificate is not valid yet"
        fix = "Check this machine's clock, then the certificate's start date"
    elif code in {_SELF_SIGNED, _SELF_SIGNED_IN_CHAIN}:
        cause = "the server's certificate is self-signed"
        fix = "Add the signing CA file to the channel settings. " + _TRUST_OFF_ADVICE
    elif code in {_UNKNOWN_ISSUER, _UNKNOWN_ISSUER_LEAF}:
        cause = "the server's certificate is signed by an unknown authority"
        fix = "Add the signing CA file to the channel settings. " + _TRUST_OFF_ADVICE
    elif code in {_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH}:
        cause = f"the server's certificate is not valid for the host name {host}"
        fix = "Use the host name the certificate was issued for. " + _TRUST_OFF_ADVICE
    else:
        cause = "the server's certificate is invalid"
        fix = _TRUST_OFF_ADVICE
    return CertificateInvalid(
        f"{step} failed: {cause} (OpenSSL: {detail})", host=host, port=port, fix=fix
    )
