"""What can go wrong when talking to ERPNext, as one small tree.

    ERPNextError                     any failed call; .message is readable and sanitised
    ├── AuthError                    401 (bad key or secret) or 403 (no permission)
    ├── NotFoundError                404: the document, DocType or route does not exist
    ├── DuplicateError               409: a document with that name already exists
    ├── ValidationError              417/400/other 4xx: ERPNext refused the data (NameError 409 too)
    ├── QueryRefusedError            a look-up ERPNext refuses (DataError on a GET): a Provisioner bug
    ├── OutgoingEmailError           501: ERPNext has no outgoing e-mail account; retrying cannot help
    ├── InvalidResponseError         an answer we cannot read (HTML page, truncated JSON, wrong shape)
    └── TransientError               worth retrying as is
        ├── UnavailableError         connection refused, 5xx, proxy pages, deadlocks
        ├── RequestTimeoutError      no answer within the client's timeout
        ├── RateLimitedError         429; .retry_after in seconds when ERPNext said so
        └── TimestampMismatchError   the document changed since we read it: re-read, then retry
"""

from __future__ import annotations


class ERPNextError(Exception):
    """A call to ERPNext failed; carries what the operator needs to find it again."""

    def __init__(self, message: str, *, status: int | None = None, exc_type: str | None = None,
                 method: str | None = None, doctype: str | None = None, name: str | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.exc_type = exc_type
        self.method = method
        self.doctype = doctype
        self.name = name
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class AuthError(ERPNextError):
    """ERPNext rejected the API key pair (401) or the key's user lacks a permission (403)."""


class NotFoundError(ERPNextError):
    """The document, DocType or route does not exist (404)."""


class DuplicateError(ERPNextError):
    """A document with this name already exists (409 DuplicateEntryError). A 409 NameError is a
    refusal of the name (ValidationError), not a duplicate."""


class ValidationError(ERPNextError):
    """ERPNext refused the request's data (417 and other 4xx): mandatory, link, controller checks."""


class QueryRefusedError(ERPNextError):
    """ERPNext refused a look-up of ours (417 DataError "Field not permitted in query" on a GET): the
    query names a field the DocType does not have. A bug to report, not something to fix in ERPNext."""


class OutgoingEmailError(ERPNextError):
    """ERPNext could not send an e-mail because it has no outgoing Email Account (501). Not transient:
    it fails the same way until somebody sets one up in ERPNext."""


class InvalidResponseError(ERPNextError):
    """ERPNext (or something in front of it) answered with something we cannot interpret."""


class TransientError(ERPNextError):
    """A failure that may well pass if the same call is made again a little later."""


class UnavailableError(TransientError):
    """ERPNext could not be reached or answered 5xx (including deadlocks and query timeouts)."""


class RequestTimeoutError(TransientError):
    """ERPNext did not answer within the client's timeout."""


class RateLimitedError(TransientError):
    """ERPNext's rate limiter refused the call (429); `retry_after` says when to come back."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class TimestampMismatchError(TransientError):
    """The document was modified after we read it (417 TimestampMismatchError): re-read and retry."""
