"""The ``fakemail`` command: serve a scenario, read the recorded outbox."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from fakemail.outbox import Outbox
from fakemail.scenario import ScenarioError
from fakemail.server import STATE_VARIABLE, FakeMail, default_state_dir

_SCHEMES = {
    ("imap", "ssl"): "imaps",
    ("imap", "starttls"): "imap",
    ("imap", "none"): "imap",
    ("smtp", "ssl"): "smtps",
    ("smtp", "starttls"): "smtp",
    ("smtp", "none"): "smtp",
}


# Exit status after the reader of standard output went away (as with `| head`):
# 128 + SIGPIPE, what a shell reports for a program killed by that signal.
BROKEN_PIPE_STATUS = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        try:
            return _run(argv)
        finally:
            # Flush here, also after --help exits, so a closed pipe surfaces
            # now and not at interpreter exit.
            sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at devnull so the interpreter's final flush is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return BROKEN_PIPE_STATUS


def _run(argv: Sequence[str] | None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.func(args)
    except ScenarioError as error:
        print(f"fakemail: error: {error}", file=sys.stderr)
        return 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fakemail",
        description="IMAP and SMTP server on loopback that replays scenario files.",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every step to stderr"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve a scenario until Ctrl+C")
    serve.add_argument("scenario", type=Path, help="scenario.toml or its folder")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
    serve.add_argument(
        "--imap-port",
        type=_port,
        default=0,
        help="port of the first IMAP listener, 0-65535 (default 0: a free port)",
    )
    serve.add_argument(
        "--smtp-port",
        type=_port,
        default=0,
        help="port of the first SMTP listener, 0-65535 (default 0: a free port)",
    )
    serve.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="scenario seconds per real second (default 1)",
    )
    serve.add_argument("--state-dir", type=Path, help=_SERVE_STATE_HELP)
    serve.add_argument(
        "--json", action="store_true", help="print one JSON object, then serve"
    )
    serve.set_defaults(func=_serve)

    outbox = commands.add_parser("outbox", help="list or show recorded SMTP messages")
    outbox.add_argument("id", nargs="?", help="show this message (raw) instead")
    outbox.add_argument("--state-dir", type=Path, help=_OUTBOX_STATE_HELP)
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.set_defaults(func=_outbox)
    return parser


_SERVE_STATE_HELP = (
    f"folder for the CA file, outbox and transcript (default ${STATE_VARIABLE}, "
    "else a new temporary folder)"
)
_OUTBOX_STATE_HELP = (
    "state folder that `fakemail serve` printed; required unless "
    f"${STATE_VARIABLE} is set"
)


def _version() -> str:
    # fakemail ships inside the sagicc-tui distribution and has no own version.
    try:
        return importlib.metadata.version("sagicc-tui")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown: not installed)"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"invalid port {text!r}: use a number from 0 to 65535 (0: a free port)"
        )
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid speed {text!r}: use a number above 0"
        )
    return value


def _serve(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then print one stop line on stderr.

    A state folder this call created in the temporary folder is removed
    again when serving cannot start; one passed with --state-dir or
    $FAKEMAIL_STATE is kept.
    """
    created_state_dir = None
    if args.state_dir is not None:
        state_dir = args.state_dir
    elif os.environ.get(STATE_VARIABLE):
        state_dir = default_state_dir()
    else:
        state_dir = created_state_dir = default_state_dir()

    try:
        return asyncio.run(_serve_until_stopped(args, state_dir))
    except KeyboardInterrupt:
        # Ctrl+C before the signal handlers were installed: nothing was served.
        _remove_created(created_state_dir)
        print("fakemail stopped", file=sys.stderr, flush=True)
        return 0
    except OSError as error:
        _remove_created(created_state_dir)
        print(f"fakemail: error: cannot listen: {error}", file=sys.stderr)
        return 1
    except ScenarioError:
        _remove_created(created_state_dir)
        raise


def _remove_created(state_dir: Path | None) -> None:
    if state_dir is not None:
        shutil.rmtree(state_dir, ignore_errors=True)


async def _serve_until_stopped(args: argparse.Namespace, state_dir: Path) -> int:
    server = FakeMail(
        args.scenario,
        host=args.host,
        imap_port=args.imap_port,
        smtp_port=args.smtp_port,
        speed=args.speed,
        state_dir=state_dir,
    )
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)

    # FakeMail.start logs its own failure before raising, and _serve prints
    # the same error, so without -v the log line is hidden to print it once.
    server_log = logging.getLogger("fakemail.server")
    server_log.disabled = not args.verbose
    try:
        await server.start()
    except OSError:
        server.close()
        raise
    finally:
        server_log.disabled = False

    try:
        info = server.info()
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            _print_info(info)
        await stopped.wait()
    finally:
        await server.stop()
        server.close()
    print("fakemail stopped", file=sys.stderr, flush=True)
    return 0


def _print_info(info: dict) -> None:
    print(f"fakemail serving scenario {info['scenario']!r}")
    for listener in info["listeners"]:
        scheme = _SCHEMES[(listener["protocol"], listener["encryption"])]
        print(
            f"  {listener['name']:<12} {scheme}://{info['host']}:{listener['port']}"
            f"  encryption {listener['encryption']},"
            f" certificate {listener['certificate']}"
        )
    print("accounts:")
    for account in info["accounts"]:
        tokens = ", ".join(f"{t} ({s})" for t, s in account["tokens"].items())
        print(
            f"  {account['username']}  password {account['password'] or '-'}"
            f"  tokens {tokens or '-'}"
        )
    print(f"CA file:    {info['ca_path']}")
    print(f"state:      {info['state_dir']}")
    print(f"transcript: {info['transcript']}")
    print("Press Ctrl+C to stop.", flush=True)


def _outbox(args: argparse.Namespace) -> int:
    state_dir = args.state_dir or (
        Path(os.environ[STATE_VARIABLE]) if os.environ.get(STATE_VARIABLE) else None
    )
    if state_dir is None:
        print(
            f"fakemail: error: no state folder: pass --state-dir with the folder "
            f"`fakemail serve` printed, or set {STATE_VARIABLE}",
            file=sys.stderr,
        )
        return 2
    if not state_dir.is_dir():
        print(
            f"fakemail: error: state folder not found: {state_dir}; pass the "
            "folder `fakemail serve` printed",
            file=sys.stderr,
        )
        return 2
    directory = state_dir / "outbox"
    records = Outbox.load(directory) if directory.is_dir() else []

    if args.id is not None:
        for record in records:
            if record.id == args.id:
                if args.json:
                    summary = record.summary()
                    summary["raw"] = record.raw.decode("utf-8", "replace")
                    print(json.dumps(summary, ensure_ascii=False))
                else:
                    sys.stdout.buffer.write(record.raw)
                    sys.stdout.flush()
                return 0
        print(
            f"fakemail: error: no outbox message {args.id!r} in {directory}",
            file=sys.stderr,
        )
        return 1

    if args.json:
        print(json.dumps([record.summary() for record in records], ensure_ascii=False))
        return 0
    if not records:
        print(f"no messages in {directory}")
    for record in records:
        summary = record.summary()
        print(
            f"{record.id}  {record.mail_from} -> {', '.join(record.rcpt_tos)}"
            f"  {summary['subject'] or '(no subject)'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
