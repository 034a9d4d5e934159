#!/usr/bin/python3
"""Checks that each folder of lib/ includes only the folders it may use.

lib/ has one folder per part of the public API (README, "Layout"). The parts
build on each other in one direction: the network engine (nn/) never sees
training (train/), data sets (data/) or reports (report/); the detector
(detect/) never sees cascade training (cascade_train/). A quoted include
names its part by its first path component ("nn/gemm.h" is nn/) or, for a
public header, by the part that implements it ("fer/train.h" is train/).

  tools/check-includes.py [ROOT]     check ROOT/lib (default: this checkout)
  tools/check-includes.py --self-test
                                     the checker finds planted violations

Exit status 0 when every include is allowed, 1 with one line per violation.
"""
import os
import re
import sys
import tempfile

# Folder -> the other lib/ folders its files may include. Keep in step with
# the README's layout table and docs/HACKING.md.
ALLOWED = {
    "core": set(),
    "util": {"core"},
    "image": {"core", "util"},
    "nn": {"core", "util", "image"},
    "data": {"core", "util", "image"},
    "report": {"core", "util"},
    "train": {"core", "util", "image", "nn", "data", "report"},
    "detect": {"core", "util", "image"},
    "cascade_train": {"core", "util", "image", "detect"},
    "analyze": {"core", "util", "image", "nn", "detect"},
}

# Public headers -> the folders that implement them.
PUBLIC = {
    "fer/core.h": {"core"},
    "fer/image.h": {"image"},
    "fer/nn.h": {"nn"},
    "fer/data.h": {"data", "report"},
    "fer/train.h": {"train"},
    "fer/detect.h": {"detect"},
    "fer/cascade_train.h": {"cascade_train"},
    "fer/analyze.h": {"analyze"},
    "fer/video.h": {"analyze"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def owners(header):
    """The folders a quoted include belongs to; None for a same-folder file."""
    if header == "fer.h":
        return {"<everything: fer.h>"}
    if header in PUBLIC:
        return PUBLIC[header]
    if "/" in header:
        return {header.split("/", 1)[0]}
    return None


def check(root):
    """Returns the list of violations (strings) under root/lib."""
    lib = os.path.join(root, "lib")
    problems = []
    for folder in sorted(os.listdir(lib)):
        path = os.path.join(lib, folder)
        if not os.path.isdir(path):
            continue
        if folder not in ALLOWED:
            problems.append(f"lib/{folder}/: not in tools/check-includes.py's table; "
                            "say which folders it may include")
            continue
        allowed = ALLOWED[folder] | {folder}
        for name in sorted(os.listdir(path)):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                text = f.read()
            for header in INCLUDE.findall(text):
                parts = owners(header)
                if parts is None:
                    if not os.path.exists(os.path.join(path, header)):
                        problems.append(f"lib/{folder}/{name}: includes \"{header}\", "
                                        "which is not in its folder")
                    continue
                if not parts & allowed:
                    problems.append(f"lib/{folder}/{name}: includes \"{header}\" "
                                    f"({'/'.join(sorted(parts))}), which lib/{folder}/ "
                                    "may not use")
    return problems


def self_test():
    """Plants one violation of each kind in a copy-sized fake tree."""
    cases = {
        "nn/layer.c": '#include "train/trainer_internal.h"\n',
        "detect/scan.c": '#include "cascade_train/train_internal.h"\n',
        "nn/model.c": '#include "fer/train.h"\n',
        "image/png.c": '#include "fer.h"\n',
        "data/x.c": '#include "missing.h"\n',
    }
    clean = {
        "train/step.c": '#include "nn/nn_internal.h"\n#include "fer/train.h"\n',
        "cascade_train/run.c": '#include "detect/detect_internal.h"\n',
        "nn/gemm.c": '#include "gemm.h"\n',
        "nn/gemm.h": "\n",
    }
    failures = 0
    with tempfile.TemporaryDirectory() as root:
        for rel, text in clean.items():
            os.makedirs(os.path.join(root, "lib", os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(root, "lib", rel), "w") as f:
                f.write(text)
        if check(root):
            print("self-test: the clean tree was flagged:", check(root))
            failures += 1
        for rel, text in cases.items():
            target = os.path.join(root, "lib", rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write(text)
            found = [p for p in check(root) if p.startswith("lib/" + rel)]
            if len(found) != 1:
                print(f"self-test: lib/{rel} ({text.strip()}) gave {found}")
                failures += 1
            os.remove(target)
        os.makedirs(os.path.join(root, "lib", "newpart"))
        if not any("lib/newpart/" in p for p in check(root)):
            print("self-test: a folder missing from the table was not flagged")
            failures += 1
    print("self-test:", "ok" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = check(root)
    for p in problems:
        print(p)
    if not problems:
        print("includes: every lib/ folder includes only what it may")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
