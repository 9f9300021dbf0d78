#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='the contract every tool keeps (jlkit(7), issue 14): a malformed line and NaN/01 through all six tools, with and without --strict; JSONTestSuite and lines that are not UTF-8 through jl-dedup, jl-cost, jl-llm --dry-run and jl-report'
. ./lib.sh

OPENAI_API_KEY=sk-test-contract-0123456789
TAVILY_API_KEY=tvly-test-contract-0123456789
export OPENAI_API_KEY TAVILY_API_KEY
SUITE=$SRCDIR/tests/data/JSONTestSuite/test_parsing

# --- the contract, at a glance -----------------------------------------------
#
# One row per run: TOOL reads INPUT, with --strict or not (-), and must exit
# with EXIT and write OUT records, FAILED of them with _error; the malformed
# line's error record is the BAD-th record written (its _error.code CODE, and
# _raw the line), so under --strict nothing comes after it. The other records
# come out in input order, x as it was, without _error. "-": not checked. For
# jl-report, OUT and FAILED are what its JSON summary counts (summary.records,
# summary.failed).
#
# The inputs (one record a line; the middle line of mal is malformed):
#   mal.jsonl    {"x":1}  /  {"x":2  /  {"x":3}
#   nan.jsonl    {"x":1,"y":NaN}  /  {"x":2,"y":01}    (jq reads them, strict JSON does not:
#                                                       not malformed; y leaves as null and 1)
#   mal.csv      x,y  /  1,a  /  2,<byte FF>  /  3,c   (a bad_utf8 row in the middle)
#   quote.csv    x,y  /  1,a  /  2,"b  /  3,c          (an unterminated quote runs to the end:
#                                                       the rest of the input is its one record)
#   nan.csv      x,y  /  1,NaN  /  2,01                (with --infer: both stay strings)
#
# Every output line is strict JSON (no NaN, no leading zeros, valid UTF-8, no
# raw control characters) and a JSON object. No run may crash (a status of
# 126 and up: a signal, or valgrind's error status) or make a sanitizer speak.
contract_table='
# tool         input      strict    exit  out  failed  bad  code
csv            mal.csv    -         0     3    1       2    bad_utf8
csv            mal.csv    --strict  65    2    1       2    bad_utf8
csv            quote.csv  -         0     2    1       2    unterminated_quote
csv            quote.csv  --strict  65    2    1       2    unterminated_quote
csv            nan.csv    -         0     2    0       -    -
csv            nan.csv    --strict  0     2    0       -    -
search         mal.jsonl  -         0     3    1       2    bad_input
search         mal.jsonl  --strict  65    2    1       2    bad_input
search         nan.jsonl  -         0     2    0       -    -
search         nan.jsonl  --strict  0     2    0       -    -
search-mock    mal.jsonl  -         0     3    1       2    bad_input
search-mock    mal.jsonl  --strict  65    2    1       2    bad_input
search-mock    nan.jsonl  -         0     2    0       -    -
search-mock    nan.jsonl  --strict  0     2    0       -    -
llm            mal.jsonl  -         0     3    1       2    bad_input
llm            mal.jsonl  --strict  65    2    1       2    bad_input
llm            nan.jsonl  -         0     2    0       -    -
llm            nan.jsonl  --strict  0     2    0       -    -
llm-mock       mal.jsonl  -         0     3    1       2    bad_input
llm-mock       mal.jsonl  --strict  65    2    1       2    bad_input
llm-mock       nan.jsonl  -         0     2    0       -    -
llm-mock       nan.jsonl  --strict  0     2    0       -    -
dedup          mal.jsonl  -         0     3    1       2    bad_input
dedup          mal.jsonl  --strict  65    2    1       2    bad_input
dedup          nan.jsonl  -         0     2    0       -    -
dedup          nan.jsonl  --strict  0     2    0       -    -
dedup-record   mal.jsonl  -         0     3    1       2    bad_input
dedup-record   mal.jsonl  --strict  65    2    1       2    bad_input
dedup-record   nan.jsonl  -         0     2    0       -    -
dedup-record   nan.jsonl  --strict  0     2    0       -    -
cost           mal.jsonl  -         0     3    1       2    bad_input
cost           mal.jsonl  --strict  65    2    1       2    bad_input
cost           nan.jsonl  -         0     2    0       -    -
cost           nan.jsonl  --strict  0     2    0       -    -
report         mal.jsonl  -         0     3    1       -    -
report         mal.jsonl  --strict  65    -    -       -    -
report         nan.jsonl  -         0     2    0       -    -
report         nan.jsonl  --strict  0     2    0       -    -
'

