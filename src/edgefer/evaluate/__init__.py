"""Evaluation: metrics (``metrics``), inference with test-time augmentation (``inference``), matching a model's
classes to a data set's (``classes``), reports (``report``) and figures (``plots``).

Submodules are imported where they are used, so that ``import edgefer.evaluate.metrics`` stays numpy-only.
"""
