"""Time series cut into forecasting windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqkeras.data.corpora import load_sunspots


@dataclass(frozen=True)
class ForecastingWindows:
    """A yearly series cut into one-step-ahead windows, split at ``test_start``.

    ``x_*`` are windows of the series divided by ``scale`` (shape ``(n, window, 1)``), ``y_*``
    the scaled next values (shape ``(n, 1)``); ``series[test_start:]`` are the held-out values
    in their own units, forecast by ``x_test``.
    """

    years: np.ndarray
    series: np.ndarray
    scale: float
    test_start: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def sunspot_windows(window: int = 20, test_start_year: int = 1949) -> ForecastingWindows:
    """Yearly sunspots as windows of ``window`` years, each predicting the next year.

    Windows whose target is before ``test_start_year`` train; the rest test. The scale is the
    training part's maximum, so the model sees values in [0, 1] without peeking at the test years.
    """
    years, sunspots = load_sunspots()
    if not years[window] < test_start_year <= years[-1]:
        raise ValueError(f"test_start_year must be in ({years[window]}, {years[-1]}], "
                         f"got {test_start_year}")
    test_start = int(np.searchsorted(years, test_start_year))
    scale = float(sunspots[:test_start].max())
    scaled = sunspots / scale
    windows = np.stack([scaled[t - window:t] for t in range(window, len(scaled))])[..., None]
    targets = scaled[window:, None]
    split = test_start - window
    return ForecastingWindows(years, sunspots, scale, test_start, windows[:split], targets[:split],
                              windows[split:], targets[split:])
