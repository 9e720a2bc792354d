#!/usr/bin/env bash
# Opens G-OC's workbooks in a real office suite: Debian's LibreOffice Calc converts the
# ranking workbook and a report card made from `goc demo` to PDF, and the script checks
# the PDFs' pages and text. It proves the files are workbooks an office suite reads, not
# just valid zips.
#
# Not part of scripts/test.sh: libreoffice-calc is a download of about 150 MB. Run it
# after changing anything in reports/:
#
#   scripts/libreoffice-check.sh [OUT_DIR]
#
# It installs libreoffice-calc and poppler-utils with apt-get when they are missing
# (needs root), and leaves the workbooks, PDFs and one PNG per page in OUT_DIR
# (default: a new temporary folder) for a person to look at.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if ! command -v libreoffice >/dev/null || ! command -v pdftotext >/dev/null; then
	log "installing libreoffice-calc and poppler-utils"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends libreoffice-calc poppler-utils fonts-dejavu-core >&2
fi
log "$(libreoffice --version | head -1)"

out="${1:-$(mktemp -d -t goc-libreoffice-XXXXXX)}"
mkdir -p "$out"
work="$(mktemp -d -t goc-lo-work-XXXXXX)"
demo_pid=""
cleanup() {
	if [ -n "$demo_pid" ]; then kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

log "building goc"
go build -o "$work/goc" ./cmd/goc

log "starting goc demo on a loopback port"
"$work/goc" demo --addr 127.0.0.1:0 --data "$work/data" >"$work/demo.log" 2>&1 &
demo_pid=$!
url=""
for _ in $(seq 1 120); do
	url="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/demo.log" | head -1 || true)"
	[ -n "$url" ] && break
	sleep 0.5
done
[ -n "$url" ] || fail "goc demo did not start: $(cat "$work/demo.log")"
log "demo at $url"

"$work/goc" report ranking --server "$url" --period 2025 --group provinces -o "$out/xep-hang-2025.xlsx"
"$work/goc" report agency --server "$url" --agency N79 -o "$out/the-bao-cao-N79.xlsx"
top="$(curl -fsS "$url/api/v1/rankings?group=provinces&period=2025" |
	python3 -c 'import json,sys; e=json.load(sys.stdin)["entries"][0]; print(e["name_vi"]); print("%.3f" % e["score"])')"
top_name="$(sed -n 1p <<<"$top")"
top_score="$(sed -n 2p <<<"$top")"

for book in xep-hang-2025 the-bao-cao-N79; do
	log "LibreOffice: $book.xlsx → PDF"
	start=$(date +%s%N)
	# A private profile, so a desktop session's LibreOffice neither blocks nor is changed.
	libreoffice -env:UserInstallation="file://$work/lo-profile" --headless --convert-to pdf --outdir "$out" "$out/$book.xlsx" >&2
	log "   converted in $(( ($(date +%s%N) - start) / 1000000 )) ms"
	[ -s "$out/$book.pdf" ] || fail "LibreOffice made no PDF of $book.xlsx"
	pages="$(pdfinfo "$out/$book.pdf" | awk '/^Pages:/ {print $2}')"
	log "   $pages pages"
	pdftoppm -r 60 -png "$out/$book.pdf" "$out/$book"
done

text="$(pdftotext -layout "$out/xep-hang-2025.pdf" -)"
for want in "BẢNG XẾP HẠNG CHÍNH PHỦ SỐ" "DIGITAL GOVERNMENT RANKING" "Tóm tắt - Summary" "Xếp hạng - Ranking" \
	"$top_name" "$top_score" "Thành phố Hồ Chí Minh" "không có ý nghĩa thống kê" "Composite score" "Phương pháp"; do
	grep -qF -- "$want" <<<"$text" || fail "the ranking PDF does not show \"$want\""
done
# The one-page summary: every province on the page that follows the cover.
summary="$(pdftotext -f 2 -l 2 -layout "$out/xep-hang-2025.pdf" -)"
[ "$(grep -cE '^\s*[0-9]+\s+[0-9]+\s' <<<"$summary")" -ge 34 ] || fail "the summary page does not list the 34 provinces"

card="$(pdftotext -f 1 -l 1 -layout "$out/the-bao-cao-N79.pdf" -)"
for want in "THẺ BÁO CÁO CHÍNH PHỦ SỐ" "Thành phố Hồ Chí Minh (N79)" "Tình trạng 2025" "Đã đạt / achieved"; do
	grep -qF -- "$want" <<<"$card" || fail "the report card's first page does not show \"$want\""
done
[ "$(pdfinfo "$out/the-bao-cao-N79.pdf" | awk '/^Pages:/ {print $2}')" -le 2 ] || fail "the report card runs past its page"

log "ok: LibreOffice opened both workbooks; PDFs and page images are in $out"
