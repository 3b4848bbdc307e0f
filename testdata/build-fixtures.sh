#!/usr/bin/env bash
# build-fixtures.sh: builds every committed ELF fixture under testdata/fixtures/
# from the sources in testdata/src/, checks each one's ABI facts as it goes
# (it stops at the first fixture whose facts differ from what is expected
# here), runs the ones that can run, and writes testdata/fixtures/README.md
# from what it measured.
#
# Deterministic: no debug info (except debug/ and the demo gateways), -ffile-prefix-map, a content-derived build-id
# (--build-id=sha1), stripped symbol tables, fixed locale and time zone; two
# runs on the same machine give identical bytes.
#
# Needs: a Debian 12 machine as root (it installs its compilers with apt-get
# when they are missing) and Debian's apt mirror (through testdata/sysroot.sh,
# which builds the bullseye sysroots that give the fixtures a glibc 2.31
# floor). Caches go to ${RELPACK_CACHE:-$HOME/.cache/relpack}.
set -eEuo pipefail
trap 'echo "build-fixtures.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0
umask 022

HERE=$(cd "$(dirname "$0")" && pwd -P)
REPO=$(dirname "$HERE")
SRC=$HERE/src
OUT=$HERE/fixtures
CACHE=${RELPACK_CACHE:-$HOME/.cache/relpack}
SR_AMD64=$CACHE/sysroot/bullseye-amd64
SR_ARM64=$CACHE/sysroot/bullseye-arm64
MUSL_ARM64=$CACHE/sysroot/bullseye-arm64-musl
X86=x86_64-linux-gnu
A64=aarch64-linux-gnu

die() { echo "build-fixtures.sh: $*" >&2; exit 1; }
say() { echo "build-fixtures.sh: $*" >&2; }

START=$(date +%s)

# --- tools ---------------------------------------------------------------
need="
gcc:gcc
g++:g++
readelf:binutils
objdump:binutils
strip:binutils
musl-gcc:musl-tools
aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu
aarch64-linux-gnu-g++:g++-aarch64-linux-gnu
aarch64-linux-gnu-strip:binutils-aarch64-linux-gnu
aarch64-linux-gnu-objdump:binutils-aarch64-linux-gnu
qemu-aarch64-static:qemu-user-static
dpkg-deb:dpkg
apt-get:apt
realpath:coreutils
objcopy:binutils
"
missing=""
for pair in $need; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || case " $missing " in
		*" ${pair#*:} "*) ;;
		*) missing="$missing ${pair#*:}" ;;
		esac
done
# the host cross compiler's own glibc (for aarch64/hello-bookworm)
[ -e /usr/aarch64-linux-gnu/lib/crt1.o ] || missing="$missing libc6-dev-arm64-cross"
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing="$missing debian-archive-keyring"
# Debian's python3 (not one on PATH from elsewhere) compresses .dep-v0
[ -e /usr/bin/python3 ] || missing="$missing python3"
command -v go >/dev/null 2>&1 || die "go is not on PATH: the Go fixture needs the Go toolchain of README.md (Go 1.26)"
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || die "missing:$missing (run as root, or install them)"
	say "installing:$missing"
	apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

MUSL_VERSION=$(dpkg-query -W -f='${Version}' musl-dev)

# --- sysroots ------------------------------------------------------------
"$HERE/sysroot.sh" amd64 "$SR_AMD64"
"$HERE/sysroot.sh" arm64 "$SR_ARM64"
"$HERE/sysroot.sh" arm64 "$MUSL_ARM64" musl musl-dev

# --- flags ---------------------------------------------------------------
# Everything any compile gets. No -g: no paths or build dirs in the output.
COMMON=(-Os -I"$SRC" -ffile-prefix-map="$REPO"=. -ffile-prefix-map="$CACHE"=/cache
	-Wl,--build-id=sha1 -Wl,--hash-style=gnu)

# Debian gcc ignores --sysroot for its library search paths; name them.
sysroot_flags() { # SYSROOT TRIPLET
	local s=$1 t=$2
	echo "--sysroot=$s -B$s/usr/lib/$t -L$s/usr/lib/$t -L$s/lib/$t -Wl,-rpath-link=$s/lib/$t:$s/usr/lib/$t"
}
# shellcheck disable=SC2207
BX=($(sysroot_flags "$SR_AMD64" $X86))
# shellcheck disable=SC2207
BA=($(sysroot_flags "$SR_ARM64" $A64))
# C++ against bullseye's libstdc++ 10: its headers instead of gcc 12's, its
# libstdc++.so.6 named on the command line (gcc 12 has no -nostdlib++, so
# link with the C driver), libgcc_s.so.1 found in the sysroot.
BXCXX=(-nostdinc++ -isystem "$SR_AMD64/usr/include/c++/10" -isystem "$SR_AMD64/usr/include/$X86/c++/10")

# Static musl for aarch64 from Debian's musl-dev:arm64, unpacked in the cache:
# its headers, crt files and libc.a with the cross compiler's libgcc.a.
MA=$MUSL_ARM64/usr/lib/aarch64-linux-musl
A64_GCC_INC=$(aarch64-linux-gnu-gcc -print-file-name=include)
A64_LIBGCC=$(aarch64-linux-gnu-gcc -print-libgcc-file-name)
musl_a64() { # OUT SRC... (compiles and links statically)
	local out=$1
	shift
	aarch64-linux-gnu-gcc "${COMMON[@]}" -static -nostdinc -nostdlib \
		-isystem "$MUSL_ARM64/usr/include/aarch64-linux-musl" -isystem "$A64_GCC_INC" \
		"$MA/crt1.o" "$MA/crti.o" "$@" \
		-Wl,--start-group "$MA/libc.a" "$A64_LIBGCC" -Wl,--end-group "$MA/crtn.o" \
		-o "$out"
}

