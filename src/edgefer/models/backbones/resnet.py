"""ResNet-50 (He et al., CVPR 2016; stride on the 3×3 convolution, "v1.5"), as a 4-stage body."""

from __future__ import annotations

import torch
from torch import nn

from edgefer.models.backbones import scaled_width

RESNET50_DEPTHS = (3, 4, 6, 3)
RESNET50_PLANES = (64, 128, 256, 512)
EXPANSION = 4


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 (carries the stride) → 1×1 expand, plus an identity or projected shortcut."""

    def __init__(self, in_channels: int, planes: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (B, P, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (B, P, H / s, W / s)
        out = self.bn3(self.conv3(out))  # (B, 4P, H / s, W / s)
        return self.relu(out + self.downsample(x))


class ResNet50Body(nn.Module):
    """ResNet-50 without its classifier: stem (7×7/2 conv, 3×3/2 max-pool) and the four stages layer1–layer4.

    A 48×48 input gives maps of 12, 6, 3 and 2 pixels (strides 4, 8, 16, 32) with
    ``(256, 512, 1024, 2048) × width_mult`` channels; any input size of at least 1 pixel runs.
    """

    def __init__(self, in_chans: int = 1, width_mult: float = 1.0) -> None:
        super().__init__()
        stem_width = scaled_width(64, width_mult)
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, stem_width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(stem_width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        channels, stages, stage_channels = stem_width, [], []
        for index, (depth, planes) in enumerate(zip(RESNET50_DEPTHS, RESNET50_PLANES, strict=True)):
            width = scaled_width(planes, width_mult)
            out_channels = width * EXPANSION
            blocks = []
            for block in range(depth):
                stride = 2 if index > 0 and block == 0 else 1
                blocks.append(Bottleneck(channels, width, out_channels, stride))
                channels = out_channels
            stages.append(nn.Sequential(*blocks))
            stage_channels.append(out_channels)
        self.stages = nn.ModuleList(stages)
        self.stage_channels: tuple[int, ...] = tuple(stage_channels)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)  # (B, 64m, H / 4, W / 4)
        outputs = []
        for stage in self.stages:
            x = stage(x)  # (B, C_i, H / 2^(i+1), W / 2^(i+1))
            outputs.append(x)
        return outputs
