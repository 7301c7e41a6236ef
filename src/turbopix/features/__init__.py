"""Feature extractors: networks that turn images into the feature vectors distribution metrics use.

    networks.py    the architectures (LeNet) and the input conversion every extractor applies
    extractor.py   FeatureExtractor (torch / ONNX), the shipped weights, ``load_extractor``
"""
from .extractor import (
    ExtractorError,
    FeatureExtractor,
    OnnxExtractor,
    TorchExtractor,
    default_extractor,
    load_extractor,
    save_extractor,
)
from .networks import to_extractor_input

__all__ = ["ExtractorError", "FeatureExtractor", "OnnxExtractor", "TorchExtractor", "default_extractor",
           "load_extractor", "save_extractor", "to_extractor_input"]
