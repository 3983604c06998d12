"""Simulated accounting platforms.

Each platform has the vendor's integration key, its own sign-in (the sandbox
credentials ``demo`` / ``demo``; anything else is the platform's wrong-credentials
error) and its own list of what the customer is asked to allow. Everything here is
pure data, so the journey state machine can consult it without IO.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    # What the platform's own consent page says the application may do.
    consent_scopes: tuple[str, ...]
    signin_error: str

    def check_credentials(self, username: str, password: str) -> bool:
        """True for the sandbox credentials; compared in constant time all the same."""
        user_ok = hmac.compare_digest(
            username.strip().encode("utf-8", "surrogatepass"), DEMO_USERNAME.encode()
        )
        pass_ok = hmac.compare_digest(
            password.encode("utf-8", "surrogatepass"), DEMO_PASSWORD.encode()
        )
        return user_ok and pass_ok


# Every scope only reads: the request email promises that nothing in the customer's
# accounting software is changed, and the consent they give must say the same.
PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform(
            key="mqjo",
            name="Sandbox",
            consent_scopes=(
                "Read company information",
                "Read accounts payable and receivable",
                "Read financial statements",
            ),
            signin_error="Incorrect username or password. Sandbox accepts demo / demo.",
        ),
        Platform(
            key="gbol",
            name="Xero",
            consent_scopes=(
                "View your organisation settings",
                "View your attachments",
                "View your business transactions",
                "View your contacts",
                "View your reports",
                "View your general ledger",
            ),
            signin_error="Your email or password is incorrect.",
        ),
        Platform(
            key="qhyg",
            name="QuickBooks Online",
            consent_scopes=(
                "Read your company profile",
                "Read your accounting data: accounts, bills, invoices and payments",
                "Read your reports",
            ),
            signin_error="The user ID or password you entered isn't correct.",
        ),
        Platform(
            key="akxx",
            name="Oracle NetSuite",
            consent_scopes=(
                "Read subsidiaries and company information",
                "Read vendors, vendor bills and vendor payments",
                "Read the general ledger and financial statements",
            ),
            signin_error="You have entered an invalid email address or password.",
        ),
        Platform(
            key="knfz",
            name="Sage Intacct",
            consent_scopes=(
                "Read entities and company information",
                "Read accounts payable: vendors, bills and payments",
                "Read general ledger and financial reports",
            ),
            signin_error="Invalid Web Services credentials. Check the user ID and password.",
        ),
        Platform(
            key="fbrh",
            name="FreeAgent",
            consent_scopes=(
                "Read your company details",
                "Read bills, contacts and bank transactions",
                "Read your accounts and reports",
            ),
            signin_error="Email address or password incorrect.",
        ),
    )
}

DEFAULT_PLATFORMS: tuple[str, ...] = tuple(PLATFORMS)

# What the journey tells the customer will be shared, whatever the platform (0108).
SHARED_DATA = (
    "Accounts receivable information",
    "Accounts payable information",
    "Financial summary information",
)


def platform_name(key: str) -> str:
    """The platform's display name, or the key itself for one we do not know."""
    platform = PLATFORMS.get(key)
    return platform.name if platform else key
