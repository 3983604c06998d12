"""Request emails are multipart/alternative: the text as before, and an HTML part with
the call to action as a button, where every name is shown as text."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from journey.core.domain import DataType
from journey.emails import compose_request_email
from journey.mail import deliver
from journey.settings import ServiceSettings

HOSTILE = '<img src=x onerror="alert(1)"> & Sons </table>'
LINK = "http://portal.test/j/abc_DEF-123"


def _sent(tmp_path: Path, company: str = "Abra Kebabra", organization: str = "Larkspur Bank"):  # type: ignore[no-untyped-def]
    email = compose_request_email(
        organization=organization,
        sender="Alex Morgan",
        company=company,
        contact_name="Larry Pepper",
        contact_email="larry@abra.example",
        data_types=frozenset({DataType.SPEND_ANALYSIS}),
        link=LINK,
    )
    settings = ServiceSettings(db_path=tmp_path / "x.db", outbox_dir=tmp_path / "outbox")
    outcome = deliver(email, settings)
    assert outcome["sent"], outcome
    raw = (tmp_path / "outbox" / outcome["file"]).read_bytes()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _parts(message: EmailMessage) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_content()  # type: ignore[attr-defined]
        for part in message.iter_parts()
    }


def test_the_email_has_a_text_part_and_an_html_part_with_the_link_in_both(
    tmp_path: Path,
) -> None:
    message = _sent(tmp_path)
    assert message.get_content_type() == "multipart/alternative"
    parts = _parts(message)
    assert list(parts) == ["text/plain", "text/html"]
    assert f"View request: {LINK}" in parts["text/plain"]
    html = parts["text/html"]
    assert f'href="{LINK}"' in html
    assert ">View request</a>" in html  # the call to action is a button
    assert "Hi Larry Pepper," in html
    assert "<img" not in html  # readable with images off: there are none
    assert "<style" not in html and "<script" not in html  # inline CSS only


def test_hostile_names_are_text_in_the_html_part(tmp_path: Path) -> None:
    message = _sent(tmp_path, company=HOSTILE, organization='Bank "<b>Evil</b>"')
    parts = _parts(message)
    html = parts["text/html"]
    assert "<img src=x" not in html and "<b>Evil</b>" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Sons &lt;/table&gt;" in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert HOSTILE in parts["text/plain"]  # the text part shows it as typed
