"""Clinical criteria files: load, validate and look up scar-scale items.

A criteria file is ``prompts/criteria/<scale>.yaml`` (the scale id is the file stem); clinicians
edit it, so every error names the file, the line and the fix, e.g.::

    unknown key 'directon' at vss.yaml:23 (items[0].ground_truth), did you mean 'direction'?

Subfolders of the criteria directory (``segmentation/``) belong to other tools and are ignored.
Each file's SHA-256 is kept so the feature library can tell when an extractor was generated
from a criteria text that has changed since (it is then *stale*).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scafe import paths
from scafe.errors import CriteriaError
from scafe.safe_yaml import compose_and_load

# The phantom columns criteria may point at (docs/CONTRACTS.md, "Phantoms"); kept here because a
# criteria file is validated without rendering any phantom. The first three are the physical
# quantities both phantom families export (haemoglobin excess, melanin log-ratio, surface relief).
GROUND_TRUTH_COLUMNS: tuple[str, ...] = (
    "latent_hb_excess", "latent_melanin_log_ratio", "latent_relief",
    "latent_extension_ratio", "latent_pseudopod_count", "latent_pseudopod_length",
    "latent_solidity", "latent_aspect_ratio", "latent_height_mm", "latent_gloss",
    "latent_central_delta_a", "latent_rim_delta_a", "latent_rim_width_mm",
    "latent_melanin_scale", "latent_telangiectasia_density",
    "latent_color_delta_e", "latent_area_mm2",
    "vss_vascularity", "vss_pigmentation", "vss_height", "vss_observable_total",
)  # fmt: skip

#: Nuisance columns a test may name, with the clinical words prompts and feedback use for them
#: (generator column names never reach a prompt: they would invite tuning to the phantom generator).
NUISANCE_TERMS: dict[str, str] = {
    "nuisance_ita": "skin tone",
    "nuisance_hb_baseline": "the natural redness of the patient's skin",
    "nuisance_color_temp_k": "the colour of the light (white balance)",
    "nuisance_illum_gradient": "uneven lighting across the photo",
    "nuisance_light_elevation_deg": "the elevation angle of the light",
    "nuisance_light_azimuth_deg": "the direction the light comes from",
    "nuisance_px_per_mm": "camera distance or zoom (pixels per millimetre)",
    "nuisance_skin_texture": "the texture of the surrounding skin",
    "nuisance_hair_density": "hair on the skin",
    "nuisance_blur_sigma": "focus blur",
    "nuisance_noise_sigma": "sensor noise",
    "nuisance_vignette": "lens vignetting",
    "nuisance_rotation_deg": "how the body part is turned in the photo",
    # other properties of the scar, which a measure of one item must not follow (confounders)
    "latent_area_mm2": "the size of the lesion",
    "latent_hb_excess": "the redness (haemoglobin) of the scar",
    "latent_melanin_log_ratio": "the pigmentation (melanin) of the scar",
    "latent_height_mm": "the height of the scar",
}

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def _known(value: str, known: tuple[str, ...] | list[str], kind: str) -> str:
    if value not in known:
        close = difflib.get_close_matches(value, list(known), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(known)}"
        raise ValueError(f"unknown {kind} {value!r}; {hint}")
    return value


class NuisanceSpec(BaseModel):
    """One nuisance of an item's criterion test: how much the output may follow it, and why.

    The bound is on ``r = partial Spearman(output, nuisance | ground truth)``: ``max_rho`` allows
    ``|r| <= max_rho``; ``range: [lo, hi]`` allows ``lo <= r <= hi`` instead, for a dependence
    physics imposes in one direction only (melanin hides redness, so a colour difference per unit
    haemoglobin is larger on lighter skin). ``why`` is the physical reason for the bound (shown to
    clinicians and, in plain words, to the LLM).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    max_rho: float | None = Field(None, gt=0.0, le=1.0)
    range: tuple[float, float] | None = None
    why: str = Field(min_length=10)

    @field_validator("column")
    @classmethod
    def _known_column(cls, value: str) -> str:
        return _known(value, tuple(NUISANCE_TERMS), "nuisance column")

    @model_validator(mode="after")
    def _one_bound(self) -> NuisanceSpec:
        if (self.max_rho is None) == (self.range is None):
            raise ValueError(f"nuisance {self.column!r} needs exactly one bound: max_rho: 0.3 or range: [-0.3, 0.8]")
        if self.range is not None and not -1.0 <= self.range[0] < self.range[1] <= 1.0:
            raise ValueError(f"range {list(self.range)} of nuisance {self.column!r} must be [lo, hi] with "
                             "-1 <= lo < hi <= 1")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)`` allowed for the partial correlation."""
        if self.range is not None:
            return self.range
        assert self.max_rho is not None
        return (-self.max_rho, self.max_rho)

    @property
    def allowed(self) -> str:
        """The bound in words, e.g. ``|rho| <= 0.30`` or ``-0.30 <= rho <= +0.85``."""
        if self.range is None:
            return f"|rho| <= {self.max_rho:.2f}"
        return f"{self.range[0]:+.2f} <= rho <= {self.range[1]:+.2f}"

    @property
    def words(self) -> str:
        """The nuisance in clinical words (what prompts and feedback say)."""
        return NUISANCE_TERMS[self.column]


class GroundTruth(BaseModel):
    """The test specification of an observable item (the criterion tests run exactly this).

    - ``column``: the phantom's physical quantity the item describes; ``quantity``: the same in
      clinical words (prompts never show the column name).
    - ``direction``: the sign of the required Spearman correlation between the main output and
      ``column``, chosen so that the output *rises as the item gets more pronounced*.
    - ``two_sided``: both directions of deviation are abnormal (hypo- and hyperpigmentation); the
      output may then track ``|column|`` (the size of the deviation) or ``column`` signed in
      ``direction``: either formulation passes.
    - ``within``: a nuisance held fixed when testing the tracking (partial Spearman given it), for
      items seen through shading, whose contrast physics ties to the light elevation.
    - ``min_rho``: the correlation required; ``nuisances``: every nuisance tested, with its bound
      and the physical reason.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    quantity: str = Field(min_length=5)
    direction: Literal["+", "-"]
    two_sided: bool = False
    within: str | None = None
    min_rho: float = Field(0.5, gt=0.0, le=1.0)
    nuisances: list[NuisanceSpec] = Field(min_length=1)
    why: str | None = None  # a note explaining a non-default threshold

    @field_validator("column")
    @classmethod
    def _known_column(cls, value: str) -> str:
        return _known(value, GROUND_TRUTH_COLUMNS, "phantom column")

    @model_validator(mode="after")
    def _consistent(self) -> GroundTruth:
        columns = [n.column for n in self.nuisances]
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise ValueError(f"nuisance {twice[0]!r} is listed twice; keep one entry")
        if self.within is not None and self.within not in columns:
            raise ValueError(
                f"within: {self.within!r} must also be listed under nuisances with the dependence "
                "physics allows and why"
            )
        return self

    @property
    def max_nuisance_rho(self) -> float:
        """The largest nuisance bound (a summary; each nuisance has its own)."""
        return max(max(abs(lo), abs(hi)) for lo, hi in (n.bounds for n in self.nuisances))

    def nuisance(self, column: str) -> NuisanceSpec | None:
        """The spec of nuisance ``column`` or ``None``."""
        return next((n for n in self.nuisances if n.column == column), None)


