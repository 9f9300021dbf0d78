#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-search: shaping order and UTF-8-safe cuts, bad queries, retries and stops, the run database, --extract, secrets'
. ./lib.sh

KEY=tvly-test-5f0c9a17d2e84b3b
TAVILY_API_KEY=$KEY BRAVE_API_KEY=$KEY
export TAVILY_API_KEY BRAVE_API_KEY
unset JL_DB

queries() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"query\":\"Company %d GPU\"}\n", i, i }'
}

search() {
	jl-search --base-url "$MOCK_URL/tavily" --retry-base-ms 5 "$@"
}

check() {
	python3 -c '
import json, sys
R = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
M = [json.loads(l) for l in open(sys.argv[2]) if l.strip()] if len(sys.argv) > 2 else []
def ok(r): return isinstance(r.get("search"), dict) and "_error" not in r
def err(r): return r.get("_error") or {}
S = [r["search"] for r in R if ok(r)]
env = dict(globals())
for line in sys.stdin:
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if not eval(line, env):
        sys.exit("check failed: %s\n%s" % (line, json.dumps(R, indent=1)[:3000]))
' "$@"
}

test_expect_success 'start the mock' '
	mock_start --key "$KEY"
'

test_expect_success '--min-score drops low scores, then sort, --max-results, --max-chars, --max-total-chars' '
	queries 1 >in &&
	search --max-results 10 <in >all &&
	search --max-results 10 --min-score 0.5 <in >min &&
	search --max-results 3 --max-chars 20 <in >cut &&
	search --max-results 10 --max-total-chars 150 <in >budget &&
	check all <<-\EOF &&
	[x["score"] for x in S[0]["results"]] == sorted([x["score"] for x in S[0]["results"]], reverse=True)
	len(S[0]["results"]) == 10 and min(x["score"] for x in S[0]["results"]) < 0.5
	EOF
	python3 - all min cut budget <<-\EOF
	import json, sys
	def res(p): return json.loads(open(p).readline())["search"]["results"]
	a, m, c, b = (res(p) for p in sys.argv[1:])
	assert [x["url"] for x in m] == [x["url"] for x in a if x["score"] >= 0.5], m
	assert len(c) == 3 and all(len(x["content"].encode()) <= 20 and x["truncated"] for x in c), c
	total = sum(len((x["content"] or "").encode()) for x in b)
	assert total <= 150 and total > 100, total
	assert b[-1].get("truncated") and all(not x.get("truncated") for x in b[:-1]), b
	assert [x["url"] for x in b] == [x["url"] for x in a][:len(b)]
	EOF
'

test_expect_success 'cuts never split a UTF-8 character' '
	printf "%s\n" "{\"query\":\"caf\\u00e9 \\u6771\\u4eac \\ud83d\\ude80 GPU\"}" >in &&
	search --max-results 1 <in >full &&
	n=24 &&
	while [ $n -le 48 ]; do
		search --max-chars $n --max-results 1 <in >>out || return 1
		n=$((n + 1))
	done &&
	python3 - full out <<-\EOF
	import json, sys
	full = json.loads(open(sys.argv[1]).readline())["search"]["results"][0]["content"]
	cuts = [json.loads(l)["search"]["results"][0]["content"] for l in open(sys.argv[2], "rb")]
	assert any(ord(ch) > 0xffff for ch in full), full
	for n, c in enumerate(cuts, 24):
	    b = len(c.encode())
	    assert full.startswith(c) and n - 3 <= b <= n, (n, b, c)
	EOF
'

test_expect_success 'bad queries: missing, not a string, empty, over 400 characters (counted as characters)' '
	long=$(python3 -c "print(\"a\" * 401)") &&
	wide=$(python3 -c "print(\"\u00e9\" * 400)") &&
	cat >in <<-EOF &&
	{"id":1}
	{"id":2,"query":42}
	{"id":3,"query":"   "}
	{"id":4,"query":"$long"}
	{"id":5,"query":"$wide"}
	not json
	{"id":7,"query":"fine"}
	EOF
	search -k <in >out 2>err &&
	check out "$MOCK_LOG" <<-\EOF
	len(R) == 7
	[err(r).get("code") for r in R] == ["bad_query"] * 4 + [None, "bad_input", None]
	"not a string" in err(R[1])["message"] and "empty" in err(R[2])["message"]
	"401 characters" in err(R[3])["message"]
	EOF
'

test_expect_success 'a query expression: -q and --into' '
	echo "{\"name\":\"Acme\"}" >in &&
	search -q "\"\(.name) GPU training\"" --into evidence <in >out &&
	check out <<-\EOF
	R[0]["evidence"]["query"] == "Acme GPU training" and "search" not in R[0]
	EOF
'

