"""Model zoo. Importing this package registers every model; use ``create_model(name)`` to build one."""

from edgefer.models import dmsnet, hcmtmm, lightcnn, teachers  # noqa: F401  (importing registers their models)
from edgefer.models.registry import Preprocess, create_model, list_models, model_entry, register_model
from edgefer.models.weights import load_weights, save_weights

__all__ = ["Preprocess", "create_model", "list_models", "load_weights", "model_entry", "register_model", "save_weights"]
