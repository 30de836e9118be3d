#!/usr/bin/env bash
# One-command set-up of a fresh Debian machine for rtap: the Debian packages the tests and the
# main job use (Fashion-MNIST for the accuracy tests, Chromium for the HTML-report browser test,
# libonnx-testdata for the ONNX backend conformance test, slurm-wlm and munge for the Slurm
# executor's end-to-end test, which starts a single-node cluster with scripts/slurm-local.sh), then
# the npm packages (which also builds dist/). .ci/run uses it too.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
PACKAGES=(dataset-fashion-mnist chromium libonnx-testdata slurm-wlm munge)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# onnxruntime-node (a dev-only test oracle) tries to download GPU libraries at install time;
# package.json's allowScripts already denies its install script, this is a second guard.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci
echo "setup: done (next: npm test)"
