"""``from d2l import tensorflow as d2l``: the parts of d2l.tensorflow the project's cells use."""

import matplotlib.pyplot as plt  # noqa: F401  (d2l.plt)
import numpy as np  # noqa: F401
import tensorflow as tf

from d2l._common import Accumulator, Timer, add_to_class, plot, set_axes, set_figsize, use_svg_display  # noqa: F401


def cpu():
    return tf.device("/CPU:0")


def gpu(i=0):
    return tf.device(f"/GPU:{i}")


def num_gpus():
    return len(tf.config.experimental.list_physical_devices("GPU"))


def try_gpu(i=0):
    """Return gpu(i) if exists, otherwise return cpu()."""
    return gpu(i) if num_gpus() >= i + 1 else cpu()


def try_all_gpus():
    return [gpu(i) for i in range(num_gpus())] or [cpu()]


ones, zeros, tensor, arange = tf.ones, tf.zeros, tf.constant, tf.range
meshgrid, sin, sinh, cos, cosh, tanh = tf.meshgrid, tf.sin, tf.sinh, tf.cos, tf.cosh, tf.tanh
linspace, exp, log, normal, matmul = tf.linspace, tf.exp, tf.math.log, tf.random.normal, tf.matmul
rand, int32, float32, concat, stack, abs, eye = (
    tf.random.uniform,
    tf.int32,
    tf.float32,
    tf.concat,
    tf.stack,
    tf.abs,
    tf.eye,
)


def numpy(x, *args, **kwargs):
    return x.numpy(*args, **kwargs)


def size(x, *args, **kwargs):
    return tf.size(x, *args, **kwargs)


def reshape(x, *args, **kwargs):
    return tf.reshape(x, *args, **kwargs)


def to(x, *args, **kwargs):
    return tf.cast(x, *args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    return tf.reduce_sum(x, *args, **kwargs)


def argmax(x, *args, **kwargs):
    return tf.argmax(x, *args, **kwargs)


def astype(x, *args, **kwargs):
    return tf.cast(x, *args, **kwargs)


def transpose(x, *args, **kwargs):
    return tf.transpose(x, *args, **kwargs)


def reduce_mean(x, *args, **kwargs):
    return tf.reduce_mean(x, *args, **kwargs)
