"""Neural-network modules over tiles, and binarized/ternary layers for binary memories."""

from ..backing import ATTRIBUTE as TILE_ATTRIBUTE  # the old name of the backing attribute
from .attention import MemMultiheadAttention
from .binary import (
    BinaryConv1d,
    BinaryConv2d,
    BinaryLinear,
    SignActivation,
    TernaryConv2d,
    TernaryLinear,
    binarize,
    clear_stored_weights,
    clip_hidden_weights,
    quantized_layers,
    set_training_errors,
    sign_activation,
    store_weights,
)
from .calibrate import calibrate
from .convert import ConversionEntry, convert, tiles
from .device_binary import WeakResetBinaryConv2d, WeakResetBinaryLinear
from .layers import MemConv1d, MemConv2d, MemConv3d, MemLinear
from .over_time import OverTime, evaluate_over_time
from .packed import PackedBNN
from .programming import ModelProgramReport, program, program_and_verify
from .recurrent import MemGRU, MemLSTM, MemRNN
from .stochastic import StochasticBits
from .tiled import TiledMemConv, TiledMemLinear

__all__ = [
    "BinaryConv1d",
    "BinaryConv2d",
    "BinaryLinear",
    "MemConv1d",
    "MemConv2d",
    "MemConv3d",
    "MemGRU",
    "MemRNN",
    "MemLSTM",
    "MemLinear",
    "MemMultiheadAttention",
    "ModelProgramReport",
    "OverTime",
    "PackedBNN",
    "SignActivation",
    "StochasticBits",
    "TILE_ATTRIBUTE",
    "TernaryConv2d",
    "TiledMemConv",
    "TiledMemLinear",
    "TernaryLinear",
    "WeakResetBinaryConv2d",
    "WeakResetBinaryLinear",
    "binarize",
    "calibrate",
    "clear_stored_weights",
    "clip_hidden_weights",
    "ConversionEntry",
    "convert",
    "evaluate_over_time",
    "program",
    "program_and_verify",
    "quantized_layers",
    "set_training_errors",
    "sign_activation",
    "store_weights",
    "tiles",
]
