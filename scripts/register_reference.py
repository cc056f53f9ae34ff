"""Register the reference extractors (origin ``reference``) into the feature library.

Each ``feature_library/extractors/<name>/v<k>.py`` listed in ``REFERENCE`` goes through the full
validation cascade (sandbox contract battery, then criterion tests on the validation phantoms)
via ``scafe.library.add.validate_and_register``; registering an unchanged file again is a no-op.
A file that fails is reported and left unregistered (exit 1), never forced in.

Usage: ``python scripts/register_reference.py [NAME ...]`` (default: all of them).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

#: extractor name -> criterion item it answers ("scale/item" in prompts/criteria/).
REFERENCE: dict[str, str] = {
    "vss_vascularity": "vss/vascularity",
    "vss_pigmentation": "vss/pigmentation",
    "surface_gloss": "manchester/surface",
    "rim_erythema": "jsw_keloid/rim_erythema",
    "colour_mismatch": "manchester/colour",
    "shape_irregularity": "jsw_keloid/shape",
    "pseudopod_projections": "jsw_keloid/horizontal_growth",
    "lesion_size": "jsw_keloid/size",
    "height_shading": "vss/height",
    "surface_relief": "posas_observer/relief",
}


def latest_file(folder: Path) -> Path:
    """Highest ``v<k>.py`` in ``folder``."""
    files = sorted(folder.glob("v*.py"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    if not files:
        raise SystemExit(f"no v<k>.py in {folder}")
    return files[-1]


def main(names: list[str]) -> int:
    """Register ``names`` (all when empty); return the exit code."""
    from scafe.errors import LibraryError
    from scafe.library import Library
    from scafe.library.add import validate_and_register

    library = Library.open()
    failed = 0
    for name in names or list(REFERENCE):
        path = latest_file(library.path / "extractors" / name)
        try:
            entry = validate_and_register(library, path.read_text(), name=name,
                                          criterion=REFERENCE[name], origin="reference")
        except LibraryError as exc:
            failed += 1
            print(f"FAILED {name}: {exc}")
            continue
        crit = entry.validation.get("criterion", {})
        print(f"ok {entry.name}@v{entry.version} {REFERENCE[name]} rho={crit.get('rho')} "
              f"worst nuisance={crit.get('worst_nuisance')}")
        library = library.reload()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
