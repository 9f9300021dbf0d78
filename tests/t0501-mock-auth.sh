#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='mockd auth: --key, each provider its own header and its own 401 body'
. ./lib.sh
. "$TEST_DIRECTORY/lib-mock.sh"

KEY1=sk-mock-FIRSTkey-0123456789abcdef
KEY2=tvly-mock-SECONDkey-fedcba9876543210
WRONG=sk-mock-WRONGkey-5555555555555555

PROVIDERS='openai groq openrouter anthropic tavily extract brave serper exa'

# call NAME PROVIDER [CURL-ARGS...]: one request to PROVIDER's route.
call() {
	call_name=$1
	call_provider=$2
	shift 2
	case $call_provider in
	openai) req "$call_name" -H 'Content-Type: application/json' -d @chat.json "$@" \
		"$MOCK_URL/v1/chat/completions" ;;
	groq) req "$call_name" -H 'Content-Type: application/json' -d @chat.json "$@" \
		"$MOCK_URL/openai/v1/chat/completions" ;;
	openrouter) req "$call_name" -H 'Content-Type: application/json' -d @chat.json "$@" \
		"$MOCK_URL/api/v1/chat/completions" ;;
	anthropic) req "$call_name" -H 'Content-Type: application/json' \
		-H 'anthropic-version: 2023-06-01' -d @msg.json "$@" "$MOCK_URL/v1/messages" ;;
	tavily) req "$call_name" -H 'Content-Type: application/json' -d @tavily.json "$@" \
		"$MOCK_URL/tavily/search" ;;
	extract) req "$call_name" -H 'Content-Type: application/json' -d @extract.json "$@" \
		"$MOCK_URL/tavily/extract" ;;
	brave) req "$call_name" "$@" "$MOCK_URL/brave/res/v1/web/search?q=gpu+cloud" ;;
	serper) req "$call_name" -H 'Content-Type: application/json' -d @serper.json "$@" \
		"$MOCK_URL/serper/search" ;;
	exa) req "$call_name" -H 'Content-Type: application/json' -d @exa.json "$@" \
		"$MOCK_URL/exa/search" ;;
	searxng) req "$call_name" "$@" "$MOCK_URL/searxng/search?q=gpu+cloud&format=json" ;;
	*) echo >&4 "call: unknown provider $call_provider"; return 1 ;;
	esac
}

# auth_header PROVIDER KEY: the header line that carries KEY for PROVIDER.
auth_header() {
	case $1 in
	openai | groq | openrouter | tavily | extract) echo "Authorization: Bearer $2" ;;
	anthropic | exa) echo "x-api-key: $2" ;;
	brave) echo "X-Subscription-Token: $2" ;;
	serper) echo "X-API-KEY: $2" ;;
	esac
}

# other_header PROVIDER KEY: KEY in a header that PROVIDER does not read.
other_header() {
	case $1 in
	openai | groq | openrouter | tavily | extract) echo "x-api-key: $2" ;;
	anthropic | serper) echo "Authorization: Bearer $2" ;;
	exa) echo "X-Subscription-Token: $2" ;;
	brave) echo "X-API-KEY: $2" ;;
	esac
}

# expect_401 NAME PROVIDER: the jcheck assertions (on stdout) that NAME.body
# is PROVIDER's own 401 body.
expect_401() {
	case $2 in
	openai | groq) sed "s/^/@$1.body /" <<-\EOF ;;
		d["error"]["code"] == "invalid_api_key"
		isinstance(d["error"]["message"], str) and d["error"]["message"] != ""
		"type" in d["error"] and "param" in d["error"]
		EOF
	openrouter) sed "s/^/@$1.body /" <<-\EOF ;;
		d["error"]["code"] == 401
		isinstance(d["error"]["message"], str) and d["error"]["message"] != ""
		EOF
	anthropic) sed "s/^/@$1.body /" <<-\EOF ;;
		d["type"] == "error"
		d["error"]["type"] == "authentication_error"
		isinstance(d["error"]["message"], str) and d["error"]["message"] != ""
		EOF
	tavily | extract) sed "s/^/@$1.body /" <<-\EOF ;;
		isinstance(d["detail"]["error"], str) and d["detail"]["error"] != ""
		EOF
	brave) sed "s/^/@$1.body /" <<-\EOF ;;
		d["type"] == "ErrorResponse"
		d["error"]["status"] == 401
		isinstance(d["error"]["code"], str) and d["error"]["code"] != ""
		isinstance(d["error"]["detail"], str) and d["error"]["detail"] != ""
		EOF
	serper) sed "s/^/@$1.body /" <<-\EOF ;;
		d["statusCode"] == 401
		isinstance(d["message"], str) and d["message"] != ""
		EOF
	exa) sed "s/^/@$1.body /" <<-\EOF ;;
		isinstance(d["error"], str) and d["error"] != ""
		EOF
	*) echo "false  # unknown provider $2" ;;
	esac
}

