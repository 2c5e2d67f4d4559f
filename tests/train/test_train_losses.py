import math

import pytest
import torch

from edgefer.train.losses import distillation_loss, feature_projection


def test_distillation_loss_equals_hand_computed_value():
    student = torch.tensor([[2.0, 0.0]])
    teacher = torch.tensor([[0.0, 0.0]])
    student_features = torch.tensor([[3.0, 4.0]])  # normalised: (0.6, 0.8)
    teacher_features = torch.tensor([[1.0, 0.0]])
    target = torch.tensor([0])
    temperature = 2.0
    # CE = -log softmax(2, 0)[0] = log(1 + e^-2)
    ce = math.log(1 + math.exp(-2))
    # P_T = (0.5, 0.5); Q_T = softmax(1, 0) = (e/(1+e), 1/(1+e)); KL(P‖Q) = Σ p log(p/q)
    q = (math.e / (1 + math.e), 1 / (1 + math.e))
    kl = 0.5 * math.log(0.5 / q[0]) + 0.5 * math.log(0.5 / q[1])
    mse = (0.6 - 1.0) ** 2 + 0.8**2  # Eq. 9: summed over the feature dimension
    expected = ce + 0.5 * temperature**2 * kl + 0.5 * mse
    total, parts = distillation_loss(
        student, teacher, student_features, teacher_features, target, 0.5, 0.5, temperature
    )
    assert total.item() == pytest.approx(expected, abs=1e-6)
    assert parts["ce"] == pytest.approx(ce, abs=1e-6)
    assert parts["kl"] == pytest.approx(temperature**2 * kl, abs=1e-6)
    assert parts["mse"] == pytest.approx(mse, abs=1e-6)


def test_identical_student_and_teacher_leave_only_cross_entropy():
    logits = torch.randn(4, 5)
    features = torch.randn(4, 8)
    target = torch.tensor([0, 1, 2, 3])
    total, parts = distillation_loss(logits, logits, features, 2 * features, target)
    assert parts["kl"] == pytest.approx(0, abs=1e-6) and parts["mse"] == pytest.approx(0, abs=1e-6)
    assert total.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, target).item(), abs=1e-6)


def test_mixed_label_distributions_give_the_weighted_sum_of_both_labels_losses():
    torch.manual_seed(0)
    student, teacher = torch.randn(4, 5), torch.randn(4, 5)
    student_features, teacher_features = torch.randn(4, 8), torch.randn(4, 8)
    own, partner, weight = torch.tensor([0, 1, 2, 3]), torch.tensor([2, 1, 4, 0]), 0.3
    mixed = weight * torch.eye(5)[own] + (1 - weight) * torch.eye(5)[partner]
    total, _ = distillation_loss(student, teacher, student_features, teacher_features, mixed, label_smoothing=0.1)
    own_loss, _ = distillation_loss(student, teacher, student_features, teacher_features, own, label_smoothing=0.1)
    partner_loss, _ = distillation_loss(
        student, teacher, student_features, teacher_features, partner, label_smoothing=0.1
    )
    assert total.item() == pytest.approx(weight * own_loss.item() + (1 - weight) * partner_loss.item(), abs=1e-6)


def test_projection_only_when_widths_differ():
    assert isinstance(feature_projection(16, 16), torch.nn.Identity)
    projection = feature_projection(16, 24)
    assert projection(torch.zeros(2, 16)).shape == (2, 24)
