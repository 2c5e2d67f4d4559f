"""The training loop: one run of one recipe on arrays already split into train / val.

Reproducibility: the model is initialised from ``train.seed``; the shuffling of epoch e comes from a generator
seeded with (seed, e), shared by all ranks; augmentation and dropout of epoch e on rank r come from generators
seeded with (seed, e, r). The state of every random generator is therefore a function of the epoch number, which
is why a checkpoint (written after each epoch) resumes bit-exactly, also under DDP.

Outputs in ``out_dir``: ``checkpoint.pt`` (full state, for ``--resume``), ``best.pt`` and ``last.pt`` (weight
files for ``edgefer val/predict/export``), ``history.json`` and ``curves.png``. Only rank 0 writes. With
``train.ema_decay`` the weight files and the validation figures are those of the weights' moving average.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from edgefer.errors import EdgeferError, ModelError
from edgefer.evaluate.plots import plot_training_curves
from edgefer.models.weights import save_weights, sha256_of
from edgefer.train.augment import augment_batch, mixup_batch
from edgefer.train.checkpoint import load_checkpoint, save_checkpoint
from edgefer.train.distributed import (
    DistContext,
    all_reduce_sum,
    barrier,
    broadcast_buffers,
    resolve_device,
    shard,
)
from edgefer.train.finetune import init_from_weights
from edgefer.train.inputs import model_input, pixel_batch
from edgefer.train.losses import distillation_loss, feature_projection
from edgefer.train.recipe import Recipe
from edgefer.train.teacher import Teacher
from edgefer.train.weight_average import WeightAverage


class TrainingError(EdgeferError):
    """Training cannot go on (the loss became NaN or infinite)."""


@dataclass
class ArraySplit:
    """Images of one split as cached by the data layer: uint8 (N, H, W) and labels indexing the run's classes."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


class StudentStep(nn.Module):
    """Student plus its distillation projection as one module, so that DDP wraps (and syncs) both and the
    features reach the loss through DDP's own forward."""

    def __init__(self, model: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.projection = projection

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.model.forward_features(x)  # (B, D_student)
        return self.model.forward_head(features), self.projection(features)  # (B, K), (B, D_teacher)


def _derived_seed(*parts: int) -> int:
    """A 63-bit seed from a tuple of integers (stable across runs and machines, unlike ``hash``)."""
    value = 0x9E3779B97F4A7C15
    for part in parts:
        value = (value ^ (part + 0x632BE59BD9B4E019 + (value << 6) + (value >> 2))) & 0xFFFFFFFFFFFFFFFF
    return value >> 1


def build_optimizer(parameters: Any, recipe: Recipe) -> torch.optim.Optimizer:
    config = recipe.train
    if config.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, recipe: Recipe) -> torch.optim.lr_scheduler.LRScheduler:
    """Stepped once per epoch. ``none`` is a constant factor of 1, so every run has a scheduler to checkpoint."""
    config = recipe.train
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


