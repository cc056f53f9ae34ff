"""Generic radiomics features for the seed-002 baselines: shape2D, first order, GLCM, GLSZM.

Two backends compute the same four families on the lesion mask of the grey-level image
``g = 0.299 R + 0.587 G + 0.114 B`` (PyRadiomics works on one channel; seed 002 used 67 such
features on mammograms):

- ``pyradiomics``: PyRadiomics 3.0.1 (``force2D``, ``binWidth=25``, the 67 default features of
  these four classes) when it is importable;
- ``scikit-image``: our own implementation of the same families with scikit-image/scipy, used
  otherwise; names mirror PyRadiomics (``shape2D_Sphericity``), values follow its definitions
  (discretisation ``bin = floor(g / 25) - floor(min_roi / 25) + 1``, GLCM at distance 1 averaged
  over 0°, 45°, 90°, 135° symmetric matrices, GLSZM with 8-connected zones) but are not
  bit-identical to PyRadiomics.

:func:`radiomics_backend` says which one runs, and the report prints it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from scipy import ndimage, stats

BIN_WIDTH = 25.0  # PyRadiomics' default, in grey levels of an 8-bit image
FAMILIES = ("shape2D", "firstorder", "glcm", "glszm")


def radiomics_backend() -> str:
    """``"pyradiomics"`` when PyRadiomics and SimpleITK import, else ``"scikit-image"``."""
    try:
        import radiomics  # noqa: F401
        import SimpleITK  # noqa: F401
    except Exception:  # ImportError, or a broken C build raising something else
        return "scikit-image"
    return "pyradiomics"


def _gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, dtype=float)
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114 if img.ndim == 3 else img


def _pyradiomics_extractor():
    from radiomics import featureextractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    ex = featureextractor.RadiomicsFeatureExtractor(force2D=True, binWidth=BIN_WIDTH)
    ex.disableAllFeatures()
    for family in FAMILIES:
        ex.enableFeatureClassByName(family)
    return ex


def _pyradiomics_features(extractor, image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(_gray(image)[None].astype(np.float32))
    msk = sitk.GetImageFromArray(mask[None].astype(np.uint8))
    out = extractor.execute(img, msk)
    return {k.removeprefix("original_"): float(v) for k, v in out.items() if k.startswith("original_")}


# --------------------------------------------------------------------------- scikit-image families
def _shape2d(mask: np.ndarray) -> dict[str, float]:
    from skimage import measure

    props = measure.regionprops(mask.astype(np.uint8))[0]
    area = float(mask.sum())
    perim = float(measure.perimeter(mask))
    coords = np.argwhere(mask)
    # maximum Feret diameter from the convex hull's vertices (exact, cheap)
    try:
        from scipy.spatial import ConvexHull

        hull = coords[ConvexHull(coords).vertices] if len(coords) >= 3 else coords
    except Exception:  # degenerate (collinear) masks
        hull = coords
    diff = hull[:, None, :] - hull[None, :, :]
    max_d = float(np.sqrt((diff**2).sum(-1)).max()) if len(hull) > 1 else 0.0
    major, minor = float(props.axis_major_length), float(props.axis_minor_length)
    return {
        "shape2D_MeshSurface": area,
        "shape2D_PixelSurface": area,
        "shape2D_Perimeter": perim,
        "shape2D_PerimeterSurfaceRatio": perim / area if area else math.nan,
        "shape2D_Sphericity": 2 * math.sqrt(math.pi * area) / perim if perim else math.nan,
        "shape2D_MaximumDiameter": max_d,
        "shape2D_MajorAxisLength": major,
        "shape2D_MinorAxisLength": minor,
        "shape2D_Elongation": minor / major if major else math.nan,
    }


def _firstorder(x: np.ndarray, levels: np.ndarray) -> dict[str, float]:
    p10, p25, p50, p75, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    robust = x[(x >= p10) & (x <= p90)]
    _, counts = np.unique(levels, return_counts=True)
    prob = counts / counts.sum()
    energy = float((x**2).sum())
    return {
        "firstorder_10Percentile": p10,
        "firstorder_90Percentile": p90,
        "firstorder_Energy": energy,
        "firstorder_TotalEnergy": energy,  # pixel spacing 1 x 1
        "firstorder_Entropy": float(-(prob * np.log2(prob + 1e-16)).sum()),
        "firstorder_InterquartileRange": p75 - p25,
        "firstorder_Kurtosis": float(stats.kurtosis(x, fisher=False)) if x.std() > 0 else math.nan,
        "firstorder_Maximum": float(x.max()),
        "firstorder_MeanAbsoluteDeviation": float(np.abs(x - x.mean()).mean()),
        "firstorder_Mean": float(x.mean()),
        "firstorder_Median": p50,
        "firstorder_Minimum": float(x.min()),
        "firstorder_Range": float(x.max() - x.min()),
        "firstorder_RobustMeanAbsoluteDeviation": float(np.abs(robust - robust.mean()).mean()),
        "firstorder_RootMeanSquared": float(np.sqrt((x**2).mean())),
        "firstorder_Skewness": float(stats.skew(x)) if x.std() > 0 else math.nan,
        "firstorder_Uniformity": float((prob**2).sum()),
        "firstorder_Variance": float(x.var()),
    }


def _glcm(q: np.ndarray, n_levels: int) -> dict[str, float]:
    """GLCM at distance 1, 4 angles, symmetric, normalised per angle, features averaged."""
    from skimage.feature import graycomatrix

    # level 0 marks "outside the mask"; its row/column is dropped so only ROI pairs count
    m = graycomatrix(q, [1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=n_levels + 1, symmetric=True)
    m = m[1:, 1:, 0, :].astype(float)
    feats: dict[str, list[float]] = {}
    i, j = np.meshgrid(np.arange(1, n_levels + 1), np.arange(1, n_levels + 1), indexing="ij")
    eps = 1e-16
    for a in range(m.shape[-1]):
        p = m[..., a]
        if p.sum() == 0:
            continue
        p = p / p.sum()
        px, py = p.sum(1), p.sum(0)
        ux, uy = (i * p).sum(), (j * p).sum()
        sx, sy = math.sqrt(((i - ux) ** 2 * p).sum()), math.sqrt(((j - uy) ** 2 * p).sum())
        k = np.abs(i - j)
        pdiff = np.bincount(k.ravel(), p.ravel())
        psum = np.bincount((i + j).ravel(), p.ravel())
        hxy = -(p * np.log2(p + eps)).sum()
        hx = -(px * np.log2(px + eps)).sum()
        pxpy = px[:, None] * py[None, :]
        hxy1 = -(p * np.log2(pxpy + eps)).sum()
        hxy2 = -(pxpy * np.log2(pxpy + eps)).sum()
        kk = np.arange(len(pdiff))
        # MCC: sqrt of the 2nd largest eigenvalue of Q(i,k) = sum_j p(i,j) p(k,j) / (px(i) py(j))
        with np.errstate(invalid="ignore", divide="ignore"):
            q_mat = np.nan_to_num(p / px[:, None]) @ np.nan_to_num(p / py[None, :]).T
        eig = np.sort(np.abs(np.linalg.eigvals(q_mat)))[::-1]
        mcc = math.sqrt(eig[1]) if len(eig) > 1 else 1.0
        da = (kk * pdiff).sum()
        values = {
            "Autocorrelation": (i * j * p).sum(),
            "ClusterProminence": (((i + j - ux - uy) ** 4) * p).sum(),
            "ClusterShade": (((i + j - ux - uy) ** 3) * p).sum(),
            "ClusterTendency": (((i + j - ux - uy) ** 2) * p).sum(),
            "Contrast": ((i - j) ** 2 * p).sum(),
            "Correlation": ((i * j * p).sum() - ux * uy) / (sx * sy) if sx * sy > 0 else 1.0,
            "DifferenceAverage": da,
            "DifferenceEntropy": -(pdiff * np.log2(pdiff + eps)).sum(),
            "DifferenceVariance": (((kk - da) ** 2) * pdiff).sum(),
            "Id": (p / (1 + k)).sum(),
            "Idm": (p / (1 + k**2)).sum(),
            "Idmn": (p / (1 + (k**2) / n_levels**2)).sum(),
            "Idn": (p / (1 + k / n_levels)).sum(),
            "Imc1": (hxy - hxy1) / hx if hx > 0 else 0.0,
            "Imc2": math.sqrt(max(0.0, 1 - math.exp(-2 * (hxy2 - hxy)))),
            "InverseVariance": (p[k > 0] / (k[k > 0] ** 2)).sum(),
            "JointAverage": ux,
            "JointEnergy": (p**2).sum(),
            "JointEntropy": hxy,
            "MCC": mcc,
            "MaximumProbability": p.max(),
            "SumAverage": (np.arange(len(psum)) * psum).sum(),
            "SumEntropy": -(psum * np.log2(psum + eps)).sum(),
            "SumSquares": ((i - ux) ** 2 * p).sum(),
        }
        for name, v in values.items():
            feats.setdefault(name, []).append(float(v))
    return {f"glcm_{k}": float(np.mean(v)) for k, v in feats.items()}


def _glszm(q: np.ndarray, n_levels: int) -> dict[str, float]:
    """Grey-level size-zone matrix: 8-connected zones of equal level inside the ROI."""
    structure = np.ones((3, 3), dtype=bool)
    levels, sizes = [], []
    for g in range(1, n_levels + 1):
        lab, n = ndimage.label(q == g, structure=structure)
        if n:
            s = np.bincount(lab.ravel())[1:]
            levels.extend([g] * len(s))
            sizes.extend(s.tolist())
    lv, sz = np.asarray(levels, float), np.asarray(sizes, float)
    nz, npix = len(sz), float(sz.sum())
    if nz == 0:
        return {}
    _, gl_counts = np.unique(lv, return_counts=True)
    _, sz_counts = np.unique(sz, return_counts=True)
    pij = pd.Series(1.0, index=pd.MultiIndex.from_arrays([lv, sz])).groupby(level=[0, 1]).sum().to_numpy() / nz
    mu_g, mu_s = lv.mean(), sz.mean()
    return {
        "glszm_GrayLevelNonUniformity": float((gl_counts**2).sum() / nz),
        "glszm_GrayLevelNonUniformityNormalized": float((gl_counts**2).sum() / nz**2),
        "glszm_GrayLevelVariance": float(((lv - mu_g) ** 2).mean()),
        "glszm_HighGrayLevelZoneEmphasis": float((lv**2).mean()),
        "glszm_LargeAreaEmphasis": float((sz**2).mean()),
        "glszm_LargeAreaHighGrayLevelEmphasis": float((sz**2 * lv**2).mean()),
        "glszm_LargeAreaLowGrayLevelEmphasis": float((sz**2 / lv**2).mean()),
        "glszm_LowGrayLevelZoneEmphasis": float((1 / lv**2).mean()),
        "glszm_SizeZoneNonUniformity": float((sz_counts**2).sum() / nz),
        "glszm_SizeZoneNonUniformityNormalized": float((sz_counts**2).sum() / nz**2),
        "glszm_SmallAreaEmphasis": float((1 / sz**2).mean()),
        "glszm_SmallAreaHighGrayLevelEmphasis": float((lv**2 / sz**2).mean()),
        "glszm_SmallAreaLowGrayLevelEmphasis": float((1 / (sz**2 * lv**2)).mean()),
        "glszm_ZoneEntropy": float(-(pij * np.log2(pij + 1e-16)).sum()),
        "glszm_ZonePercentage": nz / npix,
        "glszm_ZoneVariance": float(((sz - mu_s) ** 2).mean()),
    }


def skimage_features(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """The four families with scikit-image/scipy (see module docstring); ``{}`` for an empty mask."""
    mask = np.asarray(mask, dtype=bool)
    if mask.sum() < 2:
        return {}
    g = _gray(image)
    rows, cols = np.nonzero(mask)
    sl = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    g, m = g[sl], mask[sl]
    x = g[m]
    # PyRadiomics' fixed-bin-width discretisation, relative to the ROI minimum
    q_roi = (np.floor(x / BIN_WIDTH) - np.floor(x.min() / BIN_WIDTH) + 1).astype(int)
    n_levels = int(q_roi.max())
    q = np.zeros(g.shape, dtype=np.uint8)
    q[m] = q_roi
    return {**_shape2d(m), **_firstorder(x, q_roi), **_glcm(q, n_levels), **_glszm(q, n_levels)}


def make_computer(backend: str | None = None) -> Callable[[np.ndarray, np.ndarray], dict[str, float]]:
    """A function ``(image, mask) -> features`` for ``backend`` (default: :func:`radiomics_backend`).

    A failing case (empty mask, degenerate ROI) gives ``{}`` (a row of NaN) with a logged warning
    instead of stopping the batch, as PyRadiomics itself does.
    """
    backend = backend or radiomics_backend()
    extractor = _pyradiomics_extractor() if backend == "pyradiomics" else None

    def compute(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        mask = np.asarray(mask, dtype=bool)
        if mask.sum() < 2:
            return {}
        try:
            with np.errstate(all="ignore"):
                if extractor is not None:
                    return _pyradiomics_features(extractor, image, mask)
                return skimage_features(image, mask)
        except Exception as exc:  # one bad case must not kill the batch
            logging.getLogger(__name__).warning("radiomics failed on one case: %s", exc)
            return {}

    return compute


def radiomics_table(
    pairs: Iterable[tuple[str, np.ndarray, np.ndarray]],
    *,
    backend: str | None = None,
    on_item: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Radiomics features for ``(id, image, mask)`` triples; one row per id (NaN where a case fails)."""
    compute = make_computer(backend)
    rows: dict[str, dict[str, float]] = {}
    for case_id, image, mask in pairs:
        rows[case_id] = compute(image, mask)
        if on_item is not None:
            on_item()
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "id"
    return frame.astype(float)
