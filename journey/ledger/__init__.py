"""Deterministic synthetic ledgers: what a simulated accounting platform hands over.

When a customer connects a legal entity's accounting software, the data pull produces a
ledger for that entity: a chart of accounts, suppliers, bills, bill payments, payment
methods, a monthly profit and loss and a month-end balance sheet. Reports are computed
from it later, possibly in another process or after a restart, so the same entity must
always yield the same numbers. Everything here is therefore a pure function of its
arguments: randomness comes from ``random.Random`` instances seeded with a SHA-256 of the
entity key (never ``hash()``, which is salted per process), money is integer cents
internally and ``Decimal`` quantized to 0.01 on the way out, and no float ever touches an
amount.

The books are kept by double entry, which is what makes the statements consistent:

* every bill is a purchase on credit (Dr expense account, Cr Accounts payable) and every
  bill payment settles it (Dr Accounts payable, Cr Cash), so accounts payable on any
  balance sheet is exactly the sum of the open bill balances at that date, and supplier
  purchases are part of the month's expenses;
* the balance sheet balances every month because every posting balances; the difference
  between assets and liabilities plus opening equity is the period's cumulative net
  profit, shown as "Current period earnings".

Activity for a calendar month is seeded by the entity and the month (not by the period
requested), so pulling the same entity again with a later ``period_end`` reproduces the
bills, payments and profit and loss of the months the two pulls share; only what had not
happened yet at the earlier ``period_end`` is new. Balance sheets depend on where the
period starts, since the opening position is part of the pull.

The modules, in the order generation uses them: ``records`` (what a ledger holds),
``accounts`` (the chart of accounts), ``catalogue`` (suppliers, countries and business sizes
to draw from), ``randomness`` (seeded draws, integer-cent money), ``profile`` (what is constant
about an entity), ``activity`` (a month of bills), ``books`` (double-entry posting),
``generate`` (one pull) and ``serialize`` (JSON-safe data).
"""

from journey.ledger.accounts import net_profit
from journey.ledger.generate import generate_ledger, ledger_key, ledger_period_end
from journey.ledger.records import (
    SIZES,
    Account,
    BalanceSheet,
    Bill,
    BillPayment,
    Ledger,
    PaymentMethod,
    ProfitAndLossPeriod,
    Supplier,
)
from journey.ledger.serialize import ledger_from_dict, ledger_summary, ledger_to_dict

__all__ = [
    "SIZES",
    "Account",
    "BalanceSheet",
    "Bill",
    "BillPayment",
    "Ledger",
    "PaymentMethod",
    "ProfitAndLossPeriod",
    "Supplier",
    "generate_ledger",
    "ledger_from_dict",
    "ledger_key",
    "ledger_period_end",
    "ledger_summary",
    "ledger_to_dict",
    "net_profit",
]
