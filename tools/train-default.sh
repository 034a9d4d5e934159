#!/bin/sh
# Trains the shipped default model (`fer train --net default`, architecture
# in models/default.arch) on FER2013's Training split, validating on
# PublicTest: AdamW with cosine decay over all epochs, label smoothing,
# augmentation (flip, shift, rotation, zoom, random erasing), best
# checkpoint on PublicTest accuracy. Inputs are standardised per image and
# nothing else: the Training split is as sharp as PublicTest and as real
# photos, so no sharpness limit (models/README.md). Resumable: run it again
# with the same arguments to continue from RUN_DIR/default.state.
#
#   tools/train-default.sh FER_BINARY FER2013 RUN_DIR [THREADS] [EPOCHS] [SEED]
#
# SEED (default 0, the shipped model's) seeds both the initial weights and
# the data order and augmentation: another seed trains an independent net
# of the same recipe (for the reproduction check or an ensemble).
# FER2013 is the unpacked folder layout (train/ and test/) or the CSV.
set -eu
fer=$1 data=$2 run=$3 threads=${4:-2} epochs=${5:-40} seed=${6:-0}
mkdir -p "$run"
if [ -d "$data" ]; then
  set -- "$data/train" --val "$data/test"
else
  set -- "$data" --usage training --val-usage publictest
fi
exec "$fer" train "$@" --net default --init-seed "$seed" --seed "$seed" \
  --epochs "$epochs" --batch 64 --optimizer adamw --lr 2e-3 \
  --weight-decay 0.01 --schedule cosine --label-smoothing 0.1 \
  --flip 0.5 --shift 0.1 --rotate 10 --zoom 0.1 --erase 0.25 \
  --standardize --threads "$threads" \
  --state "$run/default.state" --history "$run/default-history.csv" \
  --curves "$run/default-curves.svg" --out "$run/default.ferm"
