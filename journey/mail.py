"""Delivering request emails: into an outbox folder by default, by SMTP when configured.

The outbox holds one ``.eml`` file per email, written atomically (temp file, then
rename), so a reader never sees half an email.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

from journey.emails import RequestEmail, render_html
from journey.settings import ServiceSettings

OUTBOX_SENDER = "relportal@localhost"


def build_message(email: RequestEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((email.from_name, sender))
    message["To"] = formataddr((email.to_name, email.to_address))
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain="relportal.local")
    message["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    # multipart/alternative: the text as it always was, then the HTML a mail client
    # prefers (the same words, the link a button).
    message.set_content(email.text)
    message.add_alternative(render_html(email), subtype="html")
    return message


def _outbox_name(email: RequestEmail) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    who = re.sub(r"[^A-Za-z0-9._-]+", "_", email.to_address)[:60]
    return f"{stamp}-{who}.eml"


def deliver(email: RequestEmail, settings: ServiceSettings) -> dict[str, Any]:
    """Send one email. Blocking: call it off the event loop. Never raises."""
    smtp = settings.smtp
    try:
        if smtp is None:
            outbox = Path(settings.outbox_dir)
            outbox.mkdir(parents=True, exist_ok=True)
            message = build_message(email, OUTBOX_SENDER)
            target = outbox / _outbox_name(email)
            fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".sending-", suffix=".eml")
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(message))
            os.replace(tmp, target)
            return {"sent": True, "via": "outbox", "file": target.name, "to": email.to_address}
        message = build_message(email, smtp.sender)
        with smtplib.SMTP(smtp.host, smtp.port, timeout=15) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(message)
        return {"sent": True, "via": "smtp", "to": email.to_address}
    except (OSError, smtplib.SMTPException) as exc:
        # The reason, never the message (it holds the customer's link).
        return {"sent": False, "to": email.to_address, "error": type(exc).__name__}
