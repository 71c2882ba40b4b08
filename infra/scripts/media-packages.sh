#!/usr/bin/env bash
# Debian packages the image pipeline needs: Tesseract OCR with English and Korean data
# (activities/multimodal/image/recognize-text.ts runs the `tesseract` CLI).
# Installs only what is missing; safe to run repeatedly.
set -euo pipefail
wanted=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-kor)
missing=()
for package in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "all present: ${wanted[*]}"
else
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Fail loudly if the languages the pipeline asks for are not there.
languages="$(tesseract --list-langs 2>/dev/null)"
for language in eng kor; do
  grep -qx "$language" <<<"$languages" || { echo "tesseract language data missing: $language" >&2; exit 1; }
done
echo "tesseract $(tesseract --version 2>/dev/null | head -n1 | awk '{print $2}') with eng, kor"
