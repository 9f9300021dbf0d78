#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='mockd routes: every provider answers 200 in its own JSON shape, deterministically'
. ./lib.sh
. "$TEST_DIRECTORY/lib-mock.sh"

# chat NAME [PREFIX] [CURL-ARGS...]: POST req-NAME.json to PREFIX/chat/completions
# (PREFIX: /v1 by default); the answer in NAME.*.
chat() {
	chat_name=$1
	chat_prefix=${2:-/v1}
	shift
	[ $# -gt 0 ] && shift
	req "$chat_name" -H 'Content-Type: application/json' -d @"req-$chat_name.json" "$@" \
		"$MOCK_URL$chat_prefix/chat/completions"
}

# anthropic NAME [CURL-ARGS...]: POST msg-NAME.json to /v1/messages.
anthropic() {
	anth_name=$1
	shift
	req "$anth_name" -H 'Content-Type: application/json' -H 'anthropic-version: 2023-06-01' \
		-d @"msg-$anth_name.json" "$@" "$MOCK_URL/v1/messages"
}

# chat_json FILE CONTENT [MORE-FIELDS]: a chat request for model mock-model
# with one user message.
chat_json() {
	printf '{"model":"mock-model","messages":[{"role":"user","content":"%s"}]%s}\n' \
		"$2" "${3:+,$3}" >"$1"
}

# msg_json FILE CONTENT [MORE-FIELDS]: an Anthropic request (max_tokens 300).
msg_json() {
	printf '{"model":"mock-model","max_tokens":300,"messages":[{"role":"user","content":"%s"}]%s}\n' \
		"$2" "${3:+,$3}" >"$1"
}

# The JSON object inside an OpenAI and an Anthropic reply, for jcheck.
OPENAI_JSON='json.loads(d["choices"][0]["message"]["content"])'
ANTHROPIC_JSON='json.loads(d["content"][0]["text"])'

test_expect_success CURL 'setup: start mockd without keys' '
	mock_start &&
	chat_json req-plain.json "Company: Acme Corp, maker of anvils" &&
	msg_json msg-plain.json "Company: Acme Corp, maker of anvils" &&
	# a JSON-mode reply r: {tier, score, reason}, tier by score
	cat >tier.expr <<-\EOF
	isinstance(r, dict)
	r["tier"] in ("HOT", "WATCH", "COLD")
	isinstance(r["score"], (int, float)) and not isinstance(r["score"], bool)
	0 <= r["score"] <= 100
	isinstance(r["reason"], str) and r["reason"] != ""
	r["tier"] == ("HOT" if r["score"] >= 70 else "WATCH" if r["score"] >= 40 else "COLD")
	EOF
'

test_expect_success CURL,PYTHON3 'POST /v1/chat/completions: OpenAI shape' '
	chat plain &&
	status_is 200 plain &&
	grep -i "^content-type: application/json" plain.headers &&
	jcheck plain.body <<-\EOF
	isinstance(d["id"], str) and d["id"] != ""
	d["object"] == "chat.completion"
	d["choices"][0]["index"] == 0
	d["choices"][0]["message"]["role"] == "assistant"
	isinstance(d["choices"][0]["message"]["content"], str)
	len(d["choices"][0]["message"]["content"]) > 0
	d["choices"][0]["finish_reason"] == "stop"
	all(isinstance(d["usage"][k], int) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
	d["usage"]["prompt_tokens"] > 0 and d["usage"]["completion_tokens"] > 0
	d["usage"]["total_tokens"] == d["usage"]["prompt_tokens"] + d["usage"]["completion_tokens"]
	"cost" not in d["usage"]
	EOF
'

test_expect_success CURL,PYTHON3 'usage: one token per 4 bytes of the messages and of the reply' '
	chat_json req-400.json "$(x_bytes 400)" &&
	chat 400 &&
	status_is 200 400 &&
	jcheck 400.body <<-\EOF
	99 <= d["usage"]["prompt_tokens"] <= 101
	abs(d["usage"]["completion_tokens"] - len(d["choices"][0]["message"]["content"].encode()) / 4) <= 1
	EOF
'

test_expect_success CURL,PYTHON3 'Groq prefix /openai/v1 and another prefix answer the same shape' '
	chat plain /openai/v1 &&
	status_is 200 plain &&
	jcheck plain.body <<-\EOF &&
	d["object"] == "chat.completion"
	isinstance(d["choices"][0]["message"]["content"], str)
	d["choices"][0]["finish_reason"] == "stop"
	d["usage"]["total_tokens"] == d["usage"]["prompt_tokens"] + d["usage"]["completion_tokens"]
	EOF
	chat plain /llama/v1 &&
	status_is 200 plain &&
	jcheck plain.body <<-\EOF
	d["choices"][0]["finish_reason"] == "stop"
	isinstance(d["usage"]["prompt_tokens"], int)
	EOF
'

test_expect_success CURL,PYTHON3 'OpenRouter prefix /api/v1 adds usage.cost' '
	chat plain /api/v1 &&
	status_is 200 plain &&
	jcheck plain.body <<-\EOF
	isinstance(d["choices"][0]["message"]["content"], str)
	d["choices"][0]["finish_reason"] == "stop"
	isinstance(d["usage"]["cost"], (int, float)) and d["usage"]["cost"] >= 0
	d["usage"]["total_tokens"] == d["usage"]["prompt_tokens"] + d["usage"]["completion_tokens"]
	EOF
'

test_expect_success CURL,PYTHON3 'GET /v1/models and /openai/v1/models: the list holds mock-model' '
	req models "$MOCK_URL/v1/models" &&
	status_is 200 models &&
	jcheck models.body <<-\EOF &&
	d["object"] == "list"
	"mock-model" in [m["id"] for m in d["data"]]
	EOF
	req models2 "$MOCK_URL/openai/v1/models" &&
	status_is 200 models2 &&
	jcheck models2.body <<-\EOF
	"mock-model" in [m["id"] for m in d["data"]]
	EOF
'

test_expect_success CURL,PYTHON3 'GET /v1/models with anthropic-version: Anthropic shape' '
	req amodels -H "anthropic-version: 2023-06-01" "$MOCK_URL/v1/models" &&
	status_is 200 amodels &&
	jcheck amodels.body <<-\EOF
	"mock-model" in [m["id"] for m in d["data"]]
	all(m["type"] == "model" for m in d["data"])
	d["has_more"] is False
	"object" not in d
	EOF
'

test_expect_success CURL,PYTHON3 'POST /v1/messages: Anthropic shape' '
	anthropic plain &&
	status_is 200 plain &&
	jcheck plain.body <<-\EOF
	d["type"] == "message"
	d["role"] == "assistant"
	d["content"][0]["type"] == "text"
	isinstance(d["content"][0]["text"], str) and len(d["content"][0]["text"]) > 0
	d["stop_reason"] == "end_turn"
	isinstance(d["usage"]["input_tokens"], int) and d["usage"]["input_tokens"] > 0
	isinstance(d["usage"]["output_tokens"], int) and d["usage"]["output_tokens"] > 0
	abs(d["usage"]["output_tokens"] - len(d["content"][0]["text"].encode()) / 4) <= 1
	EOF
'

test_expect_success CURL,PYTHON3 'Anthropic without anthropic-version: 400 invalid_request_error' '
	req nover -H "Content-Type: application/json" -d @msg-plain.json "$MOCK_URL/v1/messages" &&
	status_is 400 nover &&
	jcheck nover.body <<-\EOF
	d["type"] == "error"
	d["error"]["type"] == "invalid_request_error"
	isinstance(d["error"]["message"], str)
	EOF
'

test_expect_success CURL,PYTHON3 'Tavily /tavily/search: 5 results by default, scores in 0..1 descending, no answer' '
	echo "{\"query\":\"gpu cloud providers\"}" >tavily.json &&
	req tavily -H "Content-Type: application/json" -d @tavily.json "$MOCK_URL/tavily/search" &&
	status_is 200 tavily &&
	jcheck tavily.body <<-\EOF
	d["query"] == "gpu cloud providers"
	len(d["results"]) == 5
	all(isinstance(r[k], str) and r[k] for r in d["results"] for k in ("title", "url", "content"))
	all(r["url"].startswith("http") for r in d["results"])
	all(isinstance(r["score"], (int, float)) and 0 <= r["score"] <= 1 for r in d["results"])
	[r["score"] for r in d["results"]] == sorted([r["score"] for r in d["results"]], reverse=True)
	d.get("answer") is None
	all(r.get("raw_content") is None for r in d["results"])
	EOF
'

test_expect_success CURL,PYTHON3 'Tavily: max_results, include_answer, include_raw_content, include_usage; scores spread' '
	echo "{\"query\":\"gpu cloud providers\",\"max_results\":10,\"include_answer\":true,\"include_raw_content\":true,\"include_usage\":true}" >tavily2.json &&
	req tavily2 -H "Content-Type: application/json" -d @tavily2.json "$MOCK_URL/tavily/search" &&
	status_is 200 tavily2 &&
	jcheck tavily2.body <<-\EOF &&
	len(d["results"]) == 10
	isinstance(d["answer"], str) and d["answer"] != ""
	all(isinstance(r["raw_content"], str) and r["raw_content"] for r in d["results"])
	isinstance(d["usage"]["credits"], (int, float)) and d["usage"]["credits"] >= 1
	all(0 <= r["score"] <= 1 for r in d["results"])
	[r["score"] for r in d["results"]] == sorted([r["score"] for r in d["results"]], reverse=True)
	# spread over 0..1, not bunched at one end
	d["results"][0]["score"] > 0.5 and d["results"][-1]["score"] < 0.5
	len(set(r["url"] for r in d["results"])) == 10
	EOF
	echo "{\"query\":\"gpu\",\"max_results\":3}" >tavily3.json &&
	req tavily3 -H "Content-Type: application/json" -d @tavily3.json "$MOCK_URL/tavily/search" &&
	status_is 200 tavily3 &&
	jcheck tavily3.body <<-\EOF
	len(d["results"]) == 3
	EOF
'

test_expect_success CURL,PYTHON3 'Tavily /tavily/extract: results[] and failed_results[] for a URL containing "fail"' '
	echo "{\"urls\":[\"https://ok.example.com/a\",\"https://fail.example.com/b\",\"https://ok.example.com/c\"]}" >extract.json &&
	req extract -H "Content-Type: application/json" -d @extract.json "$MOCK_URL/tavily/extract" &&
	status_is 200 extract &&
	jcheck extract.body <<-\EOF
	sorted(r["url"] for r in d["results"]) == ["https://ok.example.com/a", "https://ok.example.com/c"]
	all(isinstance(r["raw_content"], str) and r["raw_content"] for r in d["results"])
	[r["url"] for r in d["failed_results"]] == ["https://fail.example.com/b"]
	isinstance(d["failed_results"][0]["error"], str)
	EOF
'

test_expect_success CURL,PYTHON3 'Brave GET /brave/res/v1/web/search: web.results[] with description, no score' '
	req brave "$MOCK_URL/brave/res/v1/web/search?q=gpu+cloud&count=4" &&
	status_is 200 brave &&
	jcheck brave.body <<-\EOF &&
	len(d["web"]["results"]) == 4
	all(isinstance(r[k], str) and r[k] for r in d["web"]["results"] for k in ("title", "url", "description"))
	all("score" not in r for r in d["web"]["results"])
	EOF
	req brave10 "$MOCK_URL/brave/res/v1/web/search?q=gpu+cloud" &&
	status_is 200 brave10 &&
	jcheck brave10.body <<-\EOF
	len(d["web"]["results"]) == 10
	EOF
'

test_expect_success CURL,PYTHON3 'Serper POST /serper/search: organic[] with link, snippet, position' '
	echo "{\"q\":\"gpu cloud\",\"num\":3}" >serper.json &&
	req serper -H "Content-Type: application/json" -d @serper.json "$MOCK_URL/serper/search" &&
	status_is 200 serper &&
	jcheck serper.body <<-\EOF &&
	len(d["organic"]) == 3
	all(isinstance(r[k], str) and r[k] for r in d["organic"] for k in ("title", "link", "snippet"))
	[r["position"] for r in d["organic"]] == [1, 2, 3]
	all("score" not in r for r in d["organic"])
	EOF
	echo "{\"q\":\"gpu cloud\"}" >serper10.json &&
	req serper10 -H "Content-Type: application/json" -d @serper10.json "$MOCK_URL/serper/search" &&
	status_is 200 serper10 &&
	jcheck serper10.body <<-\EOF
	len(d["organic"]) == 10
	EOF
'

test_expect_success CURL,PYTHON3 'SearxNG GET /searxng/search: results[] with format=json, 403 without' '
	req searx "$MOCK_URL/searxng/search?q=gpu+cloud&format=json" &&
	status_is 200 searx &&
	jcheck searx.body <<-\EOF &&
	len(d["results"]) == 10
	all(isinstance(r[k], str) and r[k] for r in d["results"] for k in ("title", "url", "content"))
	EOF
	req searxhtml "$MOCK_URL/searxng/search?q=gpu+cloud" &&
	status_is 403 searxhtml
'

test_expect_success CURL,PYTHON3 'Exa POST /exa/search: results[] with score, costDollars' '
	echo "{\"query\":\"gpu cloud\",\"numResults\":6}" >exa.json &&
	req exa -H "Content-Type: application/json" -d @exa.json "$MOCK_URL/exa/search" &&
	status_is 200 exa &&
	jcheck exa.body <<-\EOF &&
	len(d["results"]) == 6
	all(isinstance(r[k], str) and r[k] for r in d["results"] for k in ("title", "url"))
	all(isinstance(r["score"], (int, float)) and 0 <= r["score"] <= 1 for r in d["results"])
	[r["score"] for r in d["results"]] == sorted([r["score"] for r in d["results"]], reverse=True)
	isinstance(d["costDollars"]["total"], (int, float)) and d["costDollars"]["total"] >= 0
	EOF
	echo "{\"query\":\"gpu cloud\"}" >exa10.json &&
	req exa10 -H "Content-Type: application/json" -d @exa10.json "$MOCK_URL/exa/search" &&
	status_is 200 exa10 &&
	jcheck exa10.body <<-\EOF
	len(d["results"]) == 10
	EOF
'

test_expect_success CURL,PYTHON3 'unknown routes: 404' '
	req nope "$MOCK_URL/nope" &&
	status_is 404 nope &&
	req nope2 -d "{}" "$MOCK_URL/tavily/nope" &&
	status_is 404 nope2 &&
	req nope3 "$MOCK_URL/" &&
	status_is 404 nope3
'

test_expect_success CURL,PYTHON3 'GET /_stats: counts, not counting itself' '
	req stats "$MOCK_URL/_stats" &&
	status_is 200 stats &&
	req stats2 "$MOCK_URL/_stats" &&
	status_is 200 stats2 &&
	n=$(wc -l <"$MOCK_LOG") &&
	test "$n" -gt 10 &&
	cat >stats.expr <<-EOF &&
	d["requests"] == $n
	EOF
	jcheck stats2.body <stats.expr &&
	jcheck stats2.body <<-\EOF
	isinstance(d["in_flight"], int) and d["in_flight"] >= 0
	d["by_status"]["200"] >= 10
	d["by_status"]["403"] >= 1 and d["by_status"]["404"] >= 3
	sum(d["by_status"].values()) == d["requests"]
	d["rate_limited"] == 0
	isinstance(d["connections"], int)
	EOF
'

test_expect_success CURL,PYTHON3 'determinism: the same chat request twice gives the same reply' '
	chat plain &&
	cp plain.body again1.body &&
	chat plain &&
	python3 -c "
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a[\"choices\"] == b[\"choices\"], (a, b)
assert a[\"usage\"] == b[\"usage\"], (a, b)
" again1.body plain.body &&
	anthropic plain &&
	cp plain.body again2.body &&
	anthropic plain &&
	python3 -c "
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a[\"content\"] == b[\"content\"] and a[\"usage\"] == b[\"usage\"], (a, b)
" again2.body plain.body
'

test_expect_success CURL,PYTHON3 'determinism: different messages give different replies' '
	for i in 1 2 3 4 5 6; do
		chat_json req-m$i.json "Company number $i" &&
		chat m$i &&
		status_is 200 m$i || return 1
	done &&
	python3 -c "
import json, sys
replies = [json.load(open(f))[\"choices\"][0][\"message\"][\"content\"] for f in sys.argv[1:]]
assert len(set(replies)) >= 4, replies
" m1.body m2.body m3.body m4.body m5.body m6.body
'

test_expect_success CURL,PYTHON3 'determinism: search results derive from the query' '
	echo "{\"query\":\"gpu cloud providers\"}" >tavily.json &&
	req tavily -H "Content-Type: application/json" -d @tavily.json "$MOCK_URL/tavily/search" &&
	cp tavily.body tavily-a.body &&
	req tavily -H "Content-Type: application/json" -d @tavily.json "$MOCK_URL/tavily/search" &&
	echo "{\"query\":\"vector databases\"}" >tavily-other.json &&
	req tavily-other -H "Content-Type: application/json" -d @tavily-other.json "$MOCK_URL/tavily/search" &&
	python3 -c "
import json, sys
a, b, c = (json.load(open(f))[\"results\"] for f in sys.argv[1:])
assert a == b, (a, b)
assert [r[\"url\"] for r in a] != [r[\"url\"] for r in c], (a, c)
" tavily-a.body tavily.body tavily-other.body
'

test_expect_success CURL,PYTHON3 'JSON mode: response_format json_object gives {tier, score, reason}' '
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		chat_json req-j$i.json "Answer as a JSON object. Company number $i" \
			"\"response_format\":{\"type\":\"json_object\"}" &&
		chat j$i &&
		status_is 200 j$i || return 1
	done &&
	jcheck -r "$OPENAI_JSON" j1.body j2.body j3.body j4.body j5.body j6.body \
		j7.body j8.body j9.body j10.body j11.body j12.body <tier.expr &&
	python3 -c "
import json, sys
scores = [json.loads(json.load(open(f))[\"choices\"][0][\"message\"][\"content\"])[\"score\"] for f in sys.argv[1:]]
assert len(set(scores)) >= 3, scores
" j1.body j2.body j3.body j4.body j5.body j6.body j7.body j8.body j9.body j10.body j11.body j12.body
'

test_expect_success CURL,PYTHON3 'JSON mode: json_schema and an Anthropic system prompt asking for JSON' '
	chat_json req-js.json "Company: Initech" \
		"\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"row\",\"schema\":{\"type\":\"object\"}}}" &&
	chat js &&
	status_is 200 js &&
	jcheck -r "$OPENAI_JSON" js.body <tier.expr &&
	msg_json msg-ajs.json "Company: Initech" "\"system\":\"Answer as a JSON object.\"" &&
	anthropic ajs &&
	status_is 200 ajs &&
	jcheck -r "$ANTHROPIC_JSON" ajs.body <tier.expr
'

test_expect_success CURL,PYTHON3 'max_tokens smaller than the reply: cut, finish_reason length' '
	chat plain &&
	cp plain.body full.body &&
	chat_json req-cut.json "Company: Acme Corp, maker of anvils" "\"max_tokens\":3" &&
	chat cut &&
	status_is 200 cut &&
	jcheck cut.body <<-\EOF &&
	d["choices"][0]["finish_reason"] == "length"
	d["usage"]["completion_tokens"] <= 3
	EOF
	chat_json req-cut2.json "Company: Acme Corp, maker of anvils" "\"max_completion_tokens\":3" &&
	chat cut2 &&
	status_is 200 cut2 &&
	jcheck cut2.body <<-\EOF &&
	d["choices"][0]["finish_reason"] == "length"
	d["usage"]["completion_tokens"] <= 3
	EOF
	python3 -c "
import json, sys
full, cut = (json.load(open(f))[\"choices\"][0][\"message\"][\"content\"] for f in sys.argv[1:])
assert len(cut) < len(full) and full.startswith(cut), (full, cut)
" full.body cut.body &&
	chat_json req-big.json "Company: Acme Corp, maker of anvils" "\"max_tokens\":4000" &&
	chat big &&
	jcheck big.body <<-\EOF
	d["choices"][0]["finish_reason"] == "stop"
	EOF
'

test_expect_success CURL,PYTHON3 'Anthropic max_tokens smaller than the reply: stop_reason max_tokens' '
	printf "{\"model\":\"mock-model\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme Corp, maker of anvils\"}]}\n" >msg-acut.json &&
	anthropic acut &&
	status_is 200 acut &&
	jcheck acut.body <<-\EOF
	d["stop_reason"] == "max_tokens"
	d["usage"]["output_tokens"] <= 3
	EOF
'

test_expect_success CURL 'restart with --model allowed-model and --context 100' '
	mock_stop &&
	mock_start --model allowed-model --model other-model --context 100
'

test_expect_success CURL,PYTHON3 '--model: an allowed model gets 200, /v1/models lists them' '
	printf "{\"model\":\"allowed-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n" >req-ok.json &&
	chat ok &&
	status_is 200 ok &&
	printf "{\"model\":\"other-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n" >req-ok2.json &&
	chat ok2 &&
	status_is 200 ok2 &&
	req models "$MOCK_URL/v1/models" &&
	status_is 200 models &&
	jcheck models.body <<-\EOF
	sorted(m["id"] for m in d["data"]) == ["allowed-model", "other-model"]
	EOF
'

test_expect_success CURL,PYTHON3 '--model: another model gets 404 model_not_found (OpenAI shape)' '
	chat_json req-bad.json "hi" &&
	chat bad &&
	status_is 404 bad &&
	jcheck bad.body <<-\EOF &&
	d["error"]["code"] == "model_not_found"
	isinstance(d["error"]["message"], str)
	"type" in d["error"]
	EOF
	chat bad /openai/v1 &&
	status_is 404 bad &&
	jcheck bad.body <<-\EOF
	d["error"]["code"] == "model_not_found"
	EOF
'

test_expect_success CURL,PYTHON3 '--model: OpenRouter prefix gets 404 in OpenRouter shape (integer code)' '
	chat bad /api/v1 &&
	status_is 404 bad &&
	jcheck bad.body <<-\EOF
	d["error"]["code"] == 404
	isinstance(d["error"]["message"], str)
	EOF
'

test_expect_success CURL,PYTHON3 '--model: Anthropic gets 404 not_found_error' '
	msg_json msg-bad.json "hi" &&
	anthropic bad &&
	status_is 404 bad &&
	jcheck bad.body <<-\EOF
	d["type"] == "error"
	d["error"]["type"] == "not_found_error"
	isinstance(d["error"]["message"], str)
	EOF
'

test_expect_success CURL,PYTHON3 '--context 100: a longer prompt gets 400 context_length_exceeded' '
	printf "{\"model\":\"allowed-model\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}\n" \
		"$(x_bytes 2000)" >req-long.json &&
	chat long &&
	status_is 400 long &&
	jcheck long.body <<-\EOF &&
	d["error"]["code"] == "context_length_exceeded"
	d["error"]["type"] == "invalid_request_error"
	isinstance(d["error"]["message"], str)
	EOF
	printf "{\"model\":\"allowed-model\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}\n" \
		"$(x_bytes 2000)" >msg-long.json &&
	anthropic long &&
	status_is 400 long &&
	jcheck long.body <<-\EOF &&
	d["type"] == "error"
	d["error"]["type"] == "invalid_request_error"
	EOF
	printf "{\"model\":\"allowed-model\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}\n" \
		"$(x_bytes 200)" >req-short.json &&
	chat short &&
	status_is 200 short
'

test_done
