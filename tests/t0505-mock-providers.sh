#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='mockd: --no-hints, --burst, --rpd, Gemini, Azure OpenAI and AWS Bedrock (SigV4)'
. ./lib.sh
. "$TEST_DIRECTORY/lib-mock.sh"

# botocore signs the Bedrock requests: an implementation of SigV4 that shares nothing with mockd's.
test_lazy_prereq BOTOCORE 'python3 -c "import botocore.auth, botocore.awsrequest, botocore.credentials"'

KEY=sk-prov-0123456789abcdef
K1=sk-hint-one-0123456789
K2=sk-hint-two-0123456789
K3=sk-hint-three-012345678
K4=sk-hint-four-012345678
AKID=AKIDMOCKEXAMPLE0001
SECRET=wJalrXUtnFEMI/K7MDENG+bPxRfiCYMOCKSECRET
TOKEN=IQoJb3JpZ2luX2VjEMOCKSESSIONTOKEN/with+slash=
MODEL_ID=anthropic.claude-3-5-haiku-20241022-v1:0
CONVERSE=/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse
API_VERSION=2024-10-21
# A well-formed signature header, for a mock without --aws-key (which then checks only the form).
FAKE_AUTH="AWS4-HMAC-SHA256 Credential=AKIDFAKE/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000"

# no_limit_headers NAME: no x-ratelimit-*, anthropic-ratelimit-*, retry-after*.
no_limit_headers() {
	if grep -i -E "^(x-ratelimit-|anthropic-ratelimit-|retry-after)" "$1.headers" >&4; then
		echo >&4 "no_limit_headers: rate-limit headers in $1.headers"
		return 1
	fi
}

# chat NAME KEY [PREFIX]: POST chat.json to PREFIX/chat/completions (default /v1) with KEY.
chat() {
	req "$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
		-d @chat.json "$MOCK_URL${3:-/v1}/chat/completions"
}

# gemini NAME KEY: POST chat.json to Gemini's OpenAI-compatible endpoint.
gemini() {
	chat "$1" "$2" /v1beta/openai
}

# azure NAME KEY [DEPLOYMENT [QUERY]]: POST chat.json to an Azure deployment with api-key KEY.
azure() {
	req "$1" -H "api-key: $2" -H 'Content-Type: application/json' -d @chat.json \
		"$MOCK_URL/openai/deployments/${3:-gpt-4o-mini}/chat/completions${4-?api-version=$API_VERSION}"
}

# anthropic NAME KEY: POST msg.json to /v1/messages.
anthropic() {
	req "$1" -H "x-api-key: $2" -H 'anthropic-version: 2023-06-01' \
		-H 'Content-Type: application/json' -d @msg.json "$MOCK_URL/v1/messages"
}

# converse NAME [CURL-ARGS...]: POST converse.json to the Converse route, unsigned
# (only for a mock without --aws-key: give -H "Authorization: $FAKE_AUTH").
converse() {
	converse_name=$1
	shift
	req "$converse_name" -H 'Content-Type: application/json' -d @converse.json "$@" \
		"$MOCK_URL$CONVERSE"
}

# signed NAME AKID SECRET [TOKEN]: POST converse.json (or $BODY) to $SIGN_PATH
# (default the Converse route), signed by botocore; the answer in NAME.*.
# STALE_MINUTES=N signs with a clock N minutes behind; SEND_BODY=FILE sends
# another body than the one signed.
signed() {
	python3 "$TRASH_DIRECTORY/sign.py" "$1" "$MOCK_URL${SIGN_PATH:-$CONVERSE}" "$2" "$3" ${4:+"$4"}
}

