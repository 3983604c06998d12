"""The request email: subject and text differ by the data types requested.

Pure composition; ``journey.mail`` delivers it (outbox folder or SMTP) as
multipart/alternative: the text, and the same words as HTML with the call to action
as a button (``journey/templates/request_email.html``, autoescaped: every name in it
is the organization's or the customer's own text).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, Template

from journey.core.domain import DataType

TEMPLATES = Path(__file__).parent / "templates"
# The button's colour when the organization has none of its own: white text on it
# is 7:1, readable in any client.
DEFAULT_ACCENT = "#3d2bd4"
LINK_WORDS = "If the button does not work, copy this link into your browser:"


@dataclass(frozen=True)
class RequestEmail:
    to_name: str
    to_address: str
    from_name: str
    subject: str
    text: str
    call_to_action: str
    link: str
    # The text's parts, for the HTML part (the text above is made of them).
    organization: str = ""
    paragraphs: tuple[str, ...] = ()
    footer: str = ""
    accent: str = ""  # the organization's accent colour ("#RRGGBB"), if it set one

    def to_dict(self) -> dict[str, str]:
        return {
            "to_name": self.to_name,
            "to_address": self.to_address,
            "from_name": self.from_name,
            "subject": self.subject,
            "text": self.text,
            "call_to_action": self.call_to_action,
            "link": self.link,
        }


LINK_PLACEHOLDER = "{link}"


def compose_request_email(
    *,
    organization: str,
    sender: str,
    company: str,
    contact_name: str,
    contact_email: str,
    data_types: frozenset[DataType],
    link: str = LINK_PLACEHOLDER,
    accent: str = "",
) -> RequestEmail:
    """The email a company's contact receives for an information request.

    Spend-only requests ask for supplier information ("View request"); anything
    that includes financials asks the customer to connect their accounting
    software ("Securely connect").
    """
    spend_only = data_types == frozenset({DataType.SPEND_ANALYSIS})
    if spend_only:
        subject = f"{organization} has requested your supplier information"
        cta = "View request"
        paragraphs = [
            f"Hi {contact_name},",
            f"{sender} at {organization} has requested that {company} submits its supplier "
            f"information through {organization}'s secure onboarding portal.",
            "You can upload a completed supplier information template or connect your "
            "accounting software; it takes a few minutes.",
            "If you have any questions please contact your Relationship Manager directly.",
        ]
    else:
        wanted = (
            "financial and supplier information"
            if DataType.SPEND_ANALYSIS in data_types
            else "financial information"
        )
        subject = f"{organization}: securely share {company}'s {wanted}"
        cta = "Securely connect"
        paragraphs = [
            f"Hi {contact_name},",
            f"To make this process more secure, {organization} now offers customers the option "
            f"of sharing their {wanted} via an encrypted digital connection.",
            "To use this service simply follow the link below and the step-by-step "
            "instructions. The entire process should take no more than five minutes.",
            "You will be asked to log in to your accounting or ERP software. Your login details "
            f"will not be shared with anyone at any point. {organization} will not be able to "
            "access your account and no data within your accounting software or ERP will be "
            "changed.",
            "Please contact your Relationship Manager directly if you would like to know more.",
        ]
    footer = (
        f"You are receiving this email because {sender} at {organization} has initiated a "
        "data request. The link is personal to this request: do not forward it."
    )
    text = "\n\n".join([*paragraphs, f"{cta}: {link}", "—", footer]) + "\n"
    return RequestEmail(
        to_name=contact_name,
        to_address=contact_email,
        from_name=f"{sender} ({organization})",
        subject=subject,
        text=text,
        call_to_action=cta,
        link=link,
        organization=organization,
        paragraphs=tuple(paragraphs),
        footer=footer,
        accent=accent,
    )


@cache
def _html_template() -> Template:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # names are the organization's and customer's text, never markup
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("request_email.html")


def render_html(email: RequestEmail) -> str:
    """The email's HTML part: the text's words, and its call to action as a button."""
    return _html_template().render(
        email=email, accent=email.accent or DEFAULT_ACCENT, link_words=LINK_WORDS
    )
