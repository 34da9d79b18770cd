"""``--fault`` for a multi-site run: which site each injected fault goes to.

``site=NAME`` in a spec picks one site; without it a fault applies to every site the command
runs. Each spec is checked against its sites' recipes before any folder is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fibsims.recipe import Recipe
from fibsims.service.faults import FaultSpecError, resolve_faults

SITE_FAULT_KEY = "site"


def site_faults(specs: Sequence[str], recipe: Recipe) -> dict[str, tuple[dict[str, Any], ...]]:
    """``--fault`` specs per site: ``site=NAME`` picks one site, without it a fault applies to
    every site this command runs. Each is checked against its sites' recipes now."""
    sites = recipe.sites or []
    names = [s.name for s in sites]
    chosen: dict[str, list[str]] = {name: [] for name in names}
    for spec in specs:
        kind, at, rest = spec.partition("@")
        items = [item for item in rest.split(",") if item]
        picked = [i for i in items if i.startswith(f"{SITE_FAULT_KEY}=")]
        others = ",".join(i for i in items if not i.startswith(f"{SITE_FAULT_KEY}="))
        bare = f"{kind}{at}{others}"
        targets = names
        if picked:
            name = picked[-1].removeprefix(f"{SITE_FAULT_KEY}=")
            if name not in chosen:
                raise FaultSpecError(
                    f"--fault {spec!r}: the recipe has no site {name!r}; its sites: "
                    f"{', '.join(names)}"
                )
            targets = [name]
        for target in targets:
            chosen[target].append(bare)
    by_name = {s.name: s for s in sites}
    return {
        name: resolve_faults(found, recipe.at_site(by_name[name])) for name, found in chosen.items()
    }