test_expect_success CURL,PYTHON3 'setup: requests and the botocore signer' '
	echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >chat.json &&
	echo "{\"model\":\"mock-model\",\"max_tokens\":50,\"messages\":[{\"role\":\"user\",\"content\":\"Company: Acme\"}]}" >msg.json &&
	cat >converse.json <<-\EOF &&
	{"messages":[{"role":"user","content":[{"text":"Company: Acme Corp, maker of anvils"}]}],
	 "system":[{"text":"Rate the company. Answer in JSON."}],
	 "inferenceConfig":{"maxTokens":300,"temperature":0}}
	EOF
	cat >sign.py <<-\EOF
	import datetime, os, sys, urllib.error, urllib.request
	from unittest import mock
	import botocore.auth, botocore.awsrequest, botocore.credentials

	name, url, akid, secret = sys.argv[1:5]
	token = sys.argv[5] if len(sys.argv) > 5 else None
	body = open(os.environ.get("BODY", "converse.json"), "rb").read()
	request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body,
	                                         headers={"Content-Type": "application/json"})
	auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials(akid, secret, token),
	                               "bedrock", "us-east-1")
	minutes = float(os.environ.get("STALE_MINUTES", "0"))
	if minutes:
	    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes)
	    with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: when):
	        auth.add_auth(request)
	else:
	    auth.add_auth(request)
	prepared = request.prepare()
	data = prepared.body
	if os.environ.get("SEND_BODY"):
	    data = open(os.environ["SEND_BODY"], "rb").read()
	headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
	try:
	    with urllib.request.urlopen(urllib.request.Request(prepared.url, data=data, headers=headers,
	                                                       method="POST"), timeout=20) as r:
	        code, answer_headers, answer = r.status, r.headers, r.read()
	except urllib.error.HTTPError as e:
	    code, answer_headers, answer = e.code, e.headers, e.read()
	with open(name + ".code", "w") as f:
	    f.write("%d\n" % code)
	with open(name + ".body", "wb") as f:
	    f.write(answer)
	with open(name + ".headers", "w") as f:
	    f.write("".join("%s: %s\n" % kv for kv in answer_headers.items()))
	with open(name + ".sent", "w") as f:
	    f.write("".join("%s: %s\n" % kv for kv in headers.items()))
	EOF
'

# --- --no-hints ----------------------------------------------------------

