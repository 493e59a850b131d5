#!/usr/bin/env bash
# Installs what InfoPlane needs and a fresh machine may lack: the Debian
# packages (OpenBLAS, libpng, pkg-config, Fashion-MNIST, the DejaVu font,
# Apertium with its English-Spanish pair for the translation corpus) and
# the Python packages the tests and notebooks use. Does nothing when all are
# present, so it is cheap to run before every build.
set -euo pipefail

debian_packages=(libopenblas-dev pkg-config libpng-dev zlib1g-dev dataset-fashion-mnist fonts-dejavu-core apertium apertium-eng-spa)
python_modules=(numpy pytest nbformat nbclient ipykernel sklearn sacrebleu)
python_packages=(numpy pytest nbformat nbclient ipykernel scikit-learn sacrebleu)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

need_pip=()
for i in "${!python_modules[@]}"; do
  python3 -c "import ${python_modules[$i]}" 2>/dev/null || need_pip+=("${python_packages[$i]}")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "setup: pip installing ${need_pip[*]}" >&2
  python3 -m pip install --quiet --disable-pip-version-check "${need_pip[@]}"
fi
