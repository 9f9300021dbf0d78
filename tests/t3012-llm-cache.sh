#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm --cache: the bodies without it unchanged, Anthropic cache_control blocks and the head rule, OpenAI prompt_cache_key, other providers unchanged, usage.cache_write_tokens, the run database key, jl-cost prices'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

unset JL_DB JL_MODEL

# anth ARGS...: jl-llm on the mock's Anthropic route, one request at a time,
# in input order (so the first record is the one that writes the cache).
anth() {
	jl-llm -m "anthropic/${ANTH_MODEL:-claude-sonnet-4-5}" --base-url "$MOCK_URL/v1" \
		--retry-base-ms 5 -j 1 -k "$@"
}

# oai ARGS...: jl-llm on the mock's OpenAI route, the same way.
oai() {
	llm -j 1 -k "$@"
}

# fresh_mock: a mock of its own for the test, which knows the three keys
# (its cache of prefixes starts empty); sets MOCK_URL and MOCK_LOG.
fresh_mock() {
	mock_start --key "$ANTHROPIC_API_KEY" --key "$OPENAI_API_KEY" --key "$GROQ_API_KEY"
}

# filler N: N bytes of prose, no newline.
filler() {
	awk -v n="$1" 'BEGIN {
		w = "Rate the company for its fit as a GPU cloud customer, in one line. "
		while (length(s) < n)
			s = s w
		printf "%s", substr(s, 1, n)
	}'
}

# The python3 lines of check that every test below starts with: fnv(s), the
# mock's body_hash of the text s (FNV-1a 64 of its UTF-8 bytes, as 16 hex
# digits); EPH, the cache_control Anthropic takes; block(t[, cached]).
PRELUDE='import functools, hashlib
fnv = lambda s: "%016x" % functools.reduce(lambda h, c: ((h ^ c) * 0x100000001b3) % 2**64, s.encode(), 0xcbf29ce484222325)
EPH = {"type": "ephemeral"}
block = lambda t, cached=False: dict({"type": "text", "text": t}, **({"cache_control": EPH} if cached else {}))
req = lambda r: r["llm"]["request"]
usage = lambda r: r["llm"]["usage"]
text = lambda path: open(path, encoding="utf-8").read()'

test_expect_success 'setup: keys, the mock, records, long texts' '
	ANTHROPIC_API_KEY=sk-ant-cache-0123456789 &&
	OPENAI_API_KEY=sk-openai-cache-0123456789 &&
	GROQ_API_KEY=gsk-cache-0123456789 &&
	export ANTHROPIC_API_KEY OPENAI_API_KEY GROQ_API_KEY &&
	records 3 >in &&
	records 4 >in4 &&
	filler 6000 >long-system &&
	test "$(wc -c <long-system)" = 6000
'

# --- without --cache: nothing changes -----------------------------------------

test_expect_success PYTHON3 'without --cache the bodies on the wire are those of before, byte for byte' '
	fresh_mock &&
	anth -s "Be brief." --max-tokens 50 --temperature 0 -p "Company: {{.name}}" <in >a.out &&
	oai -s "Be brief." --json --seed 7 -p "Company: {{.name}}" <in >o.out &&
	jl-llm -m groq/llama-3.1-8b-instant --base-url "$MOCK_URL/openai/v1" -j 1 -k \
		-s "Be brief." -p "Company: {{.name}}" <in >g.out &&
	cp "$MOCK_LOG" plain.log &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check a.out plain.log
	len(C) == 9 and all(m["status"] == 200 for m in C)
	A = ["{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":50,\"system\":\"Be brief.\",\"messages\":[{\"role\":\"user\",\"content\":\"Company: Company %d\"}],\"temperature\":0}" % i for i in (1, 2, 3)]
	O = ["{\"model\":\"mock-model\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\\n\\nAnswer with one JSON object and nothing else.\"},{\"role\":\"user\",\"content\":\"Company: Company %d\"}],\"seed\":7,\"response_format\":{\"type\":\"json_object\"}}" % i for i in (1, 2, 3)]
	G = ["{\"model\":\"llama-3.1-8b-instant\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Company: Company %d\"}]}" % i for i in (1, 2, 3)]
	[m["body_hash"] for m in C] == [fnv(b) for b in A + O + G]
	[m["body_bytes"] for m in C] == [len(b.encode()) for b in A + O + G]
	EOF
'

