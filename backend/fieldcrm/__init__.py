"""fieldcrm: a field-sales CRM for key-account teams."""

__version__ = "0.1.0"
