#!/bin/sh
# fer train / fer eval end to end on a tiny synthetic folder data set (PGM
# images written here): exit codes for bad arguments (2) and bad data (1),
# a run that writes model, state, history and curves, a resume that extends
# it, soft targets (mixup, a teacher), and an evaluation with TTA, CSV and
# confusion SVG.
set -u
fer=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 7 classes x 4 images, 48x48 gray; each class a different gray level.
i=0
for class in angry disgust fear happy sad surprise neutral; do
  mkdir -p "$dir/data/$class"
  for k in 1 2 3 4; do
    level=$(( (i * 35 + k * 3) % 256 ))
    { printf 'P5 48 48 255\n'; head -c 2304 /dev/zero | tr '\0' "$(printf "\\$(printf '%03o' "$level")")"; } \
      > "$dir/data/$class/img$k.pgm"
  done
  i=$((i + 1))
done
printf 'input 1x48x48\nconv 4 3x3 same stride=4\nbn\nrelu\ndrop 0.1\ngap\ndense 7\nsoftmax\n' > "$dir/tiny.arch"

"$fer" train --help > /dev/null || fail "--help"
"$fer" train 2> /dev/null; [ $? -eq 2 ] || fail "no DATA must exit 2"
"$fer" train --epochs 0 "$dir/data" 2> /dev/null; [ $? -eq 2 ] || fail "--epochs 0 must exit 2"
"$fer" train --bogus "$dir/data" 2> /dev/null; [ $? -eq 2 ] || fail "unknown option must exit 2"
"$fer" train --no-val "$dir/missing" --arch "$dir/tiny.arch" 2> /dev/null; [ $? -eq 1 ] || fail "missing data must exit 1"

common="--arch $dir/tiny.arch --batch 8 --threads 1 --flip 0.5 --quiet \
  --state $dir/run.state --history $dir/history.csv --out $dir/model.ferm"
"$fer" train "$dir/data" --val "$dir/data" --epochs 2 --curves "$dir/curves.svg" $common \
  || fail "training"
[ -s "$dir/model.ferm" ] && [ -s "$dir/run.state" ] && [ -s "$dir/curves.svg" ] || fail "outputs"
[ "$(wc -l < "$dir/history.csv")" -eq 3 ] || fail "history after 2 epochs"
"$fer" train "$dir/data" --val "$dir/data" --epochs 3 $common || fail "resume"
[ "$(wc -l < "$dir/history.csv")" -eq 4 ] || fail "history after resuming to 3 epochs"
# A resume with another seed is refused (runtime failure).
"$fer" train "$dir/data" --val "$dir/data" --epochs 4 --seed 5 $common 2> /dev/null
[ $? -eq 1 ] || fail "resume with another seed must exit 1"

# Soft targets: mixup, and distillation from the model just trained.
"$fer" train "$dir/data" --no-val --epochs 1 --arch "$dir/tiny.arch" --batch 8 --threads 1 \
  --quiet --mixup 0.4 --teacher "$dir/model.ferm" --distill-weight 0.7 --temperature 2 \
  --out "$dir/student.ferm" || fail "train with --mixup and --teacher"
[ -s "$dir/student.ferm" ] || fail "student model"
"$fer" train "$dir/data" --no-val --arch "$dir/tiny.arch" --mixup -1 2> /dev/null
[ $? -eq 2 ] || fail "--mixup -1 must exit 2"
"$fer" train "$dir/data" --no-val --arch "$dir/tiny.arch" --teacher "$dir/missing.ferm" 2> /dev/null
[ $? -eq 1 ] || fail "a missing teacher must exit 1"

"$fer" eval "$dir/model.ferm" "$dir/data" --tta --csv "$dir/eval.csv" \
  --confusion-svg "$dir/confusion.svg" > "$dir/eval.txt" || fail "eval"
grep -q "accuracy" "$dir/eval.txt" || fail "eval report"
head -1 "$dir/eval.csv" | grep -q "class" || fail "eval CSV"
grep -q "<svg" "$dir/confusion.svg" || fail "confusion SVG"
"$fer" eval "$dir/model.ferm" 2> /dev/null; [ $? -eq 2 ] || fail "eval without DATA must exit 2"

# A graph (residual add, SE gate, from=) trains, saves, evaluates, exports.
printf 'input 1x48x48\nconv 4 3x3 same stride=4\nbn\na = relu\nconv 4 3x3 same\nadd a\n'\
'b = relu\ngap\nconv 4 1x1\nsigmoid\nmul b\nc = conv 4 1x1 from=a\nconcat c\ngap\ndense 7\nsoftmax\n' \
  > "$dir/graph.arch"
"$fer" train "$dir/data" --val "$dir/data" --epochs 2 --arch "$dir/graph.arch" --batch 8 \
  --threads 1 --quiet --out "$dir/graph.ferm" || fail "train a graph"
"$fer" summary "$dir/graph.ferm" | grep -q "Inputs" || fail "graph summary"
"$fer" eval "$dir/graph.ferm" "$dir/data" > "$dir/geval.txt" || fail "eval a graph"
"$fer" export "$dir/graph.ferm" "$dir/graph.onnx" || fail "export a graph"
"$fer" import "$dir/graph.onnx" "$dir/graph2.ferm" || fail "import a graph"
"$fer" summary "$dir/graph.ferm" > "$dir/s1.txt"
"$fer" summary "$dir/graph2.ferm" > "$dir/s2.txt"
cmp -s "$dir/s1.txt" "$dir/s2.txt" || fail "ONNX round trip changed the graph"
"$fer" eval "$dir/history.csv" "$dir/data" 2> /dev/null; [ $? -eq 1 ] || fail "eval of a non-model must exit 1"
echo "ok"
