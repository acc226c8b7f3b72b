"""nbbackprop — how neural networks learn, in numpy, small enough to read.

Modules, bottom up:

* ``neurons``    threshold logic units, Boolean gates, the perceptron (L01)
* ``logistic``   sigmoid, cross-entropy, logistic regression, LDA (L02)
* ``losses``     softmax, cross-entropy and squared error as plain functions
* ``modules``    boxes with fprop/bprop: Linear, activations, Sequential, losses (L06)
* ``graph``      flow graphs: topological order, reverse and forward mode (L06)
* ``mlp``        the multilayer perceptron in matrix form (L04, L05)
* ``optim``      SGD with weight decay and a training loop (L03, L05)
* ``gradcheck``  finite-difference gradient checks (L06)
* ``datasets``   toy sets and the bundled handwritten digits
* ``plotting``   the pictures (imports matplotlib)
* ``checks``     the checks the exercises call

Only numpy is imported with the package; ``plotting`` brings in matplotlib.
"""

__version__ = "0.1.0"