# run_tool TOOL STRICT: TOOL as the table names it, stdin to stdout, with
# --strict when STRICT is --strict. Every run of this script goes through here.
run_tool() {
	s=
	if [ "$2" = --strict ]; then
		s=t
	fi
	case $1 in
	csv) jl-csv ${s:+--strict} --infer ;;
	search)
		jl-search ${s:+--strict} -k -b fts --index "$TRASH_DIRECTORY/idx.db" \
			--query '.x | tostring'
		;;
	search-mock)
		jl-search ${s:+--strict} -k -b tavily --base-url "$MOCK_URL/tavily" --no-check \
			--retry-base-ms 5 --query '.x | tostring'
		;;
	llm) jl-llm ${s:+--strict} -k --dry-run -m openai/gpt-4o-mini -p 'the value: {{.x}}' ;;
	llm-mock)
		jl-llm ${s:+--strict} -k -m openai/mock-model --base-url "$MOCK_URL/v1" \
			--retry-base-ms 5 -p 'the value: {{.x}}'
		;;
	dedup) jl-dedup ${s:+--strict} --key .x --keep-duplicates ;;
	dedup-record)
		rm -f rec.db rec.db-wal rec.db-shm &&
			jl-dedup ${s:+--strict} --db rec.db --key .x --record
		;;
	cost) jl-cost ${s:+--strict} ;;
	report) jl-report ${s:+--strict} -f json ;;
	*)
		echo >&2 "run_tool: no tool $1"
		return 70
		;;
	esac
}

# run_into DIR CMD... <INPUT: CMD's stdout, stderr and exit status into DIR.
run_into() {
	dir=$1
	shift
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	"$@" >"$dir/out" 2>"$dir/err"
	echo $? >"$dir/status"
}

# verdict DIR: passes when check.py found no problem with the run in DIR
# (shows the problems and the run's standard error otherwise).
verdict() {
	if [ ! -f "$1/problems" ]; then
		echo >&4 "$1: not checked"
		return 1
	fi
	if [ -s "$1/problems" ]; then
		cat >&4 "$1/problems"
		echo >&4 "--- standard error (last lines):"
		tail -n 5 >&4 "$1/err"
		return 1
	fi
}

