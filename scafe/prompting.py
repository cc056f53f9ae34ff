"""Render the prompt templates (``prompts/templates/*.j2``, Jinja2 with ``StrictUndefined``).

This is core code (it never imports ``agents``): ``scafe criteria render`` uses it to show a
clinician exactly what the LLM will read, and ``scafe criteria check`` renders every template
against every criteria item so a template typo fails before any LLM is called.

Stages and the context each template needs besides ``item`` and ``criteria``:

- ``system`` — nothing else.
- ``plan`` — nothing else; asks for 1–3 feature specs as JSON.
- ``write`` — ``spec`` (one feature spec, a dict with ``name``, ``output_key``, ``measures``,
  ``formula``, ``units``, ``expected_range``).
- ``repair`` — ``spec``, ``previous_code`` (str or ``None`` when the reply had no code),
  ``failure`` (the failure report text), ``attempt`` (1-based number of the attempt that failed),
  optionally ``history`` (one line of figures per earlier attempt) and ``advice`` (lines keyed to
  the failure and to what the code already does).

Every stage also gets ``test``: the item's criterion test in clinical words
(:func:`scafe.criterion_words.spec_brief`), so the prompt states what the extractor will be
tested on, and the one wording of "rises/falls" the test itself uses.
- ``classify_image`` — ``labels``; ``item``/``criteria`` may be ``None``.
- ``classify_features`` — ``labels``, ``features`` (list of ``{name, value, description}``);
  ``item``/``criteria`` may be ``None``.

The allowed API shown to the LLM is read from ``sandbox.policy.ALLOWED_MODULES`` at render time,
so the prompt and the sandbox cannot disagree about what an extractor may call.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from scafe import paths
from scafe.errors import CriteriaError

STAGES = ("system", "plan", "write", "repair", "classify_image", "classify_features")
DEFAULT_LABELS = ("keloid", "hypertrophic")

# One-line docs for the calls an extractor most often needs; only names the policy allows are shown.
API_DOCS: dict[str, str] = {
    "numpy.asarray": "view/convert to an ndarray; use dtype=np.float64 before arithmetic on uint8 pixels",
    "numpy.where": "elementwise choice, or indices of True values",
    "numpy.nanmean": "mean ignoring NaN",
    "numpy.percentile": "q-th percentile (q in 0..100)",
    "numpy.log10": "base-10 log; clip inputs away from 0 first",
    "numpy.clip": "limit values to [lo, hi]",
    "numpy.count_nonzero": "number of True / non-zero elements",
    "numpy.arctan2": "angle of (y, x) in radians, full quadrant",
    "scipy.ndimage.distance_transform_edt": "Euclidean distance (px) of every non-zero pixel to the nearest zero pixel",
    "scipy.ndimage.binary_erosion": "shrink a bool mask (iterations=k px)",
    "scipy.ndimage.binary_dilation": "grow a bool mask (iterations=k px)",
    "scipy.ndimage.binary_fill_holes": "fill holes in a bool mask",
    "scipy.ndimage.label": "connected components -> (labels, count)",
    "scipy.ndimage.gaussian_filter": "Gaussian blur (sigma in px); pass a float array",
    "scipy.ndimage.sobel": "Sobel derivative along an axis",
    "skimage.color.rgb2lab": "RGB (uint8 or float 0..1) -> CIELAB float: L* 0..100, a* (green-red), b* (blue-yellow)",
    "skimage.color.rgb2hsv": "RGB -> HSV floats in 0..1",
    "skimage.color.rgb2gray": "RGB -> luminance float 0..1",
    "skimage.color.deltaE_cie76": "CIE76 colour difference between two Lab arrays",
    "skimage.measure.regionprops": "shape properties of labelled regions (area, perimeter, solidity, eccentricity, ...)",
    "skimage.measure.perimeter": "perimeter length (px) of a bool mask",
    "skimage.measure.label": "connected components of a mask -> label image",
    "skimage.morphology.convex_hull_image": "bool convex hull of a mask",
    "skimage.morphology.disk": "disk-shaped footprint of a radius (px)",
    "skimage.feature.graycomatrix": "grey-level co-occurrence matrix of a uint8 image",
    "skimage.feature.local_binary_pattern": "LBP codes of a 2-D image",
    "cv2.cvtColor": "colour conversion; note cv2 8-bit Lab is scaled (L*255/100, a+128)",
    "cv2.findContours": "contours of a uint8 mask -> (contours, hierarchy)",
    "math.log10": "base-10 log of a float",
}

SAMPLE_SPEC: dict[str, Any] = {
    "name": "sample_feature",
    "output_key": "sample_feature_value",
    "measures": "an example measurement used to check that templates render",
    "formula": "mean(inside) - mean(ring)",
    "units": "a* units",
    "expected_range": "-40..40",
}
SAMPLE_FAILURE = "check: dark_image\ninput: 64x64 all-black image, 10x10 mask\nexpected: finite float\ngot: nan"
SAMPLE_CODE = 'def extract(image, mask):\n    return {"sample_feature_value": 0.0}\n'


def allowed_api() -> list[dict[str, Any]]:
    """The modules an extractor may import, with their allowed names and short docs.

    Returns a list of ``{"module", "names", "docs": {name: doc}}``, read from
    ``sandbox.policy.ALLOWED_MODULES`` (modules with no names of their own, like ``scipy``, are
    parents of allowed submodules and are left out).
    """
    # sandbox imports nothing of ours; imported late to keep `--help` light
    from sandbox import policy

    modules = []
    for module, names in policy.ALLOWED_MODULES.items():
        if not names:
            continue
        docs = {n: API_DOCS[f"{module}.{n}"] for n in names if f"{module}.{n}" in API_DOCS}
        modules.append({"module": module, "names": sorted(names), "docs": docs})
    return modules


@lru_cache(maxsize=8)
def template_environment(directory: str) -> jinja2.Environment:
    """The one Jinja2 environment for prompt templates in ``directory`` (StrictUndefined, plain text).

    Sandboxed (``ImmutableSandboxedEnvironment``): a template reaches no dunder attribute, no
    ``__globals__``/``os``, and mutates nothing it is given (issue 12 item 7).
    """
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,  # a missing variable is an error, never an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # prompts are plain text, not HTML
    )


def _template_dir(root: Path | None) -> Path:
    directory = paths.templates_dir(root)
    if not directory.is_dir():
        raise CriteriaError(f"template directory {str(directory)!r} does not exist; pass --root or set SCAFE_ROOT")
    return directory


def render(stage: str, *, item: Any, criteria: Any, root: Path | None = None, **context: Any) -> str:
    """Render ``prompts/templates/<stage>.j2`` for one criterion item.

    Parameters
    ----------
    stage : str
        One of :data:`STAGES`.
    item, criteria : CriterionItem, CriteriaFile
        The item and its file (``None`` allowed for the ``classify_*`` stages).
    root : Path, optional
        Project root holding ``prompts/templates``.
    **context
        Stage-specific variables (see the module docstring).

    Raises
    ------
    CriteriaError
        Unknown stage, missing template, or a template error (undefined variable, syntax).
    """
    if stage not in STAGES:
        raise CriteriaError(f"unknown prompt stage {stage!r}; choose one of {', '.join(STAGES)}")
    if item is None and not stage.startswith("classify"):
        raise CriteriaError(f"stage {stage!r} needs a criterion item; pass item=... and criteria=...")
    directory = _template_dir(root)
    env = template_environment(str(directory))
    variables = {
        "item": item,
        "criteria": criteria,
        "scale": getattr(criteria, "scale", None),
        "allowed_api": allowed_api(),
        "labels": list(DEFAULT_LABELS),
        "test": _test_brief(item),
        "history": [],
        "advice": [],
        **context,
    }
    try:
        return env.get_template(f"{stage}.j2").render(**variables)
    except jinja2.TemplateNotFound as exc:
        raise CriteriaError(f"template {stage}.j2 is missing from {str(directory)!r}; restore it from git") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise CriteriaError(f"syntax error in template {exc.name or stage + '.j2'}:{exc.lineno}: {exc.message}") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise CriteriaError(f"template {stage}.j2 tried an unsafe operation ({exc}); templates may only "
                            "format the values they are given") from exc
    except jinja2.UndefinedError as exc:
        raise CriteriaError(
            f"template {stage}.j2 uses an undefined value ({exc.message}) for item "
            f"{getattr(item, 'id', None)!r}; fix the template or pass the variable"
        ) from exc


def _test_brief(item: Any) -> dict[str, Any] | None:
    """The item's criterion test in words (``None`` for the classify stages without an item)."""
    if item is None or getattr(item, "ground_truth", None) is None:
        return {"trend": "", "tracking": "", "nuisances": [], "invariance": None, "why": ""}
    from scafe.criterion_tests.phantom_sets import CRITERION_FAMILIES
    from scafe.criterion_words import spec_brief

    return spec_brief(item, n_families=len(CRITERION_FAMILIES))


