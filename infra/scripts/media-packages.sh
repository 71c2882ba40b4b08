#!/usr/bin/env bash
# Debian packages the media pipelines need. Installs only what is missing; safe to run
# repeatedly.
# - Tesseract OCR with English and Korean data
#   (media/image/recognize-text.ts runs the `tesseract` CLI).
# - ffmpeg (ffmpeg + ffprobe) for probing, transcoding and key frames
#   (media/audio, media/video).
# - pocketsphinx + pocketsphinx-en-us for offline speech-to-text
#   (media/audio/transcribe-speech.ts runs `pocketsphinx_continuous`, the
#   CLI of Debian 12's pocketsphinx 0.8+5prealpha).
# - espeak-ng, which the tests use to synthesise speech fixtures.
set -euo pipefail
wanted=(
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-kor
  ffmpeg pocketsphinx pocketsphinx-en-us espeak-ng
)
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
# Fail loudly if a media binary is missing from PATH.
for binary in ffmpeg ffprobe pocketsphinx_continuous espeak-ng; do
  command -v "$binary" >/dev/null || { echo "missing binary: $binary" >&2; exit 1; }
done
[[ -d /usr/share/pocketsphinx/model/en-us ]] || { echo "pocketsphinx en-us model missing" >&2; exit 1; }
echo "$(ffmpeg -version 2>/dev/null | head -n1 | awk '{print "ffmpeg", $3}'), pocketsphinx $(dpkg-query -W -f='${Version}' pocketsphinx), espeak-ng $(dpkg-query -W -f='${Version}' espeak-ng)"