class CriterionItem(BaseModel):
    """One item of a scar scale (e.g. VSS vascularity)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    definition: str = Field(min_length=10)
    anchors: dict[str, str] = Field(min_length=2)
    observable_in_photo: bool
    unobservable_reason: str | None = None
    ground_truth: GroundTruth | None = None
    orientation_free: bool = True
    measurement_hint: str = ""

    @field_validator("id")
    @classmethod
    def _snake_id(cls, value: str) -> str:
        if not _SNAKE.match(value):
            fixed = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")
            raise ValueError(f"item id {value!r} must be snake_case, e.g. {fixed!r}")
        return value

    @field_validator("anchors", mode="before")
    @classmethod
    def _anchor_keys_as_text(cls, value: Any) -> Any:
        # YAML reads `0: normal` with an int key; scores are labels, so keep them as text.
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _observability_consistent(self) -> CriterionItem:
        if self.observable_in_photo and self.ground_truth is None:
            raise ValueError(
                f"item {self.id!r} is observable_in_photo but has no ground_truth; add "
                "ground_truth (column, quantity, direction, nuisances; see prompts/criteria/vss.yaml) "
                "or set observable_in_photo: false"
            )
        if not self.observable_in_photo and not self.unobservable_reason:
            raise ValueError(
                f"item {self.id!r} is not observable_in_photo; say why in unobservable_reason "
                "(e.g. 'needs palpation')"
            )
        if not self.observable_in_photo and self.ground_truth is not None:
            raise ValueError(
                f"item {self.id!r} is not observable_in_photo, so it cannot have a ground_truth; "
                "remove ground_truth or set observable_in_photo: true"
            )
        return self

    @property
    def observable(self) -> bool:
        """Alias of ``observable_in_photo``."""
        return self.observable_in_photo


class _CriteriaDocument(BaseModel):
    """What the YAML file itself may contain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: str | None = None
    title: str
    source: str = ""
    variant: str = ""
    notes: str = ""
    items: list[CriterionItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> _CriteriaDocument:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id {item.id!r} appears twice; item ids must be unique")
            seen.add(item.id)
        return self


class CriteriaFile(_CriteriaDocument):
    """A validated criteria file: the document plus where it came from and its SHA-256."""

    scale: str  # type: ignore[assignment]  # always set (file stem) after loading
    path: Path
    sha256: str

    def item(self, item_id: str) -> CriterionItem:
        """Return the item ``item_id``; raise ``CriteriaError`` with a suggestion otherwise."""
        for item in self.items:
            if item.id == item_id:
                return item
        ids = [i.id for i in self.items]
        close = difflib.get_close_matches(item_id, ids, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"items are: {', '.join(ids)}"
        raise CriteriaError(f"scale {self.scale!r} has no item {item_id!r}; {hint}")


# ----------------------------------------------------------------------------- YAML with lines


def _key_lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int],
               problems: list[str], filename: str) -> None:
    """Record the 1-based line of every mapping key/sequence element under ``node``."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:  # PyYAML would silently keep the last one
                problems.append(f"duplicate key {key!r} at {filename}:{line} (first at line {seen[key]}); remove one")
            seen[key] = line
            out[(*path, key)] = line
            _key_lines(value_node, (*path, key), out, problems, filename)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            out[(*path, index)] = child.start_mark.line + 1
            _key_lines(child, (*path, index), out, problems, filename)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model that owns location ``loc`` (for 'did you mean')."""
    if len(loc) >= 4 and loc[0] == "items" and loc[2] == "ground_truth" and loc[3] == "nuisances":
        return list(NuisanceSpec.model_fields)
    if len(loc) >= 3 and loc[0] == "items" and loc[2] == "ground_truth":
        return list(GroundTruth.model_fields)
    if len(loc) >= 2 and loc[0] == "items":
        return list(CriterionItem.model_fields)
    return list(_CriteriaDocument.model_fields)


