"""Losses: cross-entropy, and the multi-loss distillation of HCMTMM (Eq. 9–11).

    L = CE(s, y) + α · T² · KL(softmax(t/T) ‖ softmax(s/T)) + β · mean_i ‖f_s,i/‖f_s,i‖ − f_t,i/‖f_t,i‖‖²

``s``/``t`` are student/teacher logits, ``f`` their ``forward_features`` vectors. The T² factor (Hinton et al.)
keeps the soft term's gradients at the same scale whatever T is; the paper's Eq. 10 omits it, the issue asks
for it. The feature term sums the squared difference over the feature dimension and averages over the batch,
exactly as Eq. 9 is written.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def soft_target_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T² · KL(P_T ‖ Q_T) averaged over the batch, P from the teacher and Q from the student (Eq. 10)."""
    log_q = F.log_softmax(student_logits / temperature, dim=1)  # (B, K)
    log_p = F.log_softmax(teacher_logits / temperature, dim=1)  # (B, K)
    return F.kl_div(log_q, log_p, log_target=True, reduction="batchmean") * temperature**2


def normalized_feature_mse(student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
    """Eq. 9: squared distance between L2-normalised feature vectors, summed over D, averaged over the batch."""
    diff = F.normalize(student_features, dim=1) - F.normalize(teacher_features, dim=1)  # (B, D)
    return diff.pow(2).sum(dim=1).mean()


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    student_features: torch.Tensor,
    teacher_features: torch.Tensor,
    targets: torch.Tensor,
    alpha: float = 0.5,
    beta: float = 0.5,
    temperature: float = 4.0,
    label_smoothing: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The total loss of Eq. 11 and its three parts (as floats, for logging). ``targets`` are class indices (B,) or
    label distributions (B, K), as mixup gives."""
    ce = F.cross_entropy(student_logits, targets, label_smoothing=label_smoothing)
    soft = soft_target_kl(student_logits, teacher_logits, temperature)
    mse = normalized_feature_mse(student_features, teacher_features)
    total = ce + alpha * soft + beta * mse
    return total, {"ce": ce.item(), "kl": soft.item(), "mse": mse.item()}


def feature_projection(student_dim: int, teacher_dim: int) -> nn.Module:
    """Maps student features to the teacher's width when they differ (e.g. 64 → 512 for HCMTMM ← VGG-16).

    The projection is a learned linear map on the student side, trained with the student. It exists only to
    compare features during distillation: it is kept in the training checkpoint (so a resumed run is exact) but
    never written into the student's weight file, so inference and export see the plain student.
    """
    if student_dim == teacher_dim:
        return nn.Identity()
    return nn.Linear(student_dim, teacher_dim, bias=False)