test_expect_success PYTHON3 'without --cache: no cache write, no cache read, cache_write_tokens 0' '
	check a.out plain.log <<-\EOF
	all(ok(r) and r["llm"]["usage"]["cache_write_tokens"] == 0 and r["llm"]["usage"]["cached_tokens"] == 0 for r in R)
	EOF
'

# --- Anthropic ------------------------------------------------------------------

test_expect_success PYTHON3 'Anthropic --cache: the system prompt is one text block with cache_control, on the wire' '
	fresh_mock &&
	anth --cache -s "Be brief." --max-tokens 50 --temperature 0 -p "Company: {{.name}}" \
		<in >ac.out &&
	cp "$MOCK_LOG" ac.log &&
	anth --cache --dry-run -s "Be brief." --max-tokens 50 --temperature 0 \
		-p "Company: {{.name}}" <in >ac.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check ac.out ac.log
	A = ["{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":50,\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\",\"cache_control\":{\"type\":\"ephemeral\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"Company: Company %d\"}],\"temperature\":0}" % i for i in (1, 2, 3)]
	[m["body_hash"] for m in C] == [fnv(b) for b in A]
	all(ok(r) for r in R)
	D = lines("ac.dry")
	[req(r) for r in D] == [json.loads(b) for b in A]
	# a short head (9 bytes): the user content stays a string
	all(isinstance(req(r)["messages"][0]["content"], str) for r in D)
	EOF
'

test_expect_success PYTHON3 'Anthropic --cache: no system prompt, no system field; --json asks in the marked block' '
	anth --cache --dry-run -p "Company: {{.name}}" <in >nosys.dry &&
	anth --cache --dry-run --json -p "Rate {{.name}}" <in >json.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check nosys.dry
	all("system" not in req(r) and req(r)["messages"] == [{"role": "user", "content": "Company: " + r["name"]}] for r in R)
	J = lines("json.dry")
	all(req(r)["system"] == [block("Answer with one JSON object and nothing else.", True)] for r in J)
	EOF
'

test_expect_success PYTHON3 'Anthropic --cache, a long system prompt: the first record writes the cache, the others read it' '
	fresh_mock &&
	anth --system-file long-system -p "Company: {{.name}}" <in4 >ls0.out &&
	anth --cache --system-file long-system -p "Company: {{.name}}" <in4 >ls1.out &&
	anth --cache --dry-run --system-file long-system -p "Company: {{.name}}" <in4 >ls1.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check ls1.out
	R0 = lines("ls0.out")
	len(R) == 4 and all(ok(r) for r in R + R0)
	S = text("long-system")
	# the system prompt and the head "Company: " are long enough: both are marked
	all(req(r)["system"] == [block(S, True)] and req(r)["messages"][0]["content"] == [block("Company: ", True), block(r["name"])] for r in lines("ls1.dry"))
	# the mock counts a token per 4 bytes: the prefix marked last is the system prompt and the head
	W = tokens(S + "\n" + "Company: ")
	[r["llm"]["usage"]["cache_write_tokens"] for r in R] == [W, 0, 0, 0]
	[r["llm"]["usage"]["cached_tokens"] for r in R] == [0, W, W, W]
	# prompt_tokens is the whole input, as without --cache
	[r["llm"]["usage"]["prompt_tokens"] for r in R] == [r["llm"]["usage"]["prompt_tokens"] for r in R0]
	all(r["llm"]["usage"]["prompt_tokens"] == tokens(S + "\n" + "Company: " + r["name"]) for r in R)
	# without --cache nothing was marked, so nothing was cached
	all(r["llm"]["usage"]["cached_tokens"] == 0 and r["llm"]["usage"]["cache_write_tokens"] == 0 for r in R0)
	# the same prompt, the same answer
	[r["llm"]["content"] for r in R] == [r["llm"]["content"] for r in R0]
	EOF
'

test_expect_success PYTHON3 'Anthropic --cache, a head of 1,024 tokens: two blocks, the head marked; one byte less: a string' '
	{ filler 4096 && printf "{{.name}}, tail"; } >head4096.tmpl &&
	{ filler 4095 && printf "{{.name}}, tail"; } >head4095.tmpl &&
	anth --cache --dry-run --prompt-file head4096.tmpl <in >h4096.dry &&
	anth --cache --dry-run --prompt-file head4095.tmpl <in >h4095.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check h4096.dry
	H = text("head4096.tmpl")[:4096]
	all(req(r)["messages"] == [{"role": "user", "content": [block(H, True), block(r["name"] + ", tail")]}] for r in R)
	all("system" not in req(r) for r in R)
	all(req(r)["messages"][0]["content"] == text("head4095.tmpl")[:4095] + r["name"] + ", tail" for r in lines("h4095.dry"))
	EOF