# --- facts ---------------------------------------------------------------
# All from readelf, which reads any architecture.
elf_machine() { readelf -hW "$1" | awk -F: '$1 ~ /Machine/ { sub(/^ +/, "", $2); print $2 }'; }
elf_type() { readelf -hW "$1" | awk '$1 == "Type:" { print $2 }'; }
elf_interp() { readelf -lW "$1" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p'; }
elf_dyn() { # FILE TAG -> values, space separated
	readelf -dW "$1" | awk -v tag="($2)" '$2 == tag { s = $0; sub(/.*\[/, "", s); sub(/\].*/, "", s); printf "%s%s", sep, s; sep = " " } END { print "" }'
}
# version needs: lines "FILE VERSION"
elf_vneeds() {
	readelf -VW "$1" | awk '
		/^Version needs section/ { inr = 1; next }
		/^Version (definition|symbols) section/ { inr = 0 }
		inr && / File: / { for (i = 1; i <= NF; i++) if ($i == "File:") f = $(i + 1) }
		inr && / Name: / && / Flags: / { for (i = 1; i <= NF; i++) if ($i == "Name:") print f, $(i + 1) }'
}
# versioned symbol references: lines "VERSION SYMBOL" (UND or copy-relocated)
elf_vsyms() {
	local needs
	needs=$(elf_vneeds "$1" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
	readelf --dyn-syms -W "$1" | awk -v needs=" $needs" '
		NF >= 8 && $8 ~ /@/ && $8 !~ /@@/ {
			split($8, p, "@"); if (index(needs, " " p[2] " ")) print p[2], p[1] }' | sort -u
}
# highest version of a family (GLIBC, GLIBCXX, CXXABI, GCC) or "-"
max_ver() { # FILE FAMILY
	local v
	v=$(elf_vneeds "$1" | awk -v fam="$2" '{ n = $2; if (substr(n, 1, length(fam) + 1) == fam "_") { n = substr(n, length(fam) + 2); if (n ~ /^[0-9.]+$/) print n } }' | sort -V | tail -n1)
	echo "${v:--}"
}
ver_gt() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1)" = "$1" ]; }
# symbols per GLIBC version above 2.28: "GLIBC_2.29: a b; GLIBC_2.30: c"
over_228() {
	elf_vsyms "$1" | awk '$1 ~ /^GLIBC_[0-9.]+$/ { print }' | while read -r v s; do
		if ver_gt "${v#GLIBC_}" 2.28; then echo "$v $s"; fi
	done | sort -V | awk '{ if ($1 != last) { if (last != "") printf "; "; printf "%s: %s", $1, $2; last = $1 } else printf " %s", $2 } END { print "" }'
}
syms_at() { elf_vsyms "$1" | awk -v v="$2" '$1 == v { print $2 }' | sort | tr '\n' ' ' | sed 's/ $//'; }

# --- fixtures ------------------------------------------------------------
STAGE=$HERE/fixtures.new
rm -rf "$STAGE"
mkdir -p "$STAGE/x86_64" "$STAGE/aarch64" "$STAGE/demo"
trap 'rm -rf "$STAGE"' EXIT
ROWS=()

# check REL KEY=VALUE...: compares the fixture's facts with the expected ones
# and fails loudly on any difference. Keys:
#   machine type interp needed soname runpath rpath glibc glibcxx cxxabi gcc
#   static=1 at:VERSION="sym sym" (exact set of symbols bound at VERSION)
#   libc (reported only) how (reported only)
check() {
	local rel=$1 f=$STAGE/$1
	shift
	[ -f "$f" ] || die "$rel was not built"
	local -A want=([machine]="" [type]="" [interp]="" [needed]="" [soname]="" [runpath]="" [rpath]=""
		[glibc]=- [glibcxx]=- [cxxabi]=- [gcc]=- [static]=0 [libc]="" [how]="")
	local kv k v ats=()
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		case $k in
		at:*) ats+=("${k#at:}=$v") ;;
		*) [ -n "${want[$k]+x}" ] || die "check $rel: unknown key $k"; want[$k]=$v ;;
		esac
	done
	local -A got
	got[machine]=$(elf_machine "$f")
	got[type]=$(elf_type "$f")
	got[interp]=$(elf_interp "$f")
	got[needed]=$(elf_dyn "$f" NEEDED)
	got[soname]=$(elf_dyn "$f" SONAME)
	got[runpath]=$(elf_dyn "$f" RUNPATH)
	got[rpath]=$(elf_dyn "$f" RPATH)
	got[glibc]=$(max_ver "$f" GLIBC)
	got[glibcxx]=$(max_ver "$f" GLIBCXX)
	got[cxxabi]=$(max_ver "$f" CXXABI)
	got[gcc]=$(max_ver "$f" GCC)
	got[static]=0
	readelf -lW "$f" | grep -q ' DYNAMIC ' || got[static]=1
	local bad=""
	for k in machine type interp needed soname runpath rpath glibc glibcxx cxxabi gcc static; do
		[ "${got[$k]}" = "${want[$k]}" ] || bad="$bad
  $k: got '${got[$k]}', want '${want[$k]}'"
	done
	for kv in "${ats[@]}"; do
		k=${kv%%=*} v=${kv#*=}
		local s
		s=$(syms_at "$f" "$k")
		[ "$s" = "$v" ] || bad="$bad
  symbols at $k: got '$s', want '$v'"
	done
	[ -z "$bad" ] || die "$rel does not have the expected facts:$bad"
	local over needs
	over=$(over_228 "$f")
	needs=$(elf_vneeds "$f" | sort -V | awk '{ if ($1 != last) { if (last != "") printf "; "; printf "%s: %s", $1, $2; last = $1 } else printf " %s", $2 } END { print "" }')
	local rp=-
	[ -z "${got[runpath]}" ] || rp="RUNPATH \`${got[runpath]}\`"
	[ -z "${got[rpath]}" ] || rp="RPATH \`${got[rpath]}\`"
	ROWS+=("| \`$rel\` | ${want[how]} | ${got[machine]} ${got[type]} | ${want[libc]} | ${got[needed]:--} | ${got[soname]:--} | $rp | ${got[glibc]} | ${got[glibcxx]} / ${got[cxxabi]} / ${got[gcc]} | ${needs:--} | ${over:--} |")
	say "ok $rel (glibc ${got[glibc]})"
}

