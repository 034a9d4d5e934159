#!/usr/bin/env python3
"""The classic facial-expression tutorial with libfer: load FER2013, train a
small CNN, evaluate it, find faces in a photo and label them.

    python3 tutorial.py fer2013.csv photo.jpg \\
        --cascade /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml

The heart of it is the ten lines in main(); the rest is argument parsing.
Without --cascade the whole photo is classified as one face.
"""
import argparse

import libfer

SMALL_NET = """input 1x48x48
conv 8 3x3 same
bn
relu
max 2x2/2
conv 16 3x3 same
bn
relu
max 2x2/2
conv 32 3x3 same
relu
gap
flatten
dense 7
softmax
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", help="FER2013 CSV (or .csv.gz)")
    ap.add_argument("photo", help="a photo with faces")
    ap.add_argument("--cascade", help="OpenCV face cascade XML")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="use only this many training images")
    ap.add_argument("--model-out", default="fer.ferm")
    ap.add_argument("--out", default="annotated.png")
    args = ap.parse_args()

    train = libfer.Dataset.from_fer2013_csv(args.csv, usage="Training")
    test = libfer.Dataset.from_fer2013_csv(args.csv, usage="PublicTest")
    if args.limit:
        train = train.subset(libfer.epoch_order(len(train), seed=0)[:args.limit])
    model = libfer.Model.from_text(SMALL_NET)          # or Model.reference("seed000")
    model.fit(train, epochs=args.epochs, batch_size=64, validation_data=test,
              augment=libfer.Augment(flip_prob=0.5),
              callbacks=[lambda epoch, logs: print("epoch", epoch + 1, logs)])
    print("PublicTest:", model.evaluate(test))
    model.save(args.model_out)

    photo = libfer.Image.load(args.photo)
    if args.cascade:
        faces = libfer.Cascade.load(args.cascade).detect(
            photo, scale_factor=1.1, min_neighbors=3, min_size=(30, 30))
    else:
        faces = [(0, 0, photo.width, photo.height)]
    for (x, y, w, h) in faces:
        label = model.predict(photo.crop(x, y, w, h))["label"]
        print("face at", (x, y, w, h), "looks", label)
        photo.draw_rect((x, y, w, h), color=(0, 255, 0))
        photo.draw_text(x, max(0, y - 18), label, scale=2, color=(255, 255, 0))
    photo.save(args.out)


if __name__ == "__main__":
    main()