'

test_expect_success PYTHON3 'Anthropic --cache: the system prompt and the head count together' '
	filler 2000 >sys2000 &&
	{ filler 2096 && printf "{{.name}}"; } >head2096.tmpl &&
	{ filler 2095 && printf "{{.name}}"; } >head2095.tmpl &&
	anth --cache --dry-run --system-file sys2000 --prompt-file head2096.tmpl <in >sh.dry &&
	anth --cache --dry-run --system-file sys2000 --prompt-file head2095.tmpl <in >sh-short.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check sh.dry
	S = text("sys2000")
	all(req(r)["system"] == [block(S, True)] for r in R)
	all(req(r)["messages"][0]["content"] == [block(text("head2096.tmpl")[:2096], True), block(r["name"])] for r in R)
	Q = lines("sh-short.dry")
	all(req(r)["system"] == [block(S, True)] and isinstance(req(r)["messages"][0]["content"], str) for r in Q)
	EOF
'

test_expect_success PYTHON3 'Anthropic --cache, a long head on the wire: the head is written once, then read' '
	fresh_mock &&
	anth --prompt-file head4096.tmpl <in4 >hw0.out &&
	anth --cache --prompt-file head4096.tmpl <in4 >hw1.out &&
	check hw1.out <<-\EOF
	R0 = lines("hw0.out")
	len(R) == 4 and all(ok(r) for r in R + R0)
	W = R[0]["llm"]["usage"]["cache_write_tokens"]
	W >= 1024 and R[0]["llm"]["usage"]["cached_tokens"] == 0
	all(r["llm"]["usage"]["cached_tokens"] == W and r["llm"]["usage"]["cache_write_tokens"] == 0 for r in R[1:])
	[r["llm"]["usage"]["prompt_tokens"] for r in R] == [r["llm"]["usage"]["prompt_tokens"] for r in R0]
	[r["llm"]["content"] for r in R] == [r["llm"]["content"] for r in R0]
	EOF
'

test_expect_success PYTHON3 'Anthropic --cache, a Haiku model: the minimum is 2,048 tokens' '
	{ filler 8192 && printf "{{.name}}"; } >head8192.tmpl &&
	{ filler 8191 && printf "{{.name}}"; } >head8191.tmpl &&
	ANTH_MODEL=claude-3-5-haiku-latest anth --cache --dry-run --prompt-file head4096.tmpl <in >hk4096.dry &&
	ANTH_MODEL=claude-3-5-haiku-latest anth --cache --dry-run --prompt-file head8191.tmpl <in >hk8191.dry &&
	ANTH_MODEL=claude-haiku-4-5 anth --cache --dry-run --prompt-file head8192.tmpl <in >hk8192.dry &&
	ANTH_MODEL=claude-haiku-4-5 anth --cache --dry-run --system-file long-system \
		--prompt-file head2096.tmpl <in >hk-sys.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check hk4096.dry
	all(isinstance(req(r)["messages"][0]["content"], str) for r in R)
	all(isinstance(req(r)["messages"][0]["content"], str) for r in lines("hk8191.dry"))
	all(req(r)["messages"][0]["content"] == [block(text("head8192.tmpl")[:8192], True), block(r["name"])] for r in lines("hk8192.dry"))
	# 6000 + 2096 bytes: 2,024 tokens, under the minimum of Haiku (the system block is marked still)
	all(isinstance(req(r)["messages"][0]["content"], str) and req(r)["system"] == [block(text("long-system"), True)] for r in lines("hk-sys.dry"))
	EOF
'

test_expect_success PYTHON3 'Anthropic --cache: a template that starts with a placeholder has no head; one without any is all head' '
	{ printf "{{.name}}: " && filler 5000; } >nohead.tmpl &&
	filler 5000 >allhead.tmpl &&
	anth --cache --dry-run --prompt-file nohead.tmpl <in >nohead.dry &&
	anth --cache --dry-run --prompt-file allhead.tmpl <in >allhead.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check nohead.dry
	all(isinstance(req(r)["messages"][0]["content"], str) for r in R)
	# no empty second block: the API refuses empty text blocks
	all(req(r)["messages"][0]["content"] == [block(text("allhead.tmpl"), True)] for r in lines("allhead.dry"))
	EOF
