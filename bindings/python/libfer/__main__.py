"""``python -m libfer COMMAND``: the ``fer`` program's analyze, detect and
predict commands for people who only have Python, with the same options and
the same output, line for line (docs/cli.md describes it).

Exit status: 0 ok, 1 an image or file could not be used (the others are
still processed), 2 usage.
"""

import argparse
import os
import sys

import libfer
from libfer import errors

OK, FAILURE, USAGE = 0, 1, 2
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".pnm", ".pbm")
ANALYZER_SETTINGS = (("--scale-factor", "scale_factor"), ("--min-neighbors", "min_neighbors"),
                     ("--min-size", "min_size"), ("--max-size", "max_size"),
                     ("--margin", "margin"))
DETECTOR_SETTINGS = ANALYZER_SETTINGS[:4]


class Usage(Exception):
    """A usage error found after parsing (exit status 2)."""


def message(exc):
    """The library's message without the status name in front."""
    text = str(exc)
    if isinstance(exc, errors.LibferError) and exc.status_name and \
            text.startswith(exc.status_name + ": "):
        return text[len(exc.status_name) + 2:]
    return text


def complain(command, text):
    sys.stderr.write("libfer %s: %s\n" % (command, text))


def json_string(text):
    """A JSON string as the fer command writes it: only '"', '\\' and
    control characters escaped."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def csv_field(text):
    if not any(c in text for c in ',"\r\n'):
        return text
    return '"' + text.replace('"', '""') + '"'


def number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("needs a number, not '%s'" % text)


def threads(text):
    value = number(text)
    if value != int(value) or not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 1024")
    return int(value)


def add_output_options(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", dest="format", action="store_const", const="json",
                       help="one JSON object per image per line")
    group.add_argument("--csv", dest="format", action="store_const", const="csv",
                       help="one CSV row per %s, with a header"
                       % ("face" if parser.prog.endswith("analyze") else "image"))


def add_analyzer_options(parser, settings):
    parser.add_argument("--model", metavar="FILE",
                        help="expression model (default: the built-in one)")
    parser.add_argument("--cascade", metavar="FILE",
                        help="face cascade, OpenCV XML or libfer binary (default: "
                        "$FER_CASCADE, else the built-in one)")
    parser.add_argument("--threads", metavar="N", type=threads,
                        help="threads to use (default: all cores)")
    for flag, name in settings:
        parser.add_argument(flag, dest=name, metavar="N", type=number)


def collect(path, command):
    """[path], or the images of the folder ``path`` in name order."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path)
                       if not n.startswith(".") and os.path.splitext(n)[1].lower()
                       in IMAGE_EXTENSIONS)
        return [path + "/" + n for n in names]
    if not os.path.exists(path):
        complain(command, "%s: %s" % (path, os.strerror(2)))
        return None
    return [path]


# -- analyze ---------------------------------------------------------------

def print_analysis(path, image, faces, names, fmt):
    k = len(names)
    if fmt == "json":
        parts = []
        for f in faces:
            x, y, w, h = f.box
            probs = ",".join("%s:%.6f" % (json_string(n), f.probabilities[n]) for n in names)
            parts.append('{"box":{"x":%d,"y":%d,"width":%d,"height":%d},"detector_score":%.6g,'
                         '"neighbors":%d,"label":%s,"confidence":%.6f,"probabilities":{%s}}'
                         % (x, y, w, h, f.detector_score, f.neighbors, json_string(f.label),
                            f.confidence, probs))
        print('{"image":%s,"width":%d,"height":%d,"faces":[%s]}'
              % (json_string(path), image.width, image.height, ",".join(parts)))
    elif fmt == "csv":
        for i, f in enumerate(faces, 1):
            x, y, w, h = f.box
            print("%s,%d,%d,%d,%d,%d,%.6g,%s,%.6f%s"
                  % (csv_field(path), i, x, y, w, h, f.detector_score, f.label, f.confidence,
                     "".join(",%.6f" % f.probabilities[n] for n in names)))
    else:
        print("%s: %d face%s" % (path, len(faces), "" if len(faces) == 1 else "s"))
        for i, f in enumerate(faces, 1):
            x, y, w, h = f.box
            line = "  face %d at %d,%d %dx%d: %s %.0f%%" % (i, x, y, w, h, f.label,
                                                            100.0 * f.confidence)
            probs = [f.probabilities[n] for n in names]
            shown = []
            for _ in range(min(2, k - 1)):
                best = -1
                for c in range(k):
                    if c != f.index and c not in shown and (best < 0 or probs[c] > probs[best]):
                        best = c
                shown.append(best)
            if shown:
                line += " (then " + ", ".join("%s %.0f%%" % (names[c], 100.0 * probs[c])
                                              for c in shown) + ")"
            print(line)
    sys.stdout.flush()