# run WANT_REGEX CMD...: runs a fixture and matches its whole output
run() {
	local want=$1
	shift
	local out
	out=$("$@" 2>&1) || die "running $* failed: $out"
	[[ $out =~ ^${want}$ ]] || die "running $*: got '$out', want /$want/"
}
# through bullseye's glibc 2.31 loader, binding every symbol at start
run_bullseye() { # WANT FILE ARGS...
	local want=$1 f=$2
	shift 2
	run "$want" env LD_BIND_NOW=1 "$SR_AMD64/lib/$X86/ld-2.31.so" \
		--library-path "$STAGE/x86_64:$SR_AMD64/lib/$X86:$SR_AMD64/usr/lib/$X86" "$f" "$@"
}
run_a64() { # WANT ROOT FILE ARGS...
	local want=$1 root=$2
	shift 2
	run "$want" env QEMU_LD_PREFIX="$root" LD_BIND_NOW=1 LD_LIBRARY_PATH="$STAGE/aarch64" qemu-aarch64-static "$@"
}

X=$STAGE/x86_64
A=$STAGE/aarch64
D=$STAGE/demo
STRIP_X=(strip --strip-unneeded)
STRIP_A=(aarch64-linux-gnu-strip --strip-unneeded)
HOWB='gcc + bullseye sysroot'
HOWBA='aarch64-linux-gnu-gcc + bullseye arm64 sysroot'

# x86_64, bullseye sysroot ------------------------------------------------
gcc "${COMMON[@]}" "${BX[@]}" "$SRC/hello.c" -o "$X/hello-2.28"
"${STRIP_X[@]}" "$X/hello-2.28"
check x86_64/hello-2.28 how="$HOWB: \`hello.c\`" libc=glibc machine="Advanced Micro Devices X86-64" type=DYN \
	interp=/lib64/ld-linux-x86-64.so.2 needed=libc.so.6 glibc=2.2.5 \
	at:GLIBC_2.2.5="__cxa_finalize __libc_start_main printf"
run_bullseye 'hello from .*hello-2.28 \(0 args\)' "$X/hello-2.28"

gcc "${COMMON[@]}" "${BX[@]}" -fno-builtin "$SRC/math.c" -lm -o "$X/math-2.29"
"${STRIP_X[@]}" "$X/math-2.29"
check x86_64/math-2.29 how="$HOWB: \`math.c -fno-builtin -lm\`" libc=glibc machine="Advanced Micro Devices X86-64" type=DYN \
	interp=/lib64/ld-linux-x86-64.so.2 needed="libm.so.6 libc.so.6" glibc=2.29 \
	at:GLIBC_2.29="exp exp2 log log2 posix_spawn_file_actions_addchdir_np pow"
run_bullseye 'log 0.916291 log2 1.32193 exp 12.1825 exp2 5.65685 pow 3.95285
addchdir_np 0' "$X/math-2.29"

gcc "${COMMON[@]}" "${BX[@]}" "$SRC/gettid.c" -lpthread -o "$X/gettid-2.30"
"${STRIP_X[@]}" "$X/gettid-2.30"
check x86_64/gettid-2.30 how="$HOWB: \`gettid.c -lpthread\`" libc=glibc machine="Advanced Micro Devices X86-64" type=DYN \
	interp=/lib64/ld-linux-x86-64.so.2 needed="libpthread.so.0 libc.so.6" glibc=2.30 \
	at:GLIBC_2.30="gettid pthread_cond_clockwait"
run_bullseye 'tid [0-9]+ clockwait 110' "$X/gettid-2.30"

# stub libz3: no start files and no libc calls, so no version needs at all;
# libc.so.6 stays NEEDED (--no-as-needed) so it reads as a glibc library.
z3stub() { # CC OUT SONAME DEFINES... (plus the sysroot flags in STUBFLAGS)
	local cc=$1 out=$2 soname=$3
	shift 3
	$cc "${COMMON[@]}" "${STUBFLAGS[@]}" -shared -fPIC -nostartfiles -Wl,--no-as-needed \
		-Wl,-soname,"$soname" "$@" "$SRC/z3stub.c" -o "$out"
}
STUBFLAGS=("${BX[@]}")
z3stub gcc "$X/libz3.so.4" libz3.so.4
"${STRIP_X[@]}" "$X/libz3.so.4"
check x86_64/libz3.so.4 how="$HOWB: \`z3stub.c -shared -nostartfiles\`, version 4.99.1.0" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN needed=libc.so.6 soname=libz3.so.4 glibc=-
z3stub gcc "$X/libz3.so.4.8" libz3.so.4.8 -DZ3_STUB_MINOR=8 -DZ3_STUB_BUILD=99
"${STRIP_X[@]}" "$X/libz3.so.4.8"
check x86_64/libz3.so.4.8 how="$HOWB: \`z3stub.c -shared -nostartfiles\`, version 4.8.99.0" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN needed=libc.so.6 soname=libz3.so.4.8 glibc=-

gcc "${COMMON[@]}" "${BX[@]}" "$SRC/z3user.c" "$X/libz3.so.4" -o "$X/z3-user"
"${STRIP_X[@]}" "$X/z3-user"
check x86_64/z3-user how="$HOWB: \`z3user.c libz3.so.4\`" libc=glibc machine="Advanced Micro Devices X86-64" type=DYN \
	interp=/lib64/ld-linux-x86-64.so.2 needed="libz3.so.4 libc.so.6" glibc=2.2.5
run_bullseye 'z3 4.99.1.0' "$X/z3-user"

gcc "${COMMON[@]}" "${BX[@]}" "$SRC/z3user.c" "$X/libz3.so.4.8" -o "$X/z3-user-rpmsoname"
"${STRIP_X[@]}" "$X/z3-user-rpmsoname"
check x86_64/z3-user-rpmsoname how="$HOWB: \`z3user.c libz3.so.4.8\`" libc=glibc machine="Advanced Micro Devices X86-64" type=DYN \
	interp=/lib64/ld-linux-x86-64.so.2 needed="libz3.so.4.8 libc.so.6" glibc=2.2.5
run_bullseye 'z3 4.8.99.0' "$X/z3-user-rpmsoname"

gcc "${COMMON[@]}" "${BX[@]}" -fno-builtin -shared -fPIC -Wl,-soname,libdemo.so.1 "$SRC/libdemo.c" -o "$X/libdemo.so"
"${STRIP_X[@]}" "$X/libdemo.so"
check x86_64/libdemo.so how="$HOWB: \`libdemo.c -fno-builtin -shared -Wl,-soname,libdemo.so.1\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN needed=libc.so.6 soname=libdemo.so.1 glibc=2.17 \
	at:GLIBC_2.14=memcpy at:GLIBC_2.17="clock_gettime secure_getenv"

