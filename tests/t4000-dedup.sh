#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-dedup: filter, record, store and replay, changed content, retries of failures, keys, merge, kill -9, concurrent writers'
. ./lib.sh

unset JL_DB

# rows N [FIRST] [EXTRA]: N records {"id":I,"name":"Company I"} (EXTRA added to each).
rows() {
	awk -v n="$1" -v first="${2:-1}" -v extra="${3:-}" 'BEGIN {
		for (i = first; i < first + n; i++)
			printf "{\"id\":%d,\"name\":\"Company %d\"%s}\n", i, i, extra
	}'
}

# ids FILE: the ids of FILE's records, one per line, sorted (a line cut by a
# kill, or a record without an id, is left out).
ids() {
	python3 -c '
import json, sys
for line in open(sys.argv[1], "rb"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if isinstance(r, dict) and "id" in r:
        print(r["id"])
' "$1" | sort -n
}

# sql DB QUERY: one value from the database.
sql() {
	python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"
}

test_expect_success JQ 'filter without a database: repeats in the stream dropped, first kept, _dedup added' '
	{ rows 3 && rows 2 && rows 1 5; } >in &&
	jl-dedup --key .name <in >out 2>err &&
	test_line_count = 4 out &&
	test "$(jq -r .id out | tr "\n" " ")" = "1 2 3 5 " &&
	test "$(jq -r "._dedup.key" out | head -n 1)" = "Company 1" &&
	test "$(jq -r "._dedup.hash | length" out | sort -u)" = 32 &&
	test_grep "6 records: 4 passed (4 new, 0 changed, 0 retried, 0 forced), 0 dropped as done, 2 as duplicates" err &&
	jl-dedup --key .name --keep-duplicates <in >out &&
	test_line_count = 6 out
'

test_expect_success JQ 'the whole story: run, record, rerun does nothing, new rows only, replay gives all' '
	rows 5 >in &&
	jl-dedup --db run.db --key .name <in |
		jq -c ". + {result: (.id * 10)}" |
		jl-dedup --db run.db --key .name --record --store >new 2>err &&
	test_line_count = 5 new &&
	test_grep "5 recorded done, 0 failed" err &&
	jl-dedup --db run.db --key .name <in >again 2>err &&
	test_must_be_empty again &&
	test_grep "5 dropped as done" err &&
	rows 7 >in &&
	jl-dedup --db run.db --key .name <in >more &&
	test "$(ids more | tr "\n" " ")" = "6 7 " &&
	jq -c ". + {result: (.id * 10)}" <more | jl-dedup --db run.db --key .name --record --store >/dev/null &&
	jl-dedup --db run.db --replay >all 2>err &&
	test_line_count = 7 all &&
	test "$(jq -r .result all | sort -n | tr "\n" " ")" = "10 20 30 40 50 60 70 " &&
	test "$(jq -r "has(\"_dedup\")" all | sort -u)" = false &&
	test "$(jl-dedup --db run.db --stats)" = "{\"done\":7,\"failed\":0,\"total\":7}"
'

test_expect_success JQ 'changed content passes again; --hash limits what counts' '
	rows 2 1 ",\"city\":\"Paris\"" >in &&
	jl-dedup --db h.db --key .name <in | jl-dedup -q --db h.db --key .name --record >/dev/null &&
	rows 2 1 ",\"city\":\"Lyon\"" >in2 &&
	jl-dedup --db h.db --key .name <in2 >out 2>err &&
	test_line_count = 2 out &&
	test_grep "2 changed" err &&
	jl-dedup --db h2.db --key .name --hash .name <in | jl-dedup -q --db h2.db --key .name --hash .name --record >/dev/null &&
	jl-dedup --db h2.db --key .name --hash .name <in2 >out &&
	test_must_be_empty out
'

test_expect_success JQ 'failures are retried until --max-attempts, --forget-failed clears them, --force passes all' '
	rows 3 >in &&
	for try in 1 2; do
		jl-dedup --db f.db --key .name <in |
			jq -c "if .id == 2 then . + {_error: {code: \"http_500\"}} else . end" |
			jl-dedup -q --db f.db --key .name --record >/dev/null || return 1
	done &&
	jl-dedup --db f.db --key .name --max-attempts 3 <in >out 2>err &&
	test "$(ids out)" = 2 && test_grep "1 retried" err &&
	jl-dedup --db f.db --key .name --max-attempts 2 <in >out 2>err &&
	test_must_be_empty out && test_grep "1 failed too often" err &&
	test "$(sql f.db "select attempts from dedup_items where key = json_quote(\"Company 2\")")" = 2 &&
	test "$(sql f.db "select error from dedup_items where key = json_quote(\"Company 2\")")" = http_500 &&
	jl-dedup --db f.db --key .name --force <in >out &&
	test_line_count = 3 out &&
	jl-dedup --db f.db --forget-failed 2>err &&
	test_grep "1 keys forgotten" err &&
	jl-dedup --db f.db --key .name --max-attempts 1 <in >out &&
	test "$(ids out)" = 2
'

test_expect_success JQ 'records held back (budget spent, run stopped) use none of --max-attempts: every rerun resumes them' '
	rows 4 >in &&
	for try in 1 2 3 4; do
		jl-dedup --db held.db --key .name --max-attempts 1 <in |
			jq -c "if .id == 1 then . + {_error: {code: \"budget_exceeded\"}}
				elif .id == 2 then . + {_error: {code: \"not_sent\", attempts: 0}}
				elif .id == 3 then . + {_error: {code: \"interrupted\"}}
				else . end" |
			jl-dedup -q --db held.db --key .name --record >out || return 1
		# the held-back keys come back every time; the done one once
		test "$(jq -r .id out | tr "\n" " ")" = "1 2 3 " || test "$try" = 1 || return 1
	done &&
	test "$(sql held.db "select group_concat(attempts) from dedup_items where status = \"failed\"")" = 0,0,0 &&
	jl-dedup --db held.db --key .name --max-attempts 1 <in >out &&
	test "$(ids out | tr "\n" " ")" = "1 2 3 "
'

test_expect_success JQ 'keys: missing, null, bool, array, object are bad_key (never dropped); strings and numbers compare as JSON text' '
	cat >in <<-\EOF &&
	{"id":1,"k":"007"}
	{"id":2,"k":"7"}
	{"id":3,"k":7}
	{"id":4,"k":7.0}
	{"id":5}
	{"id":6,"k":null}
	{"id":7,"k":true}
	{"id":8,"k":[1]}
	{"id":9,"k":{"a":1}}
	not json
	{"id":11,"k":"7","_error":{"code":"upstream"}}
	EOF
	jl-dedup --key .k <in >out 2>err &&
	test_line_count = 10 out &&
	test "$(jq -r "select(._error.code == \"bad_key\") | .id" out | tr "\n" " ")" = "5 6 7 8 9 " &&
	test "$(jq -r "select(._error == null) | .id" out | tr "\n" " ")" = "1 2 3 " &&
	test "$(jq -c "select(.id == 11) | ._error" out)" = "{\"code\":\"upstream\"}" &&
	test "$(jq -r "select(._error.code == \"bad_input\") | ._raw" out)" = "not json"
'

test_expect_success JQ 'a key expression: simple paths and full jq give the same' '
	printf "%s\n" "{\"a\":{\"b c\":\"x\"}}" "{\"a\":{\"b c\":\"x\"}}" "{\"a\":{\"b c\":\"y\"}}" >in &&
	jl-dedup --key ".a.\"b c\"" <in >p &&
	jl-dedup --key ".a | .[\"b c\"]" <in >j &&
	test_line_count = 2 p && test_cmp p j &&
	test_expect_code 64 jl-dedup --key ".[" <in 2>err &&
	test_expect_code 64 jl-dedup <in 2>err &&
	test_expect_code 64 jl-dedup --replay <in 2>err &&
	test_expect_code 64 jl-dedup --db x.db --replay --stats 2>err
'

test_expect_success JQ 'merge: two shards into one; the newest row wins' '
	rows 3 1 ",\"v\":1" | jl-dedup -q --db s1.db --key .name --record --store >/dev/null &&
	rows 3 3 ",\"v\":2" | jl-dedup -q --db s2.db --key .name --record --store >/dev/null &&
	jl-dedup --db m.db --merge s1.db --merge s2.db 2>err &&
	test_grep "s2.db: 3 keys taken" err &&
	jl-dedup --db m.db --replay >all &&
	test "$(ids all | tr "\n" " ")" = "1 2 3 4 5 " &&
	test "$(jq -r "select(.id == 3) | .v" all)" = 2 &&
	jl-dedup --db m.db --merge s1.db 2>err &&
	test_grep "s1.db: 0 keys taken" err &&
	echo "not a database" >bad.db &&
	test_expect_code 65 jl-dedup --db m.db --merge bad.db 2>err
'

test_expect_success JQ 'record mode writes nothing out before it is committed, and streams' '
	mkfifo fifo &&
	( { rows 1 && sleep 1 && rows 1 2; } >fifo & ) &&
	jl-dedup --db st.db --key .name --record --batch 1000 --batch-ms 100000 <fifo >out &&
	test_line_count = 2 out
'

test_expect_success JQ 'kill -9 at random points: integrity ok, at most the last batch lost, a rerun completes' '
	rows 20000 >in &&
	for kill_at in 0.02 0.05 0.1 0.15 0.2 0.3; do
		jl-dedup --db dedupkill4000.db --key .name <in |
			jl-dedup -q --db dedupkill4000.db --key .name --record --store --batch 100 >>partial &
		pid=$!
		sleep $kill_at
		pkill -9 -f "dedupkill4000.db" 2>/dev/null
		wait $pid 2>/dev/null
		test "$(sql dedupkill4000.db "pragma integrity_check")" = ok || return 1
		# killed before the registry was made: nothing done yet
		done_now=$(sql dedupkill4000.db "select count(*) from sqlite_master where name = \"dedup_items\"")
		if [ "$done_now" = 1 ]; then
			done_now=$(sql dedupkill4000.db "select count(*) from dedup_items")
		fi
		# every record written out is committed in the registry
		test "$(ids partial | uniq | wc -l)" -le "$done_now" || return 1
	done &&
	jl-dedup --db dedupkill4000.db --key .name <in | jl-dedup -q --db dedupkill4000.db --key .name --record --store >/dev/null &&
	jl-dedup --db dedupkill4000.db --replay >all &&
	test_line_count = 20000 all &&
	test "$(ids all | uniq | wc -l)" = 20000
'

test_expect_success JQ 'eight concurrent writers: no lost update (each failure counts), no "database is locked"' '
	for w in 1 2 3 4 5 6 7 8; do
		rows 2000 $(((w - 1) * 1000 + 1)) ",\"_error\":{\"code\":\"http_500\"}" >w$w.jsonl ||
			return 1
	done &&
	ls w?.jsonl | xargs -P 8 -I{} sh -c "jl-dedup --db c.db --key .name --record --batch 50 <{} >{}.out 2>{}.err" &&
	! grep -l "locked" w*.err &&
	test "$(sql c.db "select count(*) from dedup_items")" = 9000 &&
	test "$(sql c.db "select sum(attempts) from dedup_items")" = 16000 &&
	test "$(sql c.db "pragma integrity_check")" = ok
'

test_done
