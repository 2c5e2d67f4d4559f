"""Backbone bodies written here (no torchvision, no timm): each returns its four stage outputs.

A body exposes ``stage_channels`` (the widths of its four outputs) and ``forward(x) -> [s1, s2, s3, s4]``, from
the finest to the coarsest. Bodies take any number of input channels (greyscale faces by default) and a width
multiplier that scales every layer's width. This module holds only the shared width rule, so that the body
modules can import it without a cycle.
"""

from __future__ import annotations


def scaled_width(channels: int, multiplier: float, divisor: int = 8) -> int:
    """``channels × multiplier`` rounded to the nearest multiple of ``divisor`` (at least ``divisor``).

    Multiples of 8 keep vectorised kernels busy; the same rule as MobileNet's ``make_divisible``, without its
    10 % floor.
    """
    return max(divisor, int(channels * multiplier / divisor + 0.5) * divisor)