def _format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int:
    for end in range(len(loc), 0, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return 1


def _explain(error: dict[str, Any], lines: dict[tuple[Any, ...], int], filename: str) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
    where = f"{filename}:{_line_of(loc, lines)}"
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
        return f"unknown key {key!r} at {where} ({_format_loc(loc[:-1])}), {hint}"
    if error["type"] == "missing":
        return f"missing key {str(loc[-1])!r} at {where} ({_format_loc(loc[:-1])}); add it"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{message} at {where} ({_format_loc(loc)})"


def _drop_explained_missing(errors: list[Any]) -> list[Any]:
    """Drop "missing key X" when an unknown key next to it is a typo of X (one message, not two)."""
    typos = set()
    for err in errors:
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(tuple(err["loc"][:-1]))
            for match in difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1, cutoff=0.6):
                typos.add((*err["loc"][:-1], match))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in typos)]


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of the file's bytes; what the library stores to detect stale entries."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def validate_criteria_file(path: str | Path) -> tuple[CriteriaFile | None, list[str]]:
    """Validate one file; return ``(criteria or None, problems)`` without raising."""
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [f"cannot read criteria file {str(path)!r}: {exc.strerror}; check the path"]
    text = raw.decode("utf-8", errors="replace")
    try:
        node, data = compose_and_load(text)  # SafeLoader with size/alias/depth limits (issue 12)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [f"YAML syntax error at {name}:{line}: {problem}; check indentation and quoting"]
    if not isinstance(data, dict) or node is None:
        return None, [f"{name}:1 must be a mapping with 'title' and 'items'; see prompts/criteria/vss.yaml"]
    lines: dict[tuple[Any, ...], int] = {}
    problems: list[str] = []
    _key_lines(node, (), lines, problems, name)
    stem = path.stem
    if data.get("scale") not in (None, stem):
        problems.append(
            f"scale {data['scale']!r} at {name}:{lines.get(('scale',), 1)} must equal the file name "
            f"stem {stem!r}; rename the file or fix the key"
        )
    try:
        document = _CriteriaDocument.model_validate(data)
    except ValidationError as exc:
        errors = list(exc.errors())
        problems.extend(_explain(err, lines, name) for err in _drop_explained_missing(errors))  # type: ignore[arg-type]
        return None, problems
    if problems:
        return None, problems
    fields = document.model_dump(exclude={"scale", "items"})
    criteria = CriteriaFile(
        scale=stem, items=document.items, path=path.resolve(),
        sha256=hashlib.sha256(raw).hexdigest(), **fields,
    )  # fmt: skip
    return criteria, []


