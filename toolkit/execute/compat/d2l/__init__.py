"""A small stand-in for the `d2l` package (d2l.ai) in the PyTorch and TensorFlow kernels.

Why: d2l 1.0.3's torch module imports torchvision (which does not install beside the CPU
torch wheel used here) and the package pins numpy 1.23.5, which TensorFlow 2.21 refuses.
This module gives what the book's cells in this project use, with d2l's behaviour:
``from d2l import torch as d2l`` / ``from d2l import tensorflow as d2l``. It is put on the
kernel's PYTHONPATH only; the MXNet kernel uses the real d2l package.
"""
