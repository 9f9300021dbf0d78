#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm providers by name: the OpenAI-compatible ones (gemini, mistral, deepseek, xai, fireworks, cerebras, vllm), Azure OpenAI (deployments, api-version, api-key), Bedrock (Converse, SigV4 checked by botocore), Gemini error shapes (RetryInfo, per-day quota, API_KEY_INVALID), keys and endpoints from the environment'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

# No key, endpoint or region of the caller's environment leaks into a test.
unset OPENAI_API_KEY GEMINI_API_KEY MISTRAL_API_KEY DEEPSEEK_API_KEY XAI_API_KEY \
	FIREWORKS_API_KEY CEREBRAS_API_KEY VLLM_API_KEY AZURE_OPENAI_API_KEY \
	AZURE_OPENAI_ENDPOINT OPENAI_API_VERSION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
	AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE JL_MODEL JL_DB

test_lazy_prereq BOTOCORE 'python3 -c "import botocore.auth, botocore.awsrequest"'

MODEL_ID=anthropic.claude-3-5-haiku-20241022-v1:0
AKID=AKIDJLKITTEST0001
SECRET=jlkitSecretKey/Canary+0123456789abcdefXYZ
TOKEN=jlkitSessionToken/Canary+FQoGZXIvYXdzEXAMPLE//////////wEaD==

# no_secret FILE...: none of the files holds the secret access key or the
# session token (or their first 12 characters).
# (Not in lib-llm.sh: t3004's no_secret looks for its canary key, its
# base64 form too, and names every file that holds one.)
no_secret() {
	for f in "$@"; do
		for s in "$SECRET" "$TOKEN" "$(printf %.12s "$SECRET")" "$(printf %.12s "$TOKEN")"; do
			if grep -a -F -e "$s" "$f" >/dev/null; then
				echo >&4 "no_secret: $f holds '$s'"
				return 1
			fi
		done
	done
}

# capture_start [--secret S] [--fail FILE]: a python3 server on 127.0.0.1
# that logs each request (method, path with its query, headers, body) as a
# JSON line in capture.log, and answers as the service would: a Converse
# answer to .../converse, a chat completion to any other POST, a model list
# to a GET. With --secret, an AWS4-HMAC-SHA256 Authorization is recomputed
# with botocore's SigV4Auth from the request as received (the headers it
# names in SignedHeaders, its X-Amz-Date) and the result logged as "sig";
# a bad one gets Bedrock's 403. With --fail FILE every POST gets a 403 whose
# body is FILE. Sets CAPTURE_URL; the server is stopped when the test ends.
capture_start() {
	rm -f capture.port capture.log || return 1
	python3 "$TRASH_DIRECTORY/capture.py" capture.port capture.log "$@" 2>capture.err &
	capture_pid=$!
	test_when_finished "kill $capture_pid 2>/dev/null; wait $capture_pid 2>/dev/null; true"
	capture_wait=0
	while [ ! -s capture.port ]; do
		kill -0 "$capture_pid" 2>/dev/null || { cat capture.err >&4; return 1; }
		capture_wait=$((capture_wait + 1))
		[ "$capture_wait" -lt 500 ] || return 1
		sleep 0.02
	done
	CAPTURE_URL=http://127.0.0.1:$(cat capture.port)
}

