"""Why a request brought no answer: the error tree the window retries by, whatever the provider.

A provider (`providers/`) classifies its answers into these; the transport raises `Timeout` and
`ConnectionFailed`. Each class names its `error_class` from `evalhouse.vocabulary.ERROR_CLASSES` (the
column stored on an error row; a test checks each is there) and says whether another attempt can help:

    APIError
     ├── RetryableError          worth another attempt (a Retry-After travels with it)
     │    ├── RateLimited        429, or a 402 sent with a Retry-After
     │    ├── ServerError        5xx, 408
     │    ├── Timeout            no answer in time
     │    ├── ConnectionFailed   refused, reset, body cut off
     │    ├── MalformedBody      an answer that is not the protocol's JSON
     │    ├── ProviderError      an error reported inside a 200
     │    └── EmptyAnswer        empty content although the model stopped normally
     └── FatalError              400, 403, 404, 422 …: the same request would fail again
          └── RunStopper         401 (key rejected), 402 (no credit): no request of this run can succeed
"""

from __future__ import annotations

from .reply import Completion


class APIError(Exception):
    error_class = "api_error"
    # Whether the request may have been billed although no answer came back (lost in transit): the
    # cost cap keeps its whole reservation. An HTTP error answer is not billed.
    maybe_billed = False

    def __init__(self, message: str, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after
        self.completion: Completion | None = None  # what came back with it, when anything did


class RetryableError(APIError):
    pass


class RateLimited(RetryableError):
    error_class = "rate_limited"


class ServerError(RetryableError):
    error_class = "server_error"


class Timeout(RetryableError):
    error_class = "timeout"
    maybe_billed = True


class ConnectionFailed(RetryableError):
    error_class = "connection"
    maybe_billed = True


class MalformedBody(RetryableError):
    error_class = "malformed_body"
    maybe_billed = True  # a body cut off in transit may have been a billed answer


class ProviderError(RetryableError):
    """An error the provider reported inside a 200 body."""

    error_class = "provider_error"


class EmptyAnswer(RetryableError):
    """Empty content with a normal stop: seen after cold starts, so asked again; kept if it persists."""

    error_class = "empty_content"

    def __init__(self, completion: Completion):
        super().__init__("empty content with a normal stop", 200)
        self.completion = completion


class FatalError(APIError):
    error_class = "client_error"


class RunStopper(FatalError):
    """The key is rejected or the credit is gone: every other request would fail the same way."""

    error_class = "refused"
