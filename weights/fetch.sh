#!/usr/bin/env bash
# Puts the BVLC GoogLeNet weights (and the ImageNet labels) into weights/, checksum-verified.
#
#   bash weights/fetch.sh [MIRROR_DIR]
#
# MIRROR_DIR (or $NATIVEIG_WEIGHTS_MIRROR) is a folder holding bvlc_googlenet.caffemodel; without one,
# ../shared/weights beside the project is used when it exists. Otherwise the official file is
# downloaded from the BVLC model zoo. Either way the file must match weights/SHA256SUMS (the tested
# re-serialisation) or the SHA-1 the model zoo publishes for its own file; anything else is deleted.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=bvlc_googlenet.caffemodel
target="$here/$name"
official_url=http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel
official_sha1=405fc5acd08a3bb12de8ee5e23a96bec22f08204
# NATIVEIG_LABELS_URL overrides where the optional labels file is downloaded from (a mirror).
labels_url=${NATIVEIG_LABELS_URL:-https://raw.githubusercontent.com/opencv/opencv/3.3.1/samples/data/dnn/synset_words.txt}

verify() {
  local file=$1 sha256 sha1
  sha256=$(sha256sum "$file" | cut -d' ' -f1)
  sha1=$(sha1sum "$file" | cut -d' ' -f1)
  if grep -q "^$sha256 " "$here/SHA256SUMS" 2>/dev/null; then echo "SHA-256 $sha256 matches weights/SHA256SUMS"; return 0; fi
  if [ "$sha1" = "$official_sha1" ]; then echo "SHA-1 $sha1 matches the BVLC model zoo's published checksum"; return 0; fi
  echo "fetch.sh: $file has SHA-256 $sha256 / SHA-1 $sha1: neither is a known GoogLeNet file" >&2
  return 1
}

if [ -f "$target" ] && verify "$target" >/dev/null; then
  echo "$target is already here and verified."
else
  mirror=${1:-${NATIVEIG_WEIGHTS_MIRROR:-}}
  if [ -z "$mirror" ]; then
    for candidate in "$here/../../shared/weights" "$here/../shared/weights"; do
      if [ -f "$candidate/$name" ]; then mirror=$(cd "$candidate" && pwd); break; fi
    done
  fi
  rm -f "$target" "$target.part"
  if [ -n "$mirror" ]; then
    [ -f "$mirror/$name" ] || { echo "fetch.sh: $mirror holds no $name (or it is not a regular file)" >&2; exit 1; }
    echo "Copying $name from $mirror"
    cp "$mirror/$name" "$target.part"
  else
    echo "Downloading $name (~51 MB) from $official_url"
    curl -fL --retry 3 -o "$target.part" "$official_url"
  fi
  if ! verify "$target.part"; then rm -f "$target.part"; exit 1; fi
  mv "$target.part" "$target"
fi

# The labels are built into NativeIg.InceptionV1; a synset_words.txt here only overrides them, so not
# getting one is a note, never a failure of the command that placed the weights.
labels="$here/synset_words.txt"
if [ ! -f "$labels" ]; then
  for candidate in "${mirror:-}/../labels" "$here/../../shared/labels" "$here/../shared/labels"; do
    if [ -f "$candidate/synset_words.txt" ]; then cp "$candidate/synset_words.txt" "$labels.part" && mv "$labels.part" "$labels"; break; fi
  done
  if [ ! -f "$labels" ]; then
    echo "Downloading synset_words.txt from $labels_url (optional: the labels are built in)"
    if ! curl -fsSL --retry 2 --max-time 60 -o "$labels.part" "$labels_url"; then
      rm -f "$labels.part"
      echo "note: synset_words.txt could not be downloaded; the built-in ImageNet labels are used."
    else
      mv "$labels.part" "$labels"
    fi
  fi
  if [ -f "$labels" ]; then
    lines=$(grep -c . "$labels" || true)
    if [ "$lines" != 1000 ]; then echo "note: $labels has $lines lines, not 1000; removed, the built-in labels are used." >&2; rm -f "$labels"; fi
  fi
fi
echo "Weights: $target"
if [ -f "$labels" ]; then echo "Labels:  $labels"; else echo "Labels:  built in"; fi
