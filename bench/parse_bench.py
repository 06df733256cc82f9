"""Measure parse rates: headers-only and full, on generated mail and the corpus.

Run: ``.venv/bin/python bench/parse_bench.py [--count N] [--repeat R]``.
Prints messages per second; a benchmark, not a test (nothing is asserted).
"""

from __future__ import annotations

import argparse
import base64
import random
import time
from collections.abc import Callable
from email.header import Header
from pathlib import Path

from sagicc_tui.mail import parse_message

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "real"

_SUBJECTS = [
    ("utf-8", "Bestellung 4411: Lieferung beschädigt"),
    ("iso-8859-1", "Commande n° 77 - réponse"),
    ("shift_jis", "注文番号の確認"),
    ("gb2312", "订单问题"),
    ("us-ascii", "Order 4411 arrived broken"),
]


def _encoded_subject(generator: random.Random, number: int) -> str:
    charset, text = generator.choice(_SUBJECTS)
    return Header(f"{text} {number}", charset).encode()


def _body(generator: random.Random, number: int) -> tuple[str, str]:
    """Return (Content-Type header lines, body) for one of several shapes."""
    text = "Hello,\n\nthe parcel arrived damaged. Please help.\n\nRegards\n" * 3
    shape = number % 4
    if shape == 0:
        return "Content-Type: text/plain; charset=utf-8\n", text
    if shape == 1:
        html = "<html><body><p>" + text.replace("\n", "<br>") + "</p></body></html>\n"
        return "Content-Type: text/html; charset=utf-8\n", html

    attachment = base64.encodebytes(generator.randbytes(4000 if shape == 2 else 20000))
    body = (
        "--b\nContent-Type: text/plain; charset=utf-8\n\n"
        + text
        + "--b\nContent-Type: application/pdf\n"
        + "Content-Disposition: attachment; filename*=utf-8''Rechnung%20%C3%A4.pdf\n"
        + "Content-Transfer-Encoding: base64\n\n"
        + attachment.decode("ascii")
        + "--b--\n"
    )
    return 'Content-Type: multipart/mixed; boundary="b"\n', body


def generate(count: int, seed: int = 1) -> list[bytes]:
    """Return ``count`` messages in threads of up to five, several charsets."""
    generator = random.Random(seed)
    messages = []
    for number in range(count):
        thread = number // 5
        position = number % 5
        references = " ".join(f"<m{thread}.{p}@bench.example>" for p in range(position))
        content_type, body = _body(generator, number)
        headers = (
            f"Message-ID: <m{thread}.{position}@bench.example>\n"
            f"Date: Thu, 03 Dec 2026 {number % 24:02d}:{number % 60:02d}:00 +0100\n"
            f"From: Customer {thread} <c{thread}@customer.example>\n"
            "To: Support <support@helpdesk.example>\n"
            f"Subject: {_encoded_subject(generator, thread)}\n"
            + (
                f"In-Reply-To: <m{thread}.{position - 1}@bench.example>\n"
                if position
                else ""
            )
            + (f"References: {references}\n" if references else "")
            + "MIME-Version: 1.0\n"
            + content_type
        )
        messages.append((headers + "\n" + body).encode("utf-8"))
    return messages


def _rates(
    messages: list[bytes], parse: Callable[[bytes], object], repeat: int
) -> tuple[float, float]:
    """Return the best (wall-clock, CPU-time) rates in messages per second.

    The CPU-time rate is what one idle core would reach; it differs from the
    wall-clock rate when other processes share the machine.
    """
    best_wall = best_cpu = 0.0
    for _ in range(repeat):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        for raw in messages:
            parse(raw)
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
        best_wall = max(best_wall, len(messages) / wall)
        best_cpu = max(best_cpu, len(messages) / max(cpu, 1e-9))
    return best_wall, best_cpu


def _report(name: str, messages: list[bytes], repeat: int) -> None:
    megabytes = sum(map(len, messages)) / 1e6
    print(f"{name}: {len(messages)} messages, {megabytes:.1f} MB")
    cases: list[tuple[str, Callable[[bytes], object]]] = [
        ("headers only", lambda raw: parse_message(raw, with_body=False)),
        ("full parse", parse_message),
    ]
    for label, parse in cases:
        wall, cpu = _rates(messages, parse, repeat)
        print(f"  {label:12}: {wall:6.0f} messages/s wall, {cpu:6.0f} per CPU second")


def main() -> None:
    """Parse the arguments and print the rates (best of ``--repeat`` runs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=5000, help="number of messages to generate"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="number of runs; the best rate is printed"
    )
    args = parser.parse_args()

    _report("generated", generate(args.count), args.repeat)
    if CORPUS.is_dir():
        files = sorted(path for path in CORPUS.rglob("*") if path.is_file())
        _report("corpus", [path.read_bytes() for path in files], args.repeat)
    else:
        print(f"corpus: skipped, {CORPUS} not found")


if __name__ == "__main__":
    main()