'

# --- OpenAI ---------------------------------------------------------------------

test_expect_success PYTHON3 'OpenAI --cache: prompt_cache_key is jl- and 16 hex digits of SHA-256(system, NUL, prompt), on the wire' '
	fresh_mock &&
	oai --cache -s "Be brief." --json --seed 7 -p "Company: {{.name}}" <in >oc.out &&
	cp "$MOCK_LOG" oc.log &&
	oai --cache --dry-run -s "Be brief." -p "Company: {{.name}}" <in >oc1.dry &&
	oai --cache --dry-run -p "Company: {{.name}}" <in >oc2.dry &&
	oai --cache --dry-run -s "Be brief." -p "Firm: {{.name}}" <in >oc3.dry &&
	{ echo "$PRELUDE" && cat <<-\EOF; } | check oc.out oc.log
	key = lambda s, p: "jl-" + hashlib.sha256(s.encode() + b"\0" + p.encode()).hexdigest()[:16]
	K = key("Be brief.", "Company: {{.name}}")
	O = ["{\"model\":\"mock-model\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\\n\\nAnswer with one JSON object and nothing else.\"},{\"role\":\"user\",\"content\":\"Company: Company %d\"}],\"seed\":7,\"response_format\":{\"type\":\"json_object\"},\"prompt_cache_key\":\"%s\"}" % (i, K) for i in (1, 2, 3)]
	[m["body_hash"] for m in C] == [fnv(b) for b in O]
	all(ok(r) and r["llm"]["usage"]["cache_write_tokens"] == 0 for r in R)
	# the same key for every record; another for other templates
	[req(r)["prompt_cache_key"] for r in lines("oc1.dry")] == [K] * 3
	[req(r)["prompt_cache_key"] for r in lines("oc2.dry")] == [key("", "Company: {{.name}}")] * 3
	[req(r)["prompt_cache_key"] for r in lines("oc3.dry")] == [key("Be brief.", "Firm: {{.name}}")] * 3
	len({K, key("", "Company: {{.name}}"), key("Be brief.", "Firm: {{.name}}")}) == 3
	all(req(r)["messages"][1] == {"role": "user", "content": "Company: " + r["name"]} for r in lines("oc1.dry"))
	EOF
'

test_expect_success PYTHON3 'OpenAI --cache, a prompt over 1,024 tokens: the second record reads 1,024 tokens or more' '
	fresh_mock &&
	{ filler 5000 && printf "{{.name}}"; } >long.tmpl &&
	oai --cache --prompt-file long.tmpl <in >ol1.out &&
	oai --prompt-file long.tmpl <in >ol0.out &&
	check ol1.out <<-\EOF
	len(R) == 3 and all(ok(r) for r in R)
	R[0]["llm"]["usage"]["cached_tokens"] == 0
	all(r["llm"]["usage"]["cached_tokens"] >= 1024 for r in R[1:])
	all(r["llm"]["usage"]["cache_write_tokens"] == 0 for r in R)
	all(r["llm"]["usage"]["prompt_tokens"] == tokens("\n" + open("long.tmpl").read().replace("{{.name}}", r["name"])) for r in R)
	# the key was sent: the run without it does not read what the run with it cached
	L = lines("ol0.out")
	L[0]["llm"]["usage"]["cached_tokens"] == 0 and all(r["llm"]["usage"]["cached_tokens"] >= 1024 for r in L[1:])
	EOF
'

# --- the other providers -----------------------------------------------------------

test_expect_success PYTHON3 'other providers: --cache changes nothing in the body' '
	for m in groq/llama-3.1-8b-instant azure/my-gpt-4o openrouter/x/y together/t gemini/gemini-2.5-flash \
		mistral/mistral-small-latest deepseek/deepseek-chat xai/grok-3 fireworks/f cerebras/c \
		bedrock/anthropic.claude-3-5-haiku-20241022-v1:0 ollama/llama3 llamacpp/l vllm/v; do
		f=$(echo "$m" | tr "/:" "__") &&
		jl-llm -m "$m" --dry-run --system-file long-system --prompt-file head4096.tmpl \
			<in >"$f.plain" &&
		jl-llm -m "$m" --dry-run --cache --system-file long-system --prompt-file head4096.tmpl \
			<in >"$f.cache" &&
		test_cmp "$f.plain" "$f.cache" || return 1
	done &&
	fresh_mock &&
	jl-llm -m groq/llama-3.1-8b-instant --base-url "$MOCK_URL/openai/v1" -j 1 -k \
		-s "Be brief." -p "Company: {{.name}}" <in >g0.out &&
	jl-llm -m groq/llama-3.1-8b-instant --base-url "$MOCK_URL/openai/v1" -j 1 -k --cache \
		-s "Be brief." -p "Company: {{.name}}" <in >g1.out &&
	check g1.out <<-\EOF
	len(C) == 6 and [m["body_hash"] for m in C[:3]] == [m["body_hash"] for m in C[3:]]
	all(ok(r) and r["llm"]["usage"]["cache_write_tokens"] == 0 for r in R)
	EOF
