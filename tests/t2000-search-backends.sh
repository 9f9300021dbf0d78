#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-search: each backend against the mock (method, path, auth, what the answer depends on) and the normalised .search'
. ./lib.sh

KEY=tvly-test-5f0c9a17d2e84b3b
TAVILY_API_KEY=$KEY BRAVE_API_KEY=$KEY SERPER_API_KEY=$KEY EXA_API_KEY=$KEY
export TAVILY_API_KEY BRAVE_API_KEY SERPER_API_KEY EXA_API_KEY
unset JL_DB

# queries N: N records {"id":I,"query":"Company I GPU"}.
queries() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"query\":\"Company %d GPU\"}\n", i, i }'
}

# search BACKEND ARGS...: jl-search on the mock's route for BACKEND, fast retries.
search() {
	b=$1
	shift
	jl-search -b "$b" --base-url "$MOCK_URL/$b" --retry-base-ms 5 "$@"
}

# check FILE <ASSERTIONS: python3 expressions on R (the records of FILE), M
# (the mock's log), with ok(r) and err(r).
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

test_expect_success 'tavily: POST /search with Bearer, the key checked first with GET /usage' '
	queries 3 >in &&
	search tavily -k --max-results 3 <in >out 2>err &&
	check out "$MOCK_LOG" <<-\EOF
	len(R) == 3 and all(ok(r) for r in R)
	[m["path"] for m in M][:1] == ["/tavily/usage"]
	all(m["method"] == "POST" and m["auth"] and m["key"] == 1 for m in M if m["route"] == "tavily")
	len([m for m in M if m["route"] == "tavily"]) == 3
	[r["id"] for r in R] == [1, 2, 3]
	all(s["backend"] == "tavily" and s["depth"] == "basic" and s["cached"] is False and s["requests"] == 1 for s in S)
	all(len(s["results"]) == 3 for s in S)
	all(set(x) >= {"title", "url", "content", "score", "raw_content", "published_date", "rank"} for s in S for x in s["results"])
	all(0 <= x["score"] <= 1 for s in S for x in s["results"])
	all(s["answer"] is None and s["credits"] == 1 for s in S)
	S[0]["query"] == "Company 1 GPU"
	EOF
'

test_expect_success 'tavily: --answer, --raw, --topic news and --depth advanced reach the service' '
	queries 1 >in &&
	search tavily --answer --raw --topic news --depth advanced <in >out &&
	check out <<-\EOF
	S[0]["answer"].startswith("Mock answer")
	all(x["raw_content"] for x in S[0]["results"])
	all(x["published_date"] for x in S[0]["results"])
	S[0]["depth"] == "advanced" and S[0]["credits"] == 2
	EOF
'

test_expect_success 'brave: GET with X-Subscription-Token, no scores, dates from page_age' '
	: >"$MOCK_LOG" &&
	queries 2 >in &&
	search brave --max-results 4 <in >out 2>err &&
	check out "$MOCK_LOG" <<-\EOF
	len(S) == 2 and all(len(s["results"]) == 4 for s in S)
	all(m["method"] == "GET" and m["path"] == "/brave/res/v1/web/search" and m["key"] == 1 for m in M)
	all(x["score"] is None and x["published_date"] and "<" not in x["content"] for s in S for x in s["results"])
	"depth" not in S[0] and "credits" not in S[0]
	EOF
'

test_expect_success 'serper: POST with X-API-KEY, link as url, credits' '
	: >"$MOCK_LOG" &&
	queries 1 >in &&
	search serper --max-results 2 <in >out &&
	check out "$MOCK_LOG" <<-\EOF
	len(S[0]["results"]) == 2 and S[0]["results"][0]["url"].startswith("https://")
	S[0]["credits"] == 1 and all(x["score"] is None for x in S[0]["results"])
	all(m["method"] == "POST" and m["path"] == "/serper/search" and m["key"] == 1 for m in M)
	EOF
'

test_expect_success 'exa: POST with x-api-key, scores, the page text with --raw' '
	: >"$MOCK_LOG" &&
	queries 1 >in &&
	search exa --raw --max-results 3 <in >out &&
	check out "$MOCK_LOG" <<-\EOF
	len(S[0]["results"]) == 3 and all(x["raw_content"] and x["score"] is not None for x in S[0]["results"])
	all(m["method"] == "POST" and m["path"] == "/exa/search" and m["key"] == 1 for m in M)
	EOF
'

test_expect_success 'searxng: GET with format=json and no key; its weights are no scores' '
	: >"$MOCK_LOG" &&
	queries 1 >in &&
	search searxng <in >out &&
	check out "$MOCK_LOG" <<-\EOF
	len(S[0]["results"]) == 5 and all(x["score"] is None for x in S[0]["results"])
	all(m["method"] == "GET" and m["path"] == "/searxng/search" and not m["auth"] for m in M)
	EOF
'

test_expect_success 'a backend says which options it ignores' '
	queries 1 >in &&
	search brave --depth advanced --answer --time-range week <in >out 2>err &&
	test_grep "brave backend ignores --depth, --answer" err &&
	search tavily --depth advanced <in >out 2>err &&
	test_grep -v "ignores" err
'

test_expect_success 'a wrong key: 401 stops the run with 77 before any input is read' '
	queries 2 >in &&
	test_expect_code 77 env TAVILY_API_KEY=tvly-wrong-key-0000000000 jl-search \
		--base-url "$MOCK_URL/tavily" <in >out 2>err &&
	test_grep "401" err
'

test_expect_success 'a refused key found without the check: 77, every record accounted for' '
	queries 3 >in &&
	test_expect_code 77 env BRAVE_API_KEY=wrong-brave-key-000000 jl-search -b brave \
		--base-url "$MOCK_URL/brave" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 3 and all(err(r)["code"] for r in R)
	EOF
'

test_expect_success 'configuration errors: missing key 78, searxng without --base-url 78, unknown backend 64' '
	queries 1 >in &&
	test_expect_code 78 env -u BRAVE_API_KEY jl-search -b brave <in 2>err &&
	test_grep "BRAVE_API_KEY is not set" err &&
	test_expect_code 78 jl-search -b searxng <in 2>err &&
	test_grep "base-url" err &&
	test_expect_code 64 jl-search -b bing <in 2>err &&
	test_grep "unknown backend" err &&
	test_expect_code 78 jl-search -b tavily --base-url http://example.com <in 2>err &&
	test_expect_code 64 jl-search -q ".[" <in 2>err
'

test_expect_success 'without TAVILY_API_KEY the default backend is fts, which needs --index' '
	queries 1 >in &&
	test_expect_code 78 env -u TAVILY_API_KEY jl-search <in 2>err &&
	test_grep "fts backend" err
'

test_done