def open_analyzer(args, command):
    """An Analyzer from --model/--cascade and the settings given."""
    if args.threads:
        libfer.set_num_threads(args.threads)
    model = libfer.Model.load(args.model) if args.model else None
    cascade = libfer.Cascade.load(args.cascade) if args.cascade else None
    if model is None and cascade is None:
        analyzer = libfer.Analyzer()
    else:
        analyzer = libfer.Analyzer(model or libfer.Model.default(),
                                   cascade or libfer.Cascade.default())
    for _, name in ANALYZER_SETTINGS:
        value = getattr(args, name)
        if value is not None:
            try:
                analyzer.set(**{name: value})
            except errors.InvalidArgumentError as exc:
                raise Usage(message(exc))
    return analyzer


def cmd_analyze(args):
    rc = OK
    if args.annotate and not os.path.isdir(args.annotate):
        try:
            os.mkdir(args.annotate)
        except OSError as exc:
            complain("analyze", "--annotate %s: %s" % (args.annotate, exc.strerror))
            return FAILURE
    paths = []
    for given in args.images:
        found = collect(given, "analyze")
        if found is None:
            rc = FAILURE
        else:
            paths.extend(found)
    analyzer = open_analyzer(args, "analyze")
    names = analyzer.class_names
    if args.format == "csv":
        print("image,face,x,y,width,height,detector_score,label,confidence"
              + "".join("," + n for n in names))
    for path in paths:
        try:
            image = libfer.Image.load(path)
            faces = analyzer.analyze(image)
        except errors.LibferError as exc:
            complain("analyze", message(exc))
            rc = FAILURE
            continue
        print_analysis(path, image, faces, names, args.format)
        if args.annotate:
            stem = os.path.splitext(os.path.basename(path))[0] or os.path.basename(path)
            out = os.path.join(args.annotate, stem + ".png")
            try:
                analyzer.annotate(image.to_rgb(), faces).save(out, "png")
            except errors.LibferError as exc:
                complain("analyze", message(exc))
                rc = FAILURE
    return rc


# -- detect ----------------------------------------------------------------

def cmd_detect(args):
    if args.annotate and len(args.images) != 1:
        raise Usage("--annotate takes exactly one image")
    cascade = libfer.Cascade.load(args.cascade) if args.cascade else libfer.Cascade.default()
    detector = cascade.detector()
    for _, name in DETECTOR_SETTINGS:
        value = getattr(args, name)
        if value is not None:
            try:
                detector.set(**{name: value})
            except errors.InvalidArgumentError as exc:
                raise Usage(message(exc))
    rc = OK
    for path in args.images:
        try:
            image = libfer.Image.load(path)
            found = detector.detect_detections(image)
        except errors.LibferError as exc:
            complain("detect", message(exc))
            rc = FAILURE
            continue
        if args.format == "json":
            print('{"image":%s,"width":%d,"height":%d,"faces":[%s]}' % (
                json_string(path), image.width, image.height, ",".join(
                    '{"x":%d,"y":%d,"width":%d,"height":%d,"neighbors":%d,"score":%.6g}'
                    % (box + (neighbors, score)) for box, neighbors, score in found)))
        else:
            print("%s: %d found" % (path, len(found)))
            for box, neighbors, score in found:
                print("  %d %d %d %d %d %.6g" % (box + (neighbors, score)))
        sys.stdout.flush()
        if args.annotate:
            drawn = image.to_rgb()
            for box, _, _ in found:
                drawn.draw_rect(box, (0, 255, 0), 3 if image.width > 600 else 2)
            try:
                drawn.save(args.annotate)
            except errors.LibferError as exc:
                complain("detect", message(exc))
                rc = FAILURE
    return rc


