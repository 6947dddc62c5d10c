"""Deep networks trained by every method of the reproduction: a LeNet-5-style CNN on
Fashion-MNIST (``cnn``) and an LSTM part-of-speech tagger on the Brown corpus (``lstm``), with
SGD (float32), LP-SGD, LP-SVRG and HALP (``train``), the paper's deep-learning claim
(``python -m halp_bench.nets``).

Modules: ``data`` (the data sets, fetched from the package registries, checked and cached),
``layers`` / ``cnn`` / ``lstm`` (Numba forward and backward kernels of the networks, float32, and
their bit-centred forms), ``train`` (the methods).
"""
