#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='mockd: OpenAI Files and Batch APIs, Anthropic Message Batches, prompt caching'
. ./lib.sh
. "$TEST_DIRECTORY/lib-mock.sh"

KEY=sk-batch-0123456789abcdef
AV='anthropic-version: 2023-06-01'

# upload NAME FILE: POST FILE to /v1/files, multipart, purpose=batch.
upload() {
	req "$1" -H "Authorization: Bearer $KEY" -F purpose=batch -F "file=@$2;filename=$2" \
		"$MOCK_URL/v1/files"
}

# oa NAME PATH [CURL-ARGS...]: a request with OpenAI's Bearer key.
oa() {
	oa_name=$1
	oa_path=$2
	shift 2
	req "$oa_name" -H "Authorization: Bearer $KEY" "$@" "$MOCK_URL$oa_path"
}

# an NAME PATH [CURL-ARGS...]: a request with Anthropic's key and version.
an() {
	an_name=$1
	an_path=$2
	shift 2
	req "$an_name" -H "x-api-key: $KEY" -H "$AV" "$@" "$MOCK_URL$an_path"
}

# create NAME FILE-ID: POST /v1/batches for the input file.
create() {
	oa "$1" /v1/batches -H 'Content-Type: application/json' \
		-d "{\"input_file_id\":\"$2\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"
}

# field NAME EXPR: a value of NAME.body, by a Python expression on d.
field() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1.body" "$2"
}

# poll NAME PATH UNTIL [HEADER...]: GET PATH every 0.1 s (for up to 30 s) until
# the batch's status (or processing_status) is one of UNTIL (comma-separated);
# the last answer in NAME.body, every (seconds, status, counts) in NAME.trace.
poll() {
	python3 "$TRASH_DIRECTORY/poll.py" "$@"
}

# jsonl NAME: NAME.body (JSON lines) as one JSON array, in NAME.json.
jsonl() {
	python3 -c 'import json, sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1]) if l.strip()]))' \
		"$1.body" >"$1.json"
}

test_expect_success CURL,PYTHON3 'setup: a JSONL input of six requests, one that fails by its custom_id' '
	cat >poll.py <<-\EOF &&
	import json, sys, time, urllib.request
	name, url, until, headers = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4:]
	trace, start = [], time.monotonic()
	while True:
	    r = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
	    with urllib.request.urlopen(r, timeout=10) as a:
	        body = a.read()
	    d = json.loads(body)
	    status = d.get("status", d.get("processing_status"))
	    trace.append([round(time.monotonic() - start, 3), status, d["request_counts"]])
	    if status in until or time.monotonic() - start > 30:
	        break
	    time.sleep(0.1)
	open(name + ".body", "wb").write(body)
	json.dump(trace, open(name + ".trace", "w"))
	EOF
	for i in 1 2 3 4 5; do
		echo "{\"custom_id\":\"r$i\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company $i\"}]}}" || return 1
	done >ok.jsonl &&
	cp ok.jsonl mixed.jsonl &&
	echo "{\"custom_id\":\"r-fail-6\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company 6\"}]}}" >>mixed.jsonl &&
	echo "{\"custom_id\":\"r6\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company 6\"}]}}" >>ok.jsonl &&
	for i in 1 2 3 4; do
		echo "{\"model\":\"mock-model\",\"max_tokens\":60,\"messages\":[{\"role\":\"user\",\"content\":\"Firm $i\"}]}" >msg$i.json || return 1
	done &&
	python3 -c "
