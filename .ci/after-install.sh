#!/usr/bin/env bash
# Steps between `npm ci` and `npm test`: the README's first command, the demo, on the built package.
set -euo pipefail
npx tswarm --version
npx tswarm demo --out ./tswarm-demo --seed 0
test -s ./tswarm-demo/report.html
