"""The recognition pipeline: sources, face detection, backends, tracking and smoothing, sinks."""