# check.py checks every run at once (python3 starts once, not once a row):
#   check.py contract ROWS: ROWS holds "DIR TOOL INPUT STRICT EXIT OUT FAILED BAD CODE" lines;
#   check.py suite CLASSES DIR...: the JSONTestSuite runs (see below).
# Each DIR gets a file "problems", empty when all is well.
cat >check.py <<-\EOF
	import json, os, re, sys

	def reject_constant(name):
	    raise ValueError("not JSON: " + name)

	def strict_json(line):
	    """The value on line (bytes, no newline), or why it is not one strict JSON object."""
	    try:
	        text = line.decode("utf-8")
	    except UnicodeDecodeError as e:
	        return None, "invalid UTF-8 (%s)" % e
	    for c in text:
	        if ord(c) < 0x20:
	            return None, "a raw control character U+%04X" % ord(c)
	    try:
	        value = json.loads(text, parse_constant=reject_constant)
	    except (ValueError, RecursionError) as e:
	        return None, "not strict JSON (%s)" % e
	    if not isinstance(value, dict):
	        return None, "not a JSON object"
	    return value, None

	class Run:
	    """One run: its directory holds out, err and status; problems are written to problems."""
	    def __init__(self, d, load=True):
	        self.dir = d
	        self.problems = []
	        if not load:
	            return
	        self.status = int(open(os.path.join(d, "status")).read())
	        if self.status >= 126:
	            self.problem("crashed: exit status %d (a signal, or a valgrind error)" % self.status)
	        err = open(os.path.join(d, "err"), "rb").read().decode("utf-8", "replace")
	        if re.search(r"Sanitizer|runtime error:|==[0-9]+==ERROR", err):
	            self.problem("a sanitizer reported an error (see standard error)")
	        data = open(os.path.join(d, "out"), "rb").read()
	        if data and not data.endswith(b"\n"):
	            self.problem("the output does not end with a newline")
	            data += b"\n"
	        self.lines = data.split(b"\n")[:-1]
	        self.records = []
	        for n, line in enumerate(self.lines, 1):
	            value, why = strict_json(line)
	            if why:
	                self.problem("output line %d: %s: %.200r" % (n, why, line))
	            self.records.append(value)

	    def problem(self, msg):
	        self.problems.append(msg)

	    def expect(self, what, got, want):
	        if want != "-" and str(got) != want:
	            self.problem("%s: %s, the contract says %s" % (what, got, want))

	    def summary(self):
	        """jl-report -f json's summary, or None."""
	        if len(self.records) != 1 or self.records[0] is None:
	            self.problem("jl-report -f json wrote %d lines, not one JSON object" % len(self.lines))
	            return None
	        return self.records[0].get("summary") or {}

	    def save(self):
	        with open(os.path.join(self.dir, "problems"), "w") as f:
	            for p in self.problems[:30]:
	                f.write(p + "\n")
	            if len(self.problems) > 30:
	                f.write("... and %d more\n" % (len(self.problems) - 30))

	def err(r):
	    return (r.get("_error") or None) if isinstance(r, dict) else None

	def contract_row(d, tool, inp, strict, want_exit, want_out, want_failed, want_bad, want_code):
	    run = Run(d)
	    run.expect("exit status", run.status, want_exit)
	    if tool == "report":
	        if not run.lines and want_out == "-":
	            return run  # stopped: what it writes then is not part of the contract
	        s = run.summary()
	        if s is not None:
	            run.expect("summary.records", s.get("records"), want_out)
	            run.expect("summary.failed", s.get("failed"), want_failed)
	        return run
	    R = run.records
	    run.expect("records written", len(R), want_out)
	    run.expect("records with _error", sum(1 for r in R if err(r)), want_failed)
	    csv = inp.endswith(".csv")
	    in_lines = [l for l in open(inp, "rb").read().split(b"\n") if l.strip()]
	    if csv:
	        in_lines = in_lines[1:]  # the header
	    bad = int(want_bad) if want_bad != "-" else None
	    nan_y = ["NaN", "01"] if csv else [None, 1]
	    for i, r in enumerate(R, 1):
	        if r is None:
	            continue
	        if i == bad:
	            e = err(r) or {}
	            run.expect("record %d (the malformed line): _error.code" % i, e.get("code"), want_code)
	            if not isinstance(r.get("_raw"), str):
	                run.problem("record %d: no _raw string: %.300s" % (i, json.dumps(r)))
	            elif not csv and r["_raw"].encode() != in_lines[i - 1]:
	                run.problem("record %d: _raw is %r, the line was %r" % (i, r["_raw"], in_lines[i - 1]))
	            continue
	        if err(r):
	            run.problem("record %d carries _error: %.300s" % (i, json.dumps(r)))
	        if r.get("x") != i:
	            run.problem("record %d: x is %r, not %d (out of order, or a record lost)" % (i, r.get("x"), i))
	        if inp.startswith("nan") and r.get("y", "missing") != nan_y[i - 1]:
	            run.problem("record %d: y is %r, not %r" % (i, r.get("y", "missing"), nan_y[i - 1]))
	    return run

	def suite(classes, dirs):
	    """classes: one letter a line of suite.jsonl: b (libjq rejects it), g (libjq reads it and
	    it is UTF-8), u (libjq reads it, not UTF-8: a tool may take it or leave it as bad_input,
	    but every tool the same way). A directory named report is jl-report -f json's run."""
	    cls = open(classes).read().split()
	    taken = {}  # tool: the u lines it left as bad_input
	    report = None
	    for d in dirs:
	        run = Run(d)
	        run.expect("exit status", run.status, "0")
	        if os.path.basename(d) == "suite.report":
	            report = run
	            s = run.summary()
	            if s is not None:
	                run.expect("summary.records (lines in)", s.get("records"), str(len(cls)))
	                lo, hi = cls.count("b"), cls.count("b") + cls.count("u")
	                if not (isinstance(s.get("failed"), int) and lo <= s["failed"] <= hi):
	                    run.problem("summary.failed is %s: the lines libjq rejects are %d, and %d more "
	                                "are not UTF-8" % (s.get("failed"), lo, hi - lo))
	            run.save()
	            continue
	        run.expect("records out for %d lines in" % len(cls), len(run.records), str(len(cls)))
	        rejected = set()
	        for i, r in enumerate(run.records, 1):
	            if r is None or i > len(cls):
	                continue
	            code = (err(r) or {}).get("code")
	            if cls[i - 1] == "b" and code != "bad_input":
	                run.problem("record %d: libjq rejects the line, but it left without bad_input: %.200s" % (i, json.dumps(r)))
	            if cls[i - 1] == "g" and code == "bad_input":
	                run.problem("record %d: libjq reads the line (UTF-8), but it left as bad_input: %.200s" % (i, json.dumps(r)))
	            if cls[i - 1] == "u" and code == "bad_input":
	                rejected.add(i)
	        if len(run.records) == len(cls):  # a run cut short has nothing to compare
	            taken[d] = rejected
	        run.save()
	    os.makedirs("suite.agree", exist_ok=True)
	    agree = Run("suite.agree", load=False)
	    sets = set(frozenset(v) for v in taken.values())
	    if len(sets) > 1:
	        for d, v in sorted(taken.items()):
	            agree.problem("%s leaves these lines that are not UTF-8 as bad_input: %s" % (d, sorted(v)))
	    if report is not None and len(sets) == 1 and report.summary() is not None:
	        want = cls.count("b") + len(next(iter(sets)))
	        agree.expect("jl-report's summary.failed (the lines the other tools leave as bad_input)",
	                     report.summary().get("failed"), str(want))
	    agree.save()

	if sys.argv[1] == "contract":
	    for row in open(sys.argv[2]):
	        contract_row(*row.split()).save()
	else:
	    suite(sys.argv[2], sys.argv[3:])
