"""Every page and endpoint `make bench` measures: data in one place.

A mechanism adds its pages here, one line each: (name, path, signed in?). Paths are filled from
the ids in ``bench.run.Ids`` (``{county}``, ``{town}``, ``{person}``, ``{programme}``,
``{commitment}``, ``{number}``).
"""

FLOORS = [
    ("floor: bare endpoint", "/livez", False),
    ("floor: static file", "/static/css/shishi.css", False),
]

ENDPOINTS = [
    # Public pages.
    ("public: front page", "/", False),
    ("public: lists of commitments", "/commitments/", False),
    ("public: a programme's list", "/commitments/{programme}/", False),
    ("public: a commitment", "/commitments/{programme}/{number}/", False),
    ("public: the change log", "/commitments/{programme}/changes/", False),
    ("public: the list on a date", "/commitments/{programme}/history/?on={published}", False),
    ("public: open data (CSV, streamed)", "/commitments/{programme}/data.csv", False),
    ("public: audit log checkpoints", "/audit/checkpoints/", False),
    ("public: audit checkpoints (open data)", "/audit/checkpoints.json", False),
    # The workspace, signed in as a county office administrator of the measured county.
    ("work: home", "/work/", True),
    ("work: a county", "/work/orgs/{county}/", True),
    ("work: a town", "/work/orgs/{town}/", True),
    ("work: one town's branches", "/work/orgs/search/?within={town}&kind=branch", True),
    ("work: a person", "/work/orgs/people/{person}/", True),
    ("work: commitments desk", "/work/commitments/", True),
    ("work: a programme", "/work/commitments/programmes/{programme}/", True),
    ("work: a commitment", "/work/commitments/{commitment}/", True),
    ("work: adjustments", "/work/commitments/adjustments/", True),
    ("work: audit log", "/work/audit/", True),
    # The JSON API, read without a token.
    ("api: programmes", "/api/v1/programmes", False),
    ("api: a programme's summary", "/api/v1/programmes/{programme}/summary", False),
    ("api: commitments", "/api/v1/commitments?programme={programme}&limit=50", False),
    ("api: a commitment", "/api/v1/commitments/{commitment}", False),
    ("api: the change log", "/api/v1/programmes/{programme}/changes", False),
]
