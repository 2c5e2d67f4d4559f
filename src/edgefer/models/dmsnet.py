"""DMSNet, the Deformable Multi-Scale Network (seed paper 000, Sec. 2), with its Table 3 ablations.

Each of the backbone's four stage outputs runs through its own path::

    RFB (C_i → w_i) → encoder E_i → RFB (w_i → w_i) → decoder D_i (w_i → D) → global average pool

encoder = DeCNet (deformable 3×3) → SCNet (depthwise-separable 3×3) → BN → ReLU;
decoder = DeCNet 3×3 → SCNet 3×3 → 1×1 transposed convolution (to the common width D) → ReLU.
The four decoder outputs are brought to a common size (global average pooling: 1×1, which keeps any input size
valid) and width (D) and fused by addition into the feature vector; an MLP classifies it.

Choices the paper leaves open, made here:

* Ablations keep the depth: ``conv2d`` uses a plain 3×3 convolution in both slots, ``decnet`` keeps the
  deformable slot and replaces SCNet by a plain 3×3 convolution, ``scnet`` the other way round. The paper's
  Table 3 gives the combined model fewer parameters than either module alone, which no composition of the
  modules it describes can do; here the light rows count 2.04M (conv2d), 2.14M (decnet), 1.58M (scnet) and
  1.68M (both) parameters.
* Path width: the paper keeps the backbone's widths (256…2048 for ResNet-50). That makes the heavy model
  191M parameters, not the 24M the paper reports, so paths are ``w_i = neck_ratio × C_i`` wide.
* Input: 48×48 greyscale for every DMSNet, FER2013's own size and the teacher's, so that Table 3's rows and
  the distillation pairs all see the same images.
* ``dmsnet_light``: VGG-16-BN at width 0.22 (stage widths 32, 56, 112, 112) with full-width paths: the widest
  VGG-16 (in steps of 8 channels) that keeps within the paper's 100.8M multiply-accumulates at 48×48 whether
  or not the deformable layers' bilinear sampling is counted: 1.68M parameters, 96.0M MACs counted by
  ``FlopCounterMode`` + 2.3M of sampling = 98.3M (width 0.23 counts 100.5M + 2.3M). Multiply-accumulates bind
  long before the 5.6M-parameter budget does.
* ``dmsnet_heavy``: the full ResNet-50 (23.5M parameters on its own) with paths at 1/16 of its widths
  (16…128): 24.8M parameters, near the paper's 24M. The paper's 140.2M cannot be matched with a full
  ResNet-50 at any square input: the body alone counts 82M multiply-accumulates at 32×32 and 179M from 33×33
  (stride-32 rounding); at 48×48 the model counts 220M.
* ``dmsnet_light_full``: VGG-16-BN at full width with full-width paths (the paper's layout on VGG-16).
  ``create_model("dmsnet_heavy", neck_ratio=1.0)`` builds the paper's literal heavy layout.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import torch
from torch import nn

from edgefer.errors import ModelError
from edgefer.models.backbones import scaled_width
from edgefer.models.backbones.resnet import ResNet50Body
from edgefer.models.backbones.vgg import VGG16Body
from edgefer.models.layers.deformable import DeformConv2d
from edgefer.models.layers.rfb import RFB
from edgefer.models.layers.separable import SeparableConv2d
from edgefer.models.registry import register_model, require_img_size

# Table 3's rows: which operation fills the encoder's and decoder's (DeCNet slot, SCNet slot).
VARIANTS: dict[str, tuple[str, str]] = {
    "conv2d": ("conv", "conv"),
    "decnet": ("deformable", "conv"),
    "scnet": ("conv", "separable"),
    "decnet+scnet": ("deformable", "separable"),
}
BACKBONES = {"vgg16_bn": VGG16Body, "resnet50": ResNet50Body}
MIN_IMG_SIZE = 16  # VGG-16's four poolings


def _spatial_op(kind: str, channels: int) -> nn.Module:
    """One 3×3 channel-preserving operation without bias (a BN or a biased 1×1 convolution follows)."""
    if kind == "deformable":
        return DeformConv2d(channels, channels, 3, bias=False)
    if kind == "separable":
        return SeparableConv2d(channels, channels, 3, bias=False)
    return nn.Conv2d(channels, channels, 3, padding=1, bias=False)


def encoder_block(channels: int, variant: str) -> nn.Sequential:
    """E_i: DeCNet → SCNet → BN → ReLU (slots filled as ``variant`` says)."""
    first, second = VARIANTS[variant]
    return nn.Sequential(
        _spatial_op(first, channels), _spatial_op(second, channels), nn.BatchNorm2d(channels), nn.ReLU(inplace=True)
    )


def decoder_block(channels: int, out_channels: int, variant: str) -> nn.Sequential:
    """D_i: DeCNet 3×3 → SCNet 3×3 → 1×1 transposed convolution to the common width → ReLU."""
    first, second = VARIANTS[variant]
    return nn.Sequential(
        _spatial_op(first, channels),
        _spatial_op(second, channels),
        nn.ConvTranspose2d(channels, out_channels, 1),
        nn.ReLU(inplace=True),
    )


class DMSNet(nn.Module):
    """Backbone + four RFB/encoder/RFB/decoder paths fused by addition + MLP head (see the module docstring)."""

    def __init__(
        self,
        backbone: str = "vgg16_bn",
        num_classes: int = 7,
        in_chans: int = 1,
        width_mult: float = 1.0,
        neck_ratio: float = 1.0,
        variant: str = "decnet+scnet",
        embed_dim: int | None = None,
        drop_rate: float = 0.3,
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ModelError(f"unknown DMSNet variant {variant!r}; use one of {', '.join(VARIANTS)}")
        if backbone not in BACKBONES:
            raise ModelError(f"unknown DMSNet backbone {backbone!r}; use one of {', '.join(BACKBONES)}")
        self.backbone = BACKBONES[backbone](in_chans=in_chans, width_mult=width_mult)
        widths = [scaled_width(c, neck_ratio) for c in self.backbone.stage_channels]
        self.num_features = embed_dim or max(widths)
        self.rfb_in = nn.ModuleList(RFB(c, w) for c, w in zip(self.backbone.stage_channels, widths, strict=True))
        self.encoders = nn.ModuleList(encoder_block(w, variant) for w in widths)
        self.rfb_mid = nn.ModuleList(RFB(w, w) for w in widths)
        self.decoders = nn.ModuleList(decoder_block(w, self.num_features, variant) for w in widths)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Linear(self.num_features, self.num_features),
            nn.ReLU(inplace=True),
            nn.Dropout(drop_rate),
            nn.Linear(self.num_features, num_classes),
        )
        self._init_paths()

    def _init_paths(self) -> None:
        """He initialisation (fan-out, as the backbones use) for the paths' kernels, zero biases.

        PyTorch's default initialisation shrinks the signal about threefold per layer; through the decoders' three
        unnormalised layers the pooled features become little more than the last biases, the same for every
        image. The deformable layers' offset predictors keep their zero initialisation.
        """
        offset_predictors = {id(m.offset) for m in self.modules() if isinstance(m, DeformConv2d)}
        for path in (self.rfb_in, self.encoders, self.rfb_mid, self.decoders):
            for module in path.modules():
                if isinstance(module, DeformConv2d) or (
                    isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and id(module) not in offset_predictors
                ):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) image → (B, D) fused multi-scale feature vector."""
        paths = zip(self.backbone(x), self.rfb_in, self.encoders, self.rfb_mid, self.decoders, strict=True)
        pooled = [
            self.pool(decoder(rfb_mid(encoder(rfb_in(stage))))).flatten(1)  # (B, D) from (B, D, H_i, W_i)
            for stage, rfb_in, encoder, rfb_mid, decoder in paths
        ]
        return functools.reduce(operator.add, pooled)  # (B, D)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """(B, D) features → (B, num_classes) logits."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


