#!/usr/bin/env python3
"""The webcam loop of the OpenCV emotion tutorials, with libfer doing the
work: OpenCV reads the frames (a camera or any video file it can open) and
shows them; libfer finds the faces, classifies them and draws the boxes.

From a script written for the ``fer`` package, three lines change:

    from fer import FER                       ->  import libfer
    result = detector.detect_emotions(frame)  ->  faces = libfer.analyze(frame, channel_order="BGR")
    (the cv2.rectangle / cv2.putText loop)    ->  frame = libfer.annotate(frame, faces, channel_order="BGR").to_array("BGR")

and ``detector = FER()`` goes (libfer's model and face cascade are built
in). Run:

    python3 webcam.py                 # camera 0, a window; q quits
    python3 webcam.py clip.mp4 --output annotated.avi --no-window --json
"""
import argparse
import json
import os
import sys

import cv2

import libfer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", default="0",
                        help="camera index or video file (default: camera 0)")
    parser.add_argument("--output", metavar="FILE",
                        help="also write the annotated frames (.avi with MJPG, or .y4m)")
    parser.add_argument("--no-window", action="store_true",
                        help="do not show a window (default when there is no display)")
    parser.add_argument("--json", action="store_true",
                        help="print each frame's faces as one JSON line (the fer package's shape)")
    parser.add_argument("--max-frames", type=int, default=0, metavar="N",
                        help="stop after N frames (default: at the end of the video)")
    args = parser.parse_args()

    capture = cv2.VideoCapture(int(args.source) if args.source.isdigit() else args.source)
    if not capture.isOpened():
        sys.exit("cannot open %s" % args.source)
    show = not args.no_window and bool(os.environ.get("DISPLAY") or
                                       os.environ.get("WAYLAND_DISPLAY"))
    writer = None
    count = 0
    while not args.max_frames or count < args.max_frames:
        ok, frame = capture.read()
        if not ok:
            break
        # The two lines that replace the fer package's detector and drawing loop.
        faces = libfer.analyze(frame, channel_order="BGR")
        frame = libfer.annotate(frame, faces, channel_order="BGR").to_array("BGR")
        count += 1
        if args.json:
            print(json.dumps({"frame": count, "faces": libfer.to_fer(faces, decimals=4)}))
            sys.stdout.flush()
        if args.output:
            if writer is None:
                writer = open_writer(args.output, frame, capture)
            writer.write(frame)
        if show:
            cv2.imshow("libfer", frame)
            if cv2.waitKey(1) & 0xFF == ord("q"):
                break
    capture.release()
    if writer is not None:
        writer.release()
    if show:
        cv2.destroyAllWindows()
    print("%d frames" % count, file=sys.stderr)


class Y4MOutput:
    """libfer's Y4M writer with the ``write``/``release`` of cv2.VideoWriter."""

    def __init__(self, path, width, height, fps):
        self.writer = libfer.Y4MWriter(path, width, height,
                                       frame_rate=(int(round(fps * 1000)), 1000))

    def write(self, frame):
        self.writer.write(frame, channel_order="BGR")

    def release(self):
        self.writer.close()


def open_writer(path, frame, capture):
    height, width = frame.shape[:2]
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    if path.lower().endswith(".y4m"):
        return Y4MOutput(path, width, height, fps)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        sys.exit("OpenCV cannot write %s" % path)
    return writer


if __name__ == "__main__":
    main()
