"""The learning flow: recipes (``recipe``), the training loop with checkpoints and DDP (``trainer``,
``checkpoint``, ``distributed``), batch augmentation (``augment``), cross-entropy and multi-loss distillation
(``losses``, ``teacher``), protocol runs over folds (``run``) and the cross-data-set matrix (``crossval``).

>>> recipe = load_recipe("configs/lightcnn_fer2013_official.yaml", ["train.epochs=5"])
>>> summary = run_recipe(recipe)
"""

from edgefer.train.crossval import run_crossval
from edgefer.train.losses import distillation_loss
from edgefer.train.recipe import Recipe, load_recipe, recipe_from_dict
from edgefer.train.run import run_recipe
from edgefer.train.trainer import ArraySplit, Trainer, TrainingError

__all__ = [
    "ArraySplit",
    "Recipe",
    "Trainer",
    "TrainingError",
    "distillation_loss",
    "load_recipe",
    "recipe_from_dict",
    "run_crossval",
    "run_recipe",
]
