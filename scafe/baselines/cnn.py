"""``cnn``: a small convolutional network trained from scratch (the end-to-end baseline of seed 000).

Input: the RGB photograph plus the lesion mask as a fourth channel (every other method sees the
mask too), resized to ``SIZE x SIZE`` (64 px: small enough to train on 2 CPU cores for every
training subset of a learning curve, large enough to keep the lesion outline).

Network: 4 blocks of 3x3 convolution, batch norm, ReLU, (2x2 max pool on the first three);
channels 8-16-32-32 (wider nets were 4x slower on 2 cores for no gain at n ≤ 200); global average
pooling; dropout 0.3; one logit. ~16k parameters.
Training: Adam (lr 1e-3, weight decay 1e-4), binary cross-entropy with ``pos_weight =
n_hypertrophic / n_keloid`` (the class weighting our XGBoost gets), batches of 16, random flips
and 90° rotations (the classes are orientation-free), a fixed budget of ``STEPS`` gradient steps
whatever the training size (20 cases get many epochs, 200 cases fewer), fixed seed.

torch is an optional extra (``pip install 'scafe[cnn]'``); :func:`cnn_unavailable_reason` says
why the method is skipped when it is absent.
"""

from __future__ import annotations

import numpy as np

SIZE = 64
STEPS = 200
BATCH = 16


def cnn_unavailable_reason() -> str | None:
    """``None`` when torch imports, else the line the report prints."""
    try:
        import torch  # noqa: F401
    except Exception as exc:  # ImportError or a broken install
        return (f"torch is not installed ({type(exc).__name__}); install the extra with "
                "`pip install 'scafe[cnn]'` (torch==2.13.0, CPU build) to run the CNN baseline")
    return None


def prepare_inputs(image: np.ndarray, mask: np.ndarray, size: int = SIZE) -> np.ndarray:
    """``(4, size, size)`` uint8: RGB resized with area averaging, mask as 0/255, channel-first."""
    from PIL import Image

    rgb = np.asarray(Image.fromarray(np.asarray(image, dtype=np.uint8)).resize((size, size), Image.Resampling.BOX))
    m = np.asarray(Image.fromarray(np.asarray(mask, dtype=np.uint8) * 255).resize((size, size), Image.Resampling.BOX))
    return np.concatenate([rgb.transpose(2, 0, 1), m[None]], axis=0)


def _network(torch):
    nn = torch.nn

    def block(cin: int, cout: int, pool: bool) -> list:
        layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        return [*layers, nn.MaxPool2d(2)] if pool else layers

    return nn.Sequential(
        *block(4, 8, True), *block(8, 16, True), *block(16, 32, True), *block(32, 32, False),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(32, 1),
    )


def _augment(torch, x):
    # random flips and 90-degree rotations, independently per batch (cheap, label-preserving)
    if torch.rand(1).item() < 0.5:
        x = x.flip(-1)
    if torch.rand(1).item() < 0.5:
        x = x.flip(-2)
    k = int(torch.randint(0, 4, (1,)).item())
    return torch.rot90(x, k, dims=(-2, -1)) if k else x


def fit_predict_cnn(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, *, seed: int = 0, steps: int = STEPS
) -> np.ndarray:
    """Train on ``(n, 4, S, S)`` uint8 inputs and return the keloid probability of each test input."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; 1 thread is also deterministic
    try:
        net = _network(torch)
        y = np.asarray(y_train).astype(np.float32)
        pos = max(float(y.sum()), 1.0)
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(y) - pos) / pos))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
        xt = torch.from_numpy(np.asarray(X_train, dtype=np.float32) / 255.0)
        yt = torch.from_numpy(y)
        net.train()
        for _ in range(steps):
            idx = torch.from_numpy(rng.choice(len(y), size=min(BATCH, len(y)), replace=False))
            xb = _augment(torch, xt[idx])
            opt.zero_grad()
            loss = loss_fn(net(xb).squeeze(1), yt[idx])
            loss.backward()
            opt.step()
        net.eval()
        out = []
        with torch.no_grad():
            xs = np.asarray(X_test, dtype=np.float32) / 255.0
            for start in range(0, len(xs), 128):
                out.append(torch.sigmoid(net(torch.from_numpy(xs[start:start + 128])).squeeze(1)).numpy())
        return np.concatenate(out) if out else np.zeros(0)
    finally:
        torch.set_num_threads(threads)