import json
reqs = [{\"custom_id\": \"m%d\" % i, \"params\": json.load(open(\"msg%d.json\" % i))} for i in (1, 2, 3, 4)]
reqs[3][\"custom_id\"] = \"m-fail-4\"
json.dump({\"requests\": reqs}, open(\"mb.json\", \"w\"))
"
'

# --- OpenAI ---------------------------------------------------------------

test_expect_success CURL,PYTHON3 'files: a multipart upload gives a file object, its content comes back' '
	mock_start --key "$KEY" --batch-time 4 &&
	upload f ok.jsonl && status_is 200 f &&
	jcheck f.body <<-\EOF &&
	d["object"] == "file" and d["id"].startswith("file-") and d["purpose"] == "batch"
	d["filename"] == "ok.jsonl" and d["status"] == "processed"
	EOF
	test "$(field f "d[\"bytes\"]")" = "$(wc -c <ok.jsonl)" &&
	FILE_ID=$(field f "d[\"id\"]") &&
	oa fc "/v1/files/$FILE_ID/content" && status_is 200 fc &&
	test_cmp ok.jsonl fc.body &&
	oa fo "/v1/files/$FILE_ID" && status_is 200 fo && test_cmp f.body fo.body &&
	oa nf /v1/files/file-nope/content && status_is 404 nf
'

test_expect_success CURL,PYTHON3 'files: no purpose, another purpose, no file: 400; no key: 401' '
	req p1 -H "Authorization: Bearer $KEY" -F "file=@ok.jsonl" "$MOCK_URL/v1/files" &&
	status_is 400 p1 && test_grep purpose p1.body &&
	req p2 -H "Authorization: Bearer $KEY" -F purpose=assistants -F "file=@ok.jsonl" "$MOCK_URL/v1/files" &&
	status_is 400 p2 &&
	req p3 -H "Authorization: Bearer $KEY" -F purpose=batch "$MOCK_URL/v1/files" &&
	status_is 400 p3 &&
	req p4 -F purpose=batch -F "file=@ok.jsonl" "$MOCK_URL/v1/files" && status_is 401 p4 &&
	req p5 -X POST "$MOCK_URL/v1/batches" -d "{}" && status_is 401 p5
'

test_expect_success CURL,PYTHON3 'batch: validating, in_progress, finalizing, completed over --batch-time' '
	create b0 "$FILE_ID" && status_is 200 b0 &&
	BATCH=$(field b0 "d[\"id\"]") &&
	jcheck b0.body <<-EOF &&
	d["object"] == "batch" and d["status"] == "validating" and d["input_file_id"] == "$FILE_ID"
	d["endpoint"] == "/v1/chat/completions" and d["completion_window"] == "24h"
	d["request_counts"] == {"total": 6, "completed": 0, "failed": 0}
	d["output_file_id"] is None and d["error_file_id"] is None and d["in_progress_at"] is None
	EOF
	poll b3 "$MOCK_URL/v1/batches/$BATCH" completed,failed,expired,cancelled "Authorization: Bearer $KEY" &&
	python3 -c "import json; print(json.dumps(json.load(open(\"b3.trace\"))))" >b3.json &&
	jcheck b3.json <<-\EOF &&
	[s for i, (t, s, c) in enumerate(d) if i == 0 or d[i - 1][1] != s][-3:] == ["in_progress", "finalizing", "completed"]
	[s for t, s, c in d][0] in ("validating", "in_progress")
	all(d[i][2]["completed"] <= d[i + 1][2]["completed"] for i in range(len(d) - 1))
	all(c["completed"] == 6 for t, s, c in d if s == "finalizing")
	any(0 < c["completed"] < 6 for t, s, c in d if s == "in_progress")
	EOF
	jcheck b3.body <<-\EOF
	d["status"] == "completed" and d["completed_at"] - d["created_at"] == 4
	d["finalizing_at"] - d["created_at"] == 3 and d["in_progress_at"] - d["created_at"] == 1
	d["request_counts"] == {"total": 6, "completed": 6, "failed": 0}
	d["output_file_id"].startswith("file-") and d["error_file_id"] is None
	EOF
'

test_expect_success CURL,PYTHON3 'batch: the output, in shuffled order, joined by custom_id, is the synchronous answers' '
	OUT=$(field b3 "d[\"output_file_id\"]") &&
	oa out "/v1/files/$OUT/content" && status_is 200 out && jsonl out &&
	for i in 1 2 3 4 5 6; do
		sed -n "${i}p" ok.jsonl | python3 -c "import json, sys; print(json.dumps(json.load(sys.stdin)[\"body\"]))" >s$i.json &&
		oa sync$i /v1/chat/completions -H "Content-Type: application/json" -d @s$i.json &&
		status_is 200 sync$i || return 1
	done &&
	python3 -c "
import json
sync = {\"r%d\" % i: json.load(open(\"sync%d.body\" % i)) for i in range(1, 7)}
json.dump(sync, open(\"sync.json\", \"w\"))
" &&
	jcheck out.json <<-\EOF
	len(d) == 6 and sorted(l["custom_id"] for l in d) == ["r1", "r2", "r3", "r4", "r5", "r6"]
	[l["custom_id"] for l in d] != ["r1", "r2", "r3", "r4", "r5", "r6"]
	all(l["error"] is None and l["response"]["status_code"] == 200 for l in d)
	all(l["id"].startswith("batch_req_") and l["response"]["request_id"] for l in d)
	all(l["response"]["body"] == json.load(open("sync.json"))[l["custom_id"]] for l in d)
	all(l["response"]["body"]["usage"]["prompt_tokens"] > 0 for l in d)
	EOF
'

test_expect_success CURL,PYTHON3 'batch: the log names the routes' '
	python3 -c "
import json, sys
routes = {json.loads(l)[\"route\"] for l in open(sys.argv[1])}
need = {\"files\", \"file\", \"file-content\", \"batches\", \"batch\"}
sys.exit(0 if need <= routes else \"missing: %s\" % (need - routes))
" "$MOCK_LOG" &&
	oa nb /v1/batches/batch_nope && status_is 404 nb &&
	jcheck nb.body <<-\EOF
	d["error"]["type"] == "invalid_request_error" and d["error"]["code"] is None
	EOF
'

test_expect_success CURL,PYTHON3 'batch: an input line without custom_id, or a duplicate custom_id, is refused' '
	echo "{\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{}}" >bad.jsonl &&
	upload fb bad.jsonl && create bb "$(field fb "d[\"id\"]")" && status_is 400 bb &&
	cat ok.jsonl ok.jsonl >dup.jsonl &&
	upload fd dup.jsonl && create bd "$(field fd "d[\"id\"]")" && status_is 400 bd &&
	test_grep "Duplicate custom_id" bd.body &&
	create bn file-nope && status_is 404 bn
'

# create_with NAME FILE-ID JSON-FILE: POST /v1/batches for the input file, with
# the members of JSON-FILE (an object) added to the body.
create_with() {
	python3 -c '
import json, sys
body = {"input_file_id": sys.argv[1], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
body.update(json.load(open(sys.argv[2])))
json.dump(body, open(sys.argv[3], "w"))
' "$2" "$3" "$1.json" &&
	oa "$1" /v1/batches -H 'Content-Type: application/json' -d @"$1.json"
}

test_expect_success CURL,PYTHON3 'metadata: echoed by create, get and cancel; at the limits (16 pairs, 64 and 512 characters) too' '
	python3 -c "
import json
json.dump({\"metadata\": {\"jl_run\": \"run-42\", \"note\": \"caf\u00e9 \\\"quoted\\\"\"}}, open(\"md-small.json\", \"w\"))
big = {\"k%02d\" % i: \"v\" * 10 for i in range(15)}
big[\"\u00e9\" * 64] = \"\u00e9\" * 512
json.dump({\"metadata\": big}, open(\"md-big.json\", \"w\"))
json.dump({\"metadata\": None}, open(\"md-null.json\", \"w\"))
json.dump({\"metadata\": {}}, open(\"md-empty.json\", \"w\"))
" &&
	create_with md1 "$FILE_ID" md-small.json && status_is 200 md1 &&
	MD1=$(field md1 "d[\"id\"]") &&
	jcheck md1.body <<-\EOF &&
	d["metadata"] == {"jl_run": "run-42", "note": "caf\u00e9 \"quoted\""}
	EOF
	oa md1g "/v1/batches/$MD1" && status_is 200 md1g &&
	oa md1c "/v1/batches/$MD1/cancel" -X POST && status_is 200 md1c &&
	jcheck md1g.body md1c.body <<-\EOF &&
	d["id"] != "" and d["metadata"] == {"jl_run": "run-42", "note": "caf\u00e9 \"quoted\""}
	EOF
	create_with md2 "$FILE_ID" md-big.json && status_is 200 md2 &&
	oa md2g "/v1/batches/$(field md2 "d[\"id\"]")" &&
	jcheck md2.body md2g.body <<-\EOF &&
	d["metadata"] == json.load(open("md-big.json"))["metadata"] and len(d["metadata"]) == 16
	EOF
	create_with md3 "$FILE_ID" md-null.json && status_is 200 md3 &&
	create_with md4 "$FILE_ID" md-empty.json && status_is 200 md4 &&
	jcheck md3.body md4.body b0.body <<-\EOF
	@md3.body d["metadata"] is None
	@md4.body d["metadata"] == {}
	@b0.body d["metadata"] is None
	EOF
'

test_expect_success CURL,PYTHON3 'metadata: 17 pairs, a key of 65 characters, a value of 513, a value not a string, not an object: 400' '
	python3 -c "
import json
bad = {
    \"pairs\": {\"k%02d\" % i: \"v\" for i in range(17)},
    \"key\": {\"\u00e9\" * 65: \"v\"},
    \"value\": {\"k\": \"\u00e9\" * 513},
    \"number\": {\"k\": 7},
    \"nested\": {\"k\": {\"a\": \"b\"}},
    \"list\": [\"k\", \"v\"],
    \"string\": \"k=v\",
}
for name, m in bad.items():
    json.dump({\"metadata\": m}, open(\"mdbad-%s.json\" % name, \"w\"))
" &&
	for bad in pairs key value number nested list string; do
		create_with mdb-$bad "$FILE_ID" mdbad-$bad.json && status_is 400 mdb-$bad &&
		jcheck mdb-$bad.body <<-\EOF || return 1
		d["error"]["type"] == "invalid_request_error" and "metadata" in d["error"]["message"]
		EOF
	done &&
	test_grep "at most 16 properties" mdb-pairs.body &&
	test_grep "length 65" mdb-key.body &&
	test_grep "length 513" mdb-value.body
'

test_expect_success CURL,PYTHON3 'cancel: cancelling, then cancelled; the items not done are batch_cancelled' '
	create c0 "$FILE_ID" && C=$(field c0 "d[\"id\"]") &&
	poll c0 "$MOCK_URL/v1/batches/$C" in_progress "Authorization: Bearer $KEY" &&
	oa c1 "/v1/batches/$C/cancel" -X POST && status_is 200 c1 &&
	jcheck c1.body <<-\EOF &&
	d["status"] == "cancelling" and d["cancelling_at"] is not None
	EOF
	oa c2 "/v1/batches/$C/cancel" -X POST && status_is 400 c2 &&
	poll c3 "$MOCK_URL/v1/batches/$C" cancelled "Authorization: Bearer $KEY" &&
	jcheck c3.body <<-\EOF &&
	d["status"] == "cancelled" and d["cancelled_at"] is not None and d["in_progress_at"] is not None
	d["request_counts"]["completed"] < 6 and d["error_file_id"] is not None
	EOF
	oa ce "/v1/files/$(field c3 "d[\"error_file_id\"]")/content" && jsonl ce &&
	DONE=$(field c3 "d[\"request_counts\"][\"completed\"]") &&
	jcheck ce.json <<-EOF
	len(d) == 6 - $DONE
	all(l["response"] is None and l["error"]["code"] == "batch_cancelled" for l in d)
	EOF
'

test_expect_success CURL,PYTHON3 'failures: a custom_id with "fail" goes to the error file with a 500' '
	upload fm mixed.jsonl && create m0 "$(field fm "d[\"id\"]")" && M=$(field m0 "d[\"id\"]") &&
	poll m1 "$MOCK_URL/v1/batches/$M" completed "Authorization: Bearer $KEY" &&
	jcheck m1.body <<-\EOF &&
	d["status"] == "completed" and d["request_counts"] == {"total": 6, "completed": 5, "failed": 1}
	EOF
	oa me "/v1/files/$(field m1 "d[\"error_file_id\"]")/content" && jsonl me &&
	jcheck me.json <<-\EOF &&
	len(d) == 1 and d[0]["custom_id"] == "r-fail-6" and d[0]["error"] is None
	d[0]["response"]["status_code"] == 500 and d[0]["response"]["body"]["error"]["type"] == "server_error"
	EOF
	oa mo "/v1/files/$(field m1 "d[\"output_file_id\"]")/content" && jsonl mo &&
	jcheck mo.json <<-\EOF
	len(d) == 5 and "r-fail-6" not in [l["custom_id"] for l in d]
	EOF
'

test_expect_success CURL,PYTHON3 '--batch-fail-rate 1: every item fails; --batch-expire: half done, the rest batch_expired' '
	mock_start --key "$KEY" --batch-time 0.4 --batch-fail-rate 1 &&
	upload g ok.jsonl && create g0 "$(field g "d[\"id\"]")" &&
	poll g1 "$MOCK_URL/v1/batches/$(field g0 "d[\"id\"]")" completed,expired "Authorization: Bearer $KEY" &&
	jcheck g1.body <<-\EOF &&
	d["status"] == "completed" and d["request_counts"] == {"total": 6, "completed": 0, "failed": 6}
	d["output_file_id"] is None and d["error_file_id"] is not None
	EOF
	mock_start --key "$KEY" --batch-time 0.4 --batch-expire &&
	upload x ok.jsonl && create x0 "$(field x "d[\"id\"]")" &&
	poll x1 "$MOCK_URL/v1/batches/$(field x0 "d[\"id\"]")" completed,expired "Authorization: Bearer $KEY" &&
	jcheck x1.body <<-\EOF &&
	d["status"] == "expired" and d["expired_at"] is not None and d["completed_at"] is None
	d["request_counts"] == {"total": 6, "completed": 3, "failed": 0}
	EOF
	oa xo "/v1/files/$(field x1 "d[\"output_file_id\"]")/content" && jsonl xo &&
	oa xe "/v1/files/$(field x1 "d[\"error_file_id\"]")/content" && jsonl xe &&
	jcheck xo.json xe.json <<-\EOF
	len(d) == 3
	@xe.json all(l["response"] is None and l["error"]["code"] == "batch_expired" for l in d)
	EOF
'

# --- Anthropic ------------------------------------------------------------

test_expect_success CURL,PYTHON3 'message batches: in_progress, then ended with results_url' '
	mock_start --key "$KEY" --batch-time 4 &&
	an a0 /v1/messages/batches -H "Content-Type: application/json" -d @mb.json && status_is 200 a0 &&
	A=$(field a0 "d[\"id\"]") &&
	jcheck a0.body <<-\EOF &&
	d["type"] == "message_batch" and d["id"].startswith("msgbatch_")
	d["processing_status"] == "in_progress" and d["results_url"] is None and d["ended_at"] is None
	d["request_counts"] == {"processing": 4, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
	EOF
	an r0 "/v1/messages/batches/$A/results" && status_is 400 r0 &&
	poll a1 "$MOCK_URL/v1/messages/batches/$A" ended "x-api-key: $KEY" "$AV" &&
	jcheck a1.body <<-EOF
	d["processing_status"] == "ended" and d["ended_at"] is not None
	d["request_counts"] == {"processing": 0, "succeeded": 3, "errored": 1, "canceled": 0, "expired": 0}
	d["results_url"] == "$MOCK_URL/v1/messages/batches/$A/results"
	EOF
'

test_expect_success CURL,PYTHON3 'message batches: the results, shuffled, are the synchronous answers; errored has an error' '
	req res -H "x-api-key: $KEY" -H "$AV" "$(field a1 "d[\"results_url\"]")" && status_is 200 res &&
	jsonl res &&
	for i in 1 2 3; do
		an ms$i /v1/messages -H "Content-Type: application/json" -d @msg$i.json && status_is 200 ms$i || return 1
	done &&
	jcheck res.json <<-\EOF
	sorted(l["custom_id"] for l in d) == ["m-fail-4", "m1", "m2", "m3"]
	[l["custom_id"] for l in d] != ["m1", "m2", "m3", "m-fail-4"]
	all(l["result"]["type"] == "succeeded" for l in d if l["custom_id"] != "m-fail-4")
	all(l["result"]["message"] == json.load(open("ms%s.body" % l["custom_id"][1:])) for l in d if l["custom_id"] != "m-fail-4")
	[l["result"]["error"]["type"] for l in d if l["custom_id"] == "m-fail-4"] == ["error"]
	[l["result"]["error"]["error"]["type"] for l in d if l["custom_id"] == "m-fail-4"] == ["api_error"]
	EOF
'

test_expect_success CURL,PYTHON3 'message batches: cancel, canceling, then ended with canceled results; auth and 404' '
	an k0 /v1/messages/batches -H "Content-Type: application/json" -d @mb.json &&
	K=$(field k0 "d[\"id\"]") &&
	an k1 "/v1/messages/batches/$K/cancel" -X POST && status_is 200 k1 &&
	jcheck k1.body <<-\EOF &&
	d["processing_status"] == "canceling" and d["cancel_initiated_at"] is not None
	EOF
	poll k2 "$MOCK_URL/v1/messages/batches/$K" ended "x-api-key: $KEY" "$AV" &&
	jcheck k2.body <<-\EOF &&
	d["processing_status"] == "ended" and d["request_counts"]["processing"] == 0
	d["request_counts"]["canceled"] >= 1 and d["request_counts"]["expired"] == 0
	sum(d["request_counts"].values()) == 4
	EOF
	CANCELED=$(field k2 "d[\"request_counts\"][\"canceled\"]") &&
	an k3 "/v1/messages/batches/$K/results" && jsonl k3 &&
	jcheck k3.json <<-EOF &&
	len(d) == 4 and [l["result"] for l in d].count({"type": "canceled"}) == $CANCELED
	EOF
	an k4 /v1/messages/batches/msgbatch_nope && status_is 404 k4 &&
	jcheck k4.body <<-\EOF &&
	d["type"] == "error" and d["error"]["type"] == "not_found_error"
	EOF
	req k5 -H "$AV" "$MOCK_URL/v1/messages/batches/$K" && status_is 401 k5 &&
	req k6 -H "x-api-key: $KEY" "$MOCK_URL/v1/messages/batches/$K" && status_is 400 k6 &&
	python3 -c "
import json, sys
routes = {json.loads(l)[\"route\"] for l in open(sys.argv[1])}
need = {\"message-batches\", \"message-batch\", \"message-batch-results\", \"message-batch-cancel\"}
sys.exit(0 if need <= routes else \"missing: %s\" % (need - routes))
" "$MOCK_LOG"
'

test_expect_success CURL,PYTHON3 'message batches: --batch-expire leaves half expired' '
	mock_start --key "$KEY" --batch-time 0.4 --batch-expire &&
	an e0 /v1/messages/batches -H "Content-Type: application/json" -d @mb.json &&
	poll e1 "$MOCK_URL/v1/messages/batches/$(field e0 "d[\"id\"]")" ended "x-api-key: $KEY" "$AV" &&
	jcheck e1.body <<-\EOF &&
	d["processing_status"] == "ended" and d["request_counts"]["expired"] == 2
	d["request_counts"]["processing"] == 0 and d["request_counts"]["canceled"] == 0
	EOF
	an e2 "/v1/messages/batches/$(field e0 "d[\"id\"]")/results" && jsonl e2 &&
	jcheck e2.json <<-\EOF
	[l["result"]["type"] for l in d].count("expired") == 2
	EOF
'

# --- listing ------------------------------------------------------------------

# ids NAME: the ids of NAME.body's data, one a line.
ids() {
	field "$1" "\"\\n\".join(b[\"id\"] for b in d[\"data\"])"
}

test_expect_success CURL,PYTHON3 'list: OpenAI batches newest first with their metadata; refused creations and message batches are not listed' '
	mock_start --key "$KEY" --batch-time 300 &&
	upload lf ok.jsonl && LF=$(field lf "d[\"id\"]") &&
	an la0 /v1/messages/batches -H "Content-Type: application/json" -d @mb.json && status_is 200 la0 &&
	for i in 1 2 3 4 5; do
		echo "{\"metadata\":{\"n\":\"$i\"}}" >mdn$i.json &&
		create_with lb$i "$LF" mdn$i.json && status_is 200 lb$i || return 1
	done &&
	create_with lbad "$LF" mdbad-pairs.json && status_is 400 lbad &&
	for i in 5 4 3 2 1; do
		field lb$i "d[\"id\"]" || return 1
	done >want-ids &&
	oa l0 /v1/batches && status_is 200 l0 &&
	ids l0 >l0.ids && test_cmp want-ids l0.ids &&
	jcheck l0.body <<-EOF
	list(d) == ["object", "data", "first_id", "last_id", "has_more"]
	d["object"] == "list" and d["has_more"] is False
	d["first_id"] == "$(field lb5 "d[\"id\"]")" and d["last_id"] == "$(field lb1 "d[\"id\"]")"
	[b["metadata"] for b in d["data"]] == [{"n": "5"}, {"n": "4"}, {"n": "3"}, {"n": "2"}, {"n": "1"}]
	all(b["object"] == "batch" and b["input_file_id"] == "$LF" for b in d["data"])
	all(b["request_counts"]["total"] == 6 and b["status"] in ("validating", "in_progress") for b in d["data"])
	EOF
'

test_expect_success CURL,PYTHON3 'list: limit and after page through the batches; has_more until the last page' '
	oa l1 "/v1/batches?limit=2" && status_is 200 l1 &&
	oa l2 "/v1/batches?limit=2&after=$(field l1 "d[\"last_id\"]")" && status_is 200 l2 &&
	oa l3 "/v1/batches?after=$(field l2 "d[\"last_id\"]")&limit=2" && status_is 200 l3 &&
	oa l4 "/v1/batches?after=$(field l3 "d[\"last_id\"]")" && status_is 200 l4 &&
	{ ids l1 && ids l2 && ids l3; } >paged.ids && test_cmp want-ids paged.ids &&
	jcheck l1.body l2.body l3.body l4.body <<-\EOF &&
	@l1.body len(d["data"]) == 2 and d["has_more"] is True
	@l1.body d["first_id"] == d["data"][0]["id"] and d["last_id"] == d["data"][1]["id"]
	@l2.body len(d["data"]) == 2 and d["has_more"] is True
	@l3.body len(d["data"]) == 1 and d["has_more"] is False
	@l3.body d["first_id"] == d["last_id"] == d["data"][0]["id"]
	@l4.body d == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
	EOF
	oa l5 "/v1/batches?limit=5" && oa l6 "/v1/batches?limit=4" &&
	jcheck l5.body l6.body <<-\EOF
	@l5.body len(d["data"]) == 5 and d["has_more"] is False
	@l6.body len(d["data"]) == 4 and d["has_more"] is True
	EOF
'

test_expect_success CURL,PYTHON3 'list: limit is 20 by default, 100 at most; a bad limit or an unknown after is 400' '
	for i in 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21; do
		create lb$i "$LF" && status_is 200 lb$i || return 1
	done &&
	oa ld "/v1/batches" && oa l100 "/v1/batches?limit=100" &&
	jcheck ld.body l100.body <<-EOF &&
	@ld.body len(d["data"]) == 20 and d["has_more"] is True and d["first_id"] == "$(field lb21 "d[\"id\"]")"
	@ld.body d["last_id"] == "$(field lb2 "d[\"id\"]")"
	@l100.body len(d["data"]) == 21 and d["has_more"] is False and d["last_id"] == "$(field lb1 "d[\"id\"]")"
	EOF
	for q in limit=0 limit=101 limit=-1 limit=abc limit= after=batch_nope "after=$(field la0 "d[\"id\"]")"; do
		oa lq "/v1/batches?$q" && status_is 400 lq &&
		jcheck lq.body <<-\EOF || return 1
		d["error"]["type"] == "invalid_request_error"
		EOF
	done
'

test_expect_success CURL,PYTHON3 'list: Anthropic message batches newest first; limit, after_id and before_id page with has_more' '
	an la1 /v1/messages/batches -H "Content-Type: application/json" -d @mb.json &&
	an la2 /v1/messages/batches -H "Content-Type: application/json" -d @mb.json &&
	A0=$(field la0 "d[\"id\"]") && A1=$(field la1 "d[\"id\"]") && A2=$(field la2 "d[\"id\"]") &&
	an m0 /v1/messages/batches && status_is 200 m0 &&
	printf "%s\n" "$A2" "$A1" "$A0" >want-mids && ids m0 >m0.ids && test_cmp want-mids m0.ids &&
	jcheck m0.body <<-EOF &&
	list(d) == ["data", "has_more", "first_id", "last_id"]
	d["has_more"] is False and d["first_id"] == "$A2" and d["last_id"] == "$A0"
	all(b["type"] == "message_batch" and b["processing_status"] == "in_progress" for b in d["data"])
	all(sum(b["request_counts"].values()) == 4 for b in d["data"])
	EOF
	an m1 "/v1/messages/batches?limit=2" && an m2 "/v1/messages/batches?limit=2&after_id=$A1" &&
	an m3 "/v1/messages/batches?before_id=$A0&limit=1" && an m4 "/v1/messages/batches?before_id=$A0" &&
	an m5 "/v1/messages/batches?before_id=$A2" && an m6 "/v1/messages/batches?limit=1000" &&
	jcheck m1.body m2.body m3.body m4.body m5.body m6.body <<-EOF
	@m1.body [b["id"] for b in d["data"]] == ["$A2", "$A1"] and d["has_more"] is True
	@m1.body d["first_id"] == "$A2" and d["last_id"] == "$A1"
	@m2.body [b["id"] for b in d["data"]] == ["$A0"] and d["has_more"] is False
	@m3.body [b["id"] for b in d["data"]] == ["$A1"] and d["has_more"] is True
	@m3.body d["first_id"] == d["last_id"] == "$A1"
	@m4.body [b["id"] for b in d["data"]] == ["$A2", "$A1"] and d["has_more"] is False
	@m5.body d == {"data": [], "has_more": False, "first_id": None, "last_id": None}
	@m6.body len(d["data"]) == 3 and d["has_more"] is False
	EOF
'

test_expect_success CURL,PYTHON3 'list: Anthropic: a bad limit, an unknown cursor, after_id with before_id: 400' '
	for q in limit=0 limit=1001 limit=x after_id=msgbatch_nope before_id=msgbatch_nope \
		"after_id=$(field lb1 "d[\"id\"]")" "after_id=$A1&before_id=$A0"; do
		an mq "/v1/messages/batches?$q" && status_is 400 mq &&
		jcheck mq.body <<-\EOF || return 1
		d["type"] == "error" and d["error"]["type"] == "invalid_request_error"
		EOF
	done
'

test_expect_success CURL,PYTHON3 'list: the key (and anthropic-version) are required; /openai/v1 lists too; the log names the routes; other methods 405' '
	req n1 "$MOCK_URL/v1/batches" && status_is 401 n1 &&
	req n2 -H "Authorization: Bearer sk-wrong" "$MOCK_URL/v1/batches" && status_is 401 n2 &&
	req n3 -H "$AV" "$MOCK_URL/v1/messages/batches" && status_is 401 n3 &&
	req n4 -H "x-api-key: sk-wrong" -H "$AV" "$MOCK_URL/v1/messages/batches" && status_is 401 n4 &&
	req n5 -H "x-api-key: $KEY" "$MOCK_URL/v1/messages/batches" && status_is 400 n5 &&
	test_grep anthropic-version n5.body &&
	oa g1 "/openai/v1/batches?limit=3" && status_is 200 g1 &&
	oa g2 "/v1/batches?limit=3" && ids g1 >g1.ids && ids g2 >g2.ids && test_cmp g2.ids g1.ids &&
	oa x1 /v1/batches -X DELETE && status_is 405 x1 &&
	an x2 /v1/messages/batches -X PUT && status_is 405 x2 &&
	oa x3 "/v1/batches/$(field lb1 "d[\"id\"]")" -X DELETE && status_is 405 x3 &&
	python3 -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
got = [(l[\"method\"], l[\"path\"], l[\"route\"], l[\"status\"]) for l in lines]
want = [
    (\"GET\", \"/v1/batches\", \"batches-list\", 401),
    (\"GET\", \"/v1/messages/batches\", \"message-batches-list\", 401),
    (\"GET\", \"/openai/v1/batches\", \"batches-list\", 200),
    (\"DELETE\", \"/v1/batches\", \"batches\", 405),
    (\"PUT\", \"/v1/messages/batches\", \"message-batches\", 405),
    (\"POST\", \"/v1/messages/batches\", \"message-batches\", 200),
    (\"POST\", \"/v1/batches\", \"batches\", 200),
]
missing = [w for w in want if w not in got]
sys.exit(\"missing: %s\" % missing if missing else 0)
" "$MOCK_LOG"
'

# --- prompt caching ----------------------------------------------------------

test_expect_success CURL,PYTHON3 '--batch-fail-rate 0.5: the same items fail under the same --seed' '
	for run in 1 2; do
		mock_start --key "$KEY" --batch-time 0.2 --batch-fail-rate 0.5 --seed 7 &&
		for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
			echo "{\"custom_id\":\"q$i\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Q $i\"}]}}" || return 1
		done >q.jsonl &&
		upload q$run q.jsonl && create qb$run "$(field q$run "d[\"id\"]")" &&
		poll qd$run "$MOCK_URL/v1/batches/$(field qb$run "d[\"id\"]")" completed "Authorization: Bearer $KEY" &&
		oa qe$run "/v1/files/$(field qd$run "d[\"error_file_id\"]")/content" &&
		python3 -c "import json, sys; print(sorted(json.loads(l)[\"custom_id\"] for l in open(sys.argv[1])))" qe$run.body >failed$run &&
		mock_stop || return 1
	done &&
	test_cmp failed1 failed2 &&
	jcheck qd1.body <<-\EOF
	0 < d["request_counts"]["failed"] < 12 and d["request_counts"]["completed"] + d["request_counts"]["failed"] == 12
	EOF
'

test_expect_success CURL,PYTHON3 'Anthropic cache_control: a cache write, then reads of the same prefix' '
	mock_start --key "$KEY" &&
	python3 -c "
import json
system = \"You rate companies. \" * 200
def req(mark, question):
    block = {\"type\": \"text\", \"text\": system}
    if mark:
        block[\"cache_control\"] = {\"type\": \"ephemeral\"}
    return {\"model\": \"mock-model\", \"max_tokens\": 50, \"system\": [block],
            \"messages\": [{\"role\": \"user\", \"content\": question}]}
json.dump(req(False, \"Acme\"), open(\"c0.json\", \"w\"))
json.dump(req(True, \"Acme\"), open(\"c1.json\", \"w\"))
json.dump(req(True, \"Globex Corporation\"), open(\"c2.json\", \"w\"))
" &&
	for i in 0 1 2; do
		an cache$i /v1/messages -H "Content-Type: application/json" -d @c$i.json && status_is 200 cache$i || return 1
	done &&
	an cache3 /v1/messages -H "Content-Type: application/json" -d @c1.json &&
	jcheck cache0.body <<-\EOF &&
	d["usage"]["cache_creation_input_tokens"] == 0 and d["usage"]["cache_read_input_tokens"] == 0
	EOF
	TOTAL=$(field cache0 "d[\"usage\"][\"input_tokens\"]") &&
	jcheck cache1.body cache3.body <<-EOF &&
	@cache1.body d["usage"]["cache_creation_input_tokens"] == 1000 and d["usage"]["cache_read_input_tokens"] == 0
	@cache1.body d["usage"]["input_tokens"] == $TOTAL - 1000
	@cache3.body d["usage"]["cache_creation_input_tokens"] == 0 and d["usage"]["cache_read_input_tokens"] == 1000
	@cache3.body d["usage"]["input_tokens"] == $TOTAL - 1000
	EOF
	jcheck cache2.body <<-\EOF
	d["usage"]["cache_read_input_tokens"] == 1000 and d["usage"]["cache_creation_input_tokens"] == 0
	EOF
'

test_expect_success CURL,PYTHON3 'a message batch: the first item writes the cache, the next one reads it' '
	python3 -c "
import json
system = [{\"type\": \"text\", \"text\": \"Batch rules. \" * 400, \"cache_control\": {\"type\": \"ephemeral\"}}]
reqs = [{\"custom_id\": \"c%d\" % i, \"params\": {\"model\": \"mock-model\", \"max_tokens\": 50, \"system\": system,
         \"messages\": [{\"role\": \"user\", \"content\": \"Firm %d\" % i}]}} for i in (1, 2)]
json.dump({\"requests\": reqs}, open(\"cb.json\", \"w\"))
" &&
	mock_start --key "$KEY" --batch-time 0.2 &&
	an cb0 /v1/messages/batches -H "Content-Type: application/json" -d @cb.json && status_is 200 cb0 &&
	poll cb1 "$MOCK_URL/v1/messages/batches/$(field cb0 "d[\"id\"]")" ended "x-api-key: $KEY" "$AV" &&
	an cb2 "/v1/messages/batches/$(field cb0 "d[\"id\"]")/results" && jsonl cb2 &&
	jcheck cb2.json <<-\EOF
	{l["custom_id"]: l["result"]["message"]["usage"]["cache_creation_input_tokens"] for l in d} == {"c1": 1300, "c2": 0}
	{l["custom_id"]: l["result"]["message"]["usage"]["cache_read_input_tokens"] for l in d} == {"c1": 0, "c2": 1300}
	EOF
'

test_expect_success CURL,PYTHON3 'OpenAI: cached_tokens for a prefix of 1,024+ tokens seen before, in 128-token steps' '
	python3 -c "
import json
long = \"Background on the market. \" * 800
def req(tail, key=None):
    r = {\"model\": \"mock-model\", \"messages\": [{\"role\": \"system\", \"content\": long},
                                                {\"role\": \"user\", \"content\": tail}]}
    if key:
        r[\"prompt_cache_key\"] = key
    return r
json.dump(req(\"Acme\"), open(\"o1.json\", \"w\"))
json.dump(req(\"Globex\"), open(\"o2.json\", \"w\"))
json.dump(req(\"Acme\", \"tenant-7\"), open(\"o3.json\", \"w\"))
json.dump({\"model\": \"mock-model\", \"messages\": [{\"role\": \"user\", \"content\": \"short\"}]}, open(\"o4.json\", \"w\"))
" &&
	for i in 1 1b 2 3 3b 4 4b; do
		oa oc$i /v1/chat/completions -H "Content-Type: application/json" -d @o${i%b}.json &&
		status_is 200 oc$i || return 1
	done &&
	jcheck oc1.body oc2.body oc3.body oc4.body oc4b.body <<-\EOF &&
	@oc1.body d["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
	@oc3.body d["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
	@oc4.body d["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
	@oc4b.body d["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
	@oc2.body 1024 <= d["usage"]["prompt_tokens_details"]["cached_tokens"] < d["usage"]["prompt_tokens"]
	@oc2.body d["usage"]["prompt_tokens_details"]["cached_tokens"] % 128 == 0
	EOF
	jcheck oc1b.body oc3b.body <<-\EOF
	d["usage"]["prompt_tokens_details"]["cached_tokens"] == 1024 + (d["usage"]["prompt_tokens"] - 1024) // 128 * 128
	EOF
'

test_done