gcc "${COMMON[@]}" "${BX[@]}" "${BXCXX[@]}" "$SRC/cxx-hello.cpp" "$SR_AMD64/usr/lib/$X86/libstdc++.so.6" -lm \
	-o "$X/cxx-hello-bullseye"
"${STRIP_X[@]}" "$X/cxx-hello-bullseye"
check x86_64/cxx-hello-bullseye how="$HOWB, bullseye's libstdc++ 10 headers and \`libstdc++.so.6\`: \`cxx-hello.cpp\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libstdc++.so.6 libgcc_s.so.1 libc.so.6" glibc=2.2.5 glibcxx=3.4.21 cxxabi=1.3 gcc=3.0
run_bullseye 'caught: nobody to greet' "$X/cxx-hello-bullseye"
run_bullseye 'hello, relpack' "$X/cxx-hello-bullseye" relpack

gcc "${COMMON[@]}" "${BX[@]}" "$SRC/z3user.c" "$X/libz3.so.4" \
	-Wl,-rpath,'$ORIGIN/../lib' -Wl,--enable-new-dtags -o "$X/runpath"
"${STRIP_X[@]}" "$X/runpath"
check x86_64/runpath how="$HOWB: \`z3user.c libz3.so.4 -Wl,-rpath,'\$ORIGIN/../lib' -Wl,--enable-new-dtags\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libz3.so.4 libc.so.6" runpath='$ORIGIN/../lib' glibc=2.2.5
gcc "${COMMON[@]}" "${BX[@]}" "$SRC/z3user.c" "$X/libz3.so.4" \
	-Wl,-rpath,'$ORIGIN/../lib' -Wl,--disable-new-dtags -o "$X/rpath"
"${STRIP_X[@]}" "$X/rpath"
check x86_64/rpath how="$HOWB: \`z3user.c libz3.so.4 -Wl,-rpath,'\$ORIGIN/../lib' -Wl,--disable-new-dtags\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libz3.so.4 libc.so.6" rpath='$ORIGIN/../lib' glibc=2.2.5
run_bullseye 'z3 4.99.1.0' "$X/runpath"

gcc "${COMMON[@]}" "${BX[@]}" -fno-pie -no-pie "$SRC/hello.c" -o "$X/hello-nopie"
"${STRIP_X[@]}" "$X/hello-nopie"
check x86_64/hello-nopie how="$HOWB: \`hello.c -fno-pie -no-pie\`" libc=glibc machine="Advanced Micro Devices X86-64" type=EXEC \
	interp=/lib64/ld-linux-x86-64.so.2 needed=libc.so.6 glibc=2.2.5 \
	at:GLIBC_2.2.5="__libc_start_main printf"
run_bullseye 'hello from .*hello-nopie \(0 args\)' "$X/hello-nopie"

# x86_64, host toolchain -------------------------------------------------
gcc "${COMMON[@]}" "$SRC/hello.c" -o "$X/hello-bookworm"
"${STRIP_X[@]}" "$X/hello-bookworm"
check x86_64/hello-bookworm how='host gcc 12 (Debian 12, glibc 2.36): `hello.c`' libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 needed=libc.so.6 glibc=2.34 \
	at:GLIBC_2.34=__libc_start_main
run 'hello from .*hello-bookworm \(0 args\)' "$X/hello-bookworm"

g++ "${COMMON[@]}" "$SRC/cxx-hello.cpp" -o "$X/cxx-hello"
"${STRIP_X[@]}" "$X/cxx-hello"
check x86_64/cxx-hello how='host g++ 12: `cxx-hello.cpp`' libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libstdc++.so.6 libgcc_s.so.1 libc.so.6" glibc=2.34 glibcxx=3.4.29 cxxabi=1.3 gcc=3.0 \
	at:GLIBC_2.34=__libc_start_main at:GLIBCXX_3.4.29=_ZSt8to_charsPcS_d
run 'caught: nobody to greet
to_chars: 0.5' "$X/cxx-hello"
run 'hello, relpack
to_chars: 1' "$X/cxx-hello" relpack

musl-gcc "${COMMON[@]}" -static "$SRC/hello.c" -o "$X/hello-musl-static"
"${STRIP_X[@]}" "$X/hello-musl-static"
check x86_64/hello-musl-static how="\`musl-gcc -static hello.c\` (Debian musl $MUSL_VERSION)" libc='musl (static)' \
	machine="Advanced Micro Devices X86-64" type=EXEC static=1
run 'hello from .*hello-musl-static \(0 args\)' "$X/hello-musl-static"

# aarch64 ------------------------------------------------------------------
aarch64-linux-gnu-gcc "${COMMON[@]}" "${BA[@]}" "$SRC/hello.c" -o "$A/hello-2.28"
"${STRIP_A[@]}" "$A/hello-2.28"
check aarch64/hello-2.28 how="$HOWBA: \`hello.c\`" libc=glibc machine=AArch64 type=DYN \
	interp=/lib/ld-linux-aarch64.so.1 needed=libc.so.6 glibc=2.17 \
	at:GLIBC_2.17="__cxa_finalize __libc_start_main abort printf"
run_a64 'hello from .*hello-2.28 \(0 args\)' "$SR_ARM64" "$A/hello-2.28"

STUBFLAGS=("${BA[@]}")
z3stub aarch64-linux-gnu-gcc "$A/libz3.so.4" libz3.so.4
"${STRIP_A[@]}" "$A/libz3.so.4"
check aarch64/libz3.so.4 how="$HOWBA: \`z3stub.c -shared -nostartfiles\`, version 4.99.1.0" libc=glibc \
	machine=AArch64 type=DYN needed=libc.so.6 soname=libz3.so.4 glibc=-

z3stub aarch64-linux-gnu-gcc "$A/libz3.so.4.8" libz3.so.4.8 -DZ3_STUB_MINOR=8 -DZ3_STUB_BUILD=99
"${STRIP_A[@]}" "$A/libz3.so.4.8"
check aarch64/libz3.so.4.8 how="$HOWBA: \`z3stub.c -shared -nostartfiles\`, version 4.8.99.0" libc=glibc \
	machine=AArch64 type=DYN needed=libc.so.6 soname=libz3.so.4.8 glibc=-

