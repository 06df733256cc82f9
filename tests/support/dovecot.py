"""Start a real Dovecot IMAP server on 127.0.0.1 for one test or one module."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.support.ports import free_port
from tests.support.programs import require_program

USERNAME = "agent@example.test"
PASSWORD = "dovecot-test-password"

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
mail_location = maildir:{mail_root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
imap_idle_notify_interval = 1 secs
mailbox_list_index = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail_root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """A running Dovecot: ports, the test account and the CA that signed it."""

    root: Path
    imap_port: int
    imaps_port: int
    ca_file: Path
    username: str = USERNAME
    password: str = PASSWORD
    process: subprocess.Popen[bytes] | None = None
    mail_root: Path | None = None

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.mail_root and self.mail_root != self.root:
            shutil.rmtree(self.mail_root, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (
                (root / "dovecot.log").read_text(errors="replace")
                if (root / "dovecot.log").exists()
                else ""
            )
            raise RuntimeError(f"dovecot exited with {process.returncode}: {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on 127.0.0.1:{port} within 20 s")


def start_dovecot(root: Path) -> Dovecot:
    """Write a private configuration under ``root`` and start Dovecot there.

    Dovecot runs as the current user, with a certificate for ``127.0.0.1`` and
    ``localhost`` from a throwaway CA whose file is ``ca_file``. Skips (or, in
    CI, fails) when the Debian package ``dovecot-imapd`` is missing.
    """
    binary = require_program("dovecot", "dovecot-imapd")
    root.mkdir(parents=True, exist_ok=True)
    for name in ("run", "state"):
        (root / name).mkdir(exist_ok=True)

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    ca_file = root / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    (root / "users").write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}\n")
    uid, gid = os.getuid(), os.getgid()
    user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
    login_user, mail_root = user, root
    if uid == 0:
        # Dovecot refuses to run its login processes as root, and its mail
        # processes then run as the unprivileged "dovecot" user, which cannot
        # enter pytest's private temporary folders: mail lives in a folder
        # of its own that this user owns.
        internal = pwd.getpwnam("dovecot")
        login_user = "dovenull"
        uid, gid = internal.pw_uid, internal.pw_gid
        mail_root = Path(tempfile.mkdtemp(prefix="sagicc-dovecot-"))
        os.chmod(mail_root, 0o755)
    for name in ("mail", "home"):
        (mail_root / name).mkdir(exist_ok=True)
        os.chown(mail_root / name, uid, gid)
    imap_port, imaps_port = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            root=root,
            user=user,
            group=group,
            login_user=login_user,
            mail_root=mail_root,
            uid=uid,
            gid=gid,
            imap_port=imap_port,
            imaps_port=imaps_port,
        )
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "dovecot.stderr", "wb"),  # noqa: SIM115
    )
    server = Dovecot(
        root, imap_port, imaps_port, ca_file, process=process, mail_root=mail_root
    )
    try:
        _wait_for_port(imap_port, process, root)
        _wait_for_port(imaps_port, process, root)
    except Exception:
        server.stop()
        raise
    return server
