"""The ERPNext boundary: an async REST client and its error tree."""

from engine.erpnext.client import ERPNextClient
from engine.erpnext.errors import ERPNextError

__all__ = ['ERPNextClient', 'ERPNextError']
