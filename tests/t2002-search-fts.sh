#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-search: the local fts index: build, update, query, ranking, Unicode, errors, a 100k-document index'
. ./lib.sh

unset TAVILY_API_KEY JL_DB

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

test_expect_success 'build an index; bad documents come out as _error, nothing else' '
	cat >docs.jsonl <<-\EOF &&
	{"url":"https://a.example/gpu","title":"Acme GPU cloud","content":"Acme rents GPU clusters for model training and inference."}
	{"url":"https://b.example/bread","title":"Bakery","content":"Fresh bread every morning. Café crème and croissants."}
	{"url":"https://c.example/law","title":"Law firm","content":"Contracts, disputes and training for lawyers."}
	{"title":"no url","content":"x"}
	{"url":"https://d.example/","title":"no content"}
	not json
	{"url":"https://e.example/tokyo","title":"東京","content":"Один документ на русском. 東京 のデータセンター GPU"}
	EOF
	jl-search --index idx.db <docs.jsonl >out 2>err &&
	check out <<-\EOF
	[err(r)["code"] for r in R] == ["bad_document", "bad_document", "bad_input"]
	"url is missing" in err(R[0])["message"] and "content is missing" in err(R[1])["message"]
	EOF
	test_grep "7 documents: 4 new, 0 updated or unchanged, 3 failed; the index holds 4" err
'

test_expect_success 'the same url again updates, it does not add; re-indexing is idempotent' '
	printf "%s\n" "{\"url\":\"https://c.example/law\",\"title\":\"Law firm\",\"content\":\"Now we also buy GPU servers.\"}" |
		jl-search --index idx.db 2>err &&
	test_grep "1 documents: 0 new, 1 updated or unchanged, 0 failed; the index holds 4" err &&
	jl-search --index idx.db <docs.jsonl >/dev/null 2>err &&
	test_grep "the index holds 4" err
'

test_expect_success 'query: ranking, scores in 0..1, Unicode folding, no match' '
	cat >in <<-\EOF &&
	{"id":1,"query":"GPU training inference"}
	{"id":2,"query":"cafe"}
	{"id":3,"query":"один"}
	{"id":4,"query":"zebra"}
	{"id":5,"query":"AND OR NOT \"( ) * : ^"}
	EOF
	jl-search -b fts --index idx.db -k <in >out &&
	check out <<-\EOF
	len(S) == 5
	S[0]["results"][0]["url"] == "https://a.example/gpu"
	set(x["url"] for x in S[0]["results"]) >= {"https://a.example/gpu", "https://c.example/law"}
	all(0 < x["score"] <= 1 for s in S for x in s["results"])
	[x["url"] for x in S[1]["results"]] == ["https://b.example/bread"]
	[x["url"] for x in S[2]["results"]] == ["https://e.example/tokyo"]
	S[3]["results"] == [] and S[4]["results"] == []
	all(s["backend"] == "fts" and s["requests"] == 0 for s in S)
	EOF
'

test_expect_success 'the law firm that now buys GPUs is found by its new text, not its old' '
	printf "%s\n" "{\"url\":\"https://c.example/law\",\"title\":\"Law firm\",\"content\":\"Now we also buy GPU servers.\"}" |
		jl-search --quiet --index idx.db &&
	echo "{\"query\":\"disputes\"}" | jl-search -b fts --index idx.db >out &&
	check out <<-\EOF
	S[0]["results"] == []
	EOF
'

test_expect_success 'a missing index: 66, and no file created; a file that is not an index: 65' '
	echo "{\"query\":\"x\"}" >in &&
	test_expect_code 66 jl-search -b fts --index nope.db <in 2>err &&
	! test -e nope.db &&
	echo "not sqlite" >text.db &&
	test_expect_code 65 jl-search -b fts --index text.db <in 2>err
'

test_expect_success 'options the fts backend cannot use: --extract 78, web options ignored with a warning' '
	echo "{\"query\":\"x\"}" >in &&
	test_expect_code 78 jl-search -b fts --index idx.db --extract <in 2>err &&
	jl-search -b fts --index idx.db --depth advanced <in >out 2>err &&
	test_grep "fts backend ignores --depth" err
'

test_expect_success EXPENSIVE 'a 100,000-document index: built, updated, searched' '
	awk "BEGIN { for (i = 1; i <= 100000; i++)
		printf \"{\\\"url\\\":\\\"https://d%d.example/\\\",\\\"title\\\":\\\"doc %d\\\",\\\"content\\\":\\\"word%d common text about w%d\\\"}\\n\", i, i, i, i % 1000 }" >big.jsonl &&
	jl-search --index big.db <big.jsonl 2>err &&
	test_grep "the index holds 100000" err &&
	echo "{\"query\":\"word77777\"}" | jl-search -b fts --index big.db >out &&
	check out <<-\EOF
	[x["url"] for x in S[0]["results"]] == ["https://d77777.example/"]
	EOF
'

test_done