aarch64-linux-gnu-gcc "${COMMON[@]}" "${BA[@]}" "$SRC/z3user.c" "$A/libz3.so.4" -o "$A/z3-user"
"${STRIP_A[@]}" "$A/z3-user"
check aarch64/z3-user how="$HOWBA: \`z3user.c libz3.so.4\`" libc=glibc machine=AArch64 type=DYN \
	interp=/lib/ld-linux-aarch64.so.1 needed="libz3.so.4 libc.so.6" glibc=2.17
run_a64 'z3 4.99.1.0' "$SR_ARM64" "$A/z3-user"

aarch64-linux-gnu-gcc "${COMMON[@]}" "$SRC/hello.c" -o "$A/hello-bookworm"
"${STRIP_A[@]}" "$A/hello-bookworm"
check aarch64/hello-bookworm how='host aarch64-linux-gnu-gcc 12 (libc6-dev-arm64-cross, glibc 2.36): `hello.c`' libc=glibc \
	machine=AArch64 type=DYN interp=/lib/ld-linux-aarch64.so.1 needed=libc.so.6 glibc=2.34 \
	at:GLIBC_2.34=__libc_start_main
run_a64 'hello from .*hello-bookworm \(0 args\)' /usr/aarch64-linux-gnu "$A/hello-bookworm"

musl_a64 "$A/hello-musl-static" "$SRC/hello.c"
"${STRIP_A[@]}" "$A/hello-musl-static"
check aarch64/hello-musl-static how='aarch64-linux-gnu-gcc -static -nostdinc -nostdlib with musl-dev:arm64 (bullseye, musl 1.2.2) crt1.o, libc.a and libgcc.a: `hello.c`' \
	libc='musl (static)' machine=AArch64 type=EXEC static=1
run_a64 'hello from .*hello-musl-static \(0 args\)' /nonexistent "$A/hello-musl-static"

# demo gateway -------------------------------------------------------------
GW_VERSION='openshell-gateway demo 0.1.0'
GW_USAGE='usage: openshell-gateway \[--version \| serve\]'
gw() { mkdir -p "$D/$1"; echo "$D/$1/openshell-gateway"; }
# The demo gateways carry DWARF (issue 22: relpack splits their debug
# symbols into -dbgsym/-debuginfo packages and a debug tarball): -g, not
# stripped, compiled in $SRC so -ffile-prefix-map makes every DWARF path
# relative (./testdata/src/...) and the bytes do not depend on where the
# script runs.
GWG=(-g)

o=$(gw x86_64-unknown-linux-gnu)
(cd "$SRC" && gcc "${COMMON[@]}" "${GWG[@]}" "${BX[@]}" "$SRC/gateway.c" "$X/libz3.so.4" -ldl -o "$o")
check demo/x86_64-unknown-linux-gnu/openshell-gateway how="$HOWB, \`-g\`, not stripped: \`gateway.c libz3.so.4 -ldl\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libz3.so.4 libdl.so.2 libc.so.6" glibc=2.3
run "$GW_VERSION
z3 4.99.1.0 from $STAGE/x86_64/libz3.so.4" env LD_LIBRARY_PATH="$STAGE/x86_64" "$o" --version
run_bullseye "$GW_VERSION
z3 4.99.1.0 from $STAGE/x86_64/libz3.so.4" "$o" --version
run "$GW_USAGE" env LD_LIBRARY_PATH="$STAGE/x86_64" "$o"

# The same gateway linked against an RPM distro's Z3 soname (libz3.so.4.8,
# as EL8/EL9's z3-libs ship it): what a build on an EL8 image produces.
o=$(gw x86_64-unknown-linux-gnu-el8)
(cd "$SRC" && gcc "${COMMON[@]}" "${GWG[@]}" "${BX[@]}" "$SRC/gateway.c" "$X/libz3.so.4.8" -ldl -o "$o")
check demo/x86_64-unknown-linux-gnu-el8/openshell-gateway how="$HOWB, \`-g\`, not stripped: \`gateway.c libz3.so.4.8 -ldl\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libz3.so.4.8 libdl.so.2 libc.so.6" glibc=2.3
run_bullseye "$GW_VERSION
z3 4.8.99.0 from $STAGE/x86_64/libz3.so.4.8" "$o" --version

o=$(gw x86_64-unknown-linux-gnu-bundled)
(cd "$SRC" && gcc "${COMMON[@]}" "${GWG[@]}" "${BX[@]}" -DZ3_BUNDLED "$SRC/gateway.c" "$SRC/z3stub.c" -o "$o")
check demo/x86_64-unknown-linux-gnu-bundled/openshell-gateway how="$HOWB, \`-g\`, not stripped: \`-DZ3_BUNDLED gateway.c z3stub.c\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 needed=libc.so.6 glibc=2.2.5
run "$GW_VERSION
z3 4.99.1.0 \(bundled\)" "$o" --version
run_bullseye "$GW_VERSION
z3 4.99.1.0 \(bundled\)" "$o" --version

o=$(gw x86_64-unknown-linux-musl)
(cd "$SRC" && musl-gcc "${COMMON[@]}" "${GWG[@]}" -static -DZ3_BUNDLED "$SRC/gateway.c" "$SRC/z3stub.c" -o "$o")
check demo/x86_64-unknown-linux-musl/openshell-gateway how='`musl-gcc -static -g -DZ3_BUNDLED gateway.c z3stub.c`, not stripped' \
	libc='musl (static)' machine="Advanced Micro Devices X86-64" type=EXEC static=1
run "$GW_VERSION
z3 4.99.1.0 \(bundled\)" "$o" --version
run "$GW_USAGE" "$o"

o=$(gw aarch64-unknown-linux-gnu)
(cd "$SRC" && aarch64-linux-gnu-gcc "${COMMON[@]}" "${GWG[@]}" "${BA[@]}" "$SRC/gateway.c" "$A/libz3.so.4" -ldl -o "$o")
check demo/aarch64-unknown-linux-gnu/openshell-gateway how="$HOWBA, \`-g\`, not stripped: \`gateway.c libz3.so.4 -ldl\`" libc=glibc \
	machine=AArch64 type=DYN interp=/lib/ld-linux-aarch64.so.1 needed="libz3.so.4 libdl.so.2 libc.so.6" glibc=2.17
run_a64 "$GW_VERSION
z3 4.99.1.0 from $STAGE/aarch64/libz3.so.4" "$SR_ARM64" "$o" --version
run_a64 "$GW_USAGE" "$SR_ARM64" "$o"

