#!/bin/sh
# Trains the seed000 reference net with its published recipe (15 epochs,
# Adam 5e-4, batch 64, horizontal flips, ReduceLROnPlateau factor 0.1
# patience 2 min 1e-5 on val_loss, best checkpoint on validation accuracy;
# train on Training, validate on PublicTest). Resumable: run it again with
# the same arguments to continue from RUN_DIR/seed000.state.
#
#   tools/train-seed000.sh FER_BINARY FER2013 RUN_DIR [THREADS]
#
# FER2013 is the CSV from ../shared/data/fer2013/make_csv.py or the folder
# extracted from fer2013-folders.tar.gz (holding train/ and test/).
set -eu
fer=$1 csv=$2 run=$3 threads=${4:-2}
mkdir -p "$run"
# A folder is the Kaggle layout (train/ and test/); a file is the CSV.
if [ -d "$csv" ]; then
  data="$csv/train --val $csv/test"
else
  data="$csv --usage training --val-usage publictest"
fi
exec "$fer" train --net seed000 --init-seed 0 --seed 0 \
  --epochs 15 --batch 64 --optimizer adam --lr 5e-4 --flip 0.5 \
  --plateau-factor 0.1 --plateau-patience 2 --min-lr 1e-5 \
  --plateau-monitor val_loss \
  $data --threads "$threads" \
  --state "$run/seed000.state" --history "$run/seed000-history.csv" \
  --curves "$run/seed000-curves.svg" --out "$run/seed000.ferm"
