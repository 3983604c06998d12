"""With SMTP configured, request emails go to the server (a local one the test runs)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from journey.core.domain import DataType
from journey.emails import compose_request_email
from journey.mail import deliver
from journey.settings import ServiceSettings, SmtpSettings


class TinySMTP:
    """Just enough of an SMTP server on 127.0.0.1 to receive one message."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.commands: list[str] = []
        self.data = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn, conn.makefile("rwb") as stream:

            def say(line: str) -> None:
                stream.write(line.encode() + b"\r\n")
                stream.flush()

            say("220 tiny ESMTP")
            while line := stream.readline():
                command = line.decode().strip()
                self.commands.append(command.split(" ")[0].upper())
                verb = command.upper()
                if verb.startswith("EHLO"):
                    say("250-tiny")
                    say("250 AUTH PLAIN")
                elif verb.startswith("AUTH"):
                    say("235 ok")
                elif verb == "DATA":
                    say("354 go on")
                    chunks = []
                    while (part := stream.readline()) != b".\r\n":
                        chunks.append(part)
                    self.data = b"".join(chunks)
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")


def _email(link: str = "http://portal.test/j/abc") -> object:
    return compose_request_email(
        organization="Larkspur Bank",
        sender="Alex Morgan",
        company="Abra Kebabra",
        contact_name="Larry Pepper",
        contact_email="larry@abra.example",
        data_types=frozenset({DataType.FINANCIALS}),
        link=link,
    )


def test_request_email_is_sent_by_smtp_when_configured(tmp_path: Path) -> None:
    server = TinySMTP()
    settings = ServiceSettings(
        db_path=tmp_path / "x.db",
        outbox_dir=tmp_path / "outbox",
        smtp=SmtpSettings(
            host="127.0.0.1",
            port=server.port,
            username="relportal",
            password="secret",
            starttls=False,
            sender="portal@larkspur.example",
        ),
    )
    outcome = deliver(_email(), settings)  # type: ignore[arg-type]
    server.thread.join(timeout=5)
    assert outcome == {"sent": True, "via": "smtp", "to": "larry@abra.example"}
    assert "MAIL" in server.commands and "RCPT" in server.commands
    text = server.data.decode()
    assert "To: Larry Pepper <larry@abra.example>" in text
    assert "Securely connect: http://portal.test/j/abc" in text
    assert not (tmp_path / "outbox").exists()


def test_an_unreachable_smtp_server_is_reported_without_the_message(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    settings = ServiceSettings(
        db_path=tmp_path / "x.db",
        outbox_dir=tmp_path / "outbox",
        smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False),
    )
    outcome = deliver(_email("http://portal.test/j/secret-token"), settings)  # type: ignore[arg-type]
    assert outcome["sent"] is False
    assert "secret-token" not in repr(outcome)


@pytest.mark.parametrize(
    ("types", "subject", "cta"),
    [
        ({DataType.SPEND_ANALYSIS}, "supplier information", "View request"),
        ({DataType.FINANCIALS}, "financial information", "Securely connect"),
        (
            {DataType.FINANCIALS, DataType.SPEND_ANALYSIS},
            "financial and supplier information",
            "Securely connect",
        ),
    ],
)
def test_the_email_differs_by_data_type(types: set[DataType], subject: str, cta: str) -> None:
    email = compose_request_email(
        organization="Larkspur Bank",
        sender="Alex Morgan",
        company="Abra Kebabra",
        contact_name="Larry Pepper",
        contact_email="larry@abra.example",
        data_types=frozenset(types),
        link="http://portal.test/j/t",
    )
    assert subject in email.subject
    assert email.call_to_action == cta
    assert f"{cta}: http://portal.test/j/t" in email.text
