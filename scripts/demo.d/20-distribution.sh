# shellcheck shell=bash
demo_section "Distribution: signed releases, install, update, roll back"
platform="$(node -p 'process.platform + "-" + process.arch')"
# The Node runtime a release bundles comes from the npm registry; keep it in the testkit cache.
build_cache="${BCL_TESTKIT_CACHE:-$HOME/.cache/bcl-testkit}/xdg"

demo_say "A signing key pair for releases: the private key stays here (0600), clients trust the public one."
demo_run bcl release keygen --out "$DEMO_DIR/release-key.pem"
# The "ed25519:..." form of the public key, for bcl config set (the .pub file holds it as PEM).
trusted="$(node -e '
  const raw = Buffer.from(require("crypto").createPublicKey(require("fs").readFileSync(process.argv[1])).export({format: "jwk"}).x, "base64url");
  console.log("ed25519:" + raw.toString("base64"))' "$DEMO_DIR/release-key.pem.pub")"

demo_say "Build svctl twice (as versions 1.0.0 and 1.1.0): esbuild bundle + Node from the npm registry, one tarball per platform."
XDG_CACHE_HOME="$build_cache" demo_run bcl release build --tool svctl --platform "$platform" --set-version 1.0.0 --out "$DEMO_DIR/build-1.0.0"
XDG_CACHE_HOME="$build_cache" bcl release build --tool svctl --platform "$platform" --set-version 1.1.0 --out "$DEMO_DIR/build-1.1.0" --quiet >/dev/null

demo_say "Publish 1.0.0 to a directory store, on the stable channel: artifacts, then the signed manifests."
demo_run bcl release publish --store "$DEMO_DIR/store" --channel stable --key "$DEMO_DIR/release-key.pem" "$DEMO_DIR/build-1.0.0"
demo_run find "$DEMO_DIR/store" -type f

demo_say "Clients read the store and the trusted keys from configuration."
demo_run bcl config set bcl.update.store "$DEMO_DIR/store"
demo_run bcl config set bcl.update.trustedKeys "$trusted"
demo_say "Installed tools run through shims in \$XDG_DATA_HOME/bcl/bin; put it first on PATH."
export PATH="$XDG_DATA_HOME/bcl/bin:$PATH"
demo_run bcl install svctl
demo_run svctl --version

demo_say "Publish 1.1.0, and serve the store with a plain static HTTP server (GET only)."
demo_run bcl release publish --store "$DEMO_DIR/store" --channel stable --key "$DEMO_DIR/release-key.pem" "$DEMO_DIR/build-1.1.0"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$DEMO_DIR/store" >/dev/null 2>&1 &
printf '#!/bin/sh\nkill %s 2>/dev/null\n' "$!" > "$DEMO_DIR/cleanup.d/20-distribution-http" && chmod +x "$DEMO_DIR/cleanup.d/20-distribution-http"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/channels/stable/svctl.json" >/dev/null && break; sleep 0.1; done
demo_run bcl config set bcl.update.store "http://127.0.0.1:$port"

demo_say "The installed 1.0.0 updates itself: signature, expiry, rollback protection, sha256 and size, then an atomic switch."
demo_run svctl update --check
demo_run svctl update
demo_run svctl --version
demo_say "Roll back: the previous version is still installed, so this is instant."
demo_run svctl update --rollback
demo_run svctl --version
demo_run ls -l "$XDG_DATA_HOME/bcl/tools/svctl"

demo_say "A tampered artifact is refused (exit 4) and 1.0.0 keeps running (1.1.0 is deleted here so it is downloaded again)."
artifact="$DEMO_DIR/store/versions/svctl/1.1.0/svctl-1.1.0-$platform.tar.gz"
cp "$artifact" "$DEMO_DIR/artifact.bak"
printf 'x' | dd of="$artifact" bs=1 seek=1000000 conv=notrunc status=none
rm -rf "$XDG_DATA_HOME/bcl/tools/svctl/1.1.0"
demo_expect_fail 4 svctl update
demo_run svctl --version
cp "$DEMO_DIR/artifact.bak" "$artifact"

demo_say "The checkout's own svctl says how to update it instead of trying (exit 6)."
demo_expect_fail 6 "$BCL_ROOT/bin/svctl" update
