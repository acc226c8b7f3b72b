"""``python -m nbbackprop``: train the reference MLP on the bundled digits and print its test accuracy."""

import argparse
import time

import numpy as np

from .datasets import load_digits
from .modules import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from .optim import evaluate, fit


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nbbackprop", description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    X_train, y_train, X_test, y_test = load_digits()
    rng = np.random.default_rng(args.seed)
    model = Sequential([Linear(64, args.hidden, rng), ReLU(), Linear(args.hidden, 10, rng)])
    loss = SoftmaxCrossEntropy()
    print(f"digits: {len(X_train)} train / {len(X_test)} test images, 8x8; model {model}")
    start = time.perf_counter()
    history = fit(model, loss, X_train, y_train, lr=args.lr, epochs=args.epochs, batch_size=32, rng=rng,
                  progress=not args.no_progress)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = evaluate(model, loss, X_test, y_test)
    print(f"trained {args.epochs} epochs in {seconds:.2f} s: train loss {history['loss'][-1]:.4f}, "
          f"train accuracy {history['accuracy'][-1]:.2%}")
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
    return test_accuracy


if __name__ == "__main__":
    main()