# -- predict ---------------------------------------------------------------

def cmd_predict(args):
    if args.threads:
        libfer.set_num_threads(args.threads)
    model = libfer.Model.load(args.model) if args.model else libfer.Model.default()
    predictor = model.predictor()
    names = model.class_names
    if args.format == "csv":
        print("image,label,confidence" + "".join("," + n for n in names))
    rc = OK
    for path in args.images:
        try:
            result = predictor.predict(libfer.Image.load(path))
        except errors.LibferError as exc:
            complain("predict", message(exc))
            rc = FAILURE
            continue
        probs = result["probabilities"]
        confidence = probs[result["label"]]
        if args.format == "json":
            print('{"image":%s,"label":%s,"confidence":%.6f,"probabilities":{%s}}' % (
                json_string(path), json_string(result["label"]), confidence,
                ",".join("%s:%.6f" % (json_string(n), probs[n]) for n in names)))
        elif args.format == "csv":
            print("%s,%s,%.6f%s" % (path, result["label"], confidence,
                                    "".join(",%.6f" % probs[n] for n in names)))
        else:
            print("%s: %s %.0f%%" % (path, result["label"], 100.0 * confidence))
        sys.stdout.flush()
    return rc


def cmd_version(args):
    lib = libfer.load_library()
    print("libfer %s (Python package %s, library %s, OpenMP %s)"
          % (libfer.version(), os.path.dirname(os.path.abspath(libfer.__file__)),
             getattr(lib, "_name", "?"), "on" if libfer.has_openmp() else "off"))
    return OK


def parser():
    top = argparse.ArgumentParser(
        prog="python -m libfer",
        description="The fer command's analyze, detect and predict, from Python.",
        epilog="Exit status: 0 ok, 1 an image or file could not be used, 2 usage.")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    p = commands.add_parser("analyze", help="find faces in images and classify their expressions",
                            description="Finds the faces in each image (a folder stands for "
                            "the images in it) and classifies their expressions.")
    p.add_argument("images", nargs="+", metavar="IMAGE|DIR")
    add_output_options(p)
    p.add_argument("--annotate", metavar="DIR",
                   help="write DIR/NAME.png with boxes and labels drawn")
    add_analyzer_options(p, ANALYZER_SETTINGS)
    p.set_defaults(run=cmd_analyze)

    p = commands.add_parser("detect", help="face boxes only (a Viola-Jones cascade)",
                            description="Finds objects with a Viola-Jones cascade and prints "
                            "one line per box: x y width height neighbours score.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--cascade", metavar="FILE",
                   help="the cascade, OpenCV XML or libfer binary (default: $FER_CASCADE, "
                   "else the built-in one)")
    for flag, name in DETECTOR_SETTINGS:
        p.add_argument(flag, dest=name, metavar="N", type=number)
    p.add_argument("--json", dest="format", action="store_const", const="json",
                   help="one JSON object per image per line")
    p.add_argument("--annotate", metavar="OUT.png",
                   help="write the image with the boxes drawn (one image only)")
    p.set_defaults(run=cmd_detect)

    p = commands.add_parser("predict", help="classify images that are already face crops",
                            description="Classifies each image as a whole (it should be a "
                            "face crop). Prints 'IMAGE: LABEL PERCENT%%' per image.")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    add_output_options(p)
    p.add_argument("--model", metavar="FILE",
                   help="expression model (default: the built-in one)")
    p.add_argument("--threads", metavar="N", type=threads,
                   help="threads to use (default: all cores)")
    p.set_defaults(run=cmd_predict)

    p = commands.add_parser("version", help="the library version and where it was loaded from")
    p.set_defaults(run=cmd_version)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except Usage as exc:
        complain(args.command, str(exc))
        return USAGE
    except errors.LibferError as exc:  # a model, cascade or library that cannot be used
        complain(args.command, message(exc))
        return FAILURE
    except BrokenPipeError:  # | head
        return OK


if __name__ == "__main__":
    sys.exit(main())
