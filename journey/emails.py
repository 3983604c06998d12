"""The request email: subject and text differ by the data types requested.

Pure composition; ``journey.mail`` delivers it (outbox folder or SMTP).
"""

from __future__ import annotations

from dataclasses import dataclass

from journey.domain import DataType


@dataclass(frozen=True)
class RequestEmail:
    to_name: str
    to_address: str
    from_name: str
    subject: str
    text: str
    call_to_action: str
    link: str

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
    )