def load_criteria(path: str | Path) -> CriteriaFile:
    """Load and validate one criteria file; raise ``CriteriaError`` listing every problem."""
    criteria, problems = validate_criteria_file(path)
    if criteria is None:
        raise CriteriaError("; ".join(problems))
    return criteria


def criteria_files(root: Path | None = None, directory: Path | None = None) -> list[Path]:
    """The ``*.yaml`` files directly in the criteria directory (subfolders are ignored)."""
    folder = directory or paths.criteria_dir(root)
    if not folder.is_dir():
        raise CriteriaError(f"criteria directory {str(folder)!r} does not exist; pass --root or set SCAFE_ROOT")
    return sorted(p for p in folder.glob("*.yaml") if p.is_file())


def all_criteria(root: Path | None = None, *, directory: Path | None = None) -> list[CriteriaFile]:
    """Load every criteria file under ``<root>/prompts/criteria`` (or ``directory``)."""
    return [load_criteria(p) for p in criteria_files(root, directory)]


def find_item(ref: str, root: Path | None = None, *, directory: Path | None = None) -> tuple[CriteriaFile, CriterionItem]:
    """Resolve ``"scale/item"`` (e.g. ``"vss/vascularity"``) to its file and item."""
    scale, sep, item_id = ref.partition("/")
    if not sep or not scale or not item_id:
        raise CriteriaError(f"criterion {ref!r} must look like SCALE/ITEM, e.g. 'vss/vascularity'")
    files = criteria_files(root, directory)
    by_scale = {p.stem: p for p in files}
    if scale not in by_scale:
        close = difflib.get_close_matches(scale, list(by_scale), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"scales are: {', '.join(by_scale) or 'none'}"
        raise CriteriaError(f"no criteria file for scale {scale!r}; {hint}")
    criteria = load_criteria(by_scale[scale])
    return criteria, criteria.item(item_id)
