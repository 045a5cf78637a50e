"""``from d2l import torch as d2l``: the parts of d2l.torch the project's cells use."""

import matplotlib.pyplot as plt  # noqa: F401  (d2l.plt)
import numpy as np  # noqa: F401
import torch

from d2l._common import Accumulator, Timer, add_to_class, plot, set_axes, set_figsize, use_svg_display  # noqa: F401


def cpu():
    return torch.device("cpu")


def gpu(i=0):
    return torch.device(f"cuda:{i}")


def num_gpus():
    return torch.cuda.device_count()


def try_gpu(i=0):
    """Return gpu(i) if exists, otherwise return cpu()."""
    return gpu(i) if num_gpus() >= i + 1 else cpu()


def try_all_gpus():
    return [gpu(i) for i in range(num_gpus())] or [cpu()]


ones, zeros, tensor, arange = torch.ones, torch.zeros, torch.tensor, torch.arange
meshgrid, sin, sinh, cos, cosh, tanh = (
    torch.meshgrid,
    torch.sin,
    torch.sinh,
    torch.cos,
    torch.cosh,
    torch.tanh,
)
linspace, exp, log, normal, rand, randn = (
    torch.linspace,
    torch.exp,
    torch.log,
    torch.normal,
    torch.rand,
    torch.randn,
)
matmul, int32, int64, float32, concat, stack, abs, eye = (
    torch.matmul,
    torch.int32,
    torch.int64,
    torch.float32,
    torch.cat,
    torch.stack,
    torch.abs,
    torch.eye,
)


def numpy(x, *args, **kwargs):
    return x.detach().numpy(*args, **kwargs)


def size(x, *args, **kwargs):
    return x.numel(*args, **kwargs)


def reshape(x, *args, **kwargs):
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    return x.to(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    return x.sum(*args, **kwargs)


def argmax(x, *args, **kwargs):
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    return x.type(*args, **kwargs)


def transpose(x, *args, **kwargs):
    return x.t(*args, **kwargs)


def reduce_mean(x, *args, **kwargs):
    return x.mean(*args, **kwargs)
