# SPDX-License-Identifier: BSD-2-Clause
# Helpers of the mockd test scripts (t050*-mock-*.sh), sourced after lib.sh
# (which has already changed to the scratch directory):
#
#	. ./lib.sh
#	. "$TEST_DIRECTORY/lib-mock.sh"
#
# Not a test itself: tests/run.sh runs only t[0-9]*.sh. The helpers that
# send a request to one route (chat, anthropic, ...) stay in each script:
# their arguments differ (t0500's chat takes a PREFIX and reads req-NAME.json,
# t0502's a KEY, t0503's only a NAME, t0505's a KEY and a PREFIX).

# req NAME CURL-ARGS...: one request; the body in NAME.body, the headers in
# NAME.headers, the status in NAME.code. Returns curl's exit status.
req() {
	req_name=$1
	shift
	curl -sS -o "$req_name.body" -D "$req_name.headers" -w '%{http_code}\n' "$@" >"$req_name.code"
}

# status_is CODE NAME: the answer NAME had the status CODE.
status_is() {
	echo "$1" >"$2.want"
	test_cmp "$2.want" "$2.code"
}

# header NAME FIELD: the value of the header FIELD in NAME.headers.
header() {
	grep -i "^$2:" "$1.headers" | sed 's/^[^:]*: *//' | tr -d '\r'
}

# header_is NAME FIELD VALUE
header_is() {
	echo "$3" >"$1.$2.want"
	header "$1" "$2" >"$1.$2.got"
	test_cmp "$1.$2.want" "$1.$2.got"
}

# header_matches NAME FIELD ERE: the header is present once and matches ERE.
header_matches() {
	header "$1" "$2" >"$1.$2.got" &&
	if [ "$(wc -l <"$1.$2.got")" -ne 1 ] || ! grep -E "$3" "$1.$2.got" >/dev/null; then
		echo >&4 "header_matches: $2 in $1.headers: not one value matching $3:"
		cat >&4 "$1.headers"
		return 1
	fi
}

# no_header NAME FIELD
no_header() {
	if grep -i "^$2:" "$1.headers" >&4; then
		echo >&4 "no_header: $2 in $1.headers"
		return 1
	fi
}

# Go durations (1s, 6m0s, 7.66s, 12ms).
GO_DURATION='^([0-9]+(\.[0-9]+)?(h|ms|m|s))+$'

# go_seconds DURATION: the duration in seconds.
go_seconds() {
	python3 -c '
import re, sys
units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
print(sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(h|ms|m|s)", sys.argv[1])))
' "$1"
}

# num_between X LOW HIGH: LOW <= X <= HIGH (decimals allowed).
num_between() {
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x + 0 >= lo + 0 && x + 0 <= hi + 0) }' ||
	{ echo >&4 "num_between: $1 not in [$2, $3]"; return 1; }
}

# jcheck [-r ROOT] FILE... <ASSERTIONS: each line of stdin (blank lines and
# # comments aside) is a python3 expression that must be true for each FILE,
# with d the JSON document in it, r the value of the expression ROOT (default
# d), and json and re imported; a line "@NAME EXPR" is for the file NAME alone.
jcheck() {
	python3 -c '
import json, re, sys
args = sys.argv[1:]
root = "d"
if args[:1] == ["-r"]:
    root, args = args[1], args[2:]
docs = {}
def doc(path):
    if path not in docs:
        text = open(path, encoding="utf-8", errors="replace").read()
        try:
            d = json.loads(text)
            docs[path] = ({"d": d, "r": eval(root, {"d": d, "json": json}), "json": json, "re": re}, text)
        except Exception as e:
            sys.exit("jcheck: %s: no JSON document (%s: %s): %.500s" % (path, type(e).__name__, e, text))
    return docs[path]
for path in args:
    doc(path)
for line in sys.stdin:
    expr = line.strip()
    if not expr or expr.startswith("#"):
        continue
    paths = args
    if expr.startswith("@"):
        name, expr = expr[1:].split(None, 1)
        paths = [name]
    for path in paths:
        env, text = doc(path)
        try:
            ok = eval(expr, env)
        except Exception as e:
            ok = False
            expr += "  [%s: %s]" % (type(e).__name__, e)
        if not ok:
            sys.exit("jcheck: %s: false: %s\n%.3000s" % (path, expr, text))
' "$@"
}

# bulk NAME COUNT URL CURL-ARGS...: COUNT requests to URL in one curl run
# (one connection, one after the other); the bodies in NAME.1.body, ...,
# the statuses one a line in NAME.codes.
bulk() {
	bulk_name=$1
	bulk_count=$2
	bulk_url=$3
	shift 3
	: >"$bulk_name.cfg" &&
	bulk_i=1 &&
	while [ "$bulk_i" -le "$bulk_count" ]; do
		printf 'url = "%s"\noutput = "%s.%d.body"\n' "$bulk_url" "$bulk_name" "$bulk_i" >>"$bulk_name.cfg"
		bulk_i=$((bulk_i + 1))
	done &&
	curl -sS -K "$bulk_name.cfg" -w '%{http_code}\n' "$@" >"$bulk_name.codes"
}

# x_bytes N: N bytes of "x".
x_bytes() {
	dd if=/dev/zero bs=1024 count=$(($1 / 1024 + 1)) 2>/dev/null | tr '\0' x | head -c "$1"
}
