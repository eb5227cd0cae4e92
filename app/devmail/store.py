"""The development mail folder: one .eml file per message, named so that names sort by time."""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Optional

from flask import current_app

from app.clock import utcnow

NAME = re.compile(r"^\d{8}T\d{6}\d{6}-[0-9a-f]{8}\.eml$")
LISTED = 200


def mail_dir() -> Path:
    folder = Path(current_app.config.get("DEV_MAIL_DIR") or os.path.join(current_app.instance_path, "dev-mail"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Catcher:
    """aiosmtpd handler: write each message to the folder and accept it."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    async def handle_DATA(self, server, session, envelope):
        save(self.folder, envelope.content)
        return "250 Message accepted for delivery"


def save(folder: Path, content: bytes) -> Path:
    name = f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(4)}.eml"
    temporary = folder / (name + ".part")
    temporary.write_bytes(content)
    temporary.rename(folder / name)  # the page never sees half a file
    return folder / name


@dataclass
class Summary:
    name: str
    subject: str
    recipient: str
    sent: Optional[datetime]


def summaries(folder: Path) -> list[Summary]:
    """The newest LISTED messages, newest first."""
    names = sorted((path.name for path in folder.iterdir() if NAME.match(path.name)), reverse=True)[:LISTED]
    result = []
    for name in names:
        with open(folder / name, "rb") as handle:
            headers = BytesHeaderParser(policy=policy.default).parse(handle)
        result.append(Summary(name=name, subject=str(headers.get("Subject", "")), recipient=str(headers.get("To", "")),
                              sent=_date(headers.get("Date"))))
    return result


def _date(value) -> Optional[datetime]:
    try:
        return parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None


def load(folder: Path, name: str) -> Optional[EmailMessage]:
    if not NAME.match(name) or not (folder / name).is_file():
        return None
    return message_from_bytes((folder / name).read_bytes(), policy=policy.default)
