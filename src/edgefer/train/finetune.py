"""Fine-tuning: start a run from another run's weights (``model.init``) instead of a random initialisation.

The usual case is a FER2013 model fine-tuned on CK+: the two label sets differ (FER2013 has neutral, CK+ has
contempt), so every weight is copied except the output layer, whose rows are copied for the classes both runs share
(matched by canonical name) and keep their fresh initialisation for the others. The output layer is the model's
last ``nn.Linear`` with one output per class, which is the classifier of every model in the zoo.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from edgefer.errors import ModelError
from edgefer.models.weights import load_weights, model_classes
from edgefer.train.recipe import ModelConfig


def output_layer(model: nn.Module, num_classes: int) -> nn.Linear:
    """The last ``nn.Linear`` of ``model`` with ``num_classes`` outputs (its classifier)."""
    layers = [
        module for module in model.modules() if isinstance(module, nn.Linear) and module.out_features == num_classes
    ]
    if not layers:
        raise ModelError(f"{type(model).__name__} has no linear layer with {num_classes} outputs to fine-tune")
    return layers[-1]


def init_from_weights(model: nn.Module, path: str | Path, classes: Sequence[str]) -> list[str]:
    """Copy the weights of the file ``path`` into ``model`` (trained on ``classes``); return the shared classes.

    Raises ModelError when the file holds another architecture or another configuration of it."""
    return copy_weights(model, load_weights(path), classes, path)


@torch.no_grad()
def copy_weights(model: nn.Module, source: nn.Module, classes: Sequence[str], path: str | Path) -> list[str]:
    """``init_from_weights`` with the file ``path`` already loaded as ``source``."""
    if source.model_name != model.model_name:
        raise ModelError(
            f"model.init {str(path)!r} holds a {source.model_name} but the recipe trains a {model.model_name}; "
            "start from weights of the same model or drop model.init"
        )
    source_classes, classes = list(model_classes(source)), list(classes)
    source_head, target_head = output_layer(source, len(source_classes)), output_layer(model, len(classes))
    head_ids = {id(target_head.weight), id(target_head.bias)}  # filled row by row below
    source_state = dict(source.named_parameters()) | dict(source.named_buffers())
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if id(tensor) in head_ids:
            continue
        if name not in source_state or source_state[name].shape != tensor.shape:
            raise ModelError(
                f"model.init {str(path)!r} does not fit the recipe's {model.model_name} (weight {name!r} differs); "
                "use the same model.kwargs and model.img_size as the run that wrote it"
            )
        tensor.copy_(source_state[name])
    shared = [name for name in classes if name in source_classes]
    for name in shared:
        row, source_row = classes.index(name), source_classes.index(name)
        target_head.weight[row] = source_head.weight[source_row]
        if target_head.bias is not None and source_head.bias is not None:
            target_head.bias[row] = source_head.bias[source_row]
    return shared


def check_init(spec: ModelConfig) -> None:
    """Raise the ModelError that ``init_from_weights`` would, before a run reads any data: the recipe's model is
    built with the classes of ``spec.init`` and initialised from it."""
    source = load_weights(spec.init)
    classes = model_classes(source)
    copy_weights(spec.build(len(classes)), source, classes, spec.init)
