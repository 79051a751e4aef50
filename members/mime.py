"""Many copies of one email, cheaply.

Encoding a message with Django's EmailMessage costs about a millisecond. When a thousand people
get the same email but for their address, a Message-ID and their own unsubscribe link, Django
encodes it once with placeholders (`Prototype`), and each copy is those bytes with each
placeholder swapped for the recipient's value: the same bytes Django would have produced for
that recipient's message, but for the multipart boundary (random in every message anyway).

Where a swap could come out differently from Django's own encoding (a line that would pass
998 bytes, a part Django chose to encode as quoted-printable), `Prototype.copy` returns None and
the caller builds that message the ordinary way.
"""

import re
import uuid
from email.policy import compat32

from django.core.mail import EmailMessage
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
    sanitize_address,
)

# How Django writes a message's header lines: the email package's compat32 policy, with the
# line ending Django's SMTP backend asks for.
_POLICY = compat32.clone(linesep="\r\n")

# A value of printable ASCII with no space and nothing the header folder may break at (",",
# ";"): compat32 folds such a value by its length alone, never inside it.
_UNBREAKABLE = re.compile(r"[!-+\--:<-~]+")
_fold_shapes: dict[tuple[str, int], tuple[bytes, bytes]] = {}
_fold_recent: dict[tuple[str, str], bytes] = {}


def header_line(name: str, value: str, encoding: str = "utf-8") -> bytes:
    """The bytes Django writes for this header: `name: value` checked and encoded as Django
    sets it, then folded at 78 characters as the email package writes it."""
    name, value = forbid_multi_line_headers(name, value, encoding)
    if _UNBREAKABLE.fullmatch(value):
        # Folding depends only on the length: fold a stand-in of the same length once and
        # reuse where it put the value.
        shape = _fold_shapes.get((name, len(value)))
        if shape is None:
            stand_in = "#" * len(value)
            pieces = _POLICY.fold_binary(name, stand_in).split(stand_in.encode())
            shape = _fold_shapes[(name, len(value))] = tuple(pieces)
        if len(shape) == 2:
            return shape[0] + value.encode("ascii") + shape[1]
    # Values with spaces (a date) repeat from one message to the next: keep the last few.
    line = _fold_recent.get((name, value))
    if line is None:
        if len(_fold_recent) > 64:
            _fold_recent.clear()
        line = _fold_recent[(name, value)] = _POLICY.fold_binary(name, value)
    return line


# An address Django's sanitize_address() returns unchanged: a dot-atom of the common
# characters at a domain of ASCII letters, digits and hyphens.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def envelope_address(address: str, encoding: str = "utf-8") -> str:
    """The address as Django's SMTP backend gives it to the server."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, encoding)


class CannotCopy(ValueError):
    """The message cannot be copied by swapping placeholders; build each one in full."""


class Prototype:
    """One message encoded by Django with placeholders, ready to copy.

    `headers` names the headers that differ per copy (each written in the message with a
    placeholder value, each whole line replaced per copy); `body` maps a name to the
    placeholder written in the text and HTML (each replaced per copy by a value that needs
    no escaping)."""

    def __init__(self, message: EmailMessage, *, headers: dict[str, str], body: dict[str, str]):
        self.encoding = message.encoding or "utf-8"
        self.from_email = sanitize_address(message.from_email, self.encoding)
        mime = message.message()
        self._limits = self._line_limits(mime, body)
        raw = mime.as_bytes(linesep="\r\n")
        needles = {
            _POLICY.fold_binary(name, placeholder): ("header", name)
            for name, placeholder in headers.items()
        }
        needles.update({placeholder.encode(): ("body", name) for name, placeholder in body.items()})
        pattern = re.compile(b"|".join(re.escape(needle) for needle in needles))
        self._pieces: list = []
        end = 0
        for match in pattern.finditer(raw):
            self._pieces.append(raw[end : match.start()])
            self._pieces.append(needles[match.group()])
            end = match.end()
        self._pieces.append(raw[end:])
        found = [slot for slot in self._pieces[1::2] if slot[0] == "header"]
        if sorted(name for _kind, name in found) != sorted(headers):
            raise CannotCopy("A header is missing from the message or appears twice.")

    @staticmethod
    def _line_limits(mime, body: dict[str, str]) -> list[tuple[int, dict[str, int]]]:
        """For each line holding a placeholder: its length without them and how many of each,
        so that a copy can tell whether Django would have seen a line over 998 bytes."""
        limits = []
        for part in mime.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=False)
            if not any(placeholder in payload for placeholder in body.values()):
                continue
            if part["Content-Transfer-Encoding"] not in ("7bit", "8bit"):
                raise CannotCopy("A part holding a placeholder is not written as it is.")
            for line in payload.splitlines():
                counts = {name: line.count(p) for name, p in body.items() if p in line}
                if counts:
                    bare = len(line.encode(errors="surrogateescape")) - sum(
                        len(body[name]) * n for name, n in counts.items()
                    )
                    limits.append((bare, counts))
        return limits

    def copy(self, *, headers: dict[str, str], body: dict[str, str]) -> bytes | None:
        """The message's bytes with these values, or None if Django would have encoded that
        message differently (a line would pass 998 bytes)."""
        for bare, counts in self._limits:
            length = bare + sum(len(body[name].encode()) * n for name, n in counts.items())
            if length > RFC5322_EMAIL_LINE_LENGTH_LIMIT:
                return None
        pieces = self._pieces
        out = [pieces[0]]
        for index in range(1, len(pieces), 2):
            kind, name = pieces[index]
            if kind == "header":
                out.append(header_line(name, headers[name], self.encoding))
            else:
                out.append(body[name].encode())
            out.append(pieces[index + 1])
        return b"".join(out)


def placeholder(name: str) -> str:
    """A value that appears nowhere else in a message, needs no escaping and is never
    folded (letters and digits)."""
    return f"convene{name}{uuid.uuid4().hex}".replace("_", "").replace("-", "")
