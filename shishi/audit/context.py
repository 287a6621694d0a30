"""The request a change happens in (request id, address), for the audit log.

A context variable, not a thread-local: it is set by the middleware for a web request and is empty
for commands and jobs, whose entries then carry no request id.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    # What one request may read once and reuse (the calendar's version): a dict per web request,
    # None outside one (commands and jobs, which check again after a short while instead).
    memo: dict | None = None


current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "shishi_request",
    default=RequestContext(),  # noqa: B039 (frozen, so immutable)
)
