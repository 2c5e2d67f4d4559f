"""The data layer: readers for every data set, splits, manifests, the tensor cache and the data audit.

>>> samples = read_dataset("fer2013", "../shared/datasets/fer2013")
>>> parts = split_samples(samples, "official")
>>> images, labels = load_arrays(parts["train"], (48, 48))
"""

from edgefer.data.audit import AuditReport, audit_samples, clean_samples
from edgefer.data.cache import CachedArrays, default_cache_dir, load_arrays, load_cached
from edgefer.data.manifest import manifest_hash, read_manifest, write_manifest
from edgefer.data.readers import DATASETS, LAYOUTS, detect_dataset, parse_data_spec, read_dataset
from edgefer.data.records import DataWarning, Sample
from edgefer.data.selection import draw_samples
from edgefer.data.splits import PROTOCOLS, fold_count, split_samples

__all__ = [
    "DATASETS",
    "LAYOUTS",
    "PROTOCOLS",
    "AuditReport",
    "CachedArrays",
    "DataWarning",
    "Sample",
    "audit_samples",
    "clean_samples",
    "default_cache_dir",
    "detect_dataset",
    "draw_samples",
    "fold_count",
    "load_arrays",
    "load_cached",
    "manifest_hash",
    "parse_data_spec",
    "read_dataset",
    "read_manifest",
    "split_samples",
    "write_manifest",
]