def messages(stage: str, *, item: Any, criteria: Any, root: Path | None = None, **context: Any) -> list[dict[str, str]]:
    """``[system, user]`` chat messages for ``stage`` (the system prompt is shared by all stages)."""
    return [
        {"role": "system", "content": render("system", item=item, criteria=criteria, root=root)},
        {"role": "user", "content": render(stage, item=item, criteria=criteria, root=root, **context)},
    ]


def prompt_sha256(chat: list[dict[str, Any]]) -> str:
    """SHA-256 of the messages' roles and text: the prompt a generated extractor records."""
    digest = hashlib.sha256()
    for message in chat:
        digest.update(f"{message['role']}\n{message['content']}\n\x00".encode())
    return digest.hexdigest()


def sample_context(stage: str) -> dict[str, Any]:
    """Placeholder context that lets every stage render (used by checks and previews)."""
    if stage == "write":
        return {"spec": SAMPLE_SPEC}
    if stage == "repair":
        return {"spec": SAMPLE_SPEC, "previous_code": SAMPLE_CODE, "failure": SAMPLE_FAILURE, "attempt": 1}
    if stage == "classify_features":
        return {"features": [{"name": "sample_feature_value", "value": 1.5, "description": "an example"}]}
    return {}


def check_templates(criteria_files: list[Any], root: Path | None = None) -> list[str]:
    """Render every stage for every observable item; return the problems found (empty = fine).

    Unobservable items (``observable_in_photo: false``) are skipped for plan/write/repair: no
    extractor is ever generated for them.
    """
    problems: list[str] = []
    for stage in ("classify_image", "classify_features"):
        try:
            render(stage, item=None, criteria=None, root=root, **sample_context(stage))
        except CriteriaError as exc:
            problems.append(str(exc))
    for criteria in criteria_files:
        for item in criteria.items:
            if not getattr(item, "observable_in_photo", True):
                continue
            for stage in ("system", "plan", "write", "repair"):
                try:
                    text = render(stage, item=item, criteria=criteria, root=root, **sample_context(stage))
                except CriteriaError as exc:
                    problems.append(f"{criteria.scale}/{item.id}: {exc}")
                    continue
                if not text.strip():
                    problems.append(f"{criteria.scale}/{item.id}: template {stage}.j2 rendered empty text")
    return problems