test_expect_success 'setup: the capture server' '
	cat >"$TRASH_DIRECTORY/capture.py" <<-\EOF
	import json, os, sys, http.server
	port_file, log_path = sys.argv[1], sys.argv[2]
	args = sys.argv[3:]
	secret = args[args.index("--secret") + 1] if "--secret" in args else None
	fail = open(args[args.index("--fail") + 1], "rb").read() if "--fail" in args else None

	def botocore_ok(h, body):
	    from botocore.auth import SigV4Auth
	    from botocore.awsrequest import AWSRequest
	    from botocore.credentials import Credentials
	    fields = dict(p.strip().split("=", 1) for p in h.headers["Authorization"].split(" ", 1)[1].split(","))
	    akid, _, region, service, _ = fields["Credential"].split("/")
	    signed = fields["SignedHeaders"].split(";")
	    req = AWSRequest(method=h.command, url="http://" + h.headers["Host"] + h.path,
	                     data=body, headers={n: h.headers[n] for n in signed})
	    req.context["timestamp"] = h.headers["X-Amz-Date"]
	    signer = SigV4Auth(Credentials(akid, secret, h.headers.get("X-Amz-Security-Token")),
	                       service, region)
	    want = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
	    return want == fields["Signature"]

	class H(http.server.BaseHTTPRequestHandler):
	    def answer(self, body):
	        entry = {"method": self.command, "path": self.path,
	                 "headers": {k.lower(): v for k, v in self.headers.items()},
	                 "body": json.loads(body) if body else None}
	        code, out = 200, None
	        auth = self.headers.get("Authorization", "")
	        if secret is not None and auth.startswith("AWS4-HMAC-SHA256 "):
	            entry["sig"] = botocore_ok(self, body)
	            if not entry["sig"]:
	                code, out = 403, {"message": "The request signature we calculated does not match"}
	        if code == 200 and fail is not None and self.command == "POST":
	            code, out = 403, json.loads(fail)
	        if out is None and self.command == "GET":
	            out = {"object": "list", "data": [{"id": "m", "object": "model"}]}
	        elif out is None and self.path.endswith("/converse"):
	            out = {"output": {"message": {"role": "assistant",
	                                          "content": [{"text": "Fine"}, {"text": " words"}]}},
	                   "stopReason": "max_tokens",
	                   "usage": {"inputTokens": 11, "outputTokens": 3, "totalTokens": 14,
	                             "cacheReadInputTokens": 4, "cacheWriteInputTokens": 2}}
	        elif out is None:
	            out = {"id": "c", "object": "chat.completion", "model": "m",
	                   "choices": [{"index": 0, "message": {"role": "assistant", "content": "Fine"},
	                                "finish_reason": "stop"}],
	                   "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
	        with open(log_path, "a") as f:
	            f.write(json.dumps(entry) + "\n")
	        data = json.dumps(out).encode()
	        self.send_response(code)
	        if code == 403:
	            self.send_header("x-amzn-ErrorType", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/")
	        self.send_header("Content-Type", "application/json")
	        self.send_header("Content-Length", str(len(data)))
	        self.end_headers()
	        self.wfile.write(data)
	    def do_GET(self):
	        self.answer(b"")
	    def do_POST(self):
	        self.answer(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
	    def log_message(self, *a):
	        pass

	srv = http.server.HTTPServer(("127.0.0.1", 0), H)
	with open(port_file + ".tmp", "w") as f:
	    f.write("%d\n" % srv.server_address[1])
	os.rename(port_file + ".tmp", port_file)
	srv.serve_forever()
	EOF
	records 3 >in
'

# --- the table -------------------------------------------------------------

test_expect_success 'jl-llm(1) has a row for every provider jl-llm knows, and no other' '
	test_expect_code 78 jl-llm -m nosuch/model -p x </dev/null 2>err &&
	sed -n "s/.*(known: \(.*\))$/\1/p" err | tr -d " " | tr , "\n" | sort >known &&
	test_line_count = 16 known &&
	sed -n "/^\.Ss Providers/,/^\.Ss /p" "$SRCDIR/man/jl-llm.1" |
		sed -n "s/^\.It Li \([a-z]*\) Ta .*/\1/p" | sort >man-rows &&
	test_cmp known man-rows
'

test_expect_success '--help lists every provider jl-llm knows' '
	jl-llm --help >help &&
	sed -n "/^providers/,/^\$/p" help | sed 1d | tr -d " " | tr , "\n" | sed "/^\$/d" |
		sort >help-providers &&
	test_cmp known help-providers
'

test_expect_success 'the output cap goes in each provider'"'"'s field (--dry-run shows the body)' '
	for p in gemini:max_tokens mistral:max_tokens deepseek:max_tokens xai:max_tokens \
		fireworks:max_tokens cerebras:max_completion_tokens vllm:max_tokens \
		azure:max_tokens openai:max_completion_tokens; do
		jl-llm -m "${p%%:*}/m" --dry-run --max-tokens 33 -p "x {{.name}}" <in >out 2>err &&
		check out <<-EOF || return 1
		len(R) == 3 and all(r["llm"]["request"]["${p#*:}"] == 33 for r in R)
		all(r["llm"]["request"]["model"] == "m" and r["llm"]["provider"] == "${p%%:*}" for r in R)
		EOF
	done
'

test_expect_success 'bedrock'"'"'s body: inferenceConfig, and --json asked in the system prompt as for Anthropic' '
	printf "{\"type\":\"object\"}" >schema.json &&
	jl-llm -m "bedrock/$MODEL_ID" --dry-run --schema schema.json --max-tokens 9 --seed 3 \
		-s "Be brief." -p "x {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	Q = R[0]["llm"]["request"]
	set(Q) == {"messages", "system", "inferenceConfig"} and Q["inferenceConfig"] == {"maxTokens": 9}
	Q["messages"] == [{"role": "user", "content": [{"text": "x Company 1"}]}]
	Q["system"] == [{"text": "Be brief.\n\nAnswer with one JSON object and nothing else. It must follow this JSON schema: {\"type\":\"object\"}"}]
	EOF
'

# --- the OpenAI-compatible providers against the mock ------------------------

for p in gemini:GEMINI_API_KEY:/v1beta/openai mistral:MISTRAL_API_KEY:/v1 \
	deepseek:DEEPSEEK_API_KEY:/v1 xai:XAI_API_KEY:/v1 fireworks:FIREWORKS_API_KEY:/v1 \
	cerebras:CEREBRAS_API_KEY:/v1 vllm:VLLM_API_KEY:/v1; do
	name=${p%%:*} rest=${p#*:}
	var=${rest%%:*} prefix=${rest#*:}
	test_expect_success "$name answers three records (its key from $var)" '
		mock_start --key sk-providers-0123456789 &&
		env "$var=sk-providers-0123456789" jl-llm -m "'"$name"'/mock-model" \
			--base-url "$MOCK_URL'"$prefix"'" --retry-base-ms 5 -k \
			-p "Company: {{.name}}" <in >out 2>err &&
		check out <<-EOF
		len(R) == 3 and all(ok(r) for r in R) and [r["id"] for r in R] == [1, 2, 3]
		all(r["llm"]["provider"] == "'"$name"'" and r["llm"]["model"] == "mock-model" for r in R)
		all(r["llm"]["content"] and r["llm"]["usage"]["prompt_tokens"] > 0 for r in R)
		# the key check, then one request a record, every one with the key
		[m["path"] for m in M if m["method"] == "GET"] == ["'"$prefix"'/models"]
		[m["path"] for m in P] == ["'"$prefix"'/chat/completions"] * 3
		all(m["auth"] and m["key"] == 1 for m in M)
		EOF
	'
done

test_expect_success 'vllm needs no key: none is sent without VLLM_API_KEY' '
	mock_start &&
	jl-llm -m vllm/mock-model --base-url "$MOCK_URL/v1" -p "Company: {{.name}}" \
		<in >out 2>err &&
	check out <<-\EOF
	len(R) == 3 and all(ok(r) for r in R)
	len(M) == 4 and not any(m["auth"] for m in M)
	EOF
'

test_expect_success 'a provider whose key variable is not set: 78, naming the variable' '
	for p in gemini:GEMINI_API_KEY mistral:MISTRAL_API_KEY deepseek:DEEPSEEK_API_KEY \
		xai:XAI_API_KEY fireworks:FIREWORKS_API_KEY cerebras:CEREBRAS_API_KEY \
		azure:AZURE_OPENAI_API_KEY bedrock:AWS_SECRET_ACCESS_KEY; do
		test_expect_code 78 env AZURE_OPENAI_ENDPOINT=https://x.openai.azure.com \
			AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=$AKID \
			jl-llm -m "${p%%:*}/m" -p x <in >out 2>err &&
		test_must_be_empty out &&
		test_grep "^jl-llm: ${p#*:} is not set: export the key of ${p%%:*}" err || return 1
	done
'

# --- Gemini's error shapes -----------------------------------------------------

test_expect_success 'gemini: a 429 whose RetryInfo says 1.5s is retried no sooner' '
	cat >gemini429.json <<-\EOF &&
	[{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}]
	EOF
	printf "1 path=/chat/completions status=429 body=@gemini429.json\n" >retry.scn &&
	mock_start --key sk-gemini-0123456789 --scenario retry.scn &&
	records 1 | GEMINI_API_KEY=sk-gemini-0123456789 jl-llm -m gemini/mock-model \
		--base-url "$MOCK_URL/v1beta/openai" --retry-base-ms 5 -p "Company: {{.name}}" \
		>out 2>err &&
	check out <<-\EOF
	len(R) == 1 and ok(R[0]) and R[0]["llm"]["attempts"] == 2
	t = [m["t"] for m in P]
	[m["status"] for m in P] == [429, 200]
	t[1] - t[0] >= 1500
	EOF
'

test_expect_success 'gemini: the per-day quota stops the run with 75, its record held back as daily_quota' '
	printf "1- path=/chat/completions error=daily_quota\n" >daily.scn &&
	mock_start --key sk-gemini-0123456789 --scenario daily.scn &&
	test_expect_code 75 env GEMINI_API_KEY=sk-gemini-0123456789 jl-llm -m gemini/mock-model \
		--base-url "$MOCK_URL/v1beta/openai" --retry-base-ms 5 -j 1 -k \
		-p "Company: {{.name}}" <in >out 2>err &&
	test_grep "quota for the day is used up" err &&
	check out <<-\EOF
	len(R) == 3 and not any(ok(r) for r in R)
	err(R[0])["code"] == "daily_quota" and err(R[0])["status"] == 429
	all(err(r)["code"] in ("daily_quota", "not_sent") for r in R)
	# no retry loop: one request
	len(P) == 1
	EOF
'

test_expect_success 'gemini: API_KEY_INVALID (a 400) at the key check: 77 before any input' '
	mock_start --key sk-gemini-0123456789 &&
	test_expect_code 77 env GEMINI_API_KEY=sk-gemini-wrong-0000000 jl-llm -m gemini/mock-model \
		--base-url "$MOCK_URL/v1beta/openai" -p "Company: {{.name}}" <in >out 2>err &&
	test_grep "key in GEMINI_API_KEY was refused by gemini/mock-model" err &&
	test_grep "API key not valid" err &&
	test_must_be_empty out
'

test_expect_success 'gemini: API_KEY_INVALID (a 400) is a refused key: 77' '
	mock_start --key sk-gemini-0123456789 &&
	test_expect_code 77 env GEMINI_API_KEY=sk-gemini-wrong-0000000 jl-llm -m gemini/mock-model \
		--base-url "$MOCK_URL/v1beta/openai" --retry-base-ms 5 -j 1 --no-check \
		-p "Company: {{.name}}" <in >out 2>err &&
	test_grep "refused the key" err &&
	test_grep "GEMINI_API_KEY" err &&
	check out <<-\EOF
	len(R) == 3 and not any(ok(r) for r in R)
	sum(err(r)["code"] == "http_400" for r in R) == 1
	"API key not valid" in [err(r) for r in R if err(r)["code"] == "http_400"][0]["message"]
	EOF
'

# --- Azure OpenAI ----------------------------------------------------------------

test_expect_success 'azure: api-version and api-key on the wire, the deployment in the path' '
	capture_start &&
	AZURE_OPENAI_API_KEY=azure-key-0123456789 jl-llm -m azure/my-gpt-4o \
		--base-url "$CAPTURE_URL/" --max-tokens 40 -p "Company: {{.name}}" \
		<in >out 2>err &&
	check out capture.log <<-\EOF
	len(R) == 3 and all(ok(r) and r["llm"]["provider"] == "azure" for r in R)
	all(r["llm"]["model"] == "my-gpt-4o" for r in R)
	[m["path"] for m in M if m["method"] == "GET"] == ["/openai/models?api-version=2024-10-21"]
	[m["path"] for m in P] == ["/openai/deployments/my-gpt-4o/chat/completions?api-version=2024-10-21"] * 3
	all(m["headers"]["api-key"] == "azure-key-0123456789" for m in M)
	not any("authorization" in m["headers"] for m in M)
	all(m["body"]["max_tokens"] == 40 for m in P)
	EOF
'

test_expect_success 'azure: OPENAI_API_VERSION and AZURE_OPENAI_ENDPOINT from the environment' '
	capture_start &&
	AZURE_OPENAI_API_KEY=azure-key-0123456789 OPENAI_API_VERSION=2025-04-01-preview \
	AZURE_OPENAI_ENDPOINT=$CAPTURE_URL jl-llm -m azure/dep.1 --no-check \
		-p "Company: {{.name}}" <in >out 2>err &&
	check out capture.log <<-\EOF
	len(R) == 3 and all(ok(r) for r in R)
	[m["path"] for m in M] == ["/openai/deployments/dep.1/chat/completions?api-version=2025-04-01-preview"] * 3
	EOF
'

test_expect_success 'azure: no endpoint and no --base-url: 78, naming AZURE_OPENAI_ENDPOINT' '
	test_expect_code 78 env AZURE_OPENAI_API_KEY=azure-key-0123456789 \
		jl-llm -m azure/dep -p x <in >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-llm: azure needs its endpoint: export AZURE_OPENAI_ENDPOINT" err &&
	test_expect_code 78 env AZURE_OPENAI_API_KEY=azure-key-0123456789 \
		AZURE_OPENAI_ENDPOINT=http://example.com jl-llm -m azure/dep -p x <in 2>err &&
	test_grep "AZURE_OPENAI_ENDPOINT .http://example.com.: only https" err
'

test_expect_success 'azure against the mock: three records, and a wrong key is refused at the check (77)' '
	mock_start --key azure-key-0123456789 --model my-dep &&
	AZURE_OPENAI_API_KEY=azure-key-0123456789 jl-llm -m azure/my-dep --base-url "$MOCK_URL" \
		-p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF &&
	len(R) == 3 and all(ok(r) and r["llm"]["model"] == "my-dep" for r in R)
	len(P) == 3 and all(m["auth"] and m["key"] == 1 for m in M)
	all(m["route"] == "azure" and m["status"] == 200 for m in P)
	EOF
	test_expect_code 77 env AZURE_OPENAI_API_KEY=azure-wrong-000000000 jl-llm -m azure/my-dep \
		--base-url "$MOCK_URL" -p "Company: {{.name}}" <in >out 2>err &&
	test_must_be_empty out &&
	test_grep "AZURE_OPENAI_API_KEY was refused" err
'

# --- Bedrock ----------------------------------------------------------------------

# bedrock ARGS...: jl-llm on Bedrock with the test credentials and fast retries.
bedrock() {
	env AWS_REGION=eu-west-3 AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET \
		jl-llm -m "bedrock/$MODEL_ID" --retry-base-ms 5 "$@"
}

test_expect_success BOTOCORE 'bedrock: botocore finds the signature right, the ID encoded in the path' '
	capture_start --secret "$SECRET" &&
	bedrock --base-url "$CAPTURE_URL" -s "Be brief." --max-tokens 30 --temperature 0.5 \
		-p "Company: {{.name}}" <in >out 2>err &&
	check out capture.log <<-\EOF
	len(R) == 3 and all(ok(r) and r["llm"]["provider"] == "bedrock" for r in R)
	all(r["llm"]["model"] == "anthropic.claude-3-5-haiku-20241022-v1:0" for r in R)
	all(r["llm"]["content"] == "Fine words" and r["llm"]["finish_reason"] == "length" for r in R)
	all(r["llm"]["usage"] == {"prompt_tokens": 17, "completion_tokens": 3, "cached_tokens": 4, "reasoning_tokens": 0, "cache_write_tokens": 2} for r in R)
	# no key check, three signed requests that botocore verified
	len(M) == 3 and all(m["sig"] is True for m in M)
	all(m["path"] == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse" for m in M)
	all("SignedHeaders=content-type;host;x-amz-date," in m["headers"]["authorization"] for m in M)
	all("Credential=AKIDJLKITTEST0001/" in m["headers"]["authorization"] and "/eu-west-3/bedrock/aws4_request" in m["headers"]["authorization"] for m in M)
	not any("x-amz-security-token" in m["headers"] for m in M)
	all(m["body"]["messages"] == [{"role": "user", "content": [{"text": "Company: Company %d" % (i + 1)}]}] for i, m in enumerate(sorted(M, key=lambda m: m["body"]["messages"][0]["content"][0]["text"])))
	all(m["body"]["system"] == [{"text": "Be brief."}] and m["body"]["inferenceConfig"] == {"maxTokens": 30, "temperature": 0.5} for m in M)
	EOF
'

test_expect_success BOTOCORE 'bedrock: with AWS_SESSION_TOKEN, x-amz-security-token is sent and signed' '
	capture_start --secret "$SECRET" &&
	AWS_SESSION_TOKEN=$TOKEN bedrock --base-url "$CAPTURE_URL/prefix/" \
		-p "Company: {{.name}}" <in >out 2>err &&
	check out capture.log <<-EOF
	len(R) == 3 and all(ok(r) for r in R)
	len(M) == 3 and all(m["sig"] is True for m in M)
	all(m["headers"]["x-amz-security-token"] == "$TOKEN" for m in M)
	all("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token," in m["headers"]["authorization"] for m in M)
	all(m["path"] == "/prefix/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse" for m in M)
	EOF
'

test_expect_success BOTOCORE 'bedrock: the secret from --api-key-file, the region from AWS_DEFAULT_REGION' '
	capture_start --secret "$SECRET" &&
	(umask 077 && printf "%s\n" "$SECRET" >secret.key) &&
	env AWS_DEFAULT_REGION=ap-south-1 AWS_ACCESS_KEY_ID=$AKID jl-llm -m "bedrock/$MODEL_ID" \
		--api-key-file secret.key --base-url "$CAPTURE_URL" -p "Company: {{.name}}" \
		<in >out 2>err &&
	check out capture.log <<-\EOF
	len(R) == 3 and all(ok(r) for r in R)
	len(M) == 3 and all(m["sig"] is True for m in M)
	all("/ap-south-1/bedrock/aws4_request" in m["headers"]["authorization"] for m in M)
	EOF
'

test_expect_success 'bedrock: no region, or no access key id: 78, naming the variable' '
	test_expect_code 78 env AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET \
		jl-llm -m "bedrock/$MODEL_ID" -p x <in >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-llm: bedrock needs a region: export AWS_REGION" err &&
	test_expect_code 78 env AWS_REGION=us-east-1 AWS_SECRET_ACCESS_KEY=$SECRET \
		jl-llm -m "bedrock/$MODEL_ID" -p x <in >out 2>err &&
	test_grep "^jl-llm: AWS_ACCESS_KEY_ID is not set" err &&
	test_expect_code 78 env AWS_REGION="us-east-1.example.com/" AWS_ACCESS_KEY_ID=$AKID \
		AWS_SECRET_ACCESS_KEY=$SECRET jl-llm -m "bedrock/$MODEL_ID" -p x <in 2>err &&
	test_grep "not a region name" err &&
	no_secret err
'

test_expect_success 'bedrock: an error body that quotes the secret and the token is redacted' '
	printf "{\"message\":\"echo: secret %s token %s\"}\n" "$SECRET" "$TOKEN" >echo403.json &&
	capture_start --fail echo403.json &&
	test_expect_code 77 env AWS_SESSION_TOKEN=$TOKEN AWS_REGION=eu-west-3 \
		AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET jl-llm -m "bedrock/$MODEL_ID" \
		--base-url "$CAPTURE_URL" -j 1 -v --log calls.log -p "Company: {{.name}}" \
		<in >out 2>err &&
	test_grep "InvalidSignatureException: echo: secret \[redacted\]" err &&
	no_secret out err calls.log &&
	check out capture.log <<-\EOF
	len(R) == 3 and err(R[0])["code"] == "http_403"
	"[redacted]" in err(R[0])["message"]
	EOF
'

test_expect_success 'bedrock against the mock: three records signed with the key it knows' '
	mock_start --aws-key "$AKID:$SECRET" --model "$MODEL_ID" &&
	bedrock --base-url "$MOCK_URL" -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	len(R) == 3 and all(ok(r) and r["llm"]["finish_reason"] == "stop" for r in R)
	all(r["llm"]["usage"]["prompt_tokens"] > 0 and r["llm"]["usage"]["completion_tokens"] > 0 for r in R)
	len(M) == 3 and all(m["status"] == 200 and m["model"] == "anthropic.claude-3-5-haiku-20241022-v1:0" for m in M)
	EOF
'

test_expect_success 'bedrock against the mock: a session token the mock expects' '
	mock_start --aws-key "$AKID:$SECRET" --aws-token "$TOKEN" &&
	AWS_SESSION_TOKEN=$TOKEN bedrock --base-url "$MOCK_URL" -p "Company: {{.name}}" \
		<in >out 2>err &&
	check out <<-\EOF
	len(R) == 3 and all(ok(r) for r in R)
	EOF
'

test_expect_success 'bedrock: a wrong secret is refused (77), and the secret is nowhere' '
	mock_start --aws-key "$AKID:$SECRET" &&
	test_expect_code 77 env AWS_REGION=eu-west-3 AWS_ACCESS_KEY_ID=$AKID \
		AWS_SECRET_ACCESS_KEY=wrongSecret/0123456789abcdef jl-llm -m "bedrock/$MODEL_ID" \
		--base-url "$MOCK_URL" -j 1 -v --log calls.log -p "Company: {{.name}}" \
		<in >out 2>err &&
	test_grep "refused the key" err &&
	test_grep "InvalidSignatureException" err &&
	no_secret out err calls.log &&
	! grep -q -F "wrongSecret/0123" out err calls.log &&
	check out <<-\EOF
	len(R) == 3 and err(R[0])["code"] == "http_403" and err(R[0])["status"] == 403
	len(P) == 1
	EOF
'

test_expect_success 'bedrock: throttling and server errors are retried, an unknown model is model_not_found' '
	cat >bedrock.scn <<-\EOF &&
	1 path=/converse error=server
	2 path=/converse error=unavailable
	3 path=/converse error=timeout
	4 path=/converse status=429 header="x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/" body=@throttled.json
	EOF
	printf "{\"message\":\"Too many requests, please wait before trying again.\"}\n" >throttled.json &&
	mock_start --aws-key "$AKID:$SECRET" --scenario bedrock.scn &&
	records 1 | bedrock --base-url "$MOCK_URL" -p "Company: {{.name}}" --log retries.log \
		>out 2>err &&
	check out <<-\EOF &&
	len(R) == 1 and ok(R[0]) and R[0]["llm"]["attempts"] == 5
	[m["status"] for m in P] == [500, 503, 408, 429, 200]
	EOF
	check retries.log <<-\EOF &&
	[r["error"] for r in R] == ["http_500", "http_503", "http_408", "http_429", None]
	EOF
	mock_start --aws-key "$AKID:$SECRET" --model other.model-v1:0 &&
	test_expect_code 78 bedrock --base-url "$MOCK_URL" -p "Company: {{.name}}" <in >out 2>err &&
	check out <<-\EOF
	err(R[0])["code"] == "model_not_found" and "model identifier is invalid" in err(R[0])["message"]
	EOF
'

# --- prices ------------------------------------------------------------------

test_expect_success 'jl-cost prices the new providers'"'"' popular models' '
	for m in gemini/gemini-2.0-flash gemini/gemini-2.5-flash mistral/mistral-small-latest \
		deepseek/deepseek-chat xai/grok-3-mini cerebras/llama3.1-8b azure/gpt-4o-mini \
		fireworks/accounts/fireworks/models/llama-v3p1-8b-instruct \
		bedrock/anthropic.claude-3-5-haiku-20241022-v1:0 \
		bedrock/anthropic.claude-sonnet-4-20250514-v1:0 vllm/any-local-model; do
		printf "{\"llm\":{\"provider\":\"%s\",\"model\":\"%s\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100},\"cached\":false}}\n" \
			"${m%%/*}" "${m#*/}" | jl-cost >priced 2>err &&
		check priced <<-EOF || return 1
		R[0]["cost"]["priced"] is True
		("${m%%/*}" == "vllm") == (R[0]["cost"]["usd"] == 0)
		EOF
	done
'

test_done
