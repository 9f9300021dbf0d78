#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv against Python csv: random tables written by csv.writer, read by csv.DictReader

Random tables (fixed seed) with quotes, delimiters, CR, LF, CRLF, spaces,
non-ASCII text and empty cells are written with csv.writer in several
dialects and line terminators; jl-csv must give the rows csv.DictReader
reads back (short rows padded with null, long ones with _extra).'
. ./lib.sh

if ! test_have_prereq PYTHON3; then
	test_skip_all 'python3 with the csv and json modules is not available'
fi

DATASETS='excel unix_all tab semicolon_squote pipe_cr ragged lines'

test_expect_success 'generate the tables and what csv.DictReader reads' '
	cat >gen.py <<-\EOF &&
	import csv, json, random

	rng = random.Random(20240601)
	PIECES = ["a", "b", "z", "Q", "0", "7", "42", " ", "  ", ",", ";", "|", "\t",
	          "\"", "\x27", "\"\"", "\r", "\n", "\r\n", "\\\\", "/", "é", "ß",
	          "中文", "😀", "\u2028", "€", "x y", "-1.5", "true", "00123"]

	def cell():
	    if rng.random() < 0.15:
	        return ""
	    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))

	def header(n):
	    names = []
	    for i in range(n):
	        base = rng.choice(["id", "name", "Straße", "a b", " pad ", "q\"t",
	                           "c,d", "名前", "x"])
	        names.append(f"{base}{i}")
	    return names

	def dataset(name, args, ncols, nrows, ragged=False, line=False, **fmt):
	    names = header(ncols)
	    rows = []
	    for _ in range(nrows):
	        n = ncols
	        if ragged:
	            n = rng.choice([1, 1, ncols - 1, ncols, ncols, ncols + 1, ncols + 3])
	        rows.append([cell() for _ in range(n)])
	    with open(f"{name}.csv", "w", newline="", encoding="utf-8") as f:
	        w = csv.writer(f, **fmt)
	        w.writerow(names)
	        w.writerows(rows)
	    rfmt = {k: v for k, v in fmt.items() if k in ("delimiter", "quotechar")}
	    out = []
	    with open(f"{name}.csv", newline="", encoding="utf-8") as f:
	        r = csv.DictReader(f, restkey="_extra", restval=None, **rfmt)
	        r.fieldnames
	        start = r.line_num + 1
	        for row in r:
	            if line:
	                row["_line"] = start
	            start = r.line_num + 1
	            out.append(json.dumps(row, ensure_ascii=False))
	    with open(f"{name}.want", "w", encoding="utf-8") as f:
	        f.write("".join(o + "\n" for o in out))
	    with open(f"{name}.args", "w") as f:
	        f.write(args + "\n")

	dataset("excel", "", 5, 150, lineterminator="\r\n")
	dataset("unix_all", "", 4, 120, quoting=csv.QUOTE_ALL, lineterminator="\n")
	dataset("tab", "--tsv", 4, 120, delimiter="\t", lineterminator="\r\n")
	dataset("semicolon_squote", "-d ; --quote \x27", 3, 120, delimiter=";",
	        quotechar="\x27", lineterminator="\n")
	dataset("pipe_cr", "-d |", 3, 100, delimiter="|", lineterminator="\r",
	        quoting=csv.QUOTE_NONNUMERIC)
	dataset("ragged", "", 4, 150, ragged=True, lineterminator="\r\n")
	dataset("lines", "--line", 3, 120, line=True, lineterminator="\r\n")
	EOF
	cat >compare.py <<-\EOF &&
	import json, sys
	want = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
	got = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
	for i, (w, g) in enumerate(zip(want, got)):
	    if list(w.items()) != list(g.items()):
	        print(f"record {i + 1}:\n want {w!r}\n  got {g!r}", file=sys.stderr)
	        sys.exit(1)
	if len(want) != len(got):
	    print(f"{len(want)} records wanted, {len(got)} got", file=sys.stderr)
	    sys.exit(1)
	EOF
	python3 gen.py &&
	for d in $DATASETS; do
		test -s "$d.csv" && test -s "$d.want" || return 1
	done &&
	cat *.want >all &&
	test_line_count -ge 800 all
'

test_expect_success 'the tables hold what they should' '
	grep -c "$(printf "\r")\$" excel.csv >count && test "$(cat count)" -gt 100 &&
	test_grep "\"\"" excel.csv &&
	test_grep "$(printf "\342\200\250")" excel.want &&
	test_grep "\\\\r\\\\n" excel.want &&
	test "$(tr -cd "\r" <pipe_cr.csv | wc -c)" -gt 100 &&
	test_grep "\"_extra\"" ragged.want &&
	test_grep ": null" ragged.want
'

for d in $DATASETS; do
	test_expect_success "$d: jl-csv reads what csv.DictReader reads" "
		set -f &&
		jl-csv \$(cat $d.args) $d.csv >$d.out 2>$d.err &&
		set +f &&
		json_lines_valid $d.out &&
		python3 compare.py $d.want $d.out
	"
done

test_expect_success 'excel from a pipe, a few bytes at a time' '
	dd if=excel.csv bs=5 2>/dev/null | jl-csv >pipe.out &&
	python3 compare.py excel.want pipe.out
'

test_expect_success 'all datasets in one run, with _file and _line' '
	jl-csv --line excel.csv ragged.csv lines.csv >multi.out &&
	json_lines_valid multi.out &&
	test "$(wc -l <multi.out)" -eq "$(cat excel.want ragged.want lines.want | wc -l)" &&
	test_grep "\"_file\":\"ragged.csv\",\"_line\":" multi.out
'

test_done
