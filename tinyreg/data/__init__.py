"""Data for tinyreg: the IDX format, Fashion-MNIST, synthetic regression sets, mini-batches."""

from .fashion_mnist import (
    FASHION_MNIST_CLASSES,
    LabeledImages,
    load_fashion_mnist,
    locate_fashion_mnist,
    subset,
    to_inputs,
)
from .idx import read_idx, write_idx
from .loader import batches
from .synthetic import RegressionSet, high_dim_linear, histogram_regression

__all__ = [
    "FASHION_MNIST_CLASSES", "LabeledImages", "load_fashion_mnist", "locate_fashion_mnist",
    "subset", "to_inputs", "read_idx", "write_idx", "batches", "RegressionSet",
    "high_dim_linear", "histogram_regression",
]