test_expect_success CURL,PYTHON3 '--no-hints: OpenAI 200 without x-ratelimit-*, 429 without retry-after nor a wait' '
	mock_start --rpm 1 --tpm 100000 --no-hints --key "$K1" --key "$K2" --key "$K3" --key "$K4" &&
	chat n1 "$K1" && status_is 200 n1 && no_limit_headers n1 &&
	chat n2 "$K1" && status_is 429 n2 && no_limit_headers n2 &&
	test_grep -v -i "try again" n2.body &&
	jcheck n2.body <<-\EOF
	d == {"error": {"message": "Rate limit reached for requests", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
	EOF
'

test_expect_success CURL,PYTHON3 '--no-hints: Anthropic, Azure and Gemini say nothing of the wait either' '
	anthropic a1 "$K2" && status_is 200 a1 && no_limit_headers a1 &&
	anthropic a2 "$K2" && status_is 429 a2 && no_limit_headers a2 &&
	test_grep -v -i "try again" a2.body &&
	jcheck a2.body <<-\EOF &&
	d["error"]["type"] == "rate_limit_error"
	EOF
	azure z1 "$K3" && status_is 200 z1 && no_limit_headers z1 &&
	azure z2 "$K3" && status_is 429 z2 && no_limit_headers z2 &&
	test_grep -v -i "retry after" z2.body &&
	test_grep -v -i "try again" z2.body &&
	gemini g1 "$K4" && status_is 200 g1 && no_limit_headers g1 &&
	gemini g2 "$K4" && status_is 429 g2 && no_limit_headers g2 &&
	jcheck g2.body <<-\EOF
	d[0]["error"]["status"] == "RESOURCE_EXHAUSTED"
	not any("RetryInfo" in x["@type"] for x in d[0]["error"]["details"])
	EOF
'

test_expect_success CURL,PYTHON3 '--no-hints: the rate_limit error kind of a scenario has no wait in its message' '
	mock_stop &&
	echo "1 error=rate_limit" >rl.scn &&
	mock_start --no-hints --scenario rl.scn &&
	chat s1 "$KEY" &&
	status_is 429 s1 &&
	test_grep -v -i "try again" s1.body &&
	jcheck s1.body <<-\EOF
	d["error"]["message"] == "Rate limit reached for requests"
	EOF
'

# --- --burst -------------------------------------------------------------

test_expect_success CURL,PYTHON3 '--burst 3 --rpm 60: three pass, then 429; limit 60, remaining what the bucket holds' '
	mock_stop &&
	mock_start --rpm 60 --burst 3 --key "$KEY" &&
	chat b1 "$KEY" && chat b2 "$KEY" && chat b3 "$KEY" && chat b4 "$KEY" &&
	# a second later, one more request fits, not two (the checks come after: time counts)
	sleep 1.1 &&
	chat b5 "$KEY" && chat b6 "$KEY" &&
	status_is 200 b1 && status_is 200 b2 && status_is 200 b3 && status_is 429 b4 &&
	status_is 200 b5 && status_is 429 b6 &&
	header_is b1 x-ratelimit-limit-requests 60 &&
	header_is b1 x-ratelimit-remaining-requests 2 &&
	header_is b2 x-ratelimit-remaining-requests 1 &&
	header_is b3 x-ratelimit-remaining-requests 0 &&
	header_matches b3 x-ratelimit-reset-requests "$GO_DURATION" &&
	num_between "$(go_seconds "$(header b3 x-ratelimit-reset-requests)")" 2 3 &&
	header_is b4 retry-after 1
'

test_expect_success CURL '--burst 10 --rpm 6: ten pass at once; remaining may exceed the limit' '
	mock_stop &&
	mock_start --rpm 6 --burst 10 --key "$KEY" &&
	chat first "$KEY" &&
	header_is first x-ratelimit-limit-requests 6 &&
	header_is first x-ratelimit-remaining-requests 9 &&
	bulk rest 10 "$MOCK_URL/v1/chat/completions" -H "Authorization: Bearer $KEY" \
		-H "Content-Type: application/json" -d @chat.json &&
	head -n 9 rest.codes | sort -u >first9 &&
	echo 200 >expect &&
	test_cmp expect first9 &&
	tail -n 1 rest.codes >last &&
	echo 429 >expect &&
	test_cmp expect last
'

test_expect_success 'bad usage: --burst without --rpm, --aws-token without --aws-key, --aws-key without a secret' '
	test_expect_code 64 mockd --burst 3 --lifetime 1 2>err &&
	test_grep "burst" err &&
	test_expect_code 64 mockd --aws-token T --lifetime 1 2>err &&
	test_expect_code 64 mockd --aws-key AKIDONLY --lifetime 1 2>err &&
	test_expect_code 64 mockd --aws-key AKID: --lifetime 1 2>err
'

# --- --rpd ---------------------------------------------------------------

test_expect_success CURL,PYTHON3 '--rpd 3: the request headers count the day, the token headers a minute' '
	mock_stop &&
	mock_start --rpd 3 --tpm 100000 --key "$KEY" &&
	chat d1 "$KEY" && chat d2 "$KEY" && chat d3 "$KEY" && chat d4 "$KEY" &&
	status_is 200 d1 && status_is 200 d2 && status_is 200 d3 && status_is 429 d4 &&
	header_is d1 x-ratelimit-limit-requests 3 &&
	header_is d1 x-ratelimit-remaining-requests 2 &&
	header_is d2 x-ratelimit-remaining-requests 1 &&
	header_is d3 x-ratelimit-remaining-requests 0 &&
	header_matches d1 x-ratelimit-reset-requests "$GO_DURATION" &&
	num_between "$(go_seconds "$(header d1 x-ratelimit-reset-requests)")" 28700 28800 &&
	num_between "$(go_seconds "$(header d3 x-ratelimit-reset-requests)")" 86000 86400 &&
	header_is d1 x-ratelimit-limit-tokens 100000 &&
	num_between "$(go_seconds "$(header d1 x-ratelimit-reset-tokens)")" 0 60 &&
	num_between "$(header d4 retry-after)" 28000 28800 &&
	jcheck d4.body <<-\EOF
	d["error"]["code"] == "rate_limit_exceeded"
	"requests per day (RPD)" in d["error"]["message"]
	"Please try again in" in d["error"]["message"]
	EOF
'

test_expect_success CURL,PYTHON3 '--rpd with --rpm: the minute is enforced but the headers show the day' '
	mock_stop &&
	mock_start --rpd 1000 --rpm 2 --key "$KEY" &&
	chat m1 "$KEY" && chat m2 "$KEY" && chat m3 "$KEY" &&
	status_is 200 m2 && status_is 429 m3 &&
	header_is m1 x-ratelimit-limit-requests 1000 &&
	header_is m2 x-ratelimit-remaining-requests 998 &&
	header_is m3 x-ratelimit-limit-requests 1000 &&
	num_between "$(header m3 retry-after)" 1 30 &&
	jcheck m3.body <<-\EOF
	"requests per min (RPM)" in d["error"]["message"]
	EOF
'

# --- Gemini ----------------------------------------------------------------

test_expect_success CURL,PYTHON3 'Gemini: OpenAI shapes under /v1beta/openai/, never a rate-limit header' '
	mock_stop &&
	mock_start --rpm 100 --tpm 100000 --key "$KEY" --model gemini-2.0-flash &&
	sed "s/mock-model/gemini-2.0-flash/" chat.json >gchat.json &&
	req gc -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d @gchat.json \
		"$MOCK_URL/v1beta/openai/chat/completions" &&
	status_is 200 gc && no_limit_headers gc &&
	jcheck gc.body <<-\EOF &&
	d["object"] == "chat.completion"
	d["model"] == "gemini-2.0-flash"
	d["choices"][0]["message"]["role"] == "assistant"
	d["usage"]["total_tokens"] == d["usage"]["prompt_tokens"] + d["usage"]["completion_tokens"]
	EOF
	req gm -H "Authorization: Bearer $KEY" "$MOCK_URL/v1beta/openai/models" &&
	status_is 200 gm && no_limit_headers gm &&
	jcheck gm.body <<-\EOF &&
	d["object"] == "list"
	[m["id"] for m in d["data"]] == ["models/gemini-2.0-flash"]
	d["data"][0]["object"] == "model"
	EOF
	gemini unknown "$KEY" &&
	status_is 404 unknown &&
	jcheck unknown.body <<-\EOF
	isinstance(d, list) and len(d) == 1
	d[0]["error"]["code"] == 404 and d[0]["error"]["status"] == "NOT_FOUND"
	"models/mock-model is not found" in d[0]["error"]["message"]
	EOF
'

test_expect_success CURL,PYTHON3 'Gemini: a wrong key is API_KEY_INVALID (400), no key PERMISSION_DENIED (403)' '
	gemini wrong sk-wrong-key &&
	status_is 400 wrong &&
	jcheck wrong.body <<-\EOF &&
	d == [{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]}}]
	EOF
	req nokey -H "Content-Type: application/json" -d @gchat.json \
		"$MOCK_URL/v1beta/openai/chat/completions" &&
	status_is 403 nokey &&
	jcheck nokey.body <<-\EOF
	d[0]["error"]["status"] == "PERMISSION_DENIED"
	EOF