EOF

test_expect_success PYTHON3 'setup: the inputs, a local index, the mock' '
	printf "%s\n" "{\"x\":1}" "{\"x\":2" "{\"x\":3}" >mal.jsonl &&
	printf "%s\n" "{\"x\":1,\"y\":NaN}" "{\"x\":2,\"y\":01}" >nan.jsonl &&
	printf "x,y\n1,a\n2,\377\n3,c\n" >mal.csv &&
	printf "x,y\n1,a\n2,\"b\n3,c\n" >quote.csv &&
	printf "x,y\n1,NaN\n2,01\n" >nan.csv &&
	printf "%s\n" "{\"url\":\"https://example.com/1\",\"title\":\"one\",\"content\":\"1 2 3 one\"}" |
		jl-search --quiet --index idx.db &&
	mock_start --key "$OPENAI_API_KEY" --key "$TAVILY_API_KEY"
'

# The table's rows, numbered: row N runs in directory row.N.
echo "$contract_table" | while read -r tool input strict exit out failed bad code; do
	case $tool in "" | "#"*) continue ;; esac
	echo "$tool $input $strict $exit $out $failed $bad $code"
done | awk '{ print "row." NR, $0 }' >rows

test_expect_success PYTHON3 'run every row of the contract table, check every output' '
	while read -r dir tool input strict rest; do
		run_into "$dir" run_tool "$tool" "$strict" <"$input" || return 1
	done <rows &&
	python3 check.py contract rows
'

while read -r dir tool input strict exit out failed bad code; do
	title="contract: $tool $strict <$input: exit $exit, $out out, $failed failed"
	if [ "$bad" != - ]; then
		title="$title, the malformed line is record $bad ($code)"
	fi
	test_expect_success PYTHON3 "$title" "verdict $dir"
done <rows

# --- JSONTestSuite through the tools ------------------------------------------
#
# Every test_parsing file as one line {"x": CONTENT}, its line feeds and
# carriage returns turned into spaces (so that a file is one line; that
# changes a few files' verdicts, which does not matter here), then the
# lines of hostile.jsonl, fed as one stream: one record out per line in,
# every one strict JSON, exit 0, and a line libjq rejects leaves as
# bad_input, a line it reads (and in UTF-8) as a record. libjq's verdict is
# jq's fromjson on the raw line: jv_parse, as in the tools. A line libjq
# reads that is not UTF-8 may leave either way, but every tool must treat
# it alike, and jl-report count it alike.
#
# The vendored files are all UTF-8 (the package they come from holds U+FFFD
# where the suite's encoding cases had other bytes; see their README.md), so
# the lines that are not UTF-8 are made here: a byte FF, an overlong "/", a
# UTF-8 encoded surrogate, a code point past U+10FFFF, a sequence cut short,
# a lone continuation byte in a key, UTF-16 bytes, in strings (libjq reads
# those) and outside them (libjq rejects those).