test_expect_success CURL 'setup: start mockd with two keys' '
	echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >chat.json &&
	echo "{\"model\":\"mock-model\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >msg.json &&
	echo "{\"query\":\"gpu cloud\"}" >tavily.json &&
	echo "{\"urls\":[\"https://ok.example.com/a\"]}" >extract.json &&
	echo "{\"q\":\"gpu cloud\"}" >serper.json &&
	echo "{\"query\":\"gpu cloud\"}" >exa.json &&
	mock_start --key "$KEY1" --key "$KEY2"
'

test_expect_success CURL,PYTHON3 'no key: 401 with the provider body, on every route' '
	for p in $PROVIDERS; do
		call none-$p $p &&
		status_is 401 none-$p &&
		expect_401 none-$p $p || return 1
	done >checks &&
	jcheck <checks
'

test_expect_success CURL,PYTHON3 'a wrong key: 401 with the provider body, on every route' '
	for p in $PROVIDERS; do
		call wrong-$p $p -H "$(auth_header $p "$WRONG")" &&
		status_is 401 wrong-$p &&
		expect_401 wrong-$p $p || return 1
	done >checks &&
	jcheck <checks
'

test_expect_success CURL,PYTHON3 'the right key in the right header: 200, on every route' '
	for p in $PROVIDERS; do
		call right-$p $p -H "$(auth_header $p "$KEY1")" &&
		status_is 200 right-$p || return 1
	done
'

test_expect_success CURL,PYTHON3 'the right key in another provider header: 401' '
	for p in $PROVIDERS; do
		call elsewhere-$p $p -H "$(other_header $p "$KEY1")" &&
		status_is 401 elsewhere-$p &&
		expect_401 elsewhere-$p $p || return 1
	done >checks &&
	jcheck <checks
'

test_expect_success CURL,PYTHON3 'a Bearer prefix is required, a bare key in Authorization is refused' '
	call bare openai -H "Authorization: $KEY1" &&
	call bare-tavily tavily -H "Authorization: $KEY1" &&
	status_is 401 bare &&
	status_is 401 bare-tavily &&
	{ expect_401 bare openai && expect_401 bare-tavily tavily; } >checks &&
	jcheck <checks
'

test_expect_success CURL,PYTHON3 'a key that only starts like an accepted one is refused' '
	call prefix openai -H "Authorization: Bearer ${KEY1%????}" &&
	call longer openai -H "Authorization: Bearer ${KEY1}x" &&
	status_is 401 prefix &&
	status_is 401 longer &&
	{ expect_401 prefix openai && expect_401 longer openai; } >checks &&
	jcheck <checks
'

test_expect_success CURL,PYTHON3 'the second --key works too, on every route' '
	for p in $PROVIDERS; do
		call second-$p $p -H "$(auth_header $p "$KEY2")" &&
		status_is 200 second-$p || return 1
	done
'

test_expect_success CURL,PYTHON3 'SearxNG needs no key even with --key' '
	call searx searxng &&
	status_is 200 searx
'

test_expect_success CURL,PYTHON3 'the log tells the keys apart: key 1, 2, or 0' '
	python3 -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for l in lines:
    by.setdefault((l[\"status\"], l[\"key\"]), 0)
    by[(l[\"status\"], l[\"key\"])] += 1
assert all(l[\"key\"] == 0 for l in lines if l[\"status\"] == 401), lines
assert all(l[\"key\"] in (1, 2) for l in lines if l[\"status\"] == 200 and not l[\"path\"].startswith(\"/searxng\")), lines
assert len([l for l in lines if l[\"status\"] == 200 and l[\"key\"] == 1]) >= 9, by
assert len([l for l in lines if l[\"status\"] == 200 and l[\"key\"] == 2]) >= 9, by
assert all(l[\"auth\"] is True for l in lines if l[\"key\"] != 0), lines
" "$MOCK_LOG"
'

test_expect_success CURL 'no key value appears in any answer or in the log' '
	for k in "$KEY1" "$KEY2" "$WRONG"; do
		! grep -F -l -e "$k" ./*.body ./*.headers "$MOCK_LOG" || return 1
	done
'

test_expect_success CURL 'restart without --key' '
	mock_stop &&
	mock_start
'

test_expect_success CURL,PYTHON3 'without --key: no key needed, any key accepted, on every route' '
	for p in $PROVIDERS searxng; do
		call open-$p $p &&
		status_is 200 open-$p &&
		call any-$p $p -H "$(auth_header $p "$WRONG")" &&
		status_is 200 any-$p || return 1
	done
'

test_expect_success CURL 'without --key: the keys sent do not appear in the log' '
	! grep -F -e "$WRONG" "$MOCK_LOG"
'

test_done