'

# retry_delay NAME: the seconds of the RetryInfo in Gemini's answer NAME (sed: fast, for timing).
retry_delay() {
	sed -n 's/.*"retryDelay":"\([0-9.]*\)s".*/\1/p' "$1.body"
}

test_expect_success CURL,PYTHON3 'Gemini 429: an array, QuotaFailure per minute, and a retryDelay that is the real wait' '
	mock_stop &&
	mock_start --rpm 60 --burst 1 --key "$KEY" &&
	gemini q1 "$KEY" && status_is 200 q1 &&
	gemini q2 "$KEY" && status_is 429 q2 &&
	# the delay: what is left of a second; most of it later, still 429 with the rest
	delay=$(retry_delay q2) &&
	sleep "$(awk -v d="$delay" "BEGIN { print d - 0.3 }")" &&
	gemini q3 "$KEY" && status_is 429 q3 &&
	left=$(retry_delay q3) &&
	sleep "$(awk -v d="$left" "BEGIN { print d + 0.02 }")" &&
	gemini q4 "$KEY" && status_is 200 q4 &&
	num_between "$delay" 0.5 1 &&
	num_between "$left" 0.001 0.35 &&
	no_limit_headers q2 &&
	jcheck q2.body <<-\EOF
	isinstance(d, list) and len(d) == 1 and list(d[0]) == ["error"]
	d[0]["error"]["code"] == 429
	d[0]["error"]["status"] == "RESOURCE_EXHAUSTED"
	d[0]["error"]["message"] == "Resource has been exhausted (e.g. check quota)."
	[x["@type"].rsplit(".", 1)[1] for x in d[0]["error"]["details"]] == ["QuotaFailure", "Help", "RetryInfo"]
	d[0]["error"]["details"][0]["violations"][0]["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
	d[0]["error"]["details"][0]["violations"][0]["quotaMetric"] == "generativelanguage.googleapis.com/generate_content_free_tier_requests"
	d[0]["error"]["details"][0]["violations"][0]["quotaDimensions"] == {"location": "global", "model": "mock-model"}
	d[0]["error"]["details"][0]["violations"][0]["quotaValue"] == "60"
	re.fullmatch(r"[0-9]+(\.[0-9]{1,3})?s", d[0]["error"]["details"][2]["retryDelay"]) is not None
	EOF
'

test_expect_success CURL,PYTHON3 'Gemini --rpd: the per-day quota, a retryDelay of hours' '
	mock_stop &&
	mock_start --rpd 2 --key "$KEY" &&
	gemini r1 "$KEY" && gemini r2 "$KEY" && gemini r3 "$KEY" &&
	status_is 200 r2 && status_is 429 r3 && no_limit_headers r3 &&
	jcheck r3.body <<-\EOF
	d[0]["error"]["details"][0]["violations"][0]["quotaId"] == "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
	d[0]["error"]["details"][0]["violations"][0]["quotaValue"] == "2"
	42000 <= float(d[0]["error"]["details"][2]["retryDelay"][:-1]) <= 43200
	EOF
'

test_expect_success CURL,PYTHON3 'Gemini scenario kinds: daily_quota, invalid_key and Google status names' '
	mock_stop &&
	cat >gemini.scn <<-\EOF &&
	1 path=/v1beta/ error=daily_quota
	2 path=/v1beta/ error=invalid_key
	3 path=/v1beta/ error=model_not_found
	4 path=/v1beta/ error=server
	5 path=/v1beta/ error=unavailable
	6 path=/v1beta/ error=bad_request
	7 path=/v1beta/ error=rate_limit
	1 path=/v1/chat error=daily_quota
	EOF
	mock_start --scenario gemini.scn &&
	for i in 1 2 3 4 5 6 7; do gemini k$i "$KEY" || return 1; done &&
	status_is 429 k1 && status_is 400 k2 && status_is 404 k3 && status_is 500 k4 &&
	status_is 503 k5 && status_is 400 k6 && status_is 429 k7 &&
	jcheck k1.body k2.body k3.body k4.body k5.body k6.body k7.body <<-\EOF &&
	isinstance(d, list) and len(d) == 1 and list(d[0]) == ["error"]
	isinstance(d[0]["error"]["message"], str) and d[0]["error"]["message"] != ""
	@k1.body d[0]["error"]["code"] == 429
	@k2.body d[0]["error"]["code"] == 400
	@k3.body d[0]["error"]["code"] == 404
	@k4.body d[0]["error"]["code"] == 500
	@k5.body d[0]["error"]["code"] == 503
	@k1.body d[0]["error"]["status"] == "RESOURCE_EXHAUSTED"
	@k1.body d[0]["error"]["details"][0]["violations"][0]["quotaId"] == "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
	@k1.body d[0]["error"]["details"][0]["violations"][0]["quotaMetric"].endswith("/generate_content_free_tier_requests")
	@k1.body d[0]["error"]["details"][2] == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "43200s"}
	@k2.body d[0]["error"]["details"][0]["reason"] == "API_KEY_INVALID"
	@k2.body d[0]["error"]["status"] == "INVALID_ARGUMENT"
	@k3.body d[0]["error"]["status"] == "NOT_FOUND"
	@k4.body d[0]["error"]["status"] == "INTERNAL"
	@k5.body d[0]["error"]["status"] == "UNAVAILABLE"
	@k6.body d[0]["error"]["status"] == "INVALID_ARGUMENT"
	@k7.body d[0]["error"]["details"][0]["violations"][0]["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
	EOF
	chat o1 "$KEY" &&
	status_is 429 o1 &&
	jcheck o1.body <<-\EOF
	d["error"]["code"] == "rate_limit_exceeded"
	"per day" in d["error"]["message"]
	EOF
'

# --- Azure OpenAI ----------------------------------------------------------

test_expect_success CURL,PYTHON3 'Azure: api-key and api-version; the deployment is the model; remaining headers only' '
	mock_stop &&
	mock_start --key "$KEY" --model gpt-4o-mini --model gpt-4o --rpm 2 --tpm 100000 &&
	azure ok "$KEY" &&
	status_is 200 ok &&
	jcheck ok.body <<-\EOF &&
	d["object"] == "chat.completion"
	d["model"] == "gpt-4o-mini"
	d["choices"][0]["message"]["role"] == "assistant"
	EOF
	header_is ok x-ratelimit-remaining-requests 1 &&
	header_matches ok x-ratelimit-remaining-tokens "^[0-9]+\$" &&
	no_header ok x-ratelimit-limit-requests &&
	no_header ok x-ratelimit-limit-tokens &&
	no_header ok x-ratelimit-reset-requests &&
	no_header ok x-ratelimit-reset-tokens &&
	grep "\"route\":\"azure\"" "$MOCK_LOG" >azure.log &&
	test_grep "\"model\":\"gpt-4o-mini\"" azure.log &&
	test_grep "\"key\":1" azure.log
'

test_expect_success CURL,PYTHON3 'Azure: Bearer refused (401), a wrong key 401, no api-version 404, an unknown deployment 404' '
	req bearer -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d @chat.json \
		"$MOCK_URL/openai/deployments/gpt-4o-mini/chat/completions?api-version=$API_VERSION" &&
	status_is 401 bearer &&
	azure wrong sk-wrong-key &&
	status_is 401 wrong &&
	jcheck wrong.body <<-\EOF &&
	d["error"]["code"] == "401"
	d["error"]["message"].startswith("Access denied due to invalid subscription key or wrong API endpoint.")
	EOF
	azure noversion "$KEY" gpt-4o-mini "" &&
	status_is 404 noversion &&
	jcheck noversion.body <<-\EOF &&
	d == {"error": {"code": "404", "message": "Resource not found"}}
	EOF
	azure nodeploy "$KEY" no-such-deployment &&
	status_is 404 nodeploy &&
	jcheck nodeploy.body <<-\EOF
	d["error"]["code"] == "DeploymentNotFound"
	d["error"]["message"].startswith("The API deployment for this resource does not exist.")
	EOF
'

test_expect_success CURL,PYTHON3 'Azure: GET /openai/models lists --model; 429 with retry-after and retry-after-ms' '
	req models -H "api-key: $KEY" "$MOCK_URL/openai/models?api-version=$API_VERSION" &&
	status_is 200 models &&
	jcheck models.body <<-\EOF &&
	d == {"data": [{"id": "gpt-4o-mini", "object": "model"}, {"id": "gpt-4o", "object": "model"}], "object": "list"}
	EOF
	azure limited "$KEY" gpt-4o &&
	status_is 429 limited &&
	header_matches limited retry-after "^[0-9]+\$" &&
	header_matches limited retry-after-ms "^[0-9]+\$" &&
	ra=$(header limited retry-after) &&
	ms=$(header limited retry-after-ms) &&
	num_between "$ra" 1 30 &&
	num_between "$ms" $(((ra - 1) * 1000)) $((ra * 1000)) &&
	jcheck limited.body <<-EOF
	d["error"]["code"] == "429"
	d["error"]["message"].startswith("Requests to the ChatCompletions_Create Operation under Azure OpenAI API version $API_VERSION have exceeded call rate limit")
	"Please retry after $ra seconds." in d["error"]["message"]
	EOF
'

# --- AWS Bedrock: Converse, SigV4 --------------------------------------------

test_expect_success CURL,PYTHON3,BOTOCORE 'Bedrock: a request signed by botocore gets a Converse answer' '
	mock_stop &&
	mock_start --aws-key "$AKID:$SECRET" --aws-key AKIDOTHER0000000:other-secret \
		--model "$MODEL_ID" &&
	signed ok "$AKID" "$SECRET" &&
	status_is 200 ok &&
	header_matches ok x-amzn-RequestId "^[0-9a-f-]{36}\$" &&
	jcheck ok.body <<-\EOF &&
	sorted(d) == ["metrics", "output", "stopReason", "usage"]
	d["output"]["message"]["role"] == "assistant"
	len(d["output"]["message"]["content"]) == 1
	d["stopReason"] == "end_turn"
	d["usage"]["inputTokens"] > 0 and d["usage"]["outputTokens"] > 0
	d["usage"]["totalTokens"] == d["usage"]["inputTokens"] + d["usage"]["outputTokens"]
	isinstance(d["metrics"]["latencyMs"], int)
	# the system prompt asks for JSON: the reply is the tier object
	json.loads(d["output"]["message"]["content"][0]["text"])["tier"] in ("HOT", "WATCH", "COLD")
	EOF
	grep "\"route\":\"bedrock\"" "$MOCK_LOG" >bedrock.log &&
	test_grep "\"model\":\"anthropic.claude-3-5-haiku-20241022-v1:0\"" bedrock.log &&
	test_grep "\"key\":1" bedrock.log &&
	test_grep -v "$SECRET" "$MOCK_LOG"
'

test_expect_success CURL,PYTHON3,BOTOCORE 'Bedrock: maxTokens cuts the reply (max_tokens); the second key also signs' '
	echo "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Company: Acme\"}]}],\"inferenceConfig\":{\"maxTokens\":2}}" >short.json &&
	BODY=short.json signed short AKIDOTHER0000000 other-secret &&
	status_is 200 short &&
	jcheck short.body <<-\EOF
	d["stopReason"] == "max_tokens"
	d["usage"]["outputTokens"] <= 2
	EOF
'

test_expect_success CURL,PYTHON3,BOTOCORE 'Bedrock: a wrong secret, a changed body: 403 InvalidSignatureException' '
	signed badsecret "$AKID" wrong-secret &&
	status_is 403 badsecret &&
	header_is badsecret x-amzn-ErrorType "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/" &&
	jcheck badsecret.body <<-\EOF &&
	d == {"message": "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	EOF
	sed "s/Acme/Acne/" converse.json >changed.json &&
	SEND_BODY=changed.json signed changed "$AKID" "$SECRET" &&
	status_is 403 changed &&
	header_matches changed x-amzn-ErrorType "^InvalidSignatureException:"
'

test_expect_success CURL,PYTHON3,BOTOCORE 'Bedrock: an unknown key id is UnrecognizedClientException, no signature MissingAuthenticationToken' '
	signed unknown AKIDUNKNOWN00000 "$SECRET" &&
	status_is 403 unknown &&
	header_matches unknown x-amzn-ErrorType "^UnrecognizedClientException:" &&
	jcheck unknown.body <<-\EOF &&
	d == {"message": "The security token included in the request is invalid."}
	EOF
	converse nosig &&
	status_is 403 nosig &&
	header_matches nosig x-amzn-ErrorType "^MissingAuthenticationTokenException:" &&
	jcheck nosig.body <<-\EOF
	d == {"message": "Missing Authentication Token"}
	EOF
'

test_expect_success CURL,PYTHON3,BOTOCORE 'Bedrock: a signature 20 minutes old is expired; an unknown model is a ValidationException' '
	STALE_MINUTES=20 signed stale "$AKID" "$SECRET" &&
	status_is 403 stale &&
	header_matches stale x-amzn-ErrorType "^InvalidSignatureException:" &&
	jcheck stale.body <<-\EOF &&
	re.fullmatch(r"Signature expired: [0-9]{8}T[0-9]{6}Z is now earlier than [0-9]{8}T[0-9]{6}Z \([0-9]{8}T[0-9]{6}Z - 15 min\.\)", d["message"]) is not None
	EOF
	STALE_MINUTES=5 signed recent "$AKID" "$SECRET" &&
	status_is 200 recent &&
	SIGN_PATH=/model/amazon.nova-micro-v1%3A0/converse signed othermodel "$AKID" "$SECRET" &&
	status_is 400 othermodel &&
	header_matches othermodel x-amzn-ErrorType "^ValidationException:" &&
	jcheck othermodel.body <<-\EOF
	d == {"message": "The provided model identifier is invalid."}
	EOF
'

test_expect_success CURL,PYTHON3,BOTOCORE 'Bedrock --aws-token: the session token must come, be right, and be signed' '
	mock_stop &&
	mock_start --aws-key "$AKID:$SECRET" --aws-token "$TOKEN" &&
	signed withtoken "$AKID" "$SECRET" "$TOKEN" &&
	status_is 200 withtoken &&
	grep -i "^x-amz-security-token: " withtoken.sent >/dev/null &&
	signed notoken "$AKID" "$SECRET" &&
	status_is 403 notoken &&
	header_matches notoken x-amzn-ErrorType "^UnrecognizedClientException:" &&
	signed badtoken "$AKID" "$SECRET" "not-$TOKEN" &&
	status_is 403 badtoken &&
	header_matches badtoken x-amzn-ErrorType "^UnrecognizedClientException:"
'

test_expect_success CURL,PYTHON3,BOTOCORE 'Bedrock --rpm 1: ThrottlingException 429, no limit headers, no retry-after' '
	mock_stop &&
	mock_start --aws-key "$AKID:$SECRET" --rpm 1 &&
	signed t1 "$AKID" "$SECRET" &&
	signed t2 "$AKID" "$SECRET" &&
	status_is 200 t1 && no_limit_headers t1 &&
	status_is 429 t2 && no_limit_headers t2 &&
	header_is t2 x-amzn-ErrorType "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/" &&
	jcheck t2.body <<-\EOF
	d == {"message": "Too many requests, please wait before trying again."}
	EOF
'

test_expect_success CURL,PYTHON3 'Bedrock without --aws-key: any well-formed signature passes; context too long is a ValidationException' '
	mock_stop &&
	mock_start --context 5 &&
	converse long -H "Authorization: $FAKE_AUTH" &&
	status_is 400 long &&
	header_matches long x-amzn-ErrorType "^ValidationException:" &&
	jcheck long.body <<-\EOF &&
	d == {"message": "Input is too long for requested model."}
	EOF
	converse malformed -H "Authorization: Bearer sk-not-a-signature" &&
	status_is 403 malformed &&
	header_matches malformed x-amzn-ErrorType "^IncompleteSignatureException:" &&
	mock_stop &&
	mock_start &&
	converse fine -H "Authorization: $FAKE_AUTH" &&
	status_is 200 fine
'

test_expect_success CURL,PYTHON3 'Bedrock scenario kinds: server, unavailable, timeout, forbidden, daily_quota' '
	mock_stop &&
	cat >bedrock.scn <<-\EOF &&
	1 error=server
	2 error=unavailable
	3 error=timeout
	4 error=forbidden
	5 error=daily_quota
	6 error=rate_limit
	EOF
	mock_start --scenario bedrock.scn &&
	for i in 1 2 3 4 5 6; do converse e$i || return 1; done &&
	status_is 500 e1 && header_matches e1 x-amzn-ErrorType "^InternalServerException:" &&
	status_is 503 e2 && header_matches e2 x-amzn-ErrorType "^ServiceUnavailableException:" &&
	status_is 408 e3 && header_matches e3 x-amzn-ErrorType "^ModelTimeoutException:" &&
	status_is 403 e4 && header_matches e4 x-amzn-ErrorType "^AccessDeniedException:" &&
	status_is 429 e5 && header_matches e5 x-amzn-ErrorType "^ThrottlingException:" &&
	status_is 429 e6 && header_matches e6 x-amzn-ErrorType "^ThrottlingException:" &&
	jcheck e1.body e2.body e3.body e4.body e5.body e6.body <<-\EOF
	list(d) == ["message"] and isinstance(d["message"], str) and d["message"] != ""
	@e4.body d["message"] == "You don\x27t have access to the model with the specified model ID."
	@e5.body d["message"] == "Too many tokens per day, please wait before trying again."
	@e6.body d["message"] == "Too many requests, please wait before trying again."
	EOF
'

test_done
