#!/usr/bin/python3
"""Accuracy of an ensemble of expression models: each model alone, then the
mean of their probabilities, on a FER2013 folder (train/ or test/ layout)
or CSV. Used to decide whether two nets (or two snapshots of one run) are
worth twice the inference cost of one; the model card quotes its output.

  LIBFER_LIBRARY=build/lib/libfer.so.0 PYTHONPATH=bindings/python \\
    /usr/bin/python3 tools/ensemble_eval.py DATA MODEL.ferm MODEL.ferm [...]
    [--usage publictest]   (CSV rows; default publictest)

The models must share their class order (the first model's names select
the folder's classes, whatever their alphabetical order).
"""
import argparse
import sys

import numpy as np

import libfer
from libfer.dataset import Dataset


def load_data(path, usage, class_names):
    if path.endswith(".csv") or path.endswith(".csv.gz"):
        return Dataset.from_fer2013_csv(path, usage=usage)
    return Dataset.from_folder(path, class_names=class_names)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--usage", default="publictest")
    a = ap.parse_args(argv)
    if len(a.models) < 2:
        ap.error("give at least two models")
    models = [libfer.Model.load(p) for p in a.models]
    names = models[0].class_names
    for p, m in zip(a.models[1:], models[1:]):
        if m.class_names != names:
            ap.error("%s: classes %s differ from %s" % (p, m.class_names, names))
    ds = load_data(a.data, a.usage, names)
    y = np.asarray(ds.labels)
    probs = []
    for p, m in zip(a.models, models):
        pr = np.asarray(m.predict_proba(ds))
        probs.append(pr)
        print("%-40s accuracy %.4f" % (p, (pr.argmax(1) == y).mean()))
    mean = np.mean(probs, axis=0)
    print("%-40s accuracy %.4f  (%d images)" % ("mean of probabilities",
                                                (mean.argmax(1) == y).mean(), len(y)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
