"""Family B camera: a pinhole with radial distortion looking at the skin plane, and a raw sensor.

Geometry. The skin is the plane z = 0 (mm). The camera sits on a sphere around the lesion centre,
tilted ``tilt`` degrees from the normal towards azimuth ``tilt_az``, at the distance that makes the
image centre ``px_per_mm`` pixels per mm with a vertical field of view ``fov``; it rolls by
``rotation``. A pixel's normalised coordinates are distorted by ``r' = r (1 + k1 r^2)``, turned
into a ray and intersected with the plane: perspective foreshortening, not a single scale.

Sensor. Linear camera RGB -> vignetting (cos^4 law, exaggerated by ``vignette``) -> illumination
gradient -> Bayer RGGB mosaic -> shot + read noise (Poisson-Gaussian, 12-bit full well
normalised) -> demosaic (OpenCV bilinear) -> white-balance gains (grey-world estimate of the
illuminant, 75 % corrected, times the white-balance error) -> defocus (a disc kernel, not a
Gaussian) -> filmic tone curve and gamma 1/2.2 -> 8 bit -> JPEG.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def _rot(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def pixel_to_plane(size: int, s: dict, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Physical (x, y) mm of every pixel centre on the skin plane, and the per-pixel view cosine."""
    f_px = size / 2 / np.tan(np.radians(s["fov_deg"]) / 2)
    distance = f_px / s["px_per_mm"]  # mm, so that the centre has px_per_mm
    tilt, tilt_az = np.radians(s["tilt_deg"]), np.radians(s["tilt_azimuth_deg"])
    v, u = np.mgrid[:size, :size].astype(np.float64)
    xn = (u + 0.5 - size / 2 - offset[0]) / f_px
    yn = (v + 0.5 - size / 2 - offset[1]) / f_px
    r2 = (xn * xn + yn * yn) / (size / 2 / f_px) ** 2
    k = 1 + s["lens_k1"] * r2
    xn, yn = xn * k, yn * k
    roll = np.radians(s["rotation_deg"])
    xr = np.cos(roll) * xn - np.sin(roll) * yn
    yr = np.sin(roll) * xn + np.cos(roll) * yn
    # camera looks down -z; rotate the whole rig about a horizontal axis to tilt it
    rot = _rot(np.array([-np.sin(tilt_az), np.cos(tilt_az), 0.0]), tilt)
    centre = rot @ np.array([0.0, 0.0, distance])
    # each ray (xr, yr, -1) turned by rot, one component at a time
    dx, dy, dz = (rot[i, 0] * xr + rot[i, 1] * yr - rot[i, 2] for i in range(3))
    t = -centre[2] / np.minimum(dz, -1e-6)
    x = centre[0] + t * dx
    y = centre[1] + t * dy
    view_cos = -dz / np.sqrt(dx * dx + dy * dy + dz * dz)
    return x, y, view_cos


def view_vector(s: dict) -> np.ndarray:
    tilt, tilt_az = np.radians(s["tilt_deg"]), np.radians(s["tilt_azimuth_deg"])
    return np.array([np.sin(tilt) * np.cos(tilt_az), np.sin(tilt) * np.sin(tilt_az), np.cos(tilt)])


def _disc(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    k = np.clip(radius + 0.5 - np.hypot(xx, yy), 0, 1).astype(np.float32)
    return k / k.sum()


def develop(lin: np.ndarray, view_cos: np.ndarray, illum_rgb: np.ndarray, s: dict,
            rng: np.random.Generator) -> np.ndarray:
    """Linear scene radiance (H, W, 3) -> 8-bit sRGB-like JPEG-decoded image (float32 inside)."""
    f32 = np.float32
    size = lin.shape[0]
    corner = max(1 - np.cos(np.radians(s["fov_deg"] / 2)) ** 4, 1e-6)  # natural falloff at the corner
    cos4 = np.asarray(view_cos, f32) ** 4
    vig = 1 - f32(0.5 * s["vignette"]) * np.clip((1 - cos4) * f32(1 / corner), 0, 1.5)
    ramp = (np.arange(size, dtype=f32) + f32(0.5)) / f32(size) - f32(0.5)
    ang = rng.uniform(0, 2 * np.pi)
    grad = 1 + f32(s["illum_gradient"]) * (ramp[None, :] * f32(np.cos(ang)) + ramp[:, None] * f32(np.sin(ang)))
    raw = np.asarray(lin, f32) * (vig * grad * f32(0.8))[..., None]
    # Bayer RGGB mosaic, Poisson-Gaussian noise, demosaic
    mosaic = np.empty((size, size), f32)
    mosaic[0::2, 0::2] = raw[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = raw[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = raw[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = raw[1::2, 1::2, 2]
    full_well = 4000.0
    electrons = rng.poisson(np.clip(mosaic, 0, None) * f32(full_well)).astype(f32)
    mosaic = electrons * f32(1 / full_well) + rng.normal(0, s["read_noise"], mosaic.shape).astype(f32)
    raw16 = np.clip(mosaic * f32(65535 / 1.2), 0, 65535).astype(np.uint16)
    rgb = cv2.cvtColor(raw16, cv2.COLOR_BayerBG2RGB).astype(f32) * f32(1.2 / 65535)
    # auto white balance: divide by 75 % of the illuminant's cast, then the camera's error
    gains = (1 / np.asarray(illum_rgb, float)) ** 0.75 * np.array(s["wb"])
    rgb *= (gains / gains[1]).astype(f32)
    if s["defocus_px"] > 0.3:
        rgb = cv2.filter2D(rgb, -1, _disc(s["defocus_px"]), borderType=cv2.BORDER_REFLECT)
    x = np.clip(rgb * f32(1.15), 0, None)
    tone = x * (1 + x * f32(0.25)) / (1 + x)  # a mild filmic shoulder
    enc = np.clip(tone, 0, 1) ** f32(1 / 2.2)
    u8 = np.clip(np.round(enc * 255), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=int(s["jpeg_quality"]), subsampling=2)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def noise_sigma(s: dict) -> float:
    """Equivalent standard deviation of the sensor noise at mid grey, in encoded [0, 1] units."""
    mid = 0.18
    var = mid / 4000.0 + s["read_noise"] ** 2
    return float(np.sqrt(var) * (1 / 2.2) * mid ** (1 / 2.2 - 1))
