#!/usr/bin/env bash
# Steps between `npm ci` and `npm test` (e.g. the README's demo command once it exists).
set -euo pipefail
npx tswarm --version
