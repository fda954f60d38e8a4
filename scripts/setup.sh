#!/usr/bin/env bash
# Installs what building and running Otto needs on a fresh Debian/Ubuntu machine, skipping
# whatever is already there: C toolchain pieces for whisper.cpp (cmake, clang, libclang for
# bindgen), flite for local text-to-speech, and Rust via rustup when cargo is missing.
set -euo pipefail

need=()
for pkg in cmake clang libclang-dev libflite1 flite1-dev pkg-config python3-pip; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  # python3-pip may be absent while a pip from elsewhere (pyenv) works: skip it then.
  if python3 -m pip --version >/dev/null 2>&1; then
    need=("${need[@]/python3-pip}")
  fi
  pkgs=$(printf '%s ' "${need[@]}" | xargs)
  if [ -n "$pkgs" ]; then
    echo "setup: installing system packages: $pkgs"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $pkgs >/dev/null
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