test_expect_success '429, 503 and 500 are retried until the answer comes' '
	cat >retry.scn <<-\EOF &&
	1 path=/tavily/search status=429 header="retry-after: 0"
	2 path=/tavily/search status=503
	3 path=/tavily/search error=server
	EOF
	mock_start --key "$KEY" --scenario retry.scn &&
	queries 1 >in &&
	search <in >out 2>err &&
	check out "$MOCK_LOG" <<-\EOF
	len(R) == 1 and ok(R[0])
	[m["status"] for m in M if m["route"] == "tavily"] == [429, 503, 500, 200]
	EOF
'

test_expect_success 'a 400 fails the record at once; --retries bounds the retries' '
	cat >bad.scn <<-\EOF &&
	1 path=/tavily/search error=bad_request
	2- path=/tavily/search status=502
	EOF
	mock_start --key "$KEY" --scenario bad.scn &&
	queries 2 >in &&
	search -j 1 -k --retries 2 <in >out 2>err &&
	check out "$MOCK_LOG" <<-\EOF
	[err(r).get("code") for r in R] == ["http_400", "http_502"]
	err(R[1])["attempts"] == 3
	len([m for m in M if m["route"] == "tavily"]) == 4
	EOF
'

for kind in plan_limit:432 payg_limit:433; do
	error=${kind%%:*} status=${kind##*:}
	test_expect_success "Tavily $status ($error) stops the run with 77; nothing is lost" '
		cat >stop.scn <<-EOF &&
		2 path=/tavily/search error=$error
		EOF
		mock_start --key "$KEY" --scenario stop.scn &&
		queries 6 >in &&
		test_expect_code 77 search -j 1 <in >out 2>err &&
		check out "$MOCK_LOG" <<-EOF
		len(R) == 6 and sorted(r["id"] for r in R) == list(range(1, 7))
		len([r for r in R if ok(r)]) == 1
		len([m for m in M if m["route"] == "tavily" and m["status"] == $status]) == 1
		EOF
	'
done

test_expect_success 'a wrong endpoint (404) stops the run with 78' '
	queries 2 >in &&
	test_expect_code 78 jl-search --base-url "$MOCK_URL/nowhere" --no-check <in >out 2>err &&
	test_line_count = 2 out
'

test_expect_success '--db: a rerun answers from the run database without a request' '
	mock_start --key "$KEY" &&
	queries 5 >in &&
	search --db run.db <in >first &&
	n1=$(wc -l <"$MOCK_LOG") &&
	search --db run.db --no-check <in >second &&
	n2=$(wc -l <"$MOCK_LOG") &&
	test "$n1" = "$n2" &&
	check second <<-\EOF
	len(S) == 5 and all(s["cached"] and s["requests"] == 0 and s["latency_ms"] == 0 for s in S)
	EOF
	python3 - first second <<-\EOF
	import json, sys
	a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:])
	key = lambda r: r["id"]
	for x, y in zip(sorted(a, key=key), sorted(b, key=key)):
	    assert x["search"]["results"] == y["search"]["results"], (x, y)
	EOF
'

test_expect_success '--db: another shaping option is another search' '
	n1=$(wc -l <"$MOCK_LOG") &&
	search --db run.db --no-check --max-chars 10 <in >third &&
	n2=$(wc -l <"$MOCK_LOG") &&
	test $((n2 - n1)) = 5
'

test_expect_success '--extract: pages fetched for the kept results, failures keep their snippet' '
	printf "%s\n" "{\"query\":\"good\"}" "{\"query\":\"fail here\"}" >in &&
	search -k --extract --max-results 2 <in >out &&
	check out "$MOCK_LOG" <<-\EOF
	S[0]["extracted"] == 2 and S[0]["requests"] == 2 and all(x["raw_content"] for x in S[0]["results"])
	S[1]["extracted"] == 0 and all(x["extract_error"] and x["content"] for x in S[1]["results"])
	len([m for m in M if m["route"] == "tavily-extract"]) == 2
	EOF
'

test_expect_success '--extract with another backend uses Tavily through --extract-url' '
	queries 1 >in &&
	jl-search -b brave --base-url "$MOCK_URL/brave" --extract --extract-url "$MOCK_URL/tavily" \
		--max-results 2 <in >out &&
	check out <<-\EOF
	S[0]["extracted"] == 2 and S[0]["backend"] == "brave"
	EOF
	test_expect_code 78 env -u TAVILY_API_KEY jl-search -b brave --extract <in 2>err &&
	test_grep "TAVILY_API_KEY" err
'

test_expect_success 'the key appears nowhere: output, stderr, log, database' '
	cat >echo.scn <<-EOF &&
	1 path=/tavily/search status=400 body='"'"'{"detail":{"error":"bad key $KEY here"}}'"'"'
	EOF
	mock_start --key "$KEY" --scenario echo.scn &&
	queries 2 >in &&
	search -v --db secret.db --log attempts.log <in >out 2>err &&
	test_grep "redacted" out &&
	for f in out err attempts.log secret.db; do
		! grep -F "$KEY" "$f" || return 1
		! grep -F "5f0c9a17d2e84b3b" "$f" || return 1
	done
'

test_done
