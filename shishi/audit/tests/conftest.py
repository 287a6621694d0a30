import pytest

from shishi.audit.models import GLOBAL_CHAIN, Entry
from shishi.orgs import services


@pytest.fixture
def chain(tree):
    """Eleven entries from building the tree, plus a few changes: the city's entry in the
    global chain (it belongs to no county), the twelve others in the county's chain."""
    for name in ["东一村（新）", "东一村"]:
        services.update_org(None, tree["east_village"], name=name)
    assert Entry.objects.count() == 13
    assert Entry.objects.filter(chain=GLOBAL_CHAIN).count() == 1
    assert Entry.objects.filter(chain=tree["county"].pk).count() == 12
    return tree
