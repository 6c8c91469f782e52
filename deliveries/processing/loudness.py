"""Integrated loudness (ITU-R BS.1770-4), measured while the audio is decoded.

The K-weighting filter is pyloudnorm's (its Meter's two biquads). Its
``integrated_loudness`` is not called on the programme itself: it wants every sample
in one float64 array (16 GB for two hours of 5.1) and loops over the gating blocks in
Python. Here the filter runs frame by frame, its state carried from one frame to the
next, and only each 100 ms segment's weighted energy is kept (72,000 numbers for two
hours); the 400 ms gating blocks at 75 % overlap are four consecutive segments, so the
gating of BS.1770-4 (absolute -70 LUFS, then relative -10 LU) is exact on them.
tests/test_loudness.py checks the result against pyloudnorm's own meter.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyloudnorm
import scipy.signal

# BS.1770-4, table 4: the surround channels weigh 1.41 (+1.5 dB); LFE is left out.
_SURROUND = {"BL", "BR", "SL", "SR", "LS", "RS"}
_LEFT_OUT = {"LFE", "LFE2", "LFE1"}
_SCALE = {
    np.dtype(np.int16): 1 / 32768,
    np.dtype(np.int32): 1 / 2**31,
    np.dtype(np.float32): 1.0,
    np.dtype(np.float64): 1.0,
}
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0


def channel_weights(names: list[str]) -> np.ndarray:
    """BS.1770 weight of each channel, by FFmpeg's channel names (FL FR FC LFE BL BR
    for 5.1). In a layout with side channels (7.1) the back pair is behind the
    listener, beyond the 60°–120° of the weighted surrounds."""
    sides = {"SL", "SR"} <= set(names)
    weights = []
    for name in names:
        if name in _LEFT_OUT:
            weights.append(0.0)
        elif name in _SURROUND and not (sides and name in {"BL", "BR"}):
            weights.append(1.41)
        else:
            weights.append(1.0)
    return np.array(weights, dtype=np.float32)


class LoudnessMeter:
    """Feed decoded audio frames with ``add``; ``integrated()`` gives LUFS."""

    def __init__(self, sample_rate: int, channel_names: list[str]) -> None:
        meter = pyloudnorm.Meter(sample_rate)
        # pyloudnorm's K-weighting: a high shelf (+4 dB above 1.5 kHz) and a high pass
        # (38 Hz), as second-order sections for scipy.
        sections = [np.concatenate([stage.b, stage.a]) for stage in meter._filters.values()]
        self._sos = np.array(sections, dtype=np.float32)
        self._weights = channel_weights(channel_names)
        self._channels = len(channel_names)
        self._state = np.zeros((len(sections), self._channels, 2), dtype=np.float32)
        self._batch = sample_rate
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._segment = sample_rate // 10
        self._rest = np.zeros(0, dtype=np.float64)
        self._segments: list[np.ndarray] = []

    def add(self, frame: Any) -> None:
        samples = frame.to_ndarray()
        if not frame.format.is_planar:
            samples = samples.reshape(-1, self._channels).T
        if samples.shape[0] != self._channels:
            return
        scale = _SCALE.get(samples.dtype)
        if scale is None:
            return
        # One row per channel, contiguous: scipy then filters along the last axis
        # without moving axes.
        data = samples.astype(np.float32, order="C")
        if scale != 1.0:
            data *= np.float32(scale)
        self._pending.append(data)
        self._pending_samples += data.shape[1]
        if self._pending_samples >= self._batch:
            self._filter()

    def _filter(self) -> None:
        """Filter what has been added since the last call, in one scipy call: per call,
        scipy's checks cost as much as filtering a few thousand samples."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending, 1)
        self._pending, self._pending_samples = [], 0
        filtered, self._state = scipy.signal.sosfilt(self._sos, data, axis=-1, zi=self._state)
        power = np.concatenate([self._rest, self._weights @ (filtered * filtered)])
        whole = len(power) // self._segment * self._segment
        if whole:
            self._segments.append(power[:whole].reshape(-1, self._segment).sum(axis=1))
        self._rest = power[whole:]

    def integrated(self) -> float | None:
        """The gated loudness in LUFS; None for less than one 400 ms block, and
        -inf LUFS (silence) as None too: there is no level to compare."""
        self._filter()
        if not self._segments:
            return None
        segments = np.concatenate(self._segments)
        if len(segments) < 4:
            return None
        # Each block's mean weighted power: four consecutive 100 ms segments.
        blocks = np.convolve(segments, np.ones(4), mode="valid") / (4 * self._segment)
        with np.errstate(divide="ignore"):
            levels = -0.691 + 10 * np.log10(blocks)
        above = blocks[levels > ABSOLUTE_GATE]
        if not len(above):
            return None
        relative = -0.691 + 10 * math.log10(above.mean()) + RELATIVE_GATE
        gated = blocks[(levels > ABSOLUTE_GATE) & (levels > relative)]
        if not len(gated):
            return None
        return -0.691 + 10 * math.log10(gated.mean())
