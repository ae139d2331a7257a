"""Use cases of the sales domain (catalogue, opportunities, quotes), gathered for controllers and sync."""

from fieldcrm.sales import approval, timeline
from fieldcrm.sales.catalogue import create_product, get_product, list_products, update_product
from fieldcrm.sales.opportunities import (
    create_opportunity,
    get_opportunity,
    list_opportunities,
    list_stages,
    merge_opportunity,
    pipeline,
    put_stage,
    update_opportunity,
    won_opportunity,
)
from fieldcrm.sales.printing import print_quote
from fieldcrm.sales.quotes import (
    create_quote,
    expire_due,
    get_quote,
    list_quotes,
    revise_quote,
    transition,
    update_quote,
    update_quote_offline,
)

__all__ = [
    "approval",
    "create_opportunity",
    "create_product",
    "create_quote",
    "expire_due",
    "get_opportunity",
    "get_product",
    "get_quote",
    "list_opportunities",
    "list_products",
    "list_quotes",
    "list_stages",
    "merge_opportunity",
    "pipeline",
    "print_quote",
    "put_stage",
    "revise_quote",
    "timeline",
    "transition",
    "update_opportunity",
    "update_product",
    "update_quote",
    "update_quote_offline",
    "won_opportunity",
]