LIGHT = {"backbone": "vgg16_bn", "width_mult": 0.22, "neck_ratio": 1.0}
LIGHT_FULL = {"backbone": "vgg16_bn", "width_mult": 1.0, "neck_ratio": 1.0}
HEAVY = {"backbone": "resnet50", "width_mult": 1.0, "neck_ratio": 0.0625}
IMG_SIZE = 48


def _build(
    config: dict[str, Any], variant: str, num_classes: int, in_chans: int, img_size: int | None, **kwargs: Any
) -> DMSNet:
    require_img_size("DMSNet", img_size, MIN_IMG_SIZE)
    return DMSNet(num_classes=num_classes, in_chans=in_chans, variant=variant, **{**config, **kwargs})


@register_model(default_img_size=IMG_SIZE)
def dmsnet_light(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Light): VGG-16-BN ×0.22, DeCNet+SCNet, 48×48 — within the paper's 5.6M params / 100.8M MACs."""
    return _build(LIGHT, "decnet+scnet", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_light_conv2d(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Light) ablation, Table 3 row "Conv2d": plain 3×3 convolutions in encoders and decoders."""
    return _build(LIGHT, "conv2d", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_light_decnet(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Light) ablation, Table 3 row "DeCNet": deformable convolutions, no separable ones."""
    return _build(LIGHT, "decnet", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_light_scnet(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Light) ablation, Table 3 row "SCNet": separable convolutions, no deformable ones."""
    return _build(LIGHT, "scnet", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_light_full(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet on a full-width VGG-16-BN with full-width paths (the paper's layout, 33M parameters)."""
    return _build(LIGHT_FULL, "decnet+scnet", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_heavy(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Heavy): full ResNet-50, paths at 1/16 of its widths, DeCNet+SCNet — 24.8M params."""
    return _build(HEAVY, "decnet+scnet", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_heavy_conv2d(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Heavy) ablation, Table 3 row "Conv2d": plain 3×3 convolutions in encoders and decoders."""
    return _build(HEAVY, "conv2d", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_heavy_decnet(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Heavy) ablation, Table 3 row "DeCNet": deformable convolutions, no separable ones."""
    return _build(HEAVY, "decnet", num_classes, in_chans, img_size, **kwargs)


@register_model(default_img_size=IMG_SIZE)
def dmsnet_heavy_scnet(num_classes: int = 7, in_chans: int = 1, img_size: int | None = None, **kwargs: Any) -> DMSNet:
    """DMSNet (Heavy) ablation, Table 3 row "SCNet": separable convolutions, no deformable ones."""
    return _build(HEAVY, "scnet", num_classes, in_chans, img_size, **kwargs)