o=$(gw aarch64-unknown-linux-gnu-el8)
(cd "$SRC" && aarch64-linux-gnu-gcc "${COMMON[@]}" "${GWG[@]}" "${BA[@]}" "$SRC/gateway.c" "$A/libz3.so.4.8" -ldl -o "$o")
check demo/aarch64-unknown-linux-gnu-el8/openshell-gateway how="$HOWBA, \`-g\`, not stripped: \`gateway.c libz3.so.4.8 -ldl\`" libc=glibc \
	machine=AArch64 type=DYN interp=/lib/ld-linux-aarch64.so.1 needed="libz3.so.4.8 libdl.so.2 libc.so.6" glibc=2.17
run_a64 "$GW_VERSION
z3 4.8.99.0 from $STAGE/aarch64/libz3.so.4.8" "$SR_ARM64" "$o" --version

o=$(gw aarch64-unknown-linux-musl)
(cd "$SRC" && musl_a64 "$o" "${GWG[@]}" -DZ3_BUNDLED "$SRC/gateway.c" "$SRC/z3stub.c")
check demo/aarch64-unknown-linux-musl/openshell-gateway how='aarch64-linux-gnu-gcc -static -g with musl-dev:arm64: `-DZ3_BUNDLED gateway.c z3stub.c`, not stripped' \
	libc='musl (static)' machine=AArch64 type=EXEC static=1
run_a64 "$GW_VERSION
z3 4.99.1.0 \(bundled\)" /nonexistent "$o" --version

cat >"$D/README.md" <<'EOF'
openshell-gateway demo build: a stand-in for the real gateway, built from testdata/src/gateway.c by testdata/build-fixtures.sh.
`openshell-gateway --version` prints its version and which Z3 library answered; relpack's demo packages these binaries.
EOF
cat >"$D/LICENSE" <<'EOF'
Copyright 2025 The OpenShell demo authors

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
EOF

# --- glibc floors above the catalog's oldest (issue 19) -------------------
# Binaries that need GLIBC_2.36 (Debian 12, the host) and GLIBC_2.38 (Debian
# 13 trixie's glibc 2.41, a sysroot), with the C++ runtime of each, for the
# floors relpack derives from the catalog. The trixie sysroot is merged-/usr:
# its loader is usr/lib/TRIPLET/ld-linux-x86-64.so.2.
SR_TRIXIE=$CACHE/sysroot/trixie-amd64
SUITE=trixie "$HERE/sysroot.sh" amd64 "$SR_TRIXIE"
# shellcheck disable=SC2207
TX=($(sysroot_flags "$SR_TRIXIE" $X86))
run_trixie() { # WANT FILE ARGS...
	local want=$1 f=$2
	shift 2
	run "$want" env LD_BIND_NOW=1 "$SR_TRIXIE/usr/lib/$X86/ld-linux-x86-64.so.2" \
		--library-path "$SR_TRIXIE/usr/lib/$X86" "$f" "$@"
}
HOWT='gcc + trixie sysroot, host gcc 12 C++ headers, trixie'"'"'s `libstdc++.so.6`'

g++ "${COMMON[@]}" -D_GLIBCXX_ASSERTIONS -DUSE_ARC4RANDOM "$SRC/floor-new.cpp" -o "$X/cxx-2.36"
"${STRIP_X[@]}" "$X/cxx-2.36"
check x86_64/cxx-2.36 how='host g++ 12 (Debian 12, glibc 2.36): `floor-new.cpp -D_GLIBCXX_ASSERTIONS -DUSE_ARC4RANDOM`' libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libstdc++.so.6 libgcc_s.so.1 libc.so.6" glibc=2.36 glibcxx=3.4.30 cxxabi=1.3.9 gcc=3.0 \
	at:GLIBC_2.36=arc4random at:GLIBCXX_3.4.30=_ZSt21__glibcxx_assert_failPKciS0_S0_
run 'floor arc4random 0 7' "$X/cxx-2.36"
run 'caught: x' "$X/cxx-2.36" x

gcc "${COMMON[@]}" "${TX[@]}" -D_GLIBCXX_ASSERTIONS -DUSE_STRLCPY -DUSE_TZDB "$SRC/floor-new.cpp" \
	"$SR_TRIXIE/usr/lib/$X86/libstdc++.so.6" -o "$X/cxx-2.38"
"${STRIP_X[@]}" "$X/cxx-2.38"
check x86_64/cxx-2.38 how="$HOWT: \`floor-new.cpp -D_GLIBCXX_ASSERTIONS -DUSE_STRLCPY -DUSE_TZDB\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libstdc++.so.6 libgcc_s.so.1 libc.so.6" glibc=2.38 glibcxx=3.4.31 cxxabi=1.3.9 gcc=3.0 \
	at:GLIBC_2.38=strlcpy at:GLIBCXX_3.4.31=_ZNSt6chrono12current_zoneEv
run_trixie 'floor strlcpy 10 current_zone linked 7' "$X/cxx-2.38"

gcc "${COMMON[@]}" "${TX[@]}" -D_GLIBCXX_ASSERTIONS -DUSE_TZDB "$SRC/floor-new.cpp" \
	"$SR_TRIXIE/usr/lib/$X86/libstdc++.so.6" -o "$X/cxx-glibcxx-3.4.31"
"${STRIP_X[@]}" "$X/cxx-glibcxx-3.4.31"
check x86_64/cxx-glibcxx-3.4.31 how="$HOWT: \`floor-new.cpp -D_GLIBCXX_ASSERTIONS -DUSE_TZDB\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libstdc++.so.6 libgcc_s.so.1 libc.so.6" glibc=2.34 glibcxx=3.4.31 cxxabi=1.3.9 gcc=3.0 \
	at:GLIBCXX_3.4.31=_ZNSt6chrono12current_zoneEv
run_trixie 'floor current_zone linked 7' "$X/cxx-glibcxx-3.4.31"

