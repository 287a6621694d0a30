"""The JSON API under /api/v1/, with its OpenAPI document and docs page served by the app itself."""

from __future__ import annotations

from ninja import NinjaAPI

from . import commitments, common

DESCRIPTION = """
The public list of livelihood commitments (民生实事清单) of each published programme, its changes
and its progress; and, with a token, progress reports, reviews and adjustments.

**Reading** published data needs no token. **Writing**, and reading internal data (progress
reports, adjustments not yet applied), needs a personal token sent as
`Authorization: Bearer <token>`: make one on the API tokens page of the web app, or an
administrator makes one with `shishi create-api-token USERNAME`. A token acts as its login: the
same roles and the same scope as in the web app. It expires after a number of days the operator
sets (90 by default), and ends when it is revoked, when its login's password is set, or when the
login is disabled; the 401 answer then says which.

**Formats**: amounts and target values are decimal strings (`"535.00"`), dates ISO 8601. Lists
take `limit` (at most 200) and `offset` and answer `count`, `limit`, `offset`, `items`.
Evidence files (photos, PDF) are not sent through the JSON API: attach them in the web app.

**Errors** all have one shape, `{"error": {"code", "message", "fields"}}`: 400 invalid values
(`fields` names each), 401 no or bad token, 403 your role does not allow it, 404 not found or
outside your scope, 409 already reviewed or decided, 422 the request does not match the schema,
429 too many requests (the `Retry-After` header says in how many seconds to try again).

**Rate limits**, per minute: anonymous reads per client address (a read served from the public
page cache is not counted), bad tokens per address (past it, no token is checked from that
address until the minute ends), and writes per token. The operator sets the numbers.
"""

api = NinjaAPI(
    title="Shishi API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
common.register(api)
# Requests without a token are counted per client address (shishi/ratelimit.py).
commitments.public.add_decorator(common.limit_anonymous, mode="view")
# One module per mechanism, each with its public reads and its token endpoints.
api.add_router("", commitments.public)
api.add_router("", commitments.work)
