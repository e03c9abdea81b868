"""MobileNet V1 (Howard et al., arXiv 1704.04861, 2017, Table 1) by accounting: where its memory sits.

Width multiplier 1.0, 224×224 RGB input, 1000 ImageNet classes: a full 3×3 convolution (stride 2, 32 channels), 13
depthwise-separable blocks (3×3 depthwise + 1×1 pointwise, each followed by batch-norm), global average pooling and
a 1024 → 1000 fully connected classifier. The paper quotes 4.2 M parameters. The network is built as a torch module
(no training) so that the same memory rule as the ECG/EEG networks counts it.
"""

from __future__ import annotations

from torch import nn

from ...nn.binary import BinaryConv2d, BinaryLinear
from ...nn.memory import memory_bits

# (stride, output channels) of the 13 depthwise-separable blocks, Howard et al. 2017, Table 1
SEPARABLE_BLOCKS = (
    (1, 64),
    (2, 128),
    (1, 128),
    (2, 256),
    (1, 256),
    (2, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (2, 1024),
    (1, 1024),
)
PUBLISHED_PARAMETERS = 4.2e6


def mobilenet_v1(variant: str = "float", n_classes: int = 1000) -> nn.Sequential:
    """The architecture; ``classifier-binary`` makes the FC layer binary, ``full-binary`` every conv and the FC."""
    binary_conv = variant == "full-binary"
    binary_fc = variant in ("classifier-binary", "full-binary")

    def conv(a, b, k, stride, groups=1):
        cls = BinaryConv2d if binary_conv else nn.Conv2d
        extra = {} if binary_conv else {"bias": False}
        return cls(a, b, k, stride=stride, padding=k // 2, groups=groups, **extra)

    layers: list[nn.Module] = [conv(3, 32, 3, 2), nn.BatchNorm2d(32), nn.ReLU()]
    width = 32
    for stride, out in SEPARABLE_BLOCKS:
        layers += [conv(width, width, 3, stride, groups=width), nn.BatchNorm2d(width), nn.ReLU()]
        layers += [conv(width, out, 1, 1), nn.BatchNorm2d(out), nn.ReLU()]
        width = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    layers.append(BinaryLinear(width, n_classes, bias=True) if binary_fc else nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def accounting() -> dict:
    """Parameters, classifier share and memory (bits) of the three variants."""
    float_model = mobilenet_v1("float")
    weights = sum(
        p.numel()
        for m in float_model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
        for p in m.parameters()
    )
    fc = float_model[-1]
    fc_parameters = sum(p.numel() for p in fc.parameters())
    out = {
        "parameters": weights,
        "parameters_relative_to_published": weights / PUBLISHED_PARAMETERS - 1.0,
        "classifier_parameters": fc_parameters,
        "classifier_parameter_share": fc_parameters / weights,
    }
    for variant in ("float", "classifier-binary", "full-binary"):
        model = mobilenet_v1(variant)
        bits = sum(r.bits for r in memory_bits(model))
        out[f"{variant}_bits"] = bits
    out["classifier_binary_memory_cut"] = 1.0 - out["classifier-binary_bits"] / out["float_bits"]
    out["full_binary_memory_cut"] = 1.0 - out["full-binary_bits"] / out["float_bits"]
    return out