# --- Debian Depends against dpkg-shlibdeps ---------------------------------
# x86_64/cxx-shlibdeps links one library of each kind dpkg-shlibdeps treats
# differently (testdata/src/shlibdeps.cpp): bullseye's libstdc++ and libz
# (symbols files), the stub libz3.so.4 and bullseye's libzstd (shlibs lines
# only), libgcc_s. libzstd1 and zlib1g are unpacked into a sysroot of their
# own, so the common bullseye sysroot keeps its package list.
SR_SHLIBDEPS=$CACHE/sysroot/bullseye-amd64-shlibdeps
"$HERE/sysroot.sh" amd64 "$SR_SHLIBDEPS" libzstd1 zlib1g
gcc "${COMMON[@]}" "${BX[@]}" "${BXCXX[@]}" "$SRC/shlibdeps.cpp" "$SR_AMD64/usr/lib/$X86/libstdc++.so.6" \
	"$X/libz3.so.4" "$SR_SHLIBDEPS/usr/lib/$X86/libzstd.so.1" "$SR_SHLIBDEPS/lib/$X86/libz.so.1" -o "$X/cxx-shlibdeps"
"${STRIP_X[@]}" "$X/cxx-shlibdeps"
check x86_64/cxx-shlibdeps how="$HOWB, bullseye's libstdc++ 10 headers and \`libstdc++.so.6\`, bullseye's \`libzstd.so.1\` and \`libz.so.1\`: \`shlibdeps.cpp libz3.so.4\`" libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libstdc++.so.6 libz3.so.4 libzstd.so.1 libz.so.1 libgcc_s.so.1 libc.so.6" glibc=2.2.5 glibcxx=3.4.26 cxxabi=1.3 gcc=3.0 \
	at:ZLIB_1.2.0=compressBound
run 'file x z3 4.99 zstd 1 zlib 1 bound 113' env LD_BIND_NOW=1 "$SR_AMD64/lib/$X86/ld-2.31.so" \
	--library-path "$X:$SR_SHLIBDEPS/lib/$X86:$SR_SHLIBDEPS/usr/lib/$X86:$SR_AMD64/lib/$X86:$SR_AMD64/usr/lib/$X86" "$X/cxx-shlibdeps"

# --- embedded components (issue 20, pkg/components) ------------------------
# components/gocomponents: a Go program (testdata/src/gocomponents) whose
# build info lists two real modules of relpack's own go.sum and one module
# replaced by a directory. -trimpath and -buildvcs=false keep paths and VCS
# stamps out; the bytes depend on the Go toolchain (recorded in README.md).
# go.sum pins the modules; they come from the module cache (or the Go proxy).
C=$STAGE/components
mkdir -p "$C"
GO_VERSION=$(GOTOOLCHAIN=local go env GOVERSION)
(cd "$SRC/gocomponents" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOAMD64=v1 \
	go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$C/gocomponents" .)
check components/gocomponents how="\`go build -trimpath -buildvcs=false -ldflags='-s -w'\` ($GO_VERSION, CGO_ENABLED=0): \`gocomponents/\`" \
	libc='none (Go, static)' machine="Advanced Micro Devices X86-64" type=EXEC static=1
run 'hello, relpack semver 1.2.3 xz 72 bytes' "$C/gocomponents"

# components/depv0-hello: a "Rust-style" binary, hello.c with a .dep-v0
# section as cargo-auditable writes it (zlib-compressed JSON). The JSON,
# testdata/src/dep-v0.json, follows cargo-auditable's schema
# (cargo-auditable.schema.json, rust-secure-code/cargo-auditable) and starts
# with the package of auditable-serde's documented example (adler 0.2.3 from
# "registry"); the rest is a small tree with every source and kind: a local
# root, crates.io crates (one with build metadata), a git crate and two build
# dependencies. Compressed by Debian's python3 zlib at level 9 (zlib's output
# for one input and level is fixed).
gcc "${COMMON[@]}" "$SRC/hello.c" -o "$C/depv0-hello"
"${STRIP_X[@]}" "$C/depv0-hello"
/usr/bin/python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read(), 9))' \
	"$SRC/dep-v0.json" >"$STAGE/dep-v0.zlib"
objcopy --add-section .dep-v0="$STAGE/dep-v0.zlib" --set-section-flags .dep-v0=readonly "$C/depv0-hello"
rm "$STAGE/dep-v0.zlib"
[ "$(objcopy --dump-section .dep-v0=/dev/stdout "$C/depv0-hello" | /usr/bin/python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))' | cmp - "$SRC/dep-v0.json" && echo same)" = same ] ||
	die "components/depv0-hello: its .dep-v0 section does not decompress to dep-v0.json"
check components/depv0-hello how='host gcc 12: `hello.c`, then `objcopy --add-section .dep-v0=` zlib of `dep-v0.json`' libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 needed=libc.so.6 glibc=2.34 \
	at:GLIBC_2.34=__libc_start_main
run 'hello from .*depv0-hello \(0 args\)' "$C/depv0-hello"

# --- DWARF fixtures (issue 22, pkg/debugsym) -------------------------------
# Built with -g and NOT stripped, for the Go debug-symbol splitter and its
# oracles (objcopy --only-keep-debug, strip --strip-debug, eu-unstrip, gdb).
# The compiler runs in $SRC so DW_AT_comp_dir is under $REPO, which
# -ffile-prefix-map turns into ./testdata/src: the bytes do not depend on
# where the script is run from. Host toolchains (gcc/g++ 12 and the aarch64
# cross compilers with libc6-dev-arm64-cross), so they run directly or under
# qemu-aarch64-static -L /usr/aarch64-linux-gnu.
G=$STAGE/debug
mkdir -p "$G/x86_64" "$G/aarch64"
dbg() { # CC OUT SRC FLAGS...
	local cc=$1 out=$2 src=$3
	shift 3
	(cd "$SRC" && $cc "${COMMON[@]}" -g "$@" "$SRC/$src" -o "$out")
}
dbg gcc "$G/x86_64/hello-g" debug-hello.c
check debug/x86_64/hello-g how='host gcc 12 `-g`, not stripped: `debug-hello.c`' libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 needed=libc.so.6 glibc=2.34 \
	at:GLIBC_2.34=__libc_start_main
run 'hello from .*hello-g \(0 args\)' "$G/x86_64/hello-g"
dbg g++ "$G/x86_64/cxx-g" debug-cxx.cpp
check debug/x86_64/cxx-g how='host g++ 12 `-g`, not stripped: `debug-cxx.cpp`' libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 \
	needed="libstdc++.so.6 libgcc_s.so.1 libc.so.6" glibc=2.34 glibcxx=3.4.21 cxxabi=1.3 gcc=3.0
