"""Contracts, their lines, agreed tariffs and documents; bills, payments and collection contacts."""

from piccolo.columns import JSON, BigInt, Boolean, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from fieldcrm.accounts.tables import Account
from fieldcrm.lib.tables import created_column, pk, updated_column
from fieldcrm.org.tables import User
from fieldcrm.sales.tables import Product, Quote


class ContractCounter(Table, tablename="contract_counters"):
    """The last contract number handed out in a year (gap-free: taken in the creating transaction)."""

    id = pk()
    year = Integer(unique=True)
    last = Integer(default=0)


class Contract(Table, tablename="contracts"):
    """What was agreed with an account, from when to when, and where it stands."""

    id = pk()
    number = Varchar(length=32, unique=True)  # C-2026-00001
    year = Integer()
    seq = Integer()
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200, default="")
    status = Varchar(length=16, default="draft", index=True)
    start_on = Date(null=True, default=None)
    end_on = Date(null=True, default=None, index=True)
    auto_renew = Boolean(default=False)
    notice_days = Integer(default=30)
    signed_on = Date(null=True, default=None)
    signatories = JSON(default="[]")
    currency = Varchar(length=3, default="CNY")
    total_cents = BigInt(default=0)
    renewal_opened_at = Timestamptz(null=True, default=None)
    renewed_by: ForeignKey["Contract"] = ForeignKey("self", null=True, default=None, on_delete=OnDelete.set_null)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    version = Integer(default=1)
    created_at = created_column()
    updated_at = updated_column()


class ContractQuote(Table, tablename="contract_quotes"):
    """A quote a contract came from."""

    id = pk()
    contract = ForeignKey(Contract, on_delete=OnDelete.cascade, index=True)
    quote = ForeignKey(Quote, on_delete=OnDelete.restrict, index=True)


class ContractLine(Table, tablename="contract_lines"):
    """A line of a contract, copied exactly from its quote."""

    id = pk()
    contract = ForeignKey(Contract, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=0)
    product = ForeignKey(Product, null=True, default=None, on_delete=OnDelete.set_null)
    product_code = Varchar(length=64, default="")
    product_name = Varchar(length=200, default="")
    unit = Varchar(length=32, default="")
    quantity = BigInt(default=1)
    list_price_cents = BigInt(default=0)
    unit_price_cents = BigInt(default=0)
    discount_bp = Integer(default=0)
    total_cents = BigInt(default=0)


class AgreedTariff(Table, tablename="agreed_tariffs"):
    """A price or discount agreed for an account on one product, for a period."""

    id = pk()
    contract = ForeignKey(Contract, on_delete=OnDelete.cascade, index=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    product = ForeignKey(Product, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    product_code = Varchar(length=64, default="")
    product_name = Varchar(length=200, default="")
    price_cents = BigInt(null=True, default=None)
    discount_bp = Integer(null=True, default=None)
    valid_from = Date(null=True, default=None)
    valid_to = Date(null=True, default=None)
    created_at = created_column()


class ContractDocument(Table, tablename="contract_documents"):
    """A signed scan or PDF of a contract, stored under the media folder by its SHA-256."""

    id = pk()
    contract = ForeignKey(Contract, on_delete=OnDelete.cascade, index=True)
    sha256 = Varchar(length=64)
    media_type = Varchar(length=64)
    filename = Varchar(length=200, default="")
    size = BigInt(default=0)
    uploaded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = created_column()


class Bill(Table, tablename="bills"):
    """A bill of the billing system for an account and a month."""

    id = pk()
    bill_number = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    period = Varchar(length=7)  # YYYY-MM
    amount_due_cents = BigInt(default=0)
    paid_cents = BigInt(default=0)
    issued_on = Date(null=True, default=None)
    due_on = Date(index=True)
    status = Varchar(length=16, default="open", index=True)  # open | partial | paid | void
    collection_task_at = Timestamptz(null=True, default=None)  # once per bill
    created_at = created_column()
    updated_at = updated_column()


class Payment(Table, tablename="payments"):
    """A payment the billing system received from an account."""

    id = pk()
    payment_ref = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    bill = ForeignKey(Bill, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    amount_cents = BigInt(default=0)
    paid_on = Date(index=True)
    method = Varchar(length=32, default="")
    created_at = created_column()
    updated_at = updated_column()


class CollectionContact(Table, tablename="collection_contacts"):
    """A rep's contact about unpaid bills: a promise to pay, a dispute, or a note."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    bill = ForeignKey(Bill, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    kind = Varchar(length=16)  # promise | dispute | note
    promised_on = Date(null=True, default=None, index=True)
    promised_cents = BigInt(null=True, default=None)
    reason = Text(default="")
    note = Text(default="")
    status = Varchar(length=16, default="open", index=True)  # open | kept | broken
    recorded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    recorded_by_name = Varchar(length=120, default="")
    captured_at = Timestamptz(null=True, default=None)
    followup_at = Timestamptz(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()


class AccountArrears(Table, tablename="account_arrears"):
    """Per account with unpaid bills: the oldest unpaid due date and what is unpaid, kept with the bills.

    The arrears list pages on this (by oldest due date) instead of grouping every bill on each request.
    """

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.cascade, unique=True)
    oldest_due_on = Date(index=True)
    outstanding_cents = BigInt(default=0)
    updated_at = updated_column()
