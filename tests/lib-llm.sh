# SPDX-License-Identifier: BSD-2-Clause
# Helpers of the jl-llm test scripts (t30*-llm-*.sh), sourced after lib.sh
# (which has already changed to the scratch directory):
#
#	. ./lib.sh
#	. "$TEST_DIRECTORY/lib-llm.sh"
#
# Not a test itself: tests/run.sh runs only t[0-9]*.sh.

# limiter_dir NAME: a fresh directory for the shared limiter's state, so
# that no pause or pace of an earlier test is left in it.
limiter_dir() {
	XDG_RUNTIME_DIR=$TRASH_DIRECTORY/run-$1
	mkdir -p "$XDG_RUNTIME_DIR"
	export XDG_RUNTIME_DIR
}

# records N [FIRST]: N records {"id":I,"name":"Company I"}, I from FIRST (1).
records() {
	awk -v n="$1" -v first="${2:-1}" 'BEGIN {
		for (i = first; i < first + n; i++)
			printf "{\"id\":%d,\"name\":\"Company %d\"}\n", i, i
	}'
}

# llm ARGS...: jl-llm on the mock's OpenAI route, with fast retries.
llm() {
	jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --retry-base-ms 5 "$@"
}

# check FILE [LOG] <ASSERTIONS: each line of stdin (blank lines and # comments
# aside) is a python3 expression that must be true (or a statement NAME =
# EXPR, for the lines after it), with R the records of the JSON Lines FILE
# (every line must parse), I those of the file "in" when there is one, M the
# lines of the mock's log (LOG, default $MOCK_LOG), C those of them that are
# chat requests (OpenAI or Anthropic route), P those that are POSTs, and
# helpers:
#   ok(r) (has .llm and no _error), err(r) (its _error or {}), ids(L) (the
#   ids, sorted), strip(r) (r without llm), tokens(text) (the mock's count: a
#   token per 4 bytes);
#   times(L), gaps(L), span(L) of the requests L (default C) in ms,
#   window_max(W, L): the most requests of L in any W ms, share429(L): the
#   share of L answered 429, in percent;
#   emitted(PATH) (the records of PATH's complete lines), paid() (a Counter of
#   the 200 answers by body_hash), repaid() (how many 200s were repeats) and
#   cached(r).
check() {
	python3 -c '
import collections, json, os, re, sqlite3, sys
def lines(path, strict=True):
    out = []
    if not path or not os.path.exists(path):
        return out
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for n, line in enumerate(f, 1):
            if line.strip() == "":
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                if not strict:
                    return None
                sys.exit("check: %s:%d: not JSON (%s): %.300r" % (path, n, e, line))
    return out
R = lines(sys.argv[1])
I = lines("in", strict=False)
M = lines(sys.argv[2])
C = [m for m in M if m.get("route") in ("chat", "messages")]
P = [m for m in M if m.get("method") == "POST"]
def ok(r): return isinstance(r.get("llm"), dict) and "_error" not in r
def err(r): return r.get("_error") or {}
def ids(L): return sorted(r.get("id") for r in L)
def strip(r): return {k: v for k, v in r.items() if k != "llm"}
def tokens(text): return (len(text.encode()) + 3) // 4
def times(L=None): return sorted(m["t"] for m in (C if L is None else L))
def gaps(L=None):
    t = times(L)
    return [b - a for a, b in zip(t, t[1:])]
def window_max(width, L=None):
    t = times(L)
    return max((sum(1 for u in t if s <= u < s + width) for s in t), default=0)
def span(L=None):
    t = times(L)
    return t[-1] - t[0] if t else 0
def share429(L=None):
    L = C if L is None else L
    return 100.0 * sum(1 for m in L if m["status"] == 429) / len(L)
def emitted(path):
    # the records of the complete lines of path (a killed run may leave a partial one)
    text = open(path, encoding="utf-8", errors="surrogateescape").read()
    return [json.loads(l) for l in text.split("\n")[:-1] if l.strip()]
def paid(L=None):
    # the requests answered 200, by body: how many times each was paid
    return collections.Counter(m["body_hash"] for m in (C if L is None else L) if m["status"] == 200)
def repaid(L=None): return sum(n - 1 for n in paid(L).values())
def cached(r): return ok(r) and r["llm"]["cached"] is True
env = dict(globals())
for expr in sys.stdin:
    expr = expr.strip()
    if not expr or expr.startswith("#"):
        continue
    try:
        try:
            code = compile(expr, "<check>", "eval")
        except SyntaxError:
            exec(expr, env)  # a statement: NAME = EXPR
            continue
        good = eval(code, env)
    except Exception as e:
        good = False
        expr += "  [%s: %s]" % (type(e).__name__, e)
    if not good:
        sys.exit("check: %s: false: %s\n%d chat requests, %d answered 429, span %.0f ms\n%.3000s\nmock log:\n%.2000s" % (
            sys.argv[1], expr, len(C), sum(1 for m in C if m.get("status") == 429),
            span() if all("t" in m for m in C) else 0,
            open(sys.argv[1], errors="replace").read(), "\n".join(json.dumps(m) for m in M)))
' "$1" "${2:-${MOCK_LOG:-}}"
}

# wait_lines N FILE: wait (10 s at most) until FILE has N lines.
wait_lines() {
	wait_n=0
	while [ "$(wc -l <"$2" 2>/dev/null || echo 0)" -lt "$1" ]; do
		wait_n=$((wait_n + 1))
		if [ "$wait_n" -gt 200 ]; then
			echo >&4 "wait_lines: $2 has not $1 lines after 10 s"
			return 1
		fi
		sleep 0.05
	done
}

# no_input_read FILE CODE ARGS...: jl-llm exits CODE without reading a byte of FILE.
no_input_read() {
	nir_file=$1
	nir_code=$2
	shift 2
	{ test_expect_code "$nir_code" "$@" >nir.out 2>nir.err && cat >nir.rest; } <"$nir_file" &&
	test_cmp "$nir_file" nir.rest &&
	test_must_be_empty nir.out &&
	test_grep "^jl-llm: " nir.err
}