run 'hello, debug' "$G/x86_64/cxx-g"
dbg gcc "$G/x86_64/hello-g-nobuildid" debug-hello.c -Wl,--build-id=none
check debug/x86_64/hello-g-nobuildid how='host gcc 12 `-g -Wl,--build-id=none`, not stripped: `debug-hello.c`' libc=glibc \
	machine="Advanced Micro Devices X86-64" type=DYN interp=/lib64/ld-linux-x86-64.so.2 needed=libc.so.6 glibc=2.34 \
	at:GLIBC_2.34=__libc_start_main
readelf -nW "$G/x86_64/hello-g-nobuildid" | grep -q NT_GNU_BUILD_ID && die "debug/x86_64/hello-g-nobuildid has a build-id"
dbg aarch64-linux-gnu-gcc "$G/aarch64/hello-g" debug-hello.c
check debug/aarch64/hello-g how='host aarch64-linux-gnu-gcc 12 `-g`, not stripped: `debug-hello.c`' libc=glibc \
	machine=AArch64 type=DYN interp=/lib/ld-linux-aarch64.so.1 needed=libc.so.6 glibc=2.34 \
	at:GLIBC_2.34=__libc_start_main
run_a64 'hello from .*hello-g \(0 args\)' /usr/aarch64-linux-gnu "$G/aarch64/hello-g"
dbg aarch64-linux-gnu-g++ "$G/aarch64/cxx-g" debug-cxx.cpp
check debug/aarch64/cxx-g how='host aarch64-linux-gnu-g++ 12 `-g`, not stripped: `debug-cxx.cpp`' libc=glibc \
	machine=AArch64 type=DYN interp=/lib/ld-linux-aarch64.so.1 \
	needed="libstdc++.so.6 libgcc_s.so.1 libc.so.6" glibc=2.34 glibcxx=3.4.21 cxxabi=1.3 gcc=3.0
run_a64 'hello, debug' /usr/aarch64-linux-gnu "$G/aarch64/cxx-g"

# --- README ----------------------------------------------------------------
{
	cat <<'EOF'
# ELF fixtures

Generated by `testdata/build-fixtures.sh` from `testdata/src/` (do not edit:
rerun the script). Every fact below was measured with `readelf` on the built
file and checked against what the script expects; the script fails if any
differs. Two runs give identical bytes (no debug info, `-ffile-prefix-map`,
`--build-id=sha1`, `strip --strip-unneeded`). The exceptions are `debug/`
(pkg/debugsym's fixtures) and the demo gateways (`demo/*/openshell-gateway`,
whose debug symbols relpack's demo splits into debug packages): built with
`-g` and not stripped, compiled in `testdata/src` so that
`-ffile-prefix-map` makes every DWARF path relative (`./testdata/src/...`);
still identical bytes on every run.

"bullseye sysroot" means Debian 11's glibc 2.31 / libstdc++ 10 unpacked into
`$S` by `testdata/sysroot.sh` and linked with
`gcc --sysroot=$S -B$S/usr/lib/$T -L$S/usr/lib/$T -L$S/lib/$T -Wl,-rpath-link=$S/lib/$T:$S/usr/lib/$T`
(`$T` is `x86_64-linux-gnu` or `aarch64-linux-gnu`, the compiler the host's gcc 12
or `aarch64-linux-gnu-gcc` 12). The start files and libc come from the
sysroot; crtbegin/crtend and `libgcc.a` are the compiler's own (gcc 12);
`libgcc_s.so.1` and `libstdc++.so.6` are bullseye's. `cxx-hello-bullseye` is
compiled with `-nostdinc++` and bullseye's `c++/10` headers and linked by the
C driver with `$S/usr/lib/$T/libstdc++.so.6` named explicitly (gcc 12 has no
`-nostdlib++`). Common flags: `-Os -Wl,--build-id=sha1 -Wl,--hash-style=gnu`,
then `strip --strip-unneeded`. The gnu binaries ran under bullseye's loader
(`ld-2.31.so`, `LD_BIND_NOW=1`) or `qemu-aarch64-static` with the bullseye
arm64 sysroot as `-L`; the musl ones ran directly or under qemu.

Columns: *max GLIBC* is the highest `GLIBC_x.y` among the version needs
(`-`: none); *C++/GCC* gives the highest `GLIBCXX` / `CXXABI` / `GCC` needs;
*version needs* lists each needed library's versions; *over 2.28* lists the
symbols bound at each GLIBC version newer than 2.28 (what keeps the file off
RHEL 8).

| fixture | how it is built | machine, type | libc | NEEDED | SONAME | RUNPATH / RPATH | max GLIBC | C++/GCC | version needs | over 2.28 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "Sysroot packages (Debian bullseye, and trixie for the cxx-2.38 and cxx-glibcxx-3.4.31 fixtures, from the machine's apt mirror):"
	echo
	for s in "$SR_AMD64" "$SR_ARM64" "$MUSL_ARM64" "$SR_SHLIBDEPS" "$SR_TRIXIE"; do
		tail -n +2 "$s/.relpack-sysroot" | sed 's/^/- `/; s/$/`/'
	done
	echo
	echo "Demo binaries (\`demo/*/openshell-gateway\`) print, for \`--version\`:"
	echo
	echo '```'
	echo "$GW_VERSION"
	echo 'z3 4.99.1.0 from /path/to/libz3.so.4     (gnu builds: the file dladdr names)'
	echo 'z3 4.99.1.0 (bundled)                     (bundled and musl builds)'
	echo '```'
	echo
	echo "Embedded components (\`components/\`, read by pkg/components): \`gocomponents\` was built by $GO_VERSION from"
	echo '`testdata/src/gocomponents` (its build info: `relpack.test/gocomponents` (devel), `github.com/Masterminds/semver/v3 v3.5.0`,'
	echo '`github.com/ulikunitz/xz v0.5.15`, `relpack.test/greet` replaced by `./greet`); `depv0-hello` holds a `.dep-v0` section,'
	echo 'the zlib of `testdata/src/dep-v0.json` (cargo-auditable'"'"'s format; the first package is auditable-serde'"'"'s documented example).'
} >"$STAGE/README.md"

# --- swap in ----------------------------------------------------------------
rm -rf "$OUT"
mv "$STAGE" "$OUT"
trap - EXIT
say "done in $(($(date +%s) - START)) s; $(du -sb "$OUT" | cut -f1) bytes in $OUT"
