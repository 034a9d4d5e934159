#!/usr/bin/python3
"""Independent checks of files libfer writes, with Python's standard library
only (no sklearn, no numpy), called by test_metrics and test_svg.

  check_outputs.py metrics RAW JSON CSV TEXT NAME...
      RAW has one sample per line: "label p0 p1 ...". Recomputes the
      confusion matrix, per-class precision / recall / F1 / support, macro
      averages, accuracy and cross-entropy from RAW and compares them with
      the JSON and CSV reports; the text report must name every class.
  check_outputs.py svg FILE TEXT...
      FILE must be well-formed XML with an <svg> root, no NaN or infinite
      numbers in attributes, and a <text> element reading exactly each TEXT.
Exit status 0 when everything holds; messages on stderr otherwise.
"""
import csv
import json
import math
import re
import sys
import xml.etree.ElementTree as ET

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def close(a, b, tol=1e-6):
    return a is not None and b is not None and abs(a - b) <= tol


def check_metrics(raw_path, json_path, csv_path, text_path, names):
    labels, rows = [], []
    with open(raw_path) as f:
        for line in f:
            parts = line.split()
            labels.append(int(parts[0]))
            rows.append([float(v) for v in parts[1:]])
    k = len(names)
    conf = [[0] * k for _ in range(k)]
    loss = 0.0
    for label, probs in zip(labels, rows):
        pred = max(range(k), key=lambda c: (probs[c], -c))  # first maximum
        conf[label][pred] += 1
        loss -= math.log(max(probs[label], 1e-12))
    n = len(labels)
    stats = []
    for c in range(k):
        tp = conf[c][c]
        actual = sum(conf[c])
        predicted = sum(conf[r][c] for r in range(k))
        p = tp / predicted if predicted else 0.0
        r = tp / actual if actual else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        stats.append((p, r, f1, actual))
    accuracy = sum(conf[c][c] for c in range(k)) / n
    macro = [sum(s[i] for s in stats) / k for i in range(3)]

    with open(json_path) as f:
        js = json.load(f)
    expect(js["count"] == n, "json count")
    expect(close(js["accuracy"], accuracy), "json accuracy")
    expect(close(js["loss"], loss / n), "json loss %r vs %r" % (js["loss"], loss / n))
    expect(close(js["macro_f1"], macro[2]), "json macro_f1")
    expect(close(js["macro_precision"], macro[0]), "json macro_precision")
    expect(close(js["macro_recall"], macro[1]), "json macro_recall")
    expect(js["confusion"] == conf, "json confusion")
    for c, entry in enumerate(js["classes"]):
        expect(entry["name"] == names[c], "json name %d: %r" % (c, entry["name"]))
        p, r, f1, s = stats[c]
        expect(close(entry["precision"], p) and close(entry["recall"], r)
               and close(entry["f1"], f1) and entry["support"] == s,
               "json class %d figures" % c)

    with open(csv_path, newline="") as f:
        table = list(csv.reader(f))
    expect(table[0] == ["class", "precision", "recall", "f1", "support"], "csv header")
    for c in range(k):
        row = table[1 + c]
        p, r, f1, s = stats[c]
        expect(row[0] == names[c], "csv name %d: %r" % (c, row[0]))
        expect(close(float(row[1]), p) and close(float(row[2]), r)
               and close(float(row[3]), f1) and int(row[4]) == s,
               "csv class %d figures" % c)
    expect(table[1 + k][0] == "macro avg" and close(float(table[1 + k][3]), macro[2]),
           "csv macro row")
    expect(table[2 + k][0] == "accuracy" and close(float(table[2 + k][3]), accuracy),
           "csv accuracy row")

    with open(text_path) as f:
        text = f.read()
    for name in names:
        expect(name in text, "text lacks %r" % name)
    expect("%.4f" % accuracy in text, "text lacks the accuracy")


NUMBER_ATTRS = {"x", "y", "x1", "y1", "x2", "y2", "width", "height", "cx", "cy", "r",
                "font-size", "stroke-width"}


def check_svg(path, wanted):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        failures.append("%s: not well-formed XML: %s" % (path, e))
        return
    expect(root.tag == "{http://www.w3.org/2000/svg}svg", "root is %s" % root.tag)
    texts = set()
    for el in root.iter():
        for name, value in el.attrib.items():
            if name in NUMBER_ATTRS:
                v = float(value)
                expect(math.isfinite(v), "%s: %s=%s" % (path, name, value))
            if name == "points":
                for number in re.split(r"[ ,]+", value.strip()):
                    expect(math.isfinite(float(number)), "%s: point %s" % (path, number))
        if el.tag.endswith("}text"):
            texts.add("".join(el.itertext()))
    for w in wanted:
        expect(w in texts, "%s: no <text> reads %r" % (path, w))


def main(argv):
    if argv[0] == "metrics":
        check_metrics(argv[1], argv[2], argv[3], argv[4], argv[5:])
    elif argv[0] == "svg":
        check_svg(argv[1], argv[2:])
    else:
        sys.exit(__doc__)
    for f in failures:
        print("check_outputs.py: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
