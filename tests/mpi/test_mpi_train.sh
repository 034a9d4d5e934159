#!/bin/sh
# examples/mpi_train on Open MPI (suite mpi):
#  1. 2 ranks x batch 32 end with the weights of 1 rank x batch 64 (a net
#     without batch norm or dropout; 2 epochs of 4 steps on 256 synthetic
#     FER2013 rows): largest parameter difference <= 1e-5 of the largest
#     parameter (the runs add the same numbers in another order; measured
#     about 1e-7);
#  2. a state written by 2 ranks after epoch 1 is resumed by 1 rank for
#     epoch 2 and gives the weights of run 1 (same tolerance), with a
#     history of 2 epochs written by rank 0 only;
#  3. with batch norm each rank normalises its own 32 (ghost batches, the
#     documented behaviour): the run works and its weights differ from 1 x
#     64 by more than 1e-5 relative (so that check 1 can fail);
#  4. a rank that fails ends the job with its status.
#   test_mpi_train.sh COMPARE_MODELS [MPI_TRAIN]
set -u
compare=$1
mpi_train=${2:-}
if [ -z "$mpi_train" ]; then
  echo "SKIP: examples/mpi_train was not built (no MPI library; Debian: apt-get install libopenmpi-dev openmpi-bin)"
  exit 77
fi
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIP: mpirun is not installed (Debian: apt-get install openmpi-bin)"
  exit 77
fi
compare=$(readlink -f "$compare")
mpi_train=$(readlink -f "$mpi_train")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# Open MPI on a small machine, in containers, maybe as root: start as many
# ranks as asked whatever the core count, stay on this machine, and use
# shared memory without the cross-process copy that containers forbid.
run_as_root=
[ "$(id -u)" = 0 ] && run_as_root=--allow-run-as-root
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
mpirun_n() {
  n=$1
  shift
  mpirun $run_as_root --oversubscribe --bind-to none -n "$n" "$mpi_train" "$@"
}

# 256 rows of a FER2013 CSV: label = i mod 7, pixels from a fixed LCG.
awk 'BEGIN {
  print "emotion,pixels,Usage"
  s = 12345
  for (i = 0; i < 256; i++) {
    line = ""
    for (p = 0; p < 2304; p++) {
      s = (s * 1103515245 + 12345) % 2147483648
      line = line (p ? " " : "") int(s / 8388608)
    }
    print (i % 7) "," line ",Training"
  }
}' >data.csv

printf 'input 1x48x48\nmax 4x4/4\nconv 6 3x3 same\nrelu\nmax 2x2/2\nflatten\ndense 16\ntanh\ndense 7\nsoftmax\n' >plain.txt
printf 'input 1x48x48\nmax 4x4/4\nconv 6 3x3 same nobias\nbn\nrelu\nmax 2x2/2\nflatten\ndense 7\nsoftmax\n' >bn.txt
common="data.csv --no-val --epochs 2 --seed 3 --threads 1 --quiet --lr 0.003"
failed=0
check() {
  if "$@"; then echo "ok   $label"; else echo "FAIL $label"; failed=1; fi
}

mpirun_n 1 $common --arch plain.txt --batch 64 --out one.ferm || { echo "FAIL 1 rank"; exit 1; }
mpirun_n 2 $common --arch plain.txt --batch 32 --out two.ferm --history two.csv ||
  { echo "FAIL 2 ranks"; exit 1; }
label="2 ranks x 32 == 1 rank x 64"
check "$compare" one.ferm two.ferm 1e-5
label="history written once, 2 epochs"
check test "$(wc -l <two.csv)" -eq 3

mpirun_n 2 data.csv --no-val --epochs 1 --seed 3 --threads 1 --quiet --lr 0.003 \
  --arch plain.txt --batch 32 --out part.ferm --state run.state --history run.csv ||
  { echo "FAIL first epoch on 2 ranks"; exit 1; }
mpirun_n 1 $common --arch plain.txt --batch 64 --out resumed.ferm --state run.state \
  --history run.csv || { echo "FAIL resume on 1 rank"; exit 1; }
label="resumed on 1 rank == uninterrupted"
check "$compare" one.ferm resumed.ferm 1e-5
label="resumed history has 2 epochs"
check test "$(wc -l <run.csv)" -eq 3

mpirun_n 1 $common --arch bn.txt --batch 64 --out bn-one.ferm || { echo "FAIL bn 1 rank"; exit 1; }
mpirun_n 2 $common --arch bn.txt --batch 32 --out bn-two.ferm || { echo "FAIL bn 2 ranks"; exit 1; }
label="batch norm: ghost batches differ from 1 x 64"
check "$compare" bn-one.ferm bn-two.ferm 1 1e-5

label="a failing rank ends the job with its status"
mpirun_n 2 missing.csv --quiet >fail.log 2>&1
status=$?
check test "$status" -ne 0
exit $failed