class Trainer:
    """Trains ``recipe.model`` on the run's ``classes``; ``meta`` is added to the weight files (manifests, commit)."""

    def __init__(
        self,
        recipe: Recipe,
        classes: tuple[str, ...],
        out_dir: str | Path,
        context: DistContext | None = None,
        meta: dict[str, Any] | None = None,
        show_progress: bool = True,
        write_curves: bool = True,
    ) -> None:
        self.recipe = recipe
        self.classes = tuple(classes)
        self.out_dir = Path(out_dir)
        self.context = context or DistContext()
        self.meta = dict(meta or {})
        self.show_progress = show_progress and self.context.is_main
        self.write_curves = write_curves
        self.device = resolve_device(recipe.train.device, self.context)
        if recipe.train.threads:
            torch.set_num_threads(recipe.train.threads)
        torch.manual_seed(recipe.train.seed)
        spec = recipe.model
        self.model = spec.build(len(self.classes)).to(self.device)
        self.model.classes = self.classes
        if spec.init:
            shared = init_from_weights(self.model, spec.init, self.classes)
            self.meta["init"] = {"weights": spec.init, "sha256": sha256_of(spec.init), "shared_classes": shared}
        teacher_files = recipe.distill.teacher_files()
        self.teacher = (
            Teacher.load(teacher_files, self.classes, self.device, recipe.distill.teacher_antialias)
            if teacher_files
            else None
        )
        projection = nn.Identity()
        if self.teacher is not None:
            channels, height, width = self.model.preprocess.input_size
            with torch.no_grad():
                dummy = torch.zeros(1, channels, height, width, device=self.device)
                student_dim = self.model.forward_features(dummy).shape[1]
            projection = feature_projection(student_dim, self.teacher.feature_dim()).to(self.device)
        self.step_module = StudentStep(self.model, projection)
        self.average = WeightAverage(self.model, recipe.train.ema_decay) if recipe.train.ema_decay > 0 else None
        self.optimizer = build_optimizer(self.step_module.parameters(), recipe)
        self.scheduler = build_scheduler(self.optimizer, recipe)
        self.history: list[dict[str, Any]] = []
        self.best_metric = -math.inf
        self.best_epoch = 0
        self.start_epoch = 0

    @property
    def selected_model(self) -> nn.Module:
        """The model that is validated, selected and saved: the weights' moving average, or the live weights."""
        return self.average.model if self.average is not None else self.model

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / "checkpoint.pt"

    def resume(self, path: str | Path | None = None) -> None:
        """Restore the state written after the last completed epoch (default: this run's ``checkpoint.pt``)."""
        state = load_checkpoint(
            path or self.checkpoint_path, self.model.model_name, self.model.create_kwargs, self.classes
        )
        try:
            self.step_module.projection.load_state_dict(state["projection"])
        except RuntimeError:
            raise ModelError(
                f"checkpoint {str(path or self.checkpoint_path)!r} was trained with another teacher (or none); "
                "resume with the same distill.teacher, or start a new run"
            ) from None
        self.model.load_state_dict(state["model"])
        if self.average is not None:
            self.average.model.load_state_dict(state["average"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.history = list(state["history"])
        self.best_metric = state["best_metric"]
        self.best_epoch = state["best_epoch"]
        self.start_epoch = state["epoch"]

    def _weights_meta(self, epoch: int) -> dict[str, Any]:
        return {
            **self.meta,
            "recipe": self.recipe.to_dict(),
            "seed": self.recipe.train.seed,
            "epoch": epoch,
            "history": self.history,
        }

    def _save(self, epoch: int, improved: bool) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        selected = self.selected_model
        save_weights(self.out_dir / "last.pt", selected, self.classes, self._weights_meta(epoch))
        if improved:
            save_weights(self.out_dir / "best.pt", selected, self.classes, self._weights_meta(epoch))
        average = {"average": self.average.model.state_dict()} if self.average is not None else {}
        save_checkpoint(
            self.checkpoint_path,
            {
                "model_name": self.model.model_name,
                "create_kwargs": dict(self.model.create_kwargs),
                "classes": list(self.classes),
                "epoch": epoch,
                "seed": self.recipe.train.seed,
                "model": self.model.state_dict(),
                **average,
                "projection": self.step_module.projection.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "best_metric": self.best_metric,
                "best_epoch": self.best_epoch,
                "history": self.history,
            },
        )
        (self.out_dir / "history.json").write_text(json.dumps(self.history, indent=2) + "\n", encoding="utf-8")
        if self.write_curves:
            plot_training_curves(self.history, self.out_dir / "curves.png", title=self.recipe.name)

    def _train_epoch(self, module: nn.Module, train: ArraySplit, epoch: int) -> tuple[float, float, float, float]:
        """One pass over this rank's shard; returns (summed loss, correct, images) over all ranks and the seconds
        this rank spent preparing batches (indexing the cache, augmentation, normalisation)."""
        recipe, rank = self.recipe, self.context.rank
        order = torch.randperm(
            len(train), generator=torch.Generator().manual_seed(_derived_seed(recipe.train.seed, epoch))
        )
        order = shard(order, self.context)
        augment_generator = torch.Generator().manual_seed(_derived_seed(recipe.train.seed, epoch, rank, 1))
        torch.manual_seed(_derived_seed(recipe.train.seed, epoch, rank, 2))  # dropout and other in-model noise
        fill = float(np.mean(self.model.preprocess.mean))
        labels = torch.from_numpy(np.asarray(train.labels, dtype=np.int64))
        module.train()
        loss_sum = correct = seen = data_seconds = 0.0
        batch_size = recipe.train.batch_size
        started = time.perf_counter()
        bar = tqdm(
            total=len(order),
            desc=f"epoch {epoch + 1}/{recipe.train.epochs}",
            unit="img",
            disable=not self.show_progress,
            mininterval=1.0,
            dynamic_ncols=True,
        )
        with bar:
            for start in range(0, len(order), batch_size):
                prepare_started = time.perf_counter()
                index = order[start : start + batch_size]
                pixels = pixel_batch(train.images, index.numpy(), self.device)  # (B, 1, H, W)
                if recipe.augment.enabled:
                    pixels = augment_batch(pixels, recipe.augment, augment_generator, fill)
                target = labels[index].to(self.device)
                loss_target = target
                if recipe.augment.mixup > 0:
                    pixels, loss_target = mixup_batch(
                        pixels, target, len(self.classes), recipe.augment.mixup, augment_generator
                    )
                    target = loss_target.argmax(1)  # the training accuracy counts the label with the larger share
                inputs = model_input(pixels, self.model.preprocess)
                data_seconds += time.perf_counter() - prepare_started
                logits, features = module(inputs)
                if self.teacher is None:
                    loss = F.cross_entropy(logits, loss_target, label_smoothing=recipe.train.label_smoothing)
                else:
                    teacher_logits, teacher_features = self.teacher.outputs(index, pixels)
                    loss, _ = distillation_loss(
                        logits,
                        teacher_logits,
                        features,
                        teacher_features,
                        loss_target,
                        recipe.distill.alpha,
                        recipe.distill.beta,
                        recipe.distill.temperature,
                        recipe.train.label_smoothing,
                    )
                if not torch.isfinite(loss):
                    kept = (
                        f"the last good epoch is kept ({self.checkpoint_path}, last.pt)"
                        if self.checkpoint_path.exists()
                        else "no epoch had completed"
                    )
                    raise TrainingError(
                        f"loss became {loss.item()} at epoch {epoch + 1}, images {start}–{start + len(index)}; "
                        f"{kept}; lower train.lr and train again (--resume keeps the recipe, so a kept run folder "
                        "needs a new --set name=NEW)"
                    )
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                if self.average is not None:
                    self.average.update()
                loss_sum += loss.item() * len(index)
                correct += (logits.argmax(1) == target).sum().item()
                seen += len(index)
                bar.update(len(index))
                bar.set_postfix(
                    loss=f"{loss_sum / seen:.4f}",
                    acc=f"{correct / seen:.3f}",
                    img_s=f"{seen / (time.perf_counter() - started):.0f}",
                    refresh=False,
                )
        loss_sum, correct, seen = all_reduce_sum([loss_sum, correct, seen], self.context, self.device)
        return loss_sum, correct, seen, data_seconds

    @torch.no_grad()
    def evaluate(self, split: ArraySplit, model: nn.Module | None = None) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) on a split of ``model`` (default: the selected one), sharded over ranks
        and reduced."""
        model = self.selected_model if model is None else model
        model.eval()
        index = torch.arange(len(split))[self.context.rank :: self.context.world_size]  # every image exactly once
        labels = torch.from_numpy(np.asarray(split.labels, dtype=np.int64))
        loss_sum = correct = 0.0
        for start in range(0, len(index), self.recipe.train.eval_batch_size):
            chunk = index[start : start + self.recipe.train.eval_batch_size]
            pixels = pixel_batch(split.images, chunk.numpy(), self.device)
            logits = model(model_input(pixels, model.preprocess))
            target = labels[chunk].to(self.device)
            loss_sum += F.cross_entropy(logits, target, reduction="sum").item()
            correct += (logits.argmax(1) == target).sum().item()
        loss_sum, correct, seen = all_reduce_sum([loss_sum, correct, float(len(index))], self.context, self.device)
        return loss_sum / max(seen, 1), correct / max(seen, 1)

    def fit(self, train: ArraySplit, val: ArraySplit | None) -> list[dict[str, Any]]:
        """Train from ``start_epoch`` to ``train.epochs``; select best.pt on val accuracy (the last epoch when
        there is no val split)."""
        if len(train) == 0:
            raise TrainingError("the training split is empty; check data.dataset, data.root and data.protocol")
        module: nn.Module = self.step_module
        if self.context.enabled:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            module = nn.parallel.DistributedDataParallel(self.step_module, device_ids=device_ids)
        distill = self.recipe.distill
        if (
            self.teacher is not None
            and distill.cache_teacher
            and not self.recipe.augment.enabled
            and self.teacher.cache is None
        ):
            self.teacher.precompute(train.images, self.recipe.train.eval_batch_size, self.show_progress)
        if self.teacher is not None and val is not None and len(val) and self.context.is_main:
            # what the student is taught by, recorded with its weights (an ensemble's accuracy is no file's own)
            accuracy = self.teacher.accuracy(val.images, val.labels, self.recipe.train.eval_batch_size)
            self.meta["teacher_val_acc"] = accuracy
            if self.show_progress:
                tqdm.write(f"teacher accuracy on the validation split: {accuracy:.4f}")
        for epoch in range(self.start_epoch, self.recipe.train.epochs):
            started = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            loss_sum, correct, seen, data_seconds = self._train_epoch(module, train, epoch)
            broadcast_buffers(self.model, self.context)
            if self.average is not None:  # its BatchNorm statistics averaged each rank's own
                broadcast_buffers(self.average.model, self.context)
            has_val = val is not None and len(val) > 0
            val_loss, val_acc = self.evaluate(val) if has_val else (None, None)
            self.scheduler.step()
            row = {
                "epoch": epoch + 1,
                "train_loss": loss_sum / seen,
                "train_acc": correct / seen,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "lr": lr,
                "seconds": time.perf_counter() - started,
                "data_seconds": data_seconds,
            }
            if self.average is not None and has_val:  # how much the average gives over the live weights
                row["live_val_acc"] = self.evaluate(val, self.model)[1]
            self.history.append(row)
            metric = val_acc if val_acc is not None else float(epoch)
            improved = metric > self.best_metric
            if improved:
                self.best_metric, self.best_epoch = metric, epoch + 1
            if self.context.is_main:
                self._save(epoch + 1, improved)
                if self.show_progress:
                    shown = f"val loss {val_loss:.4f} acc {val_acc:.4f}" if val_acc is not None else "no val split"
                    if "live_val_acc" in row:
                        shown += f" (averaged weights; live weights {row['live_val_acc']:.4f})"
                    tqdm.write(
                        f"epoch {epoch + 1}: train loss {row['train_loss']:.4f} acc {row['train_acc']:.4f}, "
                        f"{shown}, {row['seconds']:.1f}s"
                    )
            barrier(self.context)
        return self.history