test_expect_success PYTHON3,JQ 'setup: JSONTestSuite and lines that are not UTF-8 as one JSON Lines stream; what libjq makes of each line' '
	printf "{\"x\": \"\377\"}\n" >hostile.jsonl &&
	printf "{\"x\": \"a\300\257b\"}\n" >>hostile.jsonl &&
	printf "{\"x\": \"\355\240\200\"}\n" >>hostile.jsonl &&
	printf "{\"x\": \"\364\220\200\200\"}\n" >>hostile.jsonl &&
	printf "{\"x\": \"ab\342\202\"}\n" >>hostile.jsonl &&
	printf "{\"\200\": 1, \"x\": [1, \"\376\377\"]}\n" >>hostile.jsonl &&
	printf "{\"x\": \"\377\376a\"}\n" >>hostile.jsonl &&
	printf "{\"x\": \377}\n" >>hostile.jsonl &&
	printf "{\"x\": 12\351}\n" >>hostile.jsonl &&
	printf "\357\273{\"x\": 1}\n" >>hostile.jsonl &&
	test_line_count = 10 hostile.jsonl &&
	python3 -c "import sys; sys.exit(any(l.decode(\"utf-8\", \"replace\").encode() == l for l in open(sys.argv[1], \"rb\")))" hostile.jsonl &&
	python3 - "$SUITE" >suite.jsonl <<-\EOF &&
	import os, sys
	names = sorted(n for n in os.listdir(sys.argv[1]) if n.endswith(".json"))
	assert len(names) == 318, len(names)
	for n in names:
	    data = open(os.path.join(sys.argv[1], n), "rb").read()
	    sys.stdout.buffer.write(b"{\"x\": " + data.replace(b"\n", b" ").replace(b"\r", b" ") + b"}\n")
	EOF
	test_line_count = 318 suite.jsonl &&
	cat hostile.jsonl >>suite.jsonl &&
	test_line_count = 328 suite.jsonl &&
	jq -R -r "try (fromjson | if type == \"object\" then \"read\" else \"other\" end) catch \"rejected\"" \
		suite.jsonl >suite.jq &&
	python3 - suite.jsonl suite.jq >suite.classes <<-\EOF &&
	import sys
	lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
	verdicts = open(sys.argv[2]).read().split()
	assert len(lines) == len(verdicts), (len(lines), len(verdicts))
	for line, v in zip(lines, verdicts):
	    try:
	        line.decode("utf-8")
	        utf8 = True
	    except UnicodeDecodeError:
	        utf8 = False
	    print("g" if v == "read" and utf8 else "u" if v == "read" else "b")
	EOF
	test "$(grep -c b suite.classes)" -gt 100 &&
	test "$(grep -c g suite.classes)" -gt 100 &&
	test "$(tail -n 10 suite.classes | grep -c u)" -ge 5 &&
	test "$(tail -n 10 suite.classes | grep -c b)" -ge 2 &&
	run_into suite.dedup jl-dedup --key .x --keep-duplicates <suite.jsonl &&
	run_into suite.dedup-tojson jl-dedup --key ".x | tojson" --keep-duplicates <suite.jsonl &&
	run_into suite.dedup-record jl-dedup --db suite.db --key ".x | tojson" --record <suite.jsonl &&
	run_into suite.cost jl-cost <suite.jsonl &&
	run_into suite.llm jl-llm --dry-run -k -m openai/gpt-4o-mini -p "the value: {{.x}}" <suite.jsonl &&
	run_into suite.report jl-report -f json <suite.jsonl &&
	python3 check.py suite suite.classes suite.dedup suite.dedup-tojson suite.dedup-record \
		suite.cost suite.llm suite.report
'

test_expect_success PYTHON3,JQ 'JSONTestSuite: jl-dedup --key .x --keep-duplicates' '
	verdict suite.dedup
'

# With .x as the key, a line whose x is an array or an object leaves as a
# bad_key record (made anew by libjq); with .x | tojson every record passes
# through whole, as it came.
test_expect_success PYTHON3,JQ 'JSONTestSuite: jl-dedup --key ".x | tojson" --keep-duplicates' '
	verdict suite.dedup-tojson
'

test_expect_success PYTHON3,JQ 'JSONTestSuite: jl-dedup --record' '
	verdict suite.dedup-record
'

test_expect_success PYTHON3,JQ 'JSONTestSuite: jl-cost' '
	verdict suite.cost
'

test_expect_success PYTHON3,JQ 'JSONTestSuite: jl-llm --dry-run, a prompt from the record' '
	verdict suite.llm
'

test_expect_success PYTHON3,JQ 'JSONTestSuite: jl-report reads it all, counts every line, the ones libjq rejects as failed' '
	verdict suite.report
'

test_expect_success PYTHON3,JQ 'JSONTestSuite: the tools agree on the lines that are not UTF-8, and jl-report counts them alike' '
	verdict suite.agree
'

test_done