'

# --- the run database ---------------------------------------------------------------

test_expect_success PYTHON3 '--cache makes new run database keys for Anthropic and OpenAI, not for Groq' '
	fresh_mock &&
	anth --db run.db -s "Be brief." -p "Company: {{.name}}" <in >db1.out &&
	anth --db run.db --cache -s "Be brief." -p "Company: {{.name}}" <in >db2.out &&
	anth --db run.db --cache -s "Be brief." -p "Company: {{.name}}" <in >db3.out &&
	jl-llm -m groq/llama-3.1-8b-instant --base-url "$MOCK_URL/openai/v1" --db run.db \
		-p "Company: {{.name}}" <in >db4.out &&
	jl-llm -m groq/llama-3.1-8b-instant --base-url "$MOCK_URL/openai/v1" --db run.db --cache \
		-p "Company: {{.name}}" <in >db5.out &&
	check db1.out <<-\EOF
	[cached(r) for f in ("db1.out", "db2.out", "db3.out", "db4.out", "db5.out") for r in lines(f)] == [False] * 6 + [True] * 3 + [False] * 3 + [True] * 3
	len(C) == 9
	EOF
'

# --- jl-cost -----------------------------------------------------------------------

test_expect_success PYTHON3 'jl-cost: cache writes at cache_creation_input_token_cost, reads at cache_read_input_token_cost' '
	fresh_mock &&
	cat >prices.json <<-\EOF &&
	{"claude-jl-cache": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
	  "cache_creation_input_token_cost": 3.75e-06, "cache_read_input_token_cost": 3e-07,
	  "litellm_provider": "anthropic", "mode": "chat"},
	 "gpt-jl-cache": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
	  "cache_read_input_token_cost": 1.25e-06, "litellm_provider": "openai", "mode": "chat"}}
	EOF
	ANTH_MODEL=claude-jl-cache anth --cache --system-file long-system -p "Company: {{.name}}" \
		<in4 >cost-a.llm &&
	jl-llm -m openai/gpt-jl-cache --base-url "$MOCK_URL/v1" -j 1 -k --cache \
		--prompt-file long.tmpl <in >cost-o.llm &&
	cat cost-a.llm cost-o.llm >cost.llm &&
	jl-cost --prices prices.json <cost.llm >cost.out 2>cost.err &&
	check cost.out <<-\EOF
	import decimal
	D = decimal.Decimal
	P = {"claude-jl-cache": (D("3e-06"), D("1.5e-05"), D("3.75e-06"), D("3e-07")), "gpt-jl-cache": (D("2.5e-06"), D("1e-05"), D("2.5e-06"), D("1.25e-06"))}
	# (prompt - read - written) x input + read x cache read + written x cache write + completion x output
	cost = lambda u, i, o, w, c: ((u["prompt_tokens"] - u["cached_tokens"] - u["cache_write_tokens"]) * i + u["cached_tokens"] * c + u["cache_write_tokens"] * w + u["completion_tokens"] * o).quantize(D("1e-12"), rounding=decimal.ROUND_HALF_UP)
	want = lambda u, m: cost(u, *P[m])
	G = [json.loads(l, parse_float=D) for l in open("cost.out")]
	len(G) == 7 and all(ok(r) and r["cost"]["priced"] is True for r in G)
	# the writes and the reads are there to price
	sum(r["llm"]["usage"]["cache_write_tokens"] for r in G) > 1000 and sum(1 for r in G if r["llm"]["usage"]["cached_tokens"] > 0) == 5
	all(D(r["cost"]["usd"]) == want(r["llm"]["usage"], r["llm"]["model"]) for r in G)
	# the first Anthropic record: 1500 tokens written at 3.75/M, more than at the input price
	D(G[0]["cost"]["usd"]) > D(G[1]["cost"]["usd"])
	EOF
'

test_done
