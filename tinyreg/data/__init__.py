"""Data for tinyreg: the IDX format, Fashion-MNIST, synthetic regression sets, mini-batches."""

from .errors import DataError, DataNotFoundError
from .fashion_mnist import (
    FASHION_MNIST_CLASSES,
    LabeledImages,
    fashion_mnist_dir,
    load_fashion_mnist,
    locate_fashion_mnist,
    subset,
    to_inputs,
)
from .idx import read_idx, write_idx
from .loader import batches
from .synthetic import RegressionSet, high_dim_linear, histogram_regression

__all__ = [
    "DataError", "DataNotFoundError", "FASHION_MNIST_CLASSES", "LabeledImages", "fashion_mnist_dir",
    "load_fashion_mnist", "locate_fashion_mnist",
    "subset", "to_inputs", "read_idx", "write_idx", "batches", "RegressionSet",
    "high_dim_linear", "histogram_regression",
]
